//! A short account of which tests failed and why, read from libtest's output.
//!
//! A failing end-to-end test prints what it measured and then its error, inside a
//! `---- name stdout ----` section, and those sections sit in the middle of a long run's output.
//! CI shows only the head and the tail of that output, so the reasons were cut away; the digest
//! repeats each failure's last lines at the very end, where they are seen.

/// How many of a failure's last lines to repeat: its error, and the figures printed before it.
const LINES_PER_FAILURE: usize = 8;

/// One failed test: its name and the last lines it printed before its backtrace, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub test: String,
    pub last_lines: Vec<String>,
}

/// A failure section being read: its test, its lines so far, and whether its backtrace began.
struct Section<'a> {
    test: &'a str,
    lines: Vec<&'a str>,
    in_backtrace: bool,
}

/// The failures in libtest's `output`, in the order libtest printed them.
pub fn failures(output: &str) -> Vec<Failure> {
    let mut found = Vec::new();
    let mut current: Option<Section> = None;
    for line in output.lines() {
        if let Some(test) = section_name(line) {
            found.extend(current.take().map(finish));
            current = Some(Section {
                test,
                lines: Vec::new(),
                in_backtrace: false,
            });
            continue;
        }
        let Some(section) = current.as_mut() else {
            continue;
        };
        // libtest's list of failed names and its result line end the last section.
        if line == "failures:" || line.starts_with("test result:") {
            found.extend(current.take().map(finish));
            continue;
        }
        // anyhow's and std's backtraces say nothing a reader of CI needs.
        if line.starts_with("Stack backtrace:") || line.starts_with("stack backtrace:") {
            section.in_backtrace = true;
        }
        if !section.in_backtrace && !line.trim().is_empty() {
            section.lines.push(line);
        }
    }
    found.extend(current.map(finish));
    found
}

/// The digest to print after a failed run, or `None` when libtest reported no failure sections.
pub fn digest(output: &str) -> Option<String> {
    let failures = failures(output);
    if failures.is_empty() {
        return None;
    }
    Some(format!(
        "xtask: {} test(s) failed; each one's last lines:\n{}",
        failures.len(),
        digest_of(&failures)
    ))
}

/// Each of `failures` by name, with its last lines indented below it.
pub fn digest_of(failures: &[Failure]) -> String {
    let mut text = String::new();
    for failure in failures {
        text.push_str(&format!("  ✗ {}\n", failure.test));
        for line in &failure.last_lines {
            text.push_str(&format!("      {line}\n"));
        }
    }
    text
}

/// How many tests libtest said it was running (`running N tests`), if it said so once.
pub fn tests_run(output: &str) -> Option<usize> {
    let mut counts = output.lines().filter_map(|line| {
        let count = line.strip_prefix("running ")?;
        let count = count
            .strip_suffix(" tests")
            .or_else(|| count.strip_suffix(" test"))?;
        count.parse().ok()
    });
    let first = counts.next()?;
    counts.next().is_none().then_some(first)
}

fn section_name(line: &str) -> Option<&str> {
    let name = line.strip_prefix("---- ")?;
    name.strip_suffix(" stdout ----")
        .or_else(|| name.strip_suffix(" stderr ----"))
}

fn finish(section: Section) -> Failure {
    let from = section.lines.len().saturating_sub(LINES_PER_FAILURE);
    Failure {
        test: section.test.to_owned(),
        last_lines: section.lines[from..]
            .iter()
            .map(|l| (*l).to_owned())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "\
running 3 tests
test a::passes ... ok
test b::hidden ... FAILED
test c::call ... FAILED

failures:

---- b::hidden stdout ----
hidden page: 457 readings
hidden viewer: back on the frame Some(2580.0) ms after shown
Error: the shown viewer took 2580 ms to get back on the others' frame (at most 1000)

Stack backtrace:
   0: anyhow::error::<impl anyhow::Error>::msg
             at /root/.cargo/registry/src/anyhow/src/error.rs:83:36
   1: e2e::background::hide_and_show::{{closure}}

---- c::call stdout ----
thread 'c::call' panicked at tests/e2e/call.rs:9:5:
the film ended
stack backtrace:
   0: std::panicking::begin_panic

failures:
    b::hidden
    c::call

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.0s
";

    #[test]
    fn each_failure_keeps_its_error_and_drops_its_backtrace() {
        let found = failures(RUN);
        assert_eq!(
            found,
            vec![
                Failure {
                    test: "b::hidden".into(),
                    last_lines: vec![
                        "hidden page: 457 readings".into(),
                        "hidden viewer: back on the frame Some(2580.0) ms after shown".into(),
                        "Error: the shown viewer took 2580 ms to get back on the others' frame (at most 1000)".into(),
                    ],
                },
                Failure {
                    test: "c::call".into(),
                    last_lines: vec![
                        "thread 'c::call' panicked at tests/e2e/call.rs:9:5:".into(),
                        "the film ended".into(),
                    ],
                },
            ]
        );
    }

    #[test]
    fn a_long_section_keeps_only_its_last_lines() {
        let printed: String = (0..20).map(|i| format!("figure {i}\n")).collect();
        let run = format!("---- x stdout ----\n{printed}Error: too far\n\nfailures:\n    x\n");
        let found = failures(&run);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].last_lines.len(), LINES_PER_FAILURE);
        assert_eq!(found[0].last_lines.last().unwrap(), "Error: too far");
        assert_eq!(found[0].last_lines[0], "figure 13");
    }

    #[test]
    fn the_number_of_tests_run_is_read_once() {
        assert_eq!(tests_run(RUN), Some(3));
        assert_eq!(tests_run("running 1 test\ntest a ... ok\n"), Some(1));
        assert_eq!(tests_run("running 0 tests\n"), Some(0));
        assert_eq!(tests_run("error: could not compile\n"), None);
        assert_eq!(tests_run("running 1 test\nrunning 2 tests\n"), None);
    }

    #[test]
    fn a_passing_run_has_no_digest() {
        let run = "running 1 test\ntest a ... ok\n\ntest result: ok. 1 passed; 0 failed\n";
        assert_eq!(digest(run), None);
        assert!(digest(RUN).unwrap().contains("✗ c::call"));
    }
}
