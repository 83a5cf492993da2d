//! `relay-bench`: measures insieme-signal against matchbox_server and peerjs-server on
//! loopback, side by side, with one Rust load generator and a small adapter per protocol.
//!
//! Systems: insieme-signal direct, behind nginx with one node and with two (the shipped
//! deploy/nginx files, see front.rs), and the anchors.
//!
//! Rows, per system (each on a freshly started server):
//! - idle: hold N connections in N/2 topics; resident memory per connection.
//! - join storm: connect, await the welcome, hang up, as fast as possible for S seconds.
//! - relay: T topics of 2 peers ping-ponging; messages per second, p50/p99 one-way latency.
//!
//! Installs the anchors into target/anchors when missing, talks only to 127.0.0.1, and every
//! loop is bounded in count and time. Writes the JSON report to `--out`.

mod front;
mod phases;
mod systems;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use serde_json::{json, Value};

use crate::phases::{Names, Pace, RelayResult};
use crate::systems::{Front, Paths, Running, System};

/// Targets from the issue, checked and printed at the end.
const TARGET_IDLE_BYTES_PER_CONN: f64 = 16.0 * 1024.0;
const TARGET_P99_MS: f64 = 2.0;
/// Two nodes behind nginx against one node behind nginx, on joins/s.
const TARGET_SCALE_OUT: f64 = 1.6;

#[derive(Debug, Parser)]
#[command(
    name = "relay-bench",
    about = "Signaling relay benchmark: insieme-signal vs matchbox_server vs peerjs-server"
)]
struct Args {
    /// Where to write the JSON report.
    #[arg(long, default_value = "target/bench/relay.json")]
    out: PathBuf,
    /// Systems to run, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "insieme-signal,insieme-signal (nginx),insieme-signal x2 (nginx),matchbox_server,peerjs-server"
    )]
    systems: Vec<String>,
    /// Connections held in the idle row.
    #[arg(long, default_value_t = 10_000)]
    idle_connections: u64,
    /// Topics they are spread over.
    #[arg(long, default_value_t = 5_000)]
    idle_topics: u64,
    /// Length of the join storm, in seconds.
    #[arg(long, default_value_t = 10)]
    storm_seconds: u64,
    /// Clients joining concurrently during the storm.
    #[arg(long, default_value_t = 32)]
    storm_workers: usize,
    /// Topics (pairs of peers) in the relay row.
    #[arg(long, default_value_t = 1_000)]
    relay_topics: u64,
    /// Length of each measured relay window, in seconds (after a 1 s warm-up).
    #[arg(long, default_value_t = 5)]
    relay_seconds: u64,
    /// Join storm and relay are run this many times, the systems taking turns, and the median
    /// is reported: the load generator shares the machine with the servers (and, on a shared
    /// host, with whatever else runs), so one run alone is at the mercy of a busy moment.
    #[arg(long, default_value_t = 3)]
    trials: usize,
    /// For the latency figures, each pair starts a round trip every this many milliseconds
    /// (open loop); throughput is measured separately, closed loop.
    #[arg(long, default_value_t = 100)]
    latency_interval_ms: u64,
    /// Characters of opaque payload per relayed message (an encrypted ICE candidate is ~300).
    #[arg(long, default_value_t = 256)]
    payload_bytes: usize,
    /// Small numbers everywhere, to check that the bench itself works.
    #[arg(long)]
    quick: bool,
}

#[derive(Default)]
struct Row {
    name: &'static str,
    idle_rss_per_conn_bytes: Option<f64>,
    notes: Vec<String>,
    /// Every trial's figures; the row reports their medians, and keeps them all in the JSON.
    joins_samples: Vec<f64>,
    relay_samples: Vec<f64>,
    p50_samples: Vec<f64>,
    p99_samples: Vec<f64>,
    runnable: bool,
}

fn median(samples: &[f64]) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

impl Row {
    fn joins_per_s(&self) -> Option<f64> {
        median(&self.joins_samples)
    }

    fn relay_msgs_per_s(&self) -> Option<f64> {
        median(&self.relay_samples)
    }

    fn relay_p50_ms(&self) -> Option<f64> {
        median(&self.p50_samples)
    }

    fn relay_p99_ms(&self) -> Option<f64> {
        median(&self.p99_samples)
    }

