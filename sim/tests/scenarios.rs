//! Short simulator runs with asserted bounds, looser than the benchmark's targets: they catch
//! regressions in CI without timing anything. Each prints its seed's outcome on failure.

use insieme::sync::{BufferingPolicy, Span};
use insieme_sim::scenarios;
use insieme_sim::{run, Outcome};

fn summary(o: &Outcome) -> String {
    let [p50, p95, p99] = o.percentiles([50.0, 95.0, 99.0]);
    format!(
        "{}: samples {} p50 {:.2} p95 {:.2} p99 {:.2} max {:.2} converge {:?} steady seeks {} \
         (all {}) rate dev {:.4} rate changes/min {:.1} jump {:?} join {:?} agree {} rejected {} \
         holds {} final {:.2}",
        o.name,
        o.offsets_ms.len(),
        p50,
        p95,
        p99,
        o.max_offset(),
        o.converge_ms,
        o.steady_hard_seeks,
        o.all_seeks,
        o.max_rate_dev,
        o.rate_changes_per_min(),
        o.jump_ms,
        o.join_ms,
        o.final_agree,
        o.rejected,
        o.holds,
        o.final_spread_ms
    )
}

/// Properties every run must have, whatever the scenario.
fn always(o: &Outcome) {
    let s = summary(o);
    assert_eq!(o.steady_hard_seeks, 0, "{s}");
    assert!(o.max_rate_dev <= 0.05, "{s}");
    assert!(o.final_agree, "{s}");
    assert_eq!(o.rejected, 0, "honest peers send nothing refusable: {s}");
    assert!(!o.offsets_ms.is_empty(), "never converged: {s}");
}

#[test]
fn same_seed_same_run() {
    let a = run(scenarios::wan(7, 20.0));
    let b = run(scenarios::wan(7, 20.0));
    assert_eq!(a.offsets_ms, b.offsets_ms);
    assert_eq!(a.converge_ms, b.converge_ms);
    let c = run(scenarios::wan(8, 20.0));
    assert_ne!(a.offsets_ms, c.offsets_ms);
}

#[test]
fn lan_viewers_stay_within_a_few_ms() {
    for seed in 1..=3 {
        let o = run(scenarios::lan(seed, 60.0));
        always(&o);
        assert!(o.percentile(95.0) <= 5.0, "{}", summary(&o));
        assert!(o.percentile(50.0) <= 1.5, "{}", summary(&o));
    }
}

#[test]
fn wan_viewers_stay_within_tens_of_ms() {
    for seed in 1..=3 {
        let o = run(scenarios::wan(seed, 60.0));
        always(&o);
        assert!(o.percentile(95.0) <= 25.0, "{}", summary(&o));
        assert!(o.percentile(99.0) <= 40.0, "{}", summary(&o));
        assert!(o.worst_converge_ms(60e3) <= 3_000.0, "{}", summary(&o));
    }
}

#[test]
fn conflicting_intents_converge_to_one_state() {
    for seed in 1..=6 {
        let o = run(scenarios::storm(seed, 30.0));
        always(&o);
        assert!(o.worst_converge_ms(30e3) <= 3_000.0, "{}", summary(&o));
    }
}

#[test]
fn reference_leaving_moves_nobody() {
    for seed in 1..=3 {
        let o = run(scenarios::handover(seed, 60.0));
        always(&o);
        let jump = o.jump_ms.expect("the scenario has a handover");
        assert!(jump <= 10.0, "{}", summary(&o));
    }
}

#[test]
fn churn_keeps_those_present_in_sync() {
    let o = run(scenarios::churn(3, 180.0));
    always(&o);
    assert!(o.percentile(95.0) <= 25.0, "{}", summary(&o));
    let join = o.join_ms.expect("peers joined during the run");
    assert!(join <= 10_000.0, "{}", summary(&o));
}

#[test]
fn stalls_hold_the_group_a_bounded_time() {
    let o = run(scenarios::stalls(4, 150.0));
    always(&o);
    assert!(o.holds > 0, "the scenario stalls players: {}", summary(&o));
    assert!(o.final_spread_ms <= 20.0, "{}", summary(&o));

    let mut sc = scenarios::stalls(4, 150.0);
    sc.engine.buffering = BufferingPolicy::NeverWait;
    let o = run(sc);
    always(&o);
    assert_eq!(o.holds, 0, "{}", summary(&o));

    let mut sc = scenarios::stalls(4, 150.0);
    sc.engine.buffering = BufferingPolicy::WaitUpTo(Span::from_secs(1));
    let o = run(sc);
    always(&o);
}

