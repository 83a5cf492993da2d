//! The sync benchmark: runs the fixed scenarios, prints a table with the targets beside it,
//! and writes the results as JSON (default `target/bench/sync.json` under the workspace).
//!
//! Usage: `sync-bench [--out PATH] [--seed N] [--only NAME]` (`--only queue-storm` for the shared
//! queue's storm alone).

use insieme_sim::queue_storm::{self, queue_storm};
use insieme_sim::report::{table, QueueStormRow, Row, Target};
use insieme_sim::scenarios::{self, BENCH_SEED};
use insieme_sim::Scenario;
use std::path::PathBuf;

fn main() {
    let mut out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench/sync.json");
    let mut seed = BENCH_SEED;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = PathBuf::from(args.next().expect("--out needs a path")),
            "--seed" => {
                seed = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--seed needs a number")
            }
            "--only" => only = args.next(),
            "-h" | "--help" => {
                println!("usage: sync-bench [--out PATH] [--seed N] [--only NAME]");
                return;
            }
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }

    let plan: Vec<(Scenario, Vec<Target>)> = vec![
        (scenarios::lan(seed, 120.0), vec![Target::P95(2.0)]),
        (
            scenarios::wan(seed, 180.0),
            vec![Target::P95(15.0), Target::P99(25.0)],
        ),
        (
            scenarios::storm(seed, 40.0),
            vec![Target::FinalAgree, Target::ConvergeMs(1500.0)],
        ),
        (scenarios::handover(seed, 90.0), vec![Target::JumpMs(5.0)]),
        (scenarios::churn(seed, 600.0), vec![Target::P95(15.0)]),
        (scenarios::stalls(seed, 180.0), vec![Target::FinalAgree]),
        (
            scenarios::screen(seed, 65.0, true),
            vec![Target::P95(10.0), Target::P99(17.0)],
        ),
        // The same run with the engine not told its step: the comparison, with no target.
        (scenarios::screen(seed, 65.0, false), vec![]),
        // One viewer's media clock 2000 ppm slow: long enough for the rate trim to settle.
        (
            scenarios::screen_drift(seed, 180.0),
            vec![Target::P95(10.0), Target::P99(17.0)],
        ),
        // `screen` with the pages reading their media clocks: the engines steer the clock.
        (
            scenarios::screen_clock(seed, 65.0),
            vec![Target::P95(10.0), Target::P99(17.0)],
        ),
        // `screen-clock` without the frame grid told, as the browser glue runs.
        (
            scenarios::screen_live(seed, 65.0),
            vec![Target::P95(10.0), Target::P99(17.0)],
        ),
        (
            scenarios::screen_clock_drift(seed, 180.0),
            vec![Target::P95(10.0), Target::P99(17.0)],
        ),
        // Chromium and Firefox pages in their measured models (`insieme_sim::browsers`), held
        // to issue 19's targets: offset p95 within 10 ms and p99 within a frame, the offset
        // shown to each viewer within 5 ms of the truth.
        (
            scenarios::firefox_among_chromium(seed, 65.0, 60.0),
            mixed_targets(60.0),
        ),
        (
            scenarios::firefox_among_chromium(seed, 65.0, 24.0),
            mixed_targets(24.0),
        ),
        (
            scenarios::chromium_firefox(seed, 65.0, 60.0),
            mixed_targets(60.0),
        ),
        (
            scenarios::chromium_firefox(seed, 65.0, 24.0),
            mixed_targets(24.0),
        ),
    ];

    let mut rows = Vec::new();
    for (sc, targets) in plan {
        if only.as_deref().is_some_and(|o| o != sc.name) {
            continue;
        }
        print_params(&sc);
        let duration = sc.duration_s;
        let started = std::time::Instant::now();
        let outcome = insieme_sim::run(sc);
        let row = Row::new(&outcome, seed, duration, &targets);
        eprintln!("  ran in {:.1} s", started.elapsed().as_secs_f64());
        rows.push(row);
    }
    let storm = only
        .as_deref()
        .is_none_or(|o| o == QUEUE_STORM)
        .then(|| run_queue_storm(seed));
    println!();
    if !rows.is_empty() {
        print!("{}", table(&rows));
    }
    if let Some(storm) = &storm {
        println!("{}", storm.line());
    }

    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).expect("create the output directory");
    }
    let json = serde_json::json!({ "scenarios": rows, "queue_storm": storm });
    std::fs::write(
        &out,
        serde_json::to_string_pretty(&json).expect("serialize"),
    )
    .expect("write the JSON report");
    println!("\nwrote {}", out.display());
}

