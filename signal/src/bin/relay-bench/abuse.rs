//! `relay-bench abuse`: what an attacker without a room link can do to the endpoint. From one
//! address it holds as many connections as the endpoint lets it, in pairs: a receiver that
//! reads its welcome and then never reads again (its socket's receive buffer shrunk, so the
//! endpoint rather than the kernel holds what it is sent), and a sender that sends it frames of
//! the largest allowed size as fast as the default rate limit lets it; a sender that is cut off
//! is replaced, and a receiver that is gone starts a fresh pair. Meanwhile, from another
//! address, honest members relay small messages in pairs and newcomers keep joining.
//!
//! Reported: the endpoint's peak resident memory (VmHWM), the honest members' one-way relay
//! latency (quiet, then during the attack) and how many honest joins failed. The endpoint runs
//! with its default limits: the point is what a stock deployment withstands.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use futures_util::SinkExt;
use insieme_signal::limits::TokenBucket;
use serde_json::{json, Value};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::host::{self, CpuTimes};
use crate::phases::{self, Names, Pace, Ws};
use crate::systems::{self, Front, Paths, Running, System};

/// Targets, checked and printed at the end: 64 attacking connections (one address's worth at
/// the default per-IP limit) cannot make the endpoint hold more than a small machine spares,
/// nor slow honest members down enough to notice, nor keep newcomers out.
const TARGET_PEAK_RSS_BYTES: u64 = 64 * 1024 * 1024;
const TARGET_P99_MS: f64 = 5.0;
const TARGET_JOINS_FAILED: u64 = 0;

/// The attacker's address; honest clients come from 127.0.0.1 (the loopback default).
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// A non-reading receiver's socket receive buffer (the kernel rounds it up to its minimum).
const RECEIVER_BUFFER_BYTES: u32 = 4096;
/// How long the attacker waits after a refused connection before trying again.
const REFUSED_BACKOFF: Duration = Duration::from_millis(50);
/// A send that does not complete in this long counts as the sender being cut off.
const SEND_TIMEOUT: Duration = Duration::from_secs(2);
/// Honest newcomers join (and leave) this often during the attack.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);
/// Characters of opaque payload per honest message (an encrypted ICE candidate is ~300).
const HONEST_PAYLOAD: usize = 256;
/// Honest latency measured without the attack first, for comparison.
const QUIET_SECONDS: u64 = 5;

/// Topic-name phases of this bench, apart from the comparison's.
const PHASE_QUIET: u8 = 100;
const PHASE_HONEST: u8 = 101;
const PHASE_PROBE: u8 = 102;
const PHASE_ATTACK: u8 = 103;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the JSON report.
    #[arg(long, default_value = "target/bench/abuse.json")]
    out: PathBuf,
    /// Attacking connections held at once, all from one address (receiver and sender pairs).
    /// The default is the endpoint's default per-IP limit.
    #[arg(long, default_value_t = 64)]
    attack_connections: u64,
    /// Seconds the attack runs before honest traffic is measured.
    #[arg(long, default_value_t = 3)]
    ramp_seconds: u64,
    /// Seconds of honest traffic measured during the attack (after a 1 s warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Pairs of honest members relaying to each other.
    #[arg(long, default_value_t = 16)]
    honest_pairs: u64,
    /// Each honest pair starts a round trip this often (open loop).
    #[arg(long, default_value_t = 50)]
    honest_interval_ms: u64,
    /// Each attacking sender's messages per second, and burst: the endpoint's default rate
    /// limit, so that no attacking frame is refused for its rate.
    #[arg(long, default_value_t = 50)]
    attack_rate: u32,
    #[arg(long, default_value_t = 200)]
    attack_burst: u32,
    /// Size of each attacking frame: the endpoint's default frame limit.
    #[arg(long, default_value_t = 32 * 1024)]
    frame_bytes: usize,
}

