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
//! Two passes, their rows taking turns in every trial: capped, where every server process (each
//! insieme-signal node, each anchor) is held to `--node-cpus` CPUs by a cgroup of its own, and
//! uncapped. The capped rows are the report's `systems`: with the node as the bottleneck, as on
//! a deployment where one node is one machine, "two nodes behind nginx" against "one node
//! behind nginx" measures scale-out rather than the host, and the anchors get the same budget.
//! Uncapped, on a small host the load generator, nginx and the nodes share the same cores, so
//! those rows say what this machine does flat out, not how the design scales (see cap.rs).
//! Each row records how busy the host was (and how much the hypervisor stole) while it was
//! measured, and how often the capped servers hit their budget.
//!
//! `relay-bench abuse` instead measures insieme-signal alone under attack (see abuse.rs).
//!
//! Installs the anchors into target/anchors when missing, talks only to 127.0.0.1, and every
//! loop is bounded in count and time. Writes the JSON report to `--out`.

mod abuse;
mod cap;
mod front;
mod host;
mod phases;
mod systems;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use serde_json::{json, Value};

use crate::cap::{CpuCap, Throttling};
use crate::host::CpuTimes;
use crate::phases::{Names, Pace, RelayResult};
use crate::systems::{Front, Paths, Running, System};

/// Targets, checked and printed at the end: an idle member costs the endpoint little enough
/// that a small machine holds tens of thousands of waiting browsers, and a relayed message adds
/// no delay a join could notice.
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
    /// Clients joining concurrently during the storm, each in a closed loop. Enough that a
    /// server always has joins waiting: with few clients the storm measures their round trips
    /// (a capped node, after a pause, would find most of them queued at the other node).
    #[arg(long, default_value_t = 256)]
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
    /// CPU budget of each server process in the capped rows (each insieme-signal node, each
    /// anchor), in CPUs; 0 runs the uncapped rows only. The default is a fraction of one core
    /// small enough that two capped nodes, nginx and the load generator together stay below
    /// two cores, so on a two-core host the nodes, not the host, set the pace. At least 0.1
    /// (the kernel's smallest quota, 1 ms, per the 10 ms period cap.rs uses).
    #[arg(long, default_value_t = DEFAULT_NODE_CPUS)]
    node_cpus: f64,
    /// Leave out the uncapped rows (halves the run).
    #[arg(long)]
    capped_only: bool,
    /// Small numbers everywhere, to check that the bench itself works.
    #[arg(long)]
    quick: bool,
    #[command(subcommand)]
    mode: Option<Mode>,
}

#[derive(Debug, clap::Subcommand)]
enum Mode {
    /// insieme-signal alone, with its default limits, under attack from one address: its peak
    /// memory, and honest members' latency and joins meanwhile (`cargo xtask bench abuse`).
    Abuse(abuse::Args),
}

/// See `Args::node_cpus`.
const DEFAULT_NODE_CPUS: f64 = 0.15;

/// Which pass a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    Capped,
    Uncapped,
}

impl Pass {
    fn label(self) -> &'static str {
        match self {
            Pass::Capped => "capped",
            Pass::Uncapped => "uncapped",
        }
    }
}

struct Row {
    system: System,
    pass: Pass,
    idle_rss_per_conn_bytes: Option<f64>,
    notes: Vec<String>,
    /// Every trial's figures; the row reports their medians, and keeps them all in the JSON.
    joins_samples: Vec<f64>,
    relay_samples: Vec<f64>,
    p50_samples: Vec<f64>,
    p99_samples: Vec<f64>,
    runnable: bool,
    /// Who used the CPU while the storm ran, and while the closed-loop relay ran (all trials).
    storm: Measured,
    relay: Measured,
}

/// CPU use over the measured windows of a row, summed over its trials.
#[derive(Debug, Clone, Copy, Default)]
struct Measured {
    /// The whole host.
    host: CpuTimes,
    /// How often the capped servers ran out of budget.
    throttling: Option<Throttling>,
    wall_s: f64,
    /// CPU seconds of the load generator (this process) and of nginx, if in front.
    load_generator_s: f64,
    front_s: Option<f64>,
}

