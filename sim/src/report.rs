//! The benchmark's rows, targets and output (a table for people, JSON for tools).

use crate::world::Outcome;
use serde::Serialize;

/// A target the engine is held to (listed beside each scenario in `sync-bench`), checked
/// against a row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    P95(f64),
    P99(f64),
    ConvergeMs(f64),
    JumpMs(f64),
    FinalAgree,
    /// The offset each viewer is shown within this of its true offset, p95 (issue 19).
    SelfEstimateP95(f64),
}

impl Target {
    pub fn describe(&self) -> String {
        match self {
            Target::P95(x) => format!("p95<={x}ms"),
            Target::P99(x) => format!("p99<={x}ms"),
            Target::ConvergeMs(x) => format!("converge<={x}ms"),
            Target::JumpMs(x) => format!("jump<={x}ms"),
            Target::FinalAgree => "one final state".into(),
            Target::SelfEstimateP95(x) => format!("self-est<={x}ms"),
        }
    }
}

/// One scenario's results, as `target/bench/sync.json` holds them (the percentiles and
/// tallies the targets read, plus extra context).
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub name: String,
    pub peers: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub converge_ms: f64,
    pub steady_hard_seeks: u64,
    pub max_rate_dev: f64,
    /// Playback rate changes per viewer per minute (a hunting controller makes many).
    pub rate_changes_per_min: f64,
    /// Fast corrections of the media clock per viewer per minute (steering by clock readings).
    pub fast_corrections_per_min: f64,
    /// The same for the viewers of each slot (device), in slot order.
    pub rate_changes_per_min_by_slot: Vec<f64>,
    pub jump_ms: Option<f64>,
    pub join_ms: Option<f64>,
    /// Where the engines read their media clocks: the 95th percentile of the clocks' spread
    /// (the frames on screen hide anything under a frame).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_clock_p95_ms: Option<f64>,
    /// How far the offset each viewer's people list shows is from its true offset, p95 over
    /// the samples and viewers (`Outcome::self_estimate_errors_ms`), ms.
    pub self_estimate_error_p95_ms: f64,
    /// How far the true offset lay outside the range each list shows ("+0 ±17 ms"), p95
    /// (`Outcome::self_estimate_outside_ms`), ms: 0 where the range told the truth.
    pub self_estimate_outside_range_p95_ms: f64,
    pub final_state_agrees: bool,
    pub samples: usize,
    pub seeks_total: u64,
    pub rejected_messages: u64,
    pub seed: u64,
    pub duration_s: f64,
    pub targets: Vec<String>,
    pub meets_targets: bool,
}

/// Every scenario also must have no steady hard seek and a bounded rate deviation.
pub const MAX_RATE_DEV: f64 = 0.05;

fn round3(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1000.0).round() / 1000.0
    } else {
        -1.0
    }
}

impl Row {
    pub fn new(o: &Outcome, seed: u64, duration_s: f64, targets: &[Target]) -> Row {
        let converge = o.worst_converge_ms(duration_s * 1e3);
        let [p50, p95, p99] = o.percentiles([50.0, 95.0, 99.0]);
        let mut ok = o.steady_hard_seeks == 0 && o.max_rate_dev <= MAX_RATE_DEV;
        for t in targets {
            ok &= match *t {
                Target::P95(x) => p95 <= x,
                Target::P99(x) => p99 <= x,
                Target::ConvergeMs(x) => converge <= x,
                Target::JumpMs(x) => o.jump_ms.is_some_and(|j| j <= x),
                Target::FinalAgree => o.final_agree,
                Target::SelfEstimateP95(x) => o.self_estimate_percentile(95.0) <= x,
            };
        }
        Row {
            name: o.name.clone(),
            peers: o.peers,
            p50_ms: round3(p50),
            p95_ms: round3(p95),
            p99_ms: round3(p99),
            max_ms: round3(o.max_offset()),
            converge_ms: round3(converge),
            steady_hard_seeks: o.steady_hard_seeks,
            max_rate_dev: (o.max_rate_dev * 1e5).round() / 1e5,
            rate_changes_per_min: round3(o.rate_changes_per_min()),
            fast_corrections_per_min: round3(o.fast_corrections_per_min()),
            rate_changes_per_min_by_slot: (0..o.rate_changes_by_slot.len())
                .map(|s| round3(o.slot_rate_changes_per_min(s)))
                .collect(),
            jump_ms: o.jump_ms.map(round3),
            join_ms: o.join_ms.map(round3),
            media_clock_p95_ms: o
                .clocks_read
                .then(|| round3(o.clock_percentile_when(95.0, |_| true))),
            self_estimate_error_p95_ms: round3(o.self_estimate_percentile(95.0)),
            self_estimate_outside_range_p95_ms: round3(o.self_estimate_outside_percentile(95.0)),
            final_state_agrees: o.final_agree,
            samples: o.offsets_ms.len(),
            seeks_total: o.all_seeks,
            rejected_messages: o.rejected,
            seed,
            duration_s,
            targets: targets.iter().map(Target::describe).collect(),
            meets_targets: ok,
        }
    }
}

