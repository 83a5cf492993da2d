//! `cargo xtask`: the project's commands, so that a fresh machine with only rustup and cargo
//! needs nothing else. Each command installs the tools it needs, and only when they are missing.

mod app_build;
mod bench;
mod browser_world;
mod command;
mod fuzz;
mod lazy_chunks;
mod network_namespace;
mod second_try;
mod size;
mod test_failures;
mod test_suites;
mod tools;

use anyhow::{bail, Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  run [--listen ADDR]   build the app (release) and serve it with the signaling endpoint
                        on http://127.0.0.1:8080 (or ADDR)
  test [SUITE [FILTER]]  run every suite: the first load's size budget, native, fuzzing (a few
                        seconds per target), in-browser (wasm) and end-to-end; or one suite
                        (size | native | fuzz | web | e2e), with a test-name filter for cargo
                        test (for fuzz: a target-name filter)
  size                  build release and write target/bench/size.json (first-visit bytes, gzip -9)
  bench <name>          run a benchmark: sync | relay | abuse | e2e | paths | call | player | size
                        (writes target/bench/<name>.json)
  bench e2e --clip NAME  the e2e bench on another clip: webm-60 (default) | webm-25 | mp4-24 |
                        mp4-2997 | mp4-60-540p | mp4-24-late (writes target/bench/e2e-NAME.json)
  bench e2e --browsers chromium,chromium,firefox
                        the three viewers' browsers (default three chromium; with --clip too)
  bench e2e --matrix [--clips A,B] [--mixes X,Y]
                        every browser mix (chromium,chromium,chromium and
                        chromium,chromium,firefox; a mix's browsers joined by `+` in --mixes)
                        × every clip, one row each in target/bench/e2e-matrix.json
  bench player --browser firefox|chromium [--sound]
                        one browser's <video>: frame callback timing, rate response, play()
                        latency, autoplay (writes target/bench/player-BROWSER.json); --sound
                        gives Firefox a sound output (a PulseAudio null sink)
";

fn main() {
    if let Err(error) = run_command(std::env::args().skip(1).collect()) {
        eprintln!("xtask: error: {error:#}");
        std::process::exit(1);
    }
}

fn run_command(args: Vec<String>) -> Result<()> {
    let (command, rest) = args
        .split_first()
        .map(|(c, r)| (c.as_str(), r))
        .unwrap_or(("help", &[]));
    match command {
        "run" => serve(parse_listen(rest)?),
        "test" => match rest {
            [] => test_suites::run_all(),
            [suite] => test_suites::run_one(suite, None),
            [suite, filter] => test_suites::run_one(suite, Some(filter)),
            _ => bail!("`cargo xtask test` takes at most a suite and a filter\n\n{USAGE}"),
        },
        "size" => no_more_args(rest).and_then(|_| size::report()),
        "bench" => match rest {
            [name, flags @ ..] => bench::run(name, flags),
            [] => bail!(
                "`cargo xtask bench` takes one benchmark name: {}",
                bench::NAMES.join(" | ")
            ),
        },
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

fn no_more_args(rest: &[String]) -> Result<()> {
    match rest.first() {
        Some(extra) => bail!("unexpected argument `{extra}`\n\n{USAGE}"),
        None => Ok(()),
    }
}

fn parse_listen(rest: &[String]) -> Result<SocketAddr> {
    match rest {
        [] => Ok(SocketAddr::from(([127, 0, 0, 1], 8080))),
        [flag, addr] if flag == "--listen" => addr.parse().with_context(|| {
            format!("--listen wants an address like 127.0.0.1:8080, got `{addr}`")
        }),
        _ => bail!("`cargo xtask run` takes only `--listen ADDR`\n\n{USAGE}"),
    }
}

/// Builds everything in release mode and runs the endpoint in the foreground, serving `dist/`.
fn serve(listen: SocketAddr) -> Result<()> {
    let tools = tools::ensure_build_tools()?;
    let dist = app_build::build_dist(&tools)?;
    let signal = app_build::build_signal()?;
    println!("\nInsieme is starting: open http://{listen}/ in your browser (Ctrl+C stops it).\n");
    command::run(
        std::process::Command::new(&signal)
            .arg("--listen")
            .arg(listen.to_string())
            .arg("--static")
            .arg(&dist),
        "the signaling endpoint",
    )
}

/// The workspace root, whatever directory cargo was run from.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}