/// What the attacker managed, counted as it goes.
#[derive(Default)]
struct AttackStats {
    receivers: AtomicU64,
    senders: AtomicU64,
    frames: AtomicU64,
    bytes: AtomicU64,
    refused: AtomicU64,
    first_refusal: Mutex<Option<String>>,
}

impl AttackStats {
    fn refused(&self, error: &anyhow::Error) {
        self.refused.fetch_add(1, Relaxed);
        let mut first = self.first_refusal.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert_with(|| format!("{error:#}"));
    }

    fn json(&self) -> Value {
        json!({
            "receivers_joined": self.receivers.load(Relaxed),
            "senders_joined": self.senders.load(Relaxed),
            "frames_sent": self.frames.load(Relaxed),
            "bytes_sent": self.bytes.load(Relaxed),
            "connections_refused": self.refused.load(Relaxed),
            "first_refusal": *self.first_refusal.lock().unwrap_or_else(|e| e.into_inner()),
        })
    }
}

const SYSTEM: System = System::Insieme(Front::Direct);

pub async fn run(args: Args) -> Result<()> {
    let paths = Paths::discover();
    systems::ensure_installed(SYSTEM, &paths).await?;
    let names = Arc::new(Names::new());
    // The endpoint's defaults, every one of them.
    let server = systems::start_insieme(&paths, &[], None).await?;
    let outcome = measure(&args, &server, &names).await;
    let peak = server.peak_rss_bytes();
    server.stop().await;
    let mut report = outcome?;
    report["endpoint_peak_rss_bytes"] = json!(peak?);
    finish(&args, report)
}

