//! A run's measurements, and the summaries the benchmark and the tests read from them.
//! Percentiles are [`insieme::stats`]'s nearest rank, as everywhere else.

use insieme::stats;

/// Measurements of a run.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub name: String,
    /// Distinct peers that took part.
    pub peers: usize,
    /// Inter-viewer offsets (largest pairwise difference), ms, one per 10 ms sample.
    pub offsets_ms: Vec<f64>,
    /// When each of those samples was taken, true seconds.
    pub offsets_at_s: Vec<f64>,
    /// At the same samples, the spread of the viewers' media clocks themselves, ms: what a
    /// display shows only in whole frames, and what steering by the clock readings holds to a
    /// fraction of one.
    pub clock_offsets_ms: Vec<f64>,
    /// At every sample (taken at [`Outcome::room_spread_at_s`], true seconds), the largest
    /// difference between the room times of the viewers that have one, ms: viewers on one
    /// timeline differ by their clock estimates' errors; two timelines show here as a steady
    /// gap that no viewer's own error reveals.
    pub room_spread_ms: Vec<f64>,
    pub room_spread_at_s: Vec<f64>,
    /// At the same samples, whether every viewer holds the same playback state.
    pub states_agree: Vec<bool>,
    /// Whether the engines were told their media clocks' readings.
    pub clocks_read: bool,
    /// At the same samples, for each viewer in sync whose page shows an offset: how far the
    /// offset its people list shows is from its true offset, ms (issue 19: the app must know
    /// when it is off)...
    pub self_estimate_errors_ms: Vec<f64>,
    /// ...how far its true offset lay outside the range the list shows ("+0 ±17 ms" where the
    /// picture is known only to a refresh: `BrowserKind::picture_within`), 0 within it...
    pub self_estimate_outside_ms: Vec<f64>,
    /// ...and how many times a viewer's page showed none ("offset unknown").
    pub self_estimate_unknown: usize,
    /// Per slot, the sum of its viewers' true offsets from the room's median (what they show
    /// less the median of what everyone shows, ms) over the samples, and their count: its
    /// mean says whether one browser sits behind the others.
    pub true_offset_by_slot: Vec<(f64, usize)>,
    /// For each intent (or automatic state change), ms until every viewer was within 20 ms
    /// of the others and of the state; `None` if never.
    pub converge_ms: Vec<Option<f64>>,
    pub steady_hard_seeks: u64,
    pub all_seeks: u64,
    pub max_rate_dev: f64,
    /// Largest jump of a viewer across a reference handover, ms (handover scripts only).
    pub jump_ms: Option<f64>,
    /// Longest time a joiner took to first be in sync, ms.
    pub join_ms: Option<f64>,
    /// Whether every engine holds the same state at the end.
    pub final_agree: bool,
    /// Whether every viewer's state at the end of the run says the media plays.
    pub final_playing: bool,
    /// Messages refused by engines (there should be none from honest peers).
    pub rejected: u64,
    /// Buffering holds requested by engines.
    pub holds: u64,
    /// Largest inter-viewer offset over the last second of the run, ms.
    pub final_spread_ms: f64,
    /// Playback rate changes all engines asked for, and the seconds engines ran in all: a
    /// controller that hunts changes the rate many times a minute.
    pub rate_changes: u64,
    /// Fast corrections of the media clock all engines began (steering by clock readings).
    pub fast_corrections: u64,
    pub viewer_s: f64,
    /// The same per slot: (rate changes, seconds present), over all its nodes.
    pub rate_changes_by_slot: Vec<(u64, f64)>,
}

impl Outcome {
    /// Percentile `p` (0–100) of the offsets; NaN without samples.
    pub fn percentile(&self, p: f64) -> f64 {
        self.percentiles([p])[0]
    }
    /// Several percentiles of the offsets at once, sorting them once; NaN without samples.
    pub fn percentiles<const N: usize>(&self, ps: [f64; N]) -> [f64; N] {
        stats::percentiles(&self.offsets_ms, ps).unwrap_or([f64::NAN; N])
    }
    /// Percentile `p` of the self-estimate errors ([`Outcome::self_estimate_errors_ms`]); NaN
    /// without any.
    pub fn self_estimate_percentile(&self, p: f64) -> f64 {
        stats::percentile(&self.self_estimate_errors_ms, p).unwrap_or(f64::NAN)
    }

