//! Runs one scenario for a while and prints its outcome: a tool for looking into the engine.
//!
//! `cargo run --release -p insieme-sim --example trace -- NAME [SECONDS]` with NAME one of lan,
//! wan, storm, handover, churn, stall, partition, screen, screen-untold, screen-drift,
//! screen-clock, screen-clock-drift, screen-live, firefox-among-chromium[-24],
//! chromium-firefox[-24].
//! Environment: `SEED=N` (stall, churn, screen*),
//! `WAIT_MS=N` (buffering wait budget), `SERIES=1` (largest offset per simulated second),
//! `RATE_TAU_MS=LO,HI` (range of the players' rate response time constants),
//! `INSIEME_SIM_TRACE=1` (every player command and engine event, and each steady seek).

use insieme_sim::scenarios;
fn main() {
    let name = std::env::args().nth(1).unwrap_or("lan".into());
    let secs: f64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(30.0);
    let sc = match name.as_str() {
        "lan" => scenarios::lan(1, secs),
        "wan" => scenarios::wan(1, secs),
        "storm" => scenarios::storm(seed(), secs),
        "handover" => scenarios::handover(1, secs),
        "churn" => scenarios::churn(seed(), secs),
        "stall" => scenarios::stalls(seed(), secs),
        "screen" | "screen-untold" => scenarios::screen(seed(), secs, name == "screen"),
        "screen-drift" => scenarios::screen_drift(seed(), secs),
        "screen-clock" => scenarios::screen_clock(seed(), secs),
        "screen-clock-drift" => scenarios::screen_clock_drift(seed(), secs),
        "screen-live" => scenarios::screen_live(seed(), secs),
        "firefox-among-chromium" => scenarios::firefox_among_chromium(seed(), secs, 60.0),
        "firefox-among-chromium-24" => scenarios::firefox_among_chromium(seed(), secs, 24.0),
        "chromium-firefox" => scenarios::chromium_firefox(seed(), secs, 60.0),
        "chromium-firefox-24" => scenarios::chromium_firefox(seed(), secs, 24.0),
        _ => scenarios::partition(1, secs),
    };
    let mut sc = sc;
    if let Some(ms) = std::env::var("WAIT_MS").ok().and_then(|s| s.parse().ok()) {
        sc.engine.buffering =
            insieme::sync::BufferingPolicy::WaitUpTo(insieme::sync::Span::from_millis(ms));
    }
    if let Some(tau) = std::env::var("RATE_TAU_MS").ok().and_then(|s| {
        let (lo, hi) = s.split_once(',')?;
        Some((lo.parse().ok()?, hi.parse().ok()?))
    }) {
        sc.rate_tau_ms = tau;
    }
    let o = insieme_sim::run(sc);
    if std::env::var_os("SERIES").is_some() {
        for (i, c) in o.offsets_ms().chunks(100).enumerate() {
            let m = c.iter().copied().fold(0.0, f64::max);
            print!("{i}:{m:.1} ");
        }
        println!();
    }
    let [p50, p95, p99] = o.percentiles([50.0, 95.0, 99.0]);
    let by_slot: Vec<String> = (0..o.rate_changes_by_slot.len())
        .map(|s| format!("{:.1}", o.slot_rate_changes_per_min(s)))
        .collect();
    println!("samples {} p50 {:.3} p95 {:.3} p99 {:.3} max {:.3} conv {:?} steady {} seeks {} ratedev {:.4} rate changes/min {:.1} (by slot {}) jump {:?} join {:?} agree {} rejected {} media clocks p95 {:.3}",
        o.offsets.len(), p50, p95, p99, o.max_offset(), o.converge_ms, o.steady_hard_seeks, o.all_seeks, o.max_rate_dev, o.rate_changes_per_min(), by_slot.join(" "), o.jump_ms, o.join_ms, o.final_agree, o.rejected, o.clock_percentile_when(95.0, |_| true));
    let offsets: Vec<String> = (0..o.true_offset_by_slot.len())
        .map(|s| format!("{:+.1}", o.slot_mean_offset_ms(s)))
        .collect();
    println!(
        "self-estimate error p50 {:.2} p95 {:.2} ms ({} unknown); mean offset from the room by slot {} ms",
        o.self_estimate_percentile(50.0),
        o.self_estimate_percentile(95.0),
        o.self_estimate_unknown,
        offsets.join(" ")
    );
}

/// The seed from `SEED`, 1 by default.
fn seed() -> u64 {
    std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}