async fn measure(args: &Args, server: &Running, names: &Arc<Names>) -> Result<Value> {
    let addr = server.addr.clone();
    let interval = Duration::from_millis(args.honest_interval_ms.max(1));
    // One join first, so lazily initialised state is in the baseline.
    drop(phases::join(SYSTEM, &addr, &names.topic(PHASE_PROBE, u64::MAX), "w").await?);
    let rss_before = server.rss_bytes()?;
    eprintln!("bench: abuse: honest relay, quiet ({QUIET_SECONDS} s)");
    let quiet_cpu_before = Cpu::now(server.pid())?;
    let quiet = phases::relay(
        SYSTEM,
        &addr,
        names,
        PHASE_QUIET,
        args.honest_pairs,
        Pace::Every(interval),
        Duration::from_secs(QUIET_SECONDS),
        HONEST_PAYLOAD,
    )
    .await
    .context("honest relay without the attack")?;
    let quiet_cpu = Cpu::now(server.pid())?.json_since(&quiet_cpu_before);

    eprintln!(
        "bench: abuse: {} attacking connections from {ATTACKER}",
        args.attack_connections
    );
    let stats = Arc::new(AttackStats::default());
    // Ramp, warm-up, the measured window, and a second for the honest side to wind down.
    let attack_end = Instant::now() + Duration::from_secs(args.ramp_seconds + 1 + args.seconds + 1);
    let attack = Attack {
        rate: args.attack_rate,
        burst: args.attack_burst,
        frame_bytes: args.frame_bytes,
        end: attack_end,
    };
    let cpu_before = Cpu::now(server.pid())?;
    let attacker = start_attacker(&addr, names, args.attack_connections / 2, attack, &stats)?;
    let sampler = tokio::spawn(sample_rss(server.pid(), attack_end));
    tokio::time::sleep(Duration::from_secs(args.ramp_seconds)).await;

    eprintln!(
        "bench: abuse: honest relay and joins during the attack ({} s)",
        args.seconds
    );
    let probe_end = Instant::now() + Duration::from_secs(1 + args.seconds);
    let (during, probe) = tokio::join!(
        phases::relay(
            SYSTEM,
            &addr,
            names,
            PHASE_HONEST,
            args.honest_pairs,
            Pace::Every(interval),
            Duration::from_secs(args.seconds),
            HONEST_PAYLOAD,
        ),
        probe_joins(&addr, names, probe_end),
    );
    let _ = tokio::task::spawn_blocking(move || attacker.join()).await;
    let cpu = Cpu::now(server.pid())?.json_since(&cpu_before);
    let sampled_peak = sampler.await.unwrap_or(0);
    // A failed relay set-up is an honest join that failed (at least one).
    let (relay_failed, during) = match during {
        Ok(result) => (0, Some(result)),
        Err(error) => {
            eprintln!("bench: abuse: honest relay failed: {error:#}");
            (1, None)
        }
    };
    Ok(json!({
        "attack_connections": args.attack_connections,
        "endpoint_peak_rss_bytes": null,
        "honest_relay_p99_ms_during_attack": during.as_ref().map(|r| round3(r.p99_ms)),
        "honest_joins_failed": probe.failures + relay_failed,
        "honest_joins": probe.joins + 2 * args.honest_pairs * (1 - relay_failed),
        "first_honest_join_failure": probe.first_error,
        "honest_relay_p50_ms_during_attack": during.as_ref().map(|r| round3(r.p50_ms)),
        "honest_relay_stalled_clients_during_attack": during.as_ref().map(|r| r.stalled_clients),
        "honest_relay_p50_ms_quiet": round3(quiet.p50_ms),
        "honest_relay_p99_ms_quiet": round3(quiet.p99_ms),
        "endpoint_rss_before_attack_bytes": rss_before,
        "endpoint_rss_sampled_peak_bytes": sampled_peak,
        "attack": stats.json(),
        "cpu_during_attack": cpu,
        "cpu_quiet": quiet_cpu,
        "endpoint": std::env::var("INSIEME_SIGNAL_BIN").unwrap_or_else(|_| "target/release/insieme-signal (this workspace)".into()),
        "config": {
            "attacker_address": ATTACKER.to_string(),
            "honest_address": "127.0.0.1",
            "endpoint_flags": "defaults",
            "attack_rate_per_s": args.attack_rate,
            "attack_burst": args.attack_burst,
            "attack_frame_bytes": args.frame_bytes,
            "ramp_seconds": args.ramp_seconds,
            "measured_seconds": args.seconds,
            "honest_pairs": args.honest_pairs,
            "honest_interval_ms": args.honest_interval_ms,
            "honest_payload_chars": HONEST_PAYLOAD,
            "probe_join_interval_ms": PROBE_INTERVAL.as_millis() as u64,
            "peak_rss_is": "VmHWM of the endpoint process at the end of the run (/proc/<pid>/status)",
            "latency_is": "one-way, each honest pair paced at one round trip per honest_interval_ms",
        },
    }))
}

/// Runs the attacking pairs on a thread and runtime of their own, which the OS schedules
/// apart from the honest clients: they share this machine's CPUs (as they would share a
/// network) but not one runtime's task queue, where the attacker's sends would delay the
/// honest clients' reads and inflate their latency with the load generator's own queueing.
/// The thread ends by itself at `attack.end` (every step is bounded in time).
fn start_attacker(
    addr: &str,
    names: &Arc<Names>,
    pairs: u64,
    attack: Attack,
    stats: &Arc<AttackStats>,
) -> Result<std::thread::JoinHandle<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("the attacker's runtime")?;
    let (addr, names, stats) = (addr.to_owned(), names.clone(), stats.clone());
    Ok(std::thread::spawn(move || {
        runtime.block_on(async move {
            let tasks: Vec<_> = (0..pairs)
                .map(|slot| {
                    tokio::spawn(attack_pair(
                        addr.clone(),
                        names.clone(),
                        slot,
                        attack,
                        stats.clone(),
                    ))
                })
                .collect();
            for task in tasks {
                let bound = attack.end.saturating_duration_since(Instant::now()) + SEND_TIMEOUT * 3;
                let _ = tokio::time::timeout(bound, task).await;
            }
        })
    }))
}