/// Issue 19's targets for a room at `fps`: offset p95 ≤ 10 ms, p99 ≤ one frame, and the offset
/// each viewer is shown within 5 ms of its true offset at p95.
fn mixed_targets(fps: f64) -> Vec<Target> {
    let frame_ms = ((1e3 / fps) * 10.0).ceil() / 10.0;
    vec![
        Target::P95(10.0),
        Target::P99(frame_ms),
        Target::SelfEstimateP95(5.0),
    ]
}

const QUEUE_STORM: &str = "queue-storm";
/// One storm lasts a few milliseconds of CPU, so the row is read over many seeds: its p99 is
/// then a property of the protocol, not of one lucky run.
const QUEUE_STORM_RUNS: u64 = 200;

/// Eight pages editing the shared queue at once on WAN links, a ninth joining halfway
/// (`insieme_sim::queue_storm`), over `QUEUE_STORM_RUNS` seeds from `seed`.
fn run_queue_storm(seed: u64) -> QueueStormRow {
    let first = queue_storm(seed);
    println!(
        "{QUEUE_STORM}: {} pages editing {:.1} times a second each for {:.0} s, one joining at \
         {:?} s; link {:?}; {QUEUE_STORM_RUNS} seeds from {seed:#x}",
        first.pages, first.edits_per_s, first.storm_s, first.join_s, first.link
    );
    let started = std::time::Instant::now();
    let runs: Vec<_> = (0..QUEUE_STORM_RUNS)
        .map(|i| queue_storm::run(queue_storm(seed.wrapping_add(i))))
        .collect();
    eprintln!("  ran in {:.1} s", started.elapsed().as_secs_f64());
    let pages = first.pages + usize::from(first.join_s.is_some());
    QueueStormRow::new(QUEUE_STORM, pages, seed, &runs)
}

fn print_params(sc: &Scenario) {
    println!(
        "{}: {} slots, {:.0} s, seed {:#x}; link {:?}; skew ±{} ppm; clock offsets ±{:.0} h; \
         fps {:?}; seek {:?} ms; start {:?} ms; rate response {:?} ms; stalls {:?}; {} script steps",
        sc.name,
        sc.slots,
        sc.duration_s,
        sc.seed,
        sc.link,
        sc.skew_ppm,
        sc.clock_offset_s / 3600.0,
        sc.fps,
        sc.seek_latency_ms,
        sc.start_latency_ms,
        sc.rate_tau_ms,
        sc.stalls,
        sc.script.len()
    );
    if let Some(d) = sc.display {
        println!(
            "  display: refresh {:.1} us, vsync phase {:.1} us (all peers); \
             engine told the presentation step: {}, and its phase: {}",
            d.refresh_us,
            d.phase_us,
            sc.tell_presentation_step,
            sc.tell_presentation_step && sc.tell_presentation_phase
        );
    }
    if let Some(c) = sc.clock_readings {
        println!(
            "  media clock read at every frame: scatter {:.0} us sd ({:.0} us while stretched); \
             rates within {:.3} % of 1.0 run it at 1.0; set back {:.0} us on leaving the normal \
             rate, forward by up to {:.0} us on returning",
            c.noise_us_sd,
            c.stretched_noise_us_sd,
            c.unstretched_within.unwrap_or(0.0) * 100.0,
            c.stretch_entry_jump_us,
            c.stretch_exit_gain_max_us
        );
    }
    if !sc.browsers.is_empty() {
        let models: Vec<String> = sc
            .browsers
            .iter()
            .map(|b| format!("{b:?} {:?}", b.model()))
            .collect();
        println!(
            "  browsers by slot (insieme_sim::browsers; their start, rate response and clock \
             readings replace the scenario's above):"
        );
        for m in models {
            println!("    {m}");
        }
    }
    if sc.media_rate_error_ppm.iter().any(|e| *e != 0.0) {
        println!(
            "  media clock rate error by slot: {:?} ppm (engines not told)",
            sc.media_rate_error_ppm
        );
    }
}
