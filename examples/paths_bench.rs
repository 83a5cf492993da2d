//! `cargo xtask bench paths`: two friends connect and watch together over each network shape
//! (one home; two homes behind ordinary NATs; behind symmetric NATs; relays only; UDP blocked),
//! built from namespaces and nftables NATs with coturn and the endpoint on the "internet" (see
//! tests/e2e/harness/network.rs). Per shape: whether they connected, over which path, how long
//! the link took (from the joiner's page showing the room to it showing the friend's path), and
//! the film offset between them while playing (p95 of 10 s sampled every 100 ms, from each
//! page's own `<video>`).
//!
//! Targets: every shape connects on its expected path, `connect_ms` ≤ 2000, offset p95 ≤ 10 ms.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../tests/e2e/harness/mod.rs"]
#[allow(dead_code, unused_imports)] // the tests use parts of the harness the benchmark does not
mod harness;

use anyhow::{Context, Result};
use harness::homes::{meet, play_together, Shape, World};
use harness::host_load::CpuTimes;
use serde_json::{json, Value};
use std::time::Duration;

const NAMES: [&str; 2] = ["alice", "bob"];
const DISPLAY: [&str; 2] = ["Alice", "Bob"];
const PLAY_FOR: Duration = Duration::from_secs(10);
const CONNECT_TARGET_MS: f64 = 2000.0;
const OFFSET_P95_TARGET_MS: f64 = 10.0;

#[tokio::main]
async fn main() -> Result<()> {
    let out = harness::bench_output::out_path("target/bench/paths.json");
    let cpu_before = CpuTimes::read();
    let mut shapes = serde_json::Map::new();
    let mut all_met = true;
    for shape in Shape::ALL {
        println!("paths bench: {} ...", shape.name());
        let row = match measure(shape).await {
            Ok(row) => row,
            Err(error) => {
                eprintln!("{}: {error:#}", shape.name());
                json!({ "connected": false, "error": format!("{error:#}") })
            }
        };
        all_met &= met(shape, &row);
        println!("  {}", row);
        shapes.insert(shape.name().to_owned(), row);
    }
    let cpu = cpu_before.zip(CpuTimes::read()).map(|(a, b)| b.since(&a));
    let report = json!({
        "shapes": shapes,
        "targets": {
            "connect_ms": CONNECT_TARGET_MS,
            "film_offset_p95_ms": OFFSET_P95_TARGET_MS,
        },
        "targets_met": all_met,
        // The machine is shared: CPU time given to other guests, and left idle, during the run.
        "cpu_steal_percent": cpu.map(|c| c.steal * 100.0),
        "cpu_idle_percent": cpu.map(|c| c.idle * 100.0),
    });
    print_table(&report);
    harness::bench_output::write_report(&out, &report)?;
    println!("wrote {}", out.display());
    Ok(())
}

async fn measure(shape: Shape) -> Result<Value> {
    let world = World::start(&format!("paths_{}", shape.name()), NAMES, shape.world()).await?;
    let mut measured = None;
    let outcome = async {
        let meeting = meet(&world, NAMES, DISPLAY).await?;
        let spreads = play_together(&world, NAMES, PLAY_FOR).await?;
        measured = Some((meeting, spreads));
        Ok(())
    }
    .await;
    world.finish(outcome).await?;
    let (meeting, spreads) = measured.context("measured nothing")?;
    let path = meeting.seen_by_second.path.clone();
    Ok(json!({
        "connected": true,
        "path": path,
        "path_seen_by_first": meeting.seen_by_first.path,
        "expected_path": shape.expected_path(),
        "connect_ms": meeting.connect_ms.round(),
        "film_offset_p50_ms": insieme::stats::percentile(&spreads, 50.0),
        "film_offset_p95_ms": insieme::stats::percentile(&spreads, 95.0),
        "film_offset_max_ms": insieme::stats::percentile(&spreads, 100.0),
        "offset_samples": spreads.len(),
    }))
}

fn met(shape: Shape, row: &Value) -> bool {
    row["connected"].as_bool() == Some(true)
        && row["path"].as_str() == Some(shape.expected_path())
        && row["connect_ms"]
            .as_f64()
            .is_some_and(|ms| ms <= CONNECT_TARGET_MS)
        && row["film_offset_p95_ms"]
            .as_f64()
            .is_some_and(|ms| ms <= OFFSET_P95_TARGET_MS)
}

fn print_table(report: &Value) {
    println!(
        "\n{:<14} {:<9} {:<6} {:>11} {:>14}",
        "shape", "connected", "path", "connect ms", "offset p95 ms"
    );
    for (name, row) in report["shapes"].as_object().into_iter().flatten() {
        println!(
            "{:<14} {:<9} {:<6} {:>11} {:>14}",
            name,
            row["connected"],
            row["path"].as_str().unwrap_or("-"),
            row["connect_ms"],
            row["film_offset_p95_ms"]
                .as_f64()
                .map_or("-".into(), |ms| format!("{ms:.1}")),
        );
    }
    println!(
        "targets met: {}; cpu steal {:.2} %, idle {:.0} %",
        report["targets_met"],
        report["cpu_steal_percent"].as_f64().unwrap_or(f64::NAN),
        report["cpu_idle_percent"].as_f64().unwrap_or(f64::NAN)
    );
}