/// The table printed by the benchmark.
pub fn table(rows: &[Row]) -> String {
    let mut s = String::new();
    let w = rows.iter().map(|r| r.name.len()).fold(9, usize::max);
    s.push_str(&format!(
        "{:<w$} {:>5} {:>8} {:>8} {:>8} {:>8} {:>10} {:>6} {:>8} {:>9} {:>8} {:>8}  {:<28} {}\n",
        "scenario",
        "peers",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "conv ms",
        "seeks",
        "rate dev",
        "rate/min",
        "fast/min",
        "jump ms",
        "target (+ seeks=0, dev<=0.05)",
        "ok"
    ));
    for r in rows {
        s.push_str(&format!(
            "{:<w$} {:>5} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>10.1} {:>6} {:>8.5} {:>9.1} {:>8.1} {:>8}  {:<28} {}\n",
            r.name,
            r.peers,
            r.p50_ms,
            r.p95_ms,
            r.p99_ms,
            r.max_ms,
            r.converge_ms,
            r.steady_hard_seeks,
            r.max_rate_dev,
            r.rate_changes_per_min,
            r.fast_corrections_per_min,
            r.jump_ms.map_or("-".to_string(), |j| format!("{j:.3}")),
            if r.targets.is_empty() {
                "-".to_string()
            } else {
                r.targets.join(", ")
            },
            if r.meets_targets { "yes" } else { "NO" }
        ));
    }
    for r in rows
        .iter()
        .filter(|r| r.targets.iter().any(|t| t.starts_with("self-est")))
    {
        s.push_str(&format!(
            "{:<w$} offset shown to each viewer, off its true offset: p95 {:.3} ms; outside the \
             range shown: p95 {:.3} ms\n",
            r.name, r.self_estimate_error_p95_ms, r.self_estimate_outside_range_p95_ms
        ));
    }
    for r in rows {
        if let Some(p95) = r.media_clock_p95_ms {
            s.push_str(&format!(
                "{:<w$} media clocks (read by the engines) apart: p95 {p95:.3} ms\n",
                r.name
            ));
        }
    }
    s
}

/// The queue storm over many seeds (`sync-bench`'s `queue-storm` row): how long after the last
/// edit every page showed the same queue, as percentiles over the runs, and what was lost.
#[derive(Clone, Debug, Serialize)]
pub struct QueueStormRow {
    pub name: String,
    pub pages: usize,
    pub runs: usize,
    pub first_seed: u64,
    pub converge_p50_ms: f64,
    pub converge_p95_ms: f64,
    pub converge_p99_ms: f64,
    pub converge_max_ms: f64,
    /// Runs whose pages did not end on one queue.
    pub disagreeing_runs: usize,
    /// Edits missing or out of date somewhere at the end, summed over the runs.
    pub lost_edits: usize,
    /// Pieces' parts refused by any page (an honest storm should have none).
    pub refused: u64,
    pub edits: usize,
    /// What an edit cost on the wire: encoded bytes sent per edit, every destination counted.
    pub bytes_per_edit: f64,
    pub target_converge_p99_ms: f64,
    pub meets_targets: bool,
}

impl QueueStormRow {
    /// The storm's target (issue 20): converged within a second of the last edit at p99, with
    /// every run on one queue and no edit lost.
    pub const TARGET_CONVERGE_P99_MS: f64 = 1_000.0;

    pub fn new(
        name: &str,
        pages: usize,
        first_seed: u64,
        runs: &[crate::queue_storm::QueueStormOutcome],
    ) -> QueueStormRow {
        let converge: Vec<f64> = runs.iter().map(|o| o.converge_ms).collect();
        let [p50, p95, p99, max] =
            insieme::stats::percentiles(&converge, [50.0, 95.0, 99.0, 100.0])
                .unwrap_or([f64::NAN; 4]);
        let disagreeing_runs = runs.iter().filter(|o| !o.agree).count();
        let lost_edits = runs.iter().map(|o| o.lost_edits).sum();
        let refused = runs.iter().map(|o| o.refused).sum();
        let edits: usize = runs.iter().map(|o| o.edits).sum();
        let bytes: usize = runs.iter().map(|o| o.bytes).sum();
        QueueStormRow {
            name: name.to_string(),
            pages,
            runs: runs.len(),
            first_seed,
            converge_p50_ms: round3(p50),
            converge_p95_ms: round3(p95),
            converge_p99_ms: round3(p99),
            converge_max_ms: round3(max),
            disagreeing_runs,
            lost_edits,
            refused,
            edits,
            bytes_per_edit: round3(bytes as f64 / edits.max(1) as f64),
            target_converge_p99_ms: Self::TARGET_CONVERGE_P99_MS,
            meets_targets: !runs.is_empty()
                && p99 <= Self::TARGET_CONVERGE_P99_MS
                && disagreeing_runs == 0
                && lost_edits == 0,
        }
    }

    /// Its line for people.
    pub fn line(&self) -> String {
        format!(
            "{}: {} pages, {} runs from seed {:#x}: converged after the last edit p50 {:.0} ms, \
             p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms (target p99<={:.0}ms); {} runs disagree, \
             {} edits lost, {} refused; {:.0} B sent per edit; {}",
            self.name,
            self.pages,
            self.runs,
            self.first_seed,
            self.converge_p50_ms,
            self.converge_p95_ms,
            self.converge_p99_ms,
            self.converge_max_ms,
            self.target_converge_p99_ms,
            self.disagreeing_runs,
            self.lost_edits,
            self.refused,
            self.bytes_per_edit,
            if self.meets_targets { "ok" } else { "NOT MET" }
        )
    }
}