    fn json(&self) -> Value {
        let round = |v: Option<f64>, digits: i32| {
            v.map(|v| {
                let scale = 10f64.powi(digits);
                (v * scale).round() / scale
            })
        };
        json!({
            "name": self.name,
            "idle_rss_per_conn_bytes": self.idle_rss_per_conn_bytes.map(|v| v.round() as u64),
            "joins_per_s": round(self.joins_per_s(), 1),
            "relay_msgs_per_s": round(self.relay_msgs_per_s(), 1),
            "relay_p50_ms": round(self.relay_p50_ms(), 3),
            "relay_p99_ms": round(self.relay_p99_ms(), 3),
            "notes": self.notes,
            "trials": {
                "joins_per_s": self.joins_samples.iter().map(|v| round(Some(*v), 1)).collect::<Vec<_>>(),
                "relay_msgs_per_s": self.relay_samples.iter().map(|v| round(Some(*v), 1)).collect::<Vec<_>>(),
                "relay_p50_ms": self.p50_samples.iter().map(|v| round(Some(*v), 3)).collect::<Vec<_>>(),
                "relay_p99_ms": self.p99_samples.iter().map(|v| round(Some(*v), 3)).collect::<Vec<_>>(),
            },
        })
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = Args::parse();
    if args.quick {
        args.idle_connections = args.idle_connections.min(200);
        args.idle_topics = args.idle_topics.min(100);
        args.storm_seconds = args.storm_seconds.min(2);
        args.relay_topics = args.relay_topics.min(20);
        args.relay_seconds = args.relay_seconds.min(2);
        args.trials = 1;
    }
    args.trials = args.trials.max(1);
    let systems: Vec<System> = args
        .systems
        .iter()
        .map(|name| System::from_name(name).with_context(|| format!("unknown system `{name}`")))
        .collect::<Result<_>>()?;
    let paths = Paths::discover();
    let names = Arc::new(Names::new());
    warn_on_fd_limit(args.idle_connections);

    let mut rows: Vec<Row> = Vec::new();
    for &system in &systems {
        eprintln!("bench: {}", system.name());
        let mut row = Row {
            name: system.name(),
            ..Row::default()
        };
        match systems::ensure_installed(system, &paths).await {
            Ok(()) => {
                row.runnable = true;
                if let System::Insieme(Front::Nginx { .. }) = system {
                    // The RSS would be nginx's alone; the direct row measures the node.
                    row.notes
                        .push("idle: measured on the direct row only".into());
                } else {
                    idle_row(system, &paths, &names, &args, &mut row).await;
                }
            }
            Err(error) => {
                row.notes.push(format!("not run: {error:#}"));
                eprintln!("bench: {}: {error:#}", system.name());
            }
        }
        rows.push(row);
    }
    for trial in 1..=args.trials {
        for row in rows.iter_mut().filter(|r| r.runnable) {
            let system = System::from_name(row.name).expect("rows come from systems");
            eprintln!(
                "bench: {} (trial {trial} of {})",
                system.name(),
                args.trials
            );
            storm_row(system, &paths, &names, &args, row).await;
            // Let the storm's sockets leave TIME_WAIT pressure behind before the next row.
            tokio::time::sleep(Duration::from_secs(1)).await;
            relay_row(system, &paths, &names, &args, row).await;
        }
    }
    for row in &mut rows {
        row.notes.dedup();
    }

    print_table(&rows, &args);
    let report = json!({
        "systems": rows.iter().map(Row::json).collect::<Vec<_>>(),
        "config": {
            "idle_connections": args.idle_connections,
            "idle_topics": args.idle_topics,
            "storm_seconds": args.storm_seconds,
            "storm_workers": args.storm_workers,
            "relay_topics": args.relay_topics,
            "relay_seconds": args.relay_seconds,
            "payload_bytes": args.payload_bytes,
            "trials": args.trials,
            "figures_are": "medians over trials (idle: one run)",
            "latency_interval_ms": args.latency_interval_ms,
            "relay_msgs_per_s_is": "closed-loop ping-pong throughput",
            "relay_latency_is": "one-way, each pair paced at one round trip per latency_interval_ms",
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "note": "loopback; load generator and server share the machine",
        },
    });
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("bench: wrote {}", args.out.display());
    Ok(())
}

/// Starts the server for one row: each row runs on a freshly started server, so one row's
/// leftovers never skew the next. A server that does not start is noted under `phase`.
async fn fresh_server(
    system: System,
    paths: &Paths,
    phase: &str,
    row: &mut Row,
) -> Option<Running> {
    match systems::start(system, paths).await {
        Ok(server) => Some(server),
        Err(error) => {
            row.notes
                .push(format!("{phase}: server did not start: {error:#}"));
            None
        }
    }
}

async fn idle_row(system: System, paths: &Paths, names: &Arc<Names>, args: &Args, row: &mut Row) {
    let Some(server) = fresh_server(system, paths, "idle", row).await else {
        return;
    };
    match phases::idle(
        system,
        &server,
        names,
        args.idle_connections,
        args.idle_topics,
    )
    .await
    {
        Ok(idle) => {
            eprintln!(
                "  idle: {} connections, RSS {:.1} → {:.1} MiB",
                idle.held,
                idle.rss_before as f64 / 1048576.0,
                idle.rss_after as f64 / 1048576.0
            );
            row.idle_rss_per_conn_bytes = Some(idle.per_connection());
        }
        Err(error) => row.notes.push(format!("idle: {error:#}")),
    }
    server.stop().await;
}

async fn storm_row(system: System, paths: &Paths, names: &Arc<Names>, args: &Args, row: &mut Row) {
    let Some(server) = fresh_server(system, paths, "storm", row).await else {
        return;
    };
    let duration = Duration::from_secs(args.storm_seconds);
    match phases::storm(system, &server.addr, names, duration, args.storm_workers).await {
        Ok(storm) => {
            eprintln!("  storm: {} joins, {} failed", storm.joins, storm.failures);
            row.joins_samples.push(storm.joins as f64 / storm.seconds);
            if storm.failures > 0 {
                row.notes
                    .push(format!("storm: {} joins failed", storm.failures));
            }
        }
        Err(error) => row.notes.push(format!("storm: {error:#}")),
    }
    server.stop().await;
}

/// Throughput (closed loop), then latency (paced), on one server.
async fn relay_row(system: System, paths: &Paths, names: &Arc<Names>, args: &Args, row: &mut Row) {
    let Some(server) = fresh_server(system, paths, "relay", row).await else {
        return;
    };
    if let Some(relay) = relay_run(system, &server, names, args, Pace::Saturate, row).await {
        row.relay_samples
            .push(relay.messages as f64 / relay.seconds);
    }
    let interval = Duration::from_millis(args.latency_interval_ms.max(1));
    if let Some(relay) = relay_run(system, &server, names, args, Pace::Every(interval), row).await {
        row.p50_samples.push(relay.p50_ms);
        row.p99_samples.push(relay.p99_ms);
    }
    server.stop().await;
}

/// One relay measurement, logged; stalled clients and errors are noted in the row.
async fn relay_run(
    system: System,
    server: &Running,
    names: &Names,
    args: &Args,
    pace: Pace,
    row: &mut Row,
) -> Option<RelayResult> {
    // Each run on the server gets its own topic names.
    let (round, label) = match pace {
        Pace::Saturate => (2, "closed loop"),
        Pace::Every(_) => (3, "paced"),
    };
    let duration = Duration::from_secs(args.relay_seconds);
    let result = phases::relay(
        system,
        &server.addr,
        names,
        round,
        args.relay_topics,
        pace,
        duration,
        args.payload_bytes,
    )
    .await;
    match result {
        Ok(relay) => {
            eprintln!(
                "  relay ({label}): {} messages in {} s, p50 {:.3} ms, p99 {:.3} ms",
                relay.messages, relay.seconds, relay.p50_ms, relay.p99_ms
            );
            if relay.stalled_clients > 0 {
                row.notes.push(format!(
                    "relay: {} clients stalled ({label})",
                    relay.stalled_clients
                ));
            }
            Some(relay)
        }
        Err(error) => {
            row.notes.push(format!("relay ({label}): {error:#}"));
            None
        }
    }
}

fn print_table(rows: &[Row], args: &Args) {
    let cell = |v: Option<f64>, digits: usize| match v {
        Some(v) => format!("{v:.digits$}"),
        None => "n/a".to_owned(),
    };
    println!();
    println!(
        "relay bench: idle {} conns/{} topics, storm {} s x {} clients, relay {} topics x 2 peers for {} s, {} B payload, median of {} trials",
        args.idle_connections,
        args.idle_topics,
        args.storm_seconds,
        args.storm_workers,
        args.relay_topics,
        args.relay_seconds,
        args.payload_bytes,
        args.trials
    );
    let paced = args.relay_topics as f64 * 2.0 * 1000.0 / args.latency_interval_ms.max(1) as f64;
    println!(
        "relay msg/s: closed-loop ping-pong; p50/p99: one-way, paced at one round trip per pair every {} ms ({paced:.0} msg/s offered)",
        args.latency_interval_ms
    );
    println!(
        "{:<26} {:>14} {:>10} {:>14} {:>9} {:>9}",
        "system", "idle B/conn", "joins/s", "relay msg/s", "p50 ms", "p99 ms"
    );
    for row in rows {
        println!(
            "{:<26} {:>14} {:>10} {:>14} {:>9} {:>9}",
            row.name,
            cell(row.idle_rss_per_conn_bytes, 0),
            cell(row.joins_per_s(), 0),
            cell(row.relay_msgs_per_s(), 0),
            cell(row.relay_p50_ms(), 3),
            cell(row.relay_p99_ms(), 3),
        );
        for note in &row.notes {
            println!("{:<26} note: {note}", "");
        }
    }
    // Targets: insieme-signal ahead on every row; idle ≤ 16 KiB/conn; p99 ≤ 2 ms.
    let Some(ours) = rows.iter().find(|r| r.name == "insieme-signal") else {
        return;
    };
    let others: Vec<&Row> = rows
        .iter()
        .filter(|r| !r.name.starts_with("insieme-signal"))
        .collect();
    let ahead = |get: fn(&Row) -> Option<f64>, lower_is_better: bool| -> String {
        let Some(mine) = get(ours) else {
            return "not measured".into();
        };
        let beaten: Vec<&str> = others
            .iter()
            .filter(|o| match get(o) {
                Some(theirs) if lower_is_better => theirs <= mine,
                Some(theirs) => theirs >= mine,
                None => false,
            })
            .map(|o| o.name)
            .collect();
        if beaten.is_empty() {
            "ahead".into()
        } else {
            format!("NOT ahead of {}", beaten.join(", "))
        }
    };
    println!();
    println!("targets for insieme-signal:");
    println!(
        "  idle memory: {} ; ≤ 16 KiB/conn: {}",
        ahead(|r| r.idle_rss_per_conn_bytes, true),
        verdict(
            ours.idle_rss_per_conn_bytes
                .map(|v| v <= TARGET_IDLE_BYTES_PER_CONN)
        )
    );
    println!("  joins/s:     {}", ahead(Row::joins_per_s, false));
    println!("  relay msg/s: {}", ahead(Row::relay_msgs_per_s, false));
    println!("  relay p50:   {}", ahead(Row::relay_p50_ms, true));
    println!(
        "  relay p99:   {} ; ≤ 2 ms: {}",
        ahead(Row::relay_p99_ms, true),
        verdict(ours.relay_p99_ms().map(|v| v <= TARGET_P99_MS))
    );
    let by_name = |name: &str| rows.iter().find(|r| r.name == name);
    let one = by_name(System::Insieme(Front::Nginx { nodes: 1 }).name()).and_then(Row::joins_per_s);
    let two = by_name(System::Insieme(Front::Nginx { nodes: 2 }).name()).and_then(Row::joins_per_s);
    if let (Some(one), Some(two)) = (one, two) {
        println!(
            "  scale-out:   two nodes behind nginx {:.2}x one node behind nginx on joins/s ; ≥ {TARGET_SCALE_OUT}x: {}",
            two / one,
            verdict(Some(two / one >= TARGET_SCALE_OUT))
        );
    }
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "not measured",
    }
}

/// Each held connection is a file descriptor here and in the server.
fn warn_on_fd_limit(connections: u64) {
    if let Ok(limits) = std::fs::read_to_string("/proc/self/limits") {
        let soft = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(soft) = soft {
            if soft < connections + 512 {
                eprintln!(
                    "bench: warning: open-file limit {soft} is below {} (raise it with `ulimit -n`)",
                    connections + 512
                );
            }
        }
    }
}