/// CPU time of the endpoint, of this load generator, and of the whole host, at one moment.
#[derive(Clone, Copy)]
struct Cpu {
    endpoint_s: f64,
    load_generator_s: f64,
    host: CpuTimes,
    at: Instant,
}

impl Cpu {
    fn now(endpoint: u32) -> Result<Cpu> {
        Ok(Cpu {
            endpoint_s: host::process_cpu_seconds(endpoint)?,
            load_generator_s: host::process_cpu_seconds(std::process::id())?,
            host: CpuTimes::now()?,
            at: Instant::now(),
        })
    }

    /// Average CPUs used from `before` to this moment.
    fn json_since(&self, before: &Cpu) -> Value {
        let wall = (self.at - before.at).as_secs_f64().max(1e-9);
        let host = self.host.since(before.host);
        json!({
            "endpoint_cpus": round3((self.endpoint_s - before.endpoint_s) / wall),
            "load_generator_cpus": round3((self.load_generator_s - before.load_generator_s) / wall),
            "host_busy": host.busy().map(round3),
            "host_steal": host.steal().map(round3),
        })
    }
}

/// How one attacking pair behaves.
#[derive(Clone, Copy)]
struct Attack {
    rate: u32,
    burst: u32,
    frame_bytes: usize,
    end: Instant,
}

/// One receiver and its senders, over and over until the end: the receiver joins a fresh topic
/// and stops reading; senders take turns sending to it (a sender the endpoint cuts off is
/// replaced) until a newcomer's welcome no longer lists it, and then a new pair starts.
async fn attack_pair(
    addr: String,
    names: Arc<Names>,
    slot: u64,
    attack: Attack,
    stats: Arc<AttackStats>,
) {
    let mut cycle = 0u64;
    while Instant::now() < attack.end {
        cycle += 1;
        let topic = names.topic(PHASE_ATTACK, slot << 32 | cycle);
        let receiver = match attacker_join(&addr, &topic, Some(RECEIVER_BUFFER_BYTES)).await {
            Ok(joined) => joined,
            Err(error) => {
                stats.refused(&error);
                tokio::time::sleep(REFUSED_BACKOFF).await;
                continue;
            }
        };
        stats.receivers.fetch_add(1, Relaxed);
        while Instant::now() < attack.end {
            let sender = match attacker_join(&addr, &topic, None).await {
                Ok(joined) => joined,
                Err(error) => {
                    stats.refused(&error);
                    tokio::time::sleep(REFUSED_BACKOFF).await;
                    continue;
                }
            };
            stats.senders.fetch_add(1, Relaxed);
            let Some(target) = sender.peers.first() else {
                break; // the receiver is gone
            };
            blast(sender.ws, target, attack, &stats).await;
        }
        // Held until here, never read.
        drop(receiver);
    }
}

async fn attacker_join(addr: &str, topic: &str, buffer: Option<u32>) -> Result<phases::Joined> {
    phases::join_from(SYSTEM, addr, topic, "x", ATTACKER, buffer).await
}

/// Sends frames of `frame_bytes` to `to` at the attack's rate, never reading, until the
/// endpoint stops taking them (or the attack ends).
async fn blast(mut ws: Ws, to: &str, attack: Attack, stats: &AttackStats) {
    let overhead = SYSTEM.data_frame(to, "").len();
    // A multiple of 4, so that the payload is a plausible base64url ciphertext.
    let payload_len = attack.frame_bytes.saturating_sub(overhead) / 4 * 4;
    let frame = Utf8Bytes::from(SYSTEM.data_frame(to, &"A".repeat(payload_len.max(4))));
    let mut bucket = TokenBucket::new(
        f64::from(attack.rate),
        attack.burst,
        std::time::Instant::now(),
    );
    let token_every = Duration::from_secs_f64(1.0 / f64::from(attack.rate.max(1)));
    while Instant::now() < attack.end {
        if !bucket.try_take(std::time::Instant::now()) {
            tokio::time::sleep(token_every).await;
            continue;
        }
        match tokio::time::timeout(SEND_TIMEOUT, ws.send(Message::Text(frame.clone()))).await {
            Ok(Ok(())) => {
                stats.frames.fetch_add(1, Relaxed);
                stats.bytes.fetch_add(frame.len() as u64, Relaxed);
            }
            _ => return,
        }
    }
}