#[test]
fn partition_heals() {
    for seed in 1..=3 {
        let o = run(scenarios::partition(seed, 80.0));
        assert!(o.final_agree, "{}", summary(&o));
        assert!(o.final_spread_ms <= 20.0, "{}", summary(&o));
        assert!(o.max_rate_dev <= 0.05, "{}", summary(&o));
    }
}

/// Browsers on one 60 Hz screen, engines told their presentation step (and phase): viewers rest
/// on the same frame and the rate is left alone once they do. A controller chasing sub-frame errors it
/// cannot remove (as it does when not told the step: about 270 rate changes a minute, viewers
/// on different frames 20–70 % of the time) fails both bounds.
#[test]
fn viewers_on_one_screen_show_the_same_frame_without_hunting() {
    let half_frame_ms = 1e3 / 60.0 / 2.0;
    for seed in 1..=3 {
        let o = run(scenarios::screen(seed, 60.0, true));
        always(&o);
        // The offset is in whole frames: share of samples with viewers on different frames.
        let split = o.share_over(half_frame_ms);
        assert!(
            split <= 0.15,
            "split {:.1} %: {}",
            split * 100.0,
            summary(&o)
        );
        assert!(o.rate_changes_per_min() <= 60.0, "{}", summary(&o));
        assert!(o.percentile(50.0) <= half_frame_ms, "{}", summary(&o));
    }
}

/// Share of samples with viewers on different frames, over the samples taken while the
/// viewers rest: at least 3 s after every scripted action (a start, a join, a seek), so none of
/// their transients count.
fn split_at_rest(o: &Outcome, script_s: &[f64]) -> f64 {
    let half_frame_ms = 1e3 / 60.0 / 2.0;
    o.share_over_when(half_frame_ms, |t| {
        script_s.iter().all(|a| t < *a || t - a >= 3.0)
    })
}

/// With the phase told too, every start the initiator schedules puts the timeline on the shared
/// vsync grid, half a frame from any tie, so viewers never rest on different frames; what is
/// left of the split is the few hundred ms after a start, a join or a seek. Told the step only
/// (over 20 seeds at 60 s: split ≤ 2.6 %, 0 at rest, with the phase), a timeline that lands
/// near a tie keeps viewers a frame apart at rest: seed 5 has them apart 7.5 % of the run, 7.2 %
/// at rest, and fails both bounds.
#[test]
fn with_the_phase_told_viewers_on_one_screen_rest_on_the_same_frame() {
    let half_frame_ms = 1e3 / 60.0 / 2.0;
    for seed in 1..=10 {
        let sc = scenarios::screen(seed, 60.0, true);
        assert!(sc.tell_presentation_step && sc.tell_presentation_phase);
        let script_s: Vec<f64> = sc.script.iter().map(|(t, _)| *t).collect();
        let o = run(sc);
        always(&o);
        let split = o.share_over(half_frame_ms);
        assert!(
            split <= 0.04,
            "split {:.2} %: {}",
            split * 100.0,
            summary(&o)
        );
        let rest = split_at_rest(&o, &script_s);
        assert!(
            rest <= 0.005,
            "split at rest {:.2} %: {}",
            rest * 100.0,
            summary(&o)
        );
    }
}

/// One viewer's media clock runs 2000 ppm slow (a real browser's fell a 60 Hz frame behind
/// every ~9 s): its engine corrects each frame of drift, and trims its resting rate from the
/// rests between corrections, so the frame-behind spells get rarer. Over 20 seeds of 180 s: split
/// 1.2–2.5 %, the drifting viewer's rate changes 3.3–4.7 a minute. Without the trim
/// (`TRIM_GAIN` 0) it falls behind every 8.3 s all run long: split 4.1–4.9 %, 8.3–12.3 rate
/// changes a minute, failing both bounds on every seed.
#[test]
fn a_drifting_media_clock_is_trimmed_not_chased() {
    let half_frame_ms = 1e3 / 60.0 / 2.0;
    for seed in 1..=5 {
        let sc = scenarios::screen_drift(seed, 180.0);
        let drifting = sc
            .media_rate_error_ppm
            .iter()
            .position(|e| *e != 0.0)
            .expect("one drifting player");
        let o = run(sc);
        always(&o);
        assert!(o.percentile(95.0) <= half_frame_ms, "{}", summary(&o));
        let split = o.share_over(half_frame_ms);
        assert!(
            split <= 0.0325,
            "split {:.2} %: {}",
            split * 100.0,
            summary(&o)
        );
        let changes = o.slot_rate_changes_per_min(drifting);
        assert!(
            changes <= 6.5,
            "drifting viewer: {changes:.1} rate changes/min: {}",
            summary(&o)
        );
    }
}