    /// Percentile `p` of how far true offsets lay outside the range shown
    /// ([`Outcome::self_estimate_outside_ms`]); NaN with none.
    pub fn self_estimate_outside_percentile(&self, p: f64) -> f64 {
        stats::percentile(&self.self_estimate_outside_ms, p).unwrap_or(f64::NAN)
    }
    /// The mean true offset from the room of the viewers on one slot, ms; NaN without samples.
    pub fn slot_mean_offset_ms(&self, slot: usize) -> f64 {
        match self.true_offset_by_slot.get(slot) {
            Some(&(sum, n)) if n > 0 => sum / n as f64,
            _ => f64::NAN,
        }
    }
    /// Rate changes per viewer per minute of presence.
    pub fn rate_changes_per_min(&self) -> f64 {
        per_minute(self.rate_changes, self.viewer_s)
    }
    /// Fast clock corrections per viewer per minute of presence.
    pub fn fast_corrections_per_min(&self) -> f64 {
        per_minute(self.fast_corrections, self.viewer_s)
    }
    /// Rate changes per minute of presence of the viewers on one slot.
    pub fn slot_rate_changes_per_min(&self, slot: usize) -> f64 {
        self.rate_changes_by_slot
            .get(slot)
            .map_or(0.0, |&(n, s)| per_minute(n, s))
    }
    /// Share of samples (0–1) in which viewers were more than `ms` apart.
    pub fn share_over(&self, ms: f64) -> f64 {
        self.share_over_when(ms, |_| true)
    }
    /// The same, over the samples taken at true times (s) for which `when` holds.
    pub fn share_over_when(&self, ms: f64, when: impl Fn(f64) -> bool) -> f64 {
        let (mut n, mut over) = (0usize, 0usize);
        for (x, t) in self.offsets_ms.iter().zip(&self.offsets_at_s) {
            if when(*t) {
                n += 1;
                over += usize::from(*x > ms);
            }
        }
        if n == 0 {
            0.0
        } else {
            over as f64 / n as f64
        }
    }
    /// Percentile `p` of the media clocks' spread over the samples taken at true times (s) for
    /// which `when` holds; NaN without such samples.
    pub fn clock_percentile_when(&self, p: f64, when: impl Fn(f64) -> bool) -> f64 {
        let v: Vec<f64> = self
            .clock_offsets_ms
            .iter()
            .zip(&self.offsets_at_s)
            .filter(|(_, t)| when(**t))
            .map(|(x, _)| *x)
            .collect();
        stats::percentile(&v, p).unwrap_or(f64::NAN)
    }
    /// The largest room-time spread over the samples taken at true times (s) for which `when`
    /// holds (0 without such samples).
    pub fn max_room_spread_when(&self, when: impl Fn(f64) -> bool) -> f64 {
        self.room_spread_ms
            .iter()
            .zip(&self.room_spread_at_s)
            .filter(|(_, t)| when(**t))
            .map(|(x, _)| *x)
            .fold(0.0, f64::max)
    }
    /// Whether the viewers held one state at every sample taken at true times (s) for which
    /// `when` holds.
    pub fn states_agree_when(&self, when: impl Fn(f64) -> bool) -> bool {
        self.states_agree
            .iter()
            .zip(&self.room_spread_at_s)
            .all(|(agree, t)| *agree || !when(*t))
    }
    pub fn max_offset(&self) -> f64 {
        self.offsets_ms.iter().copied().fold(f64::NAN, f64::max)
    }
    /// The longest convergence; a change that never converged counts as the rest of the run.
    pub fn worst_converge_ms(&self, run_ms: f64) -> f64 {
        self.converge_ms
            .iter()
            .map(|c| c.unwrap_or(run_ms))
            .fold(0.0, f64::max)
    }
}

/// `count` events over `secs` seconds of presence, per minute (0 without presence).
fn per_minute(count: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        count as f64 * 60.0 / secs
    } else {
        0.0
    }
}