struct Probe {
    joins: u64,
    failures: u64,
    first_error: Option<String>,
}

/// An honest newcomer every [`PROBE_INTERVAL`]: joins a fresh topic, waits for the welcome,
/// leaves. Counts the joins that failed.
async fn probe_joins(addr: &str, names: &Names, end: Instant) -> Probe {
    let mut probe = Probe {
        joins: 0,
        failures: 0,
        first_error: None,
    };
    let mut ticker = tokio::time::interval(PROBE_INTERVAL);
    let mut index = 0u64;
    while Instant::now() < end {
        ticker.tick().await;
        index += 1;
        match phases::join(SYSTEM, addr, &names.topic(PHASE_PROBE, index), "p").await {
            Ok(joined) => {
                probe.joins += 1;
                drop(joined);
            }
            Err(error) => {
                probe.failures += 1;
                probe
                    .first_error
                    .get_or_insert_with(|| format!("{error:#}"));
            }
        }
    }
    probe
}

/// The endpoint's resident memory every 50 ms until `end`; the largest sample. (VmHWM is the
/// authoritative peak; this says whether the peak was a moment or a plateau.)
async fn sample_rss(pid: u32, end: Instant) -> u64 {
    let mut peak = 0;
    while Instant::now() < end {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            let kib = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok());
            peak = peak.max(kib.unwrap_or(0) * 1024);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    peak
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Checks the targets, prints them, and writes the report.
fn finish(args: &Args, mut report: Value) -> Result<()> {
    let peak = report["endpoint_peak_rss_bytes"].as_u64();
    let p99 = report["honest_relay_p99_ms_during_attack"].as_f64();
    let failed = report["honest_joins_failed"].as_u64();
    let verdict = |met: Option<bool>| match met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "not measured",
    };
    let checks = [
        (
            "endpoint_peak_rss_bytes",
            format!("<= {TARGET_PEAK_RSS_BYTES}"),
            peak.map(|p| p <= TARGET_PEAK_RSS_BYTES),
        ),
        (
            "honest_relay_p99_ms_during_attack",
            format!("<= {TARGET_P99_MS}"),
            p99.map(|p| p <= TARGET_P99_MS),
        ),
        (
            "honest_joins_failed",
            format!("== {TARGET_JOINS_FAILED}"),
            failed.map(|f| f == TARGET_JOINS_FAILED),
        ),
    ];
    println!(
        "\nabuse: {} attacking connections from one address, endpoint with default limits",
        args.attack_connections
    );
    println!(
        "  endpoint peak RSS       {:>10.1} MiB (before the attack {:.1} MiB)",
        peak.unwrap_or(0) as f64 / 1048576.0,
        report["endpoint_rss_before_attack_bytes"]
            .as_u64()
            .unwrap_or(0) as f64
            / 1048576.0
    );
    println!(
        "  honest relay p99        {:>10} ms (quiet {} ms)",
        p99.map_or("n/a".into(), |p| format!("{p:.3}")),
        report["honest_relay_p99_ms_quiet"]
    );
    println!(
        "  honest joins failed     {:>10} of {}",
        failed.unwrap_or(0),
        report["honest_joins"]
    );
    let mut targets = serde_json::Map::new();
    for (name, target, met) in checks {
        println!("  target {name} {target}: {}", verdict(met));
        targets.insert(name.into(), json!({ "target": target, "met": met }));
    }
    report["targets"] = Value::Object(targets);
    super::write_report(&args.out, &report)
}
