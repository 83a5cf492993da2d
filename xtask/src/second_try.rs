//! One more try, alone, for an end-to-end test that failed in the full run.
//!
//! The suite drives three browsers on two shared cores whose CPU steal swings within the hour;
//! a test that asserts timing (a tile's frames in 2 s, a film in sync within 15 s) can starve
//! there while passing alone. A failed test is therefore run once more by itself. If it passes,
//! the suite passes, but says loudly which tests needed it and why they failed first, so that a
//! real regression that fails one time in two is still seen. A test that fails twice fails the
//! suite, and so does a run whose failures could not be read (a harness that crashed, a build
//! error) or that failed in more than [`MAX_SECOND_TRIES`] tests (something is broken, not noisy).

use crate::test_failures::{digest_of, Failure};
use anyhow::{bail, Result};

/// Above this many failures a run is not retried.
pub const MAX_SECOND_TRIES: usize = 3;

/// What became of a failed run's tests.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Each failed test passed when run again alone.
    PassedOnSecondTry(Vec<Failure>),
    /// Some tests failed again (`again`, with their second reasons); the others passed on
    /// their second try (`flaky`, with their first).
    FailedTwice {
        again: Vec<Failure>,
        flaky: Vec<Failure>,
    },
    /// Not retried: no failure could be read, or too many failed.
    NotRetried(Vec<Failure>),
}

/// Runs each of `failures` again through `run_alone` (which reports the second try's own
/// failures, if any), unless there are none or too many.
pub fn second_try(
    failures: Vec<Failure>,
    mut run_alone: impl FnMut(&str) -> (Result<()>, Vec<Failure>),
) -> Verdict {
    if failures.is_empty() || failures.len() > MAX_SECOND_TRIES {
        return Verdict::NotRetried(failures);
    }
    let (mut again, mut flaky) = (Vec::new(), Vec::new());
    for failure in failures {
        println!("\nxtask: trying {} again, alone", failure.test);
        let (outcome, second) = run_alone(&failure.test);
        if outcome.is_ok() {
            flaky.push(failure);
            continue;
        }
        // What the second try printed, or the first's when it printed nothing readable.
        let second = second.into_iter().find(|f| f.test == failure.test);
        again.push(second.unwrap_or(failure));
    }
    if again.is_empty() {
        Verdict::PassedOnSecondTry(flaky)
    } else {
        Verdict::FailedTwice { again, flaky }
    }
}

/// Prints what the verdict means and turns it into the suite's outcome.
pub fn report(verdict: Verdict, first_run: Result<()>) -> Result<()> {
    match verdict {
        Verdict::PassedOnSecondTry(flaky) => {
            report_flaky(&flaky);
            Ok(())
        }
        Verdict::FailedTwice { again, flaky } => {
            report_flaky(&flaky);
            println!(
                "\nxtask: {} test(s) failed twice, the second time alone; each one's last \
                 lines:\n{}",
                again.len(),
                digest_of(&again)
            );
            bail!("{} end-to-end test(s) failed twice", again.len())
        }
        // The first run's digest is already printed above.
        Verdict::NotRetried(failures) => {
            if failures.len() > MAX_SECOND_TRIES {
                println!(
                    "\nxtask: {} tests failed, more than the {MAX_SECOND_TRIES} tried again",
                    failures.len()
                );
            }
            first_run
        }
    }
}

fn report_flaky(flaky: &[Failure]) {
    if !flaky.is_empty() {
        println!(
            "\nxtask: FLAKY: {} test(s) failed in the full run and passed alone on a second try; \
             the first failure of each:\n{}",
            flaky.len(),
            digest_of(flaky)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(test: &str) -> Failure {
        Failure {
            test: test.into(),
            last_lines: vec![format!("Error: {test} was slow")],
        }
    }

    #[test]
    fn tests_that_pass_alone_pass_the_suite_and_are_named() {
        let mut tried = Vec::new();
        let verdict = second_try(vec![failed("a"), failed("b")], |test| {
            tried.push(test.to_owned());
            (Ok(()), Vec::new())
        });
        assert_eq!(tried, ["a", "b"]);
        assert_eq!(
            verdict,
            Verdict::PassedOnSecondTry(vec![failed("a"), failed("b")])
        );
        assert!(report(verdict, Err(anyhow::anyhow!("first run failed"))).is_ok());
    }

    #[test]
    fn a_test_that_fails_again_fails_the_suite_with_its_second_reason() {
        let verdict = second_try(vec![failed("a"), failed("b")], |test| match test {
            "b" => (
                Err(anyhow::anyhow!("exit 101")),
                vec![Failure {
                    test: "b".into(),
                    last_lines: vec!["Error: b again".into()],
                }],
            ),
            _ => (Ok(()), Vec::new()),
        });
        assert_eq!(
            verdict,
            Verdict::FailedTwice {
                again: vec![Failure {
                    test: "b".into(),
                    last_lines: vec!["Error: b again".into()],
                }],
                flaky: vec![failed("a")],
            }
        );
        assert!(report(verdict, Ok(())).is_err());
    }

    #[test]
    fn a_second_try_that_prints_nothing_readable_keeps_the_first_reason() {
        let verdict = second_try(vec![failed("a")], |_| {
            (Err(anyhow::anyhow!("could not start")), Vec::new())
        });
        assert_eq!(
            verdict,
            Verdict::FailedTwice {
                again: vec![failed("a")],
                flaky: Vec::new(),
            }
        );
    }

    #[test]
    fn unreadable_or_too_many_failures_are_not_retried() {
        let never = |_: &str| -> (Result<()>, Vec<Failure>) { panic!("must not retry") };
        assert_eq!(
            second_try(Vec::new(), never),
            Verdict::NotRetried(Vec::new())
        );
        let many: Vec<Failure> = (0..=MAX_SECOND_TRIES)
            .map(|i| failed(&i.to_string()))
            .collect();
        assert_eq!(second_try(many.clone(), never), Verdict::NotRetried(many));
        let first = report(Verdict::NotRetried(Vec::new()), Err(anyhow::anyhow!("x")));
        assert!(first.is_err());
    }
}
