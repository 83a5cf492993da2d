//! `cargo xtask bench e2e --slow [--runs N] [--only A,B]`: the starts and slow devices of issue 19, each in a
//! fresh party of three Chromium viewers (`harness::slow_device`), N times (1 by default), into
//! `target/bench/e2e-slow.json`: a slow viewer's offset while slowed and how long it takes to be
//! back on the frame once freed, how far the two others strayed meanwhile (the room's clock
//! slowed, then a guest), and for each start (on a saturated viewer, on `canplay`, while a
//! viewer buffers) how long until everyone is on one frame; each with the host's steal and idle.
//! A run that fails is a row with its error.

use crate::harness::media::party_with_clip;
use crate::harness::slow_device::{self, Slowness, SLOW_DEVICE};
use crate::harness::Party;
use anyhow::{Context, Result};
use std::time::Duration;

/// How long a slow viewer stays slow.
const SLOW_FOR: Duration = Duration::from_secs(15);
/// How long a saturated viewer stays so after pressing Play.
const SATURATED_FOR: Duration = Duration::from_secs(6);
/// A buffering viewer's download cap (the clip needs about 23 kB/s), and how long it holds.
const BUFFERING_CAP: f64 = 2_000.0;
const BUFFERING_FOR: Duration = Duration::from_secs(4);

/// The scenarios by the names the report gives them.
const SCENARIOS: [&str; 5] = [
    "slow_room_clock",
    "slow_guest",
    "saturated_start",
    "start_on_canplay",
    "start_while_buffering",
];

/// Runs every scenario (or only those named in `only`) `runs` times.
pub async fn bench(runs: usize, only: Option<&str>) -> Result<()> {
    let out = crate::harness::bench_output::out_path("target/bench/e2e-slow.json");
    let chosen: Vec<&str> = SCENARIOS
        .into_iter()
        .filter(|s| only.is_none_or(|names| names.split(',').any(|n| n == *s)))
        .collect();
    anyhow::ensure!(
        !chosen.is_empty(),
        "no scenario named {only:?}; choose among {}",
        SCENARIOS.join(", ")
    );
    let mut rows = Vec::new();
    for run in 1..=runs {
        for &scenario in &chosen {
            println!("e2e slow bench: run {run} of {runs}, {scenario}");
            let row = match once(scenario, run).await {
                Ok(figures) => {
                    serde_json::json!({ "run": run, "scenario": scenario, "figures": figures })
                }
                Err(error) => {
                    eprintln!("{scenario} failed: {error:#}");
                    serde_json::json!({ "run": run, "scenario": scenario, "error": format!("{error:#}") })
                }
            };
            println!("{}", serde_json::to_string(&row)?);
            rows.push(row);
            // Written after each scenario, so an interrupted bench keeps what it measured.
            crate::harness::bench_output::write_report(&out, &serde_json::json!({ "rows": rows }))?;
        }
    }
    println!("wrote {}", out.display());
    Ok(())
}

async fn once(scenario: &str, run: usize) -> Result<serde_json::Value> {
    let names = slow_device::browser_names();
    let party = party_with_clip(&format!("e2e_slow_{scenario}"), &names).await?;
    let figures = play(&party, scenario).await;
    // One folder per run: the run that moved the room is read against the ones that did not.
    let consoles = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "target/bench/e2e-slow-console/{scenario}/run-{run}"
    ));
    party.save_artifacts(&consoles).await;
    match figures {
        Ok(figures) => {
            party.finish(Ok(())).await?;
            Ok(figures)
        }
        Err(error) => Err(party
            .finish(Err(error))
            .await
            .expect_err("finishing a failed run keeps its error")),
    }
}

/// The slow device of the scenarios: [`SLOW_DEVICE`], or, to look into what a slower one does
/// (the host's own load makes the same device slower on some runs than on others),
/// `INSIEME_SLOW_DEVICE=RATE,BUSY_MS,EVERY_MS`.
fn slow_device() -> Result<Slowness> {
    let Ok(given) = std::env::var("INSIEME_SLOW_DEVICE") else {
        return Ok(SLOW_DEVICE);
    };
    let parts: Vec<f64> = given
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("INSIEME_SLOW_DEVICE={given:?} is not RATE,BUSY_MS,EVERY_MS"))?;
    let [rate, busy_ms, every_ms] = parts[..] else {
        anyhow::bail!("INSIEME_SLOW_DEVICE={given:?} is not RATE,BUSY_MS,EVERY_MS");
    };
    Ok(Slowness {
        rate,
        busy_ms,
        every_ms,
    })
}

async fn play(party: &Party, scenario: &str) -> Result<serde_json::Value> {
    let slow = slow_device()?;
    Ok(match scenario {
        "slow_room_clock" => slow_device::slow_viewer(party, "alice", slow, SLOW_FOR)
            .await?
            .json(),
        "slow_guest" => slow_device::slow_viewer(party, "carol", slow, SLOW_FOR)
            .await?
            .json(),
        "saturated_start" => slow_device::saturated_start(party, slow, SATURATED_FOR)
            .await?
            .json(),
        "start_on_canplay" => slow_device::start_on_canplay(party).await?.json(),
        "start_while_buffering" => {
            slow_device::start_while_buffering(party, BUFFERING_CAP, BUFFERING_FOR)
                .await?
                .json()
        }
        other => None.with_context(|| format!("no scenario {other}"))?,
    })
}