impl Measured {
    fn add(&mut self, more: Measured) {
        self.host = self.host.add(more.host);
        if let Some(t) = more.throttling {
            self.throttling = Some(self.throttling.unwrap_or_default().add(t));
        }
        self.wall_s += more.wall_s;
        self.load_generator_s += more.load_generator_s;
        if let Some(f) = more.front_s {
            self.front_s = Some(self.front_s.unwrap_or(0.0) + f);
        }
    }

    /// Average CPUs used over the windows.
    fn cpus(&self, seconds: f64) -> Option<f64> {
        (self.wall_s > 0.0).then(|| seconds / self.wall_s)
    }

    fn json(&self) -> Value {
        json!({
            "host_busy": round(self.host.busy(), 3),
            "host_steal": round(self.host.steal(), 3),
            "servers_throttled": round(self.throttling.and_then(Throttling::share), 3),
            "load_generator_cpus": round(self.cpus(self.load_generator_s), 3),
            "nginx_cpus": round(self.front_s.and_then(|f| self.cpus(f)), 3),
        })
    }
}

/// `v` to `digits` decimals, for the JSON report.
fn round(v: Option<f64>, digits: i32) -> Option<f64> {
    let scale = 10f64.powi(digits);
    v.map(|v| (v * scale).round() / scale)
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
    fn new(system: System, pass: Pass) -> Row {
        Row {
            system,
            pass,
            idle_rss_per_conn_bytes: None,
            notes: Vec::new(),
            joins_samples: Vec::new(),
            relay_samples: Vec::new(),
            p50_samples: Vec::new(),
            p99_samples: Vec::new(),
            runnable: false,
            storm: Measured::default(),
            relay: Measured::default(),
        }
    }

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

    fn json(&self, cap: Option<&CpuCap>) -> Value {
        json!({
            "name": self.system.name(),
            "node_cpus": row_cap(self.pass, cap).map(CpuCap::cpus),
            "idle_rss_per_conn_bytes": self.idle_rss_per_conn_bytes.map(|v| v.round() as u64),
            "joins_per_s": round(self.joins_per_s(), 1),
            "relay_msgs_per_s": round(self.relay_msgs_per_s(), 1),
            "relay_p50_ms": round(self.relay_p50_ms(), 3),
            "relay_p99_ms": round(self.relay_p99_ms(), 3),
            "notes": self.notes,
            "during_storm": self.storm.json(),
            "during_relay": self.relay.json(),
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
    if let Some(Mode::Abuse(abuse)) = args.mode.take() {
        return abuse::run(abuse).await;
    }
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
    let run_start = CpuTimes::now()?;

    // The cap, or why there is none: without it the uncapped rows stand alone, and say so.
    let (cap, cap_refused) = if args.node_cpus == 0.0 {
        (None, Some("not asked for (--node-cpus 0)".to_owned()))
    } else {
        // A bad budget stops the run; only a host that cannot cap falls back to uncapped.
        CpuCap::check_budget(args.node_cpus).context("--node-cpus")?;
        match CpuCap::create(args.node_cpus) {
            Ok(cap) => (Some(cap), None),
            Err(error) => {
                eprintln!("bench: no CPU cap, uncapped rows only: {error:#}");
                (None, Some(format!("{error:#}")))
            }
        }
    };
    let mut passes = Vec::new();
    if cap.is_some() {
        passes.push(Pass::Capped);
    }
    if cap.is_none() || !args.capped_only {
        passes.push(Pass::Uncapped);
    }

    let bench = Bench {
        paths: &paths,
        cap: cap.as_ref(),
        names: &names,
        args: &args,
    };
    let mut rows: Vec<Row> = Vec::new();
    for &pass in &passes {
        for &system in &systems {
            eprintln!("bench: {} ({})", system.name(), pass.label());
            let mut row = Row::new(system, pass);
            match systems::ensure_installed(system, &paths).await {
                Ok(()) => {
                    row.runnable = true;
                    if let System::Insieme(Front::Nginx { .. }) = system {
                        // The RSS would be nginx's alone; the direct row measures the node.
                        row.notes
                            .push("idle: measured on the direct row only".into());
                    } else if pass != passes[0] {
                        // Memory does not depend on the CPU budget: measured once.
                        row.notes
                            .push(format!("idle: measured in the {} rows", passes[0].label()));
                    } else {
                        idle_row(&bench, &mut row).await;
                    }
                }
                Err(error) => {
                    row.notes.push(format!("not run: {error:#}"));
                    eprintln!("bench: {}: {error:#}", system.name());
                }
            }
            rows.push(row);
        }
    }
    for trial in 1..=args.trials {
        for row in rows.iter_mut().filter(|r| r.runnable) {
            eprintln!(
                "bench: {} ({}, trial {trial} of {})",
                row.system.name(),
                row.pass.label(),
                args.trials
            );
            storm_row(&bench, row).await;
            // Let the storm's sockets leave TIME_WAIT pressure behind before the next row.
            tokio::time::sleep(Duration::from_secs(1)).await;
            relay_row(&bench, row).await;
        }
    }
    for row in &mut rows {
        row.notes.dedup();
    }
    let run_load = CpuTimes::now()?.since(run_start);

    let in_pass = |pass: Pass| -> Vec<&Row> { rows.iter().filter(|r| r.pass == pass).collect() };
    for &pass in &passes {
        print_table(&in_pass(pass), pass, cap.as_ref(), &args);
    }
    // Latency on the uncapped rows when there are any (see `targets`).
    let latency_pass = *passes.last().expect("at least one pass");
    let checked = targets(
        (&in_pass(passes[0]), passes[0]),
        (&in_pass(latency_pass), latency_pass),
    );
    println!(
        "host over the whole run: {} busy, {} stolen by the hypervisor",
        percent(run_load.busy()),
        percent(run_load.steal())
    );
    let rows_json = |pass: Pass| -> Vec<Value> {
        in_pass(pass)
            .iter()
            .map(|row| row.json(cap.as_ref()))
            .collect()
    };
    let scale_out = |pass: Pass| -> Value {
        let rows = in_pass(pass);
        json!({
            "joins_per_s": round(ratio(&rows, Row::joins_per_s), 2),
            "relay_msgs_per_s": round(ratio(&rows, Row::relay_msgs_per_s), 2),
        })
    };
    let mut report = json!({
        "systems": rows_json(passes[0]),
        "cpu_cap": {
            "applied": cap.is_some(),
            "node_cpus": cap.as_ref().map(CpuCap::cpus),
            "method": cap.as_ref().map(CpuCap::method),
            "not_applied_because": cap_refused,
            "applies_to": "each server process: every insieme-signal node, matchbox_server, peerjs-server; never nginx or the load generator",
            "why": "one node is one machine in a deployment; capped, the node sets the pace and x2 vs x1 measures scale-out, where uncapped on a small host every row shares the same cores with the load generator and nginx",
            "rows": "\"systems\" holds the capped rows when the cap was applied, and \"uncapped\" the same systems without it",
        },
        "scale_out": {
            "is": "\"insieme-signal x2 (nginx)\" over \"insieme-signal (nginx)\"",
            "target_joins_per_s": TARGET_SCALE_OUT,
        },
        "host": {
            "busy": round(run_load.busy(), 3),
            "steal": round(run_load.steal(), 3),
            "is": "shares of all CPU time over the whole run, from /proc/stat; each row has its own during_storm and during_relay",
        },
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
    for &pass in &passes {
        report["scale_out"][pass.label()] = scale_out(pass);
    }
    report["targets"] = checked;
    if passes.len() > 1 {
        report["uncapped"] = Value::Array(rows_json(Pass::Uncapped));
    }
    write_report(&args.out, &report)
}

/// Writes `report` as pretty JSON to `out`, making its folder if needed.
fn write_report(out: &std::path::Path, report: &Value) -> Result<()> {
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(out, serde_json::to_string_pretty(report)? + "\n")
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("bench: wrote {}", out.display());
    Ok(())
}

/// The budget a row's servers run under.
fn row_cap(pass: Pass, cap: Option<&CpuCap>) -> Option<&CpuCap> {
    match pass {
        Pass::Capped => cap,
        Pass::Uncapped => None,
    }
}

/// What every row's phases share: where the systems are, the budget of the capped pass, the
/// names to join with, and the settings. The row itself says which system and which pass.
struct Bench<'a> {
    paths: &'a Paths,
    cap: Option<&'a CpuCap>,
    names: &'a Arc<Names>,
    args: &'a Args,
}

/// Starts the server for one row (its system, under its pass's budget): each row runs on a
/// freshly started server, so one row's leftovers never skew the next. A server that does not
/// start is noted under `phase`.
async fn fresh_server(bench: &Bench<'_>, phase: &str, row: &mut Row) -> Option<Running> {
    match systems::start(row.system, bench.paths, row_cap(row.pass, bench.cap)).await {
        Ok(server) => Some(server),
        Err(error) => {
            row.notes
                .push(format!("{phase}: server did not start: {error:#}"));
            None
        }
    }
}

/// CPU counters at the start of a measured window; `close` gives what was used since.
struct Window {
    host: CpuTimes,
    throttling: Option<Throttling>,
    started: std::time::Instant,
    load_generator_s: f64,
    front_s: Option<f64>,
}

impl Window {
    fn open(server: &Running, row: &mut Row) -> Option<Window> {
        let opened = (|| -> Result<Window> {
            Ok(Window {
                host: CpuTimes::now()?,
                throttling: server.throttling()?,
                started: std::time::Instant::now(),
                load_generator_s: host::process_cpu_seconds(std::process::id())?,
                front_s: server.front_cpu_seconds(),
            })
        })();
        match opened {
            Ok(window) => Some(window),
            Err(error) => {
                row.notes
                    .push(format!("CPU counters unreadable: {error:#}"));
                None
            }
        }
    }

    fn close(self, server: &Running) -> Option<Measured> {
        let throttling = match (self.throttling, server.throttling().ok()?) {
            (Some(before), Some(after)) => Some(after.since(before)),
            _ => None,
        };
        Some(Measured {
            host: CpuTimes::now().ok()?.since(self.host),
            throttling,
            wall_s: self.started.elapsed().as_secs_f64(),
            load_generator_s: host::process_cpu_seconds(std::process::id()).ok()?
                - self.load_generator_s,
            front_s: match (self.front_s, server.front_cpu_seconds()) {
                (Some(before), Some(after)) => Some(after - before),
                _ => None,
            },
        })
    }
}

async fn idle_row(bench: &Bench<'_>, row: &mut Row) {
    let Some(server) = fresh_server(bench, "idle", row).await else {
        return;
    };
    match phases::idle(
        row.system,
        &server,
        bench.names,
        bench.args.idle_connections,
        bench.args.idle_topics,
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

async fn storm_row(bench: &Bench<'_>, row: &mut Row) {
    let Some(server) = fresh_server(bench, "storm", row).await else {
        return;
    };
    let duration = Duration::from_secs(bench.args.storm_seconds);
    let window = Window::open(&server, row);
    let result = phases::storm(
        row.system,
        &server.addr,
        bench.names,
        duration,
        bench.args.storm_workers,
    )
    .await;
    if let Some(measured) = window.and_then(|w| w.close(&server)) {
        row.storm.add(measured);
    }
    match result {
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
async fn relay_row(bench: &Bench<'_>, row: &mut Row) {
    let Some(server) = fresh_server(bench, "relay", row).await else {
        return;
    };
    // The window includes the relay's set-up and warm-up: counters are read between phases
    // only, so the figures stay out of the load generator's hot loop.
    let window = Window::open(&server, row);
    let saturated = relay_run(bench, &server, Pace::Saturate, row).await;
    if let Some(measured) = window.and_then(|w| w.close(&server)) {
        row.relay.add(measured);
    }
    if let Some(relay) = saturated {
        row.relay_samples
            .push(relay.messages as f64 / relay.seconds);
    }
    let interval = Duration::from_millis(bench.args.latency_interval_ms.max(1));
    if let Some(relay) = relay_run(bench, &server, Pace::Every(interval), row).await {
        row.p50_samples.push(relay.p50_ms);
        row.p99_samples.push(relay.p99_ms);
    }
    server.stop().await;
}

/// One relay measurement, logged; stalled clients and errors are noted in the row.
async fn relay_run(
    bench: &Bench<'_>,
    server: &Running,
    pace: Pace,
    row: &mut Row,
) -> Option<RelayResult> {
    let args = bench.args;
    // Each run on the server gets its own topic names.
    let (round, label) = match pace {
        Pace::Saturate => (2, "closed loop"),
        Pace::Every(_) => (3, "paced"),
    };
    let duration = Duration::from_secs(args.relay_seconds);
    let result = phases::relay(
        row.system,
        &server.addr,
        bench.names,
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

/// Two nodes behind nginx over one node behind nginx, on one figure, within one pass.
fn ratio(rows: &[&Row], figure: fn(&Row) -> Option<f64>) -> Option<f64> {
    let of = |system: System| {
        rows.iter()
            .find(|r| r.system == system)
            .and_then(|r| figure(r))
    };
    let one = of(System::Insieme(Front::Nginx { nodes: 1 }));
    let two = of(System::Insieme(Front::Nginx { nodes: 2 }));
    match (one, two) {
        (Some(one), Some(two)) if one > 0.0 => Some(two / one),
        _ => None,
    }
}

fn percent(share: Option<f64>) -> String {
    match share {
        Some(share) => format!("{:.0}%", share * 100.0),
        None => "n/a".to_owned(),
    }
}

/// One pass's table.
fn print_table(rows: &[&Row], pass: Pass, cap: Option<&CpuCap>, args: &Args) {
    let cell = |v: Option<f64>, digits: usize| match v {
        Some(v) => format!("{v:.digits$}"),
        None => "n/a".to_owned(),
    };
    println!();
    match row_cap(pass, cap) {
        Some(cap) => println!(
            "CAPPED: each server process held to {} CPUs ({}); nginx and the load generator uncapped",
            cap.cpus(),
            cap.method()
        ),
        None => println!("UNCAPPED: every process free to use the whole host"),
    }
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
        "{:<26} {:>14} {:>10} {:>14} {:>9} {:>9}   storm: host busy/steal, servers throttled, CPUs of load gen/nginx",
        "system", "idle B/conn", "joins/s", "relay msg/s", "p50 ms", "p99 ms",
    );
    for row in rows {
        let storm = format!(
            "{}/{}, {}, {}/{}",
            percent(row.storm.host.busy()),
            percent(row.storm.host.steal()),
            percent(row.storm.throttling.and_then(Throttling::share)),
            cell(row.storm.cpus(row.storm.load_generator_s), 2),
            cell(row.storm.front_s.and_then(|f| row.storm.cpus(f)), 2),
        );
        println!(
            "{:<26} {:>14} {:>10} {:>14} {:>9} {:>9}   {storm}",
            row.system.name(),
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
    if let Some(joins) = ratio(rows, Row::joins_per_s) {
        println!(
            "scale-out ({}): two nodes behind nginx {joins:.2}x one node behind nginx on joins/s, {} on relay msg/s ; ≥ {TARGET_SCALE_OUT}x on joins/s: {}",
            pass.label(),
            ratio(rows, Row::relay_msgs_per_s).map_or("n/a".into(), |r| format!("{r:.2}x")),
            verdict(Some(joins >= TARGET_SCALE_OUT))
        );
    }
}

/// insieme-signal's (direct) figure `get` in `rows`.
fn ours(rows: &[&Row], get: fn(&Row) -> Option<f64>) -> Option<f64> {
    rows.iter()
        .find(|r| r.system == System::Insieme(Front::Direct))
        .and_then(|r| get(r))
}

/// Whether insieme-signal is ahead of every anchor on `get` in `rows`.
fn ahead(rows: &[&Row], get: fn(&Row) -> Option<f64>, lower_is_better: bool) -> String {
    let Some(mine) = ours(rows, get) else {
        return "not measured".into();
    };
    let beaten: Vec<&str> = rows
        .iter()
        .filter(|r| !matches!(r.system, System::Insieme(_)))
        .filter(|o| match get(o) {
            Some(theirs) if lower_is_better => theirs <= mine,
            Some(theirs) => theirs >= mine,
            None => false,
        })
        .map(|o| o.system.name())
        .collect();
    if beaten.is_empty() {
        "ahead".into()
    } else {
        format!("NOT ahead of {}", beaten.join(", "))
    }
}

/// Checks, prints and returns the targets for insieme-signal: ahead of the anchors on every
/// row, idle ≤ 16 KiB/conn, p99 ≤ 2 ms. Memory and throughput are checked on `first` (the
/// capped pass when the cap applies: every server on the same budget, and the pass the idle
/// row is measured in); latency on `latency` (the uncapped pass when there is one). Reason: the
/// paced relay offers 20,000 msg/s, more than a node held to a fraction of a CPU relays at all,
/// so in the capped rows latency is time queued behind the quota, the same for every server,
/// and p99 ≤ 2 ms there would read MISSED by design.
fn targets(first: (&[&Row], Pass), latency: (&[&Row], Pass)) -> Value {
    let (rows, pass) = first;
    let (latency_rows, latency_pass) = latency;
    let idle = ours(rows, |r| r.idle_rss_per_conn_bytes);
    let p99 = ours(latency_rows, Row::relay_p99_ms);
    let checked = json!({
        "idle_memory": {
            "rows": pass.label(),
            "vs_anchors": ahead(rows, |r| r.idle_rss_per_conn_bytes, true),
            "at_most_16_kib_per_conn": verdict(idle.map(|v| v <= TARGET_IDLE_BYTES_PER_CONN)),
        },
        "joins_per_s": { "rows": pass.label(), "vs_anchors": ahead(rows, Row::joins_per_s, false) },
        "relay_msgs_per_s": {
            "rows": pass.label(),
            "vs_anchors": ahead(rows, Row::relay_msgs_per_s, false),
        },
        "relay_p50_ms": {
            "rows": latency_pass.label(),
            "vs_anchors": ahead(latency_rows, Row::relay_p50_ms, true),
        },
        "relay_p99_ms": {
            "rows": latency_pass.label(),
            "vs_anchors": ahead(latency_rows, Row::relay_p99_ms, true),
            "at_most_2_ms": verdict(p99.map(|v| v <= TARGET_P99_MS)),
        },
    });
    let line = |key: &str| {
        let t = &checked[key];
        let mut text = format!(
            "{} ({} rows)",
            t["vs_anchors"].as_str().unwrap_or(""),
            t["rows"].as_str().unwrap_or("")
        );
        for (bound, label) in [
            ("at_most_16_kib_per_conn", "≤ 16 KiB/conn"),
            ("at_most_2_ms", "≤ 2 ms"),
        ] {
            if let Some(v) = t[bound].as_str() {
                text.push_str(&format!(" ; {label}: {v}"));
            }
        }
        text
    };
    println!();
    println!("targets for insieme-signal:");
    println!("  idle memory: {}", line("idle_memory"));
    println!("  joins/s:     {}", line("joins_per_s"));
    println!("  relay msg/s: {}", line("relay_msgs_per_s"));
    println!("  relay p50:   {}", line("relay_p50_ms"));
    println!("  relay p99:   {}", line("relay_p99_ms"));
    checked
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
