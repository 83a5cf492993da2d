//! Short simulator runs with asserted bounds, looser than the benchmark's targets: they catch
//! regressions in CI without timing anything. Each prints its seed's outcome on failure.

use insieme::sync::{BufferingPolicy, Span};
use insieme_sim::scenarios;
use insieme_sim::{run, Outcome, Scenario};

fn summary(o: &Outcome) -> String {
    let [p50, p95, p99] = o.percentiles([50.0, 95.0, 99.0]);
    format!(
        "{}: samples {} p50 {:.2} p95 {:.2} p99 {:.2} max {:.2} converge {:?} steady seeks {} \
         (all {}) rate dev {:.4} rate changes/min {:.1} jump {:?} join {:?} agree {} rejected {} \
         holds {} final {:.2} clocks p95 {:.2}",
        o.name,
        o.offsets.len(),
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
        o.final_spread_ms,
        o.clock_percentile_when(95.0, |_| true)
    )
}

/// Properties every run must have, whatever the scenario.
fn always(o: &Outcome) {
    let s = summary(o);
    assert_eq!(o.steady_hard_seeks, 0, "{s}");
    assert!(o.max_rate_dev <= 0.05, "{s}");
    assert!(o.final_agree, "{s}");
    assert_eq!(o.rejected, 0, "honest peers send nothing refusable: {s}");
    assert!(!o.offsets.is_empty(), "never converged: {s}");
}

/// Half a 60 Hz frame, ms: viewers further apart than this show different frames.
const HALF_FRAME_MS: f64 = 1e3 / 60.0 / 2.0;

/// Asserts that viewers were on different frames in at most `share` (0–1) of the samples
/// (`split`, measured over the samples `what` names).
fn assert_split_within(what: &str, split: f64, share: f64, o: &Outcome) {
    assert!(
        split <= share,
        "{what} {:.2} %: {}",
        split * 100.0,
        summary(o)
    );
}

/// Runs of one test over many seeds that missed a bound, of how many were run.
///
/// Some bounds hold the engine where it is today on behaviour that a run's noise decides: a
/// tie between two frames taken one way or the other, a Firefox picture resting half a refresh
/// to one side. Which seeds miss then moves with any change to the engine (a clock estimate a
/// microsecond apart takes another tie), while how many miss does not; such tests run many
/// seeds and judge the count.
struct Misses {
    runs: usize,
    missed: Vec<String>,
}

impl Misses {
    fn new() -> Self {
        Misses {
            runs: 0,
            missed: Vec::new(),
        }
    }

    /// Counts a run; `why` lists the bounds it missed, `describe` says what it did.
    fn count(&mut self, why: &[&str], describe: impl FnOnce() -> String) {
        self.runs += 1;
        if !why.is_empty() {
            self.missed
                .push(format!("missed {}: {}", why.join(", "), describe()));
        }
    }

    fn assert_at_most(&self, allowed: usize) {
        assert!(
            self.missed.len() <= allowed,
            "{} of {} runs missed a bound, more than {allowed}:\n{}",
            self.missed.len(),
            self.runs,
            self.missed.join("\n")
        );
    }
}

/// The bounds of `checks` (name, held) that were not held.
fn missed<'a>(checks: &[(&'a str, bool)]) -> Vec<&'a str> {
    checks
        .iter()
        .filter(|(_, held)| !held)
        .map(|(name, _)| *name)
        .collect()
}

#[test]
fn same_seed_same_run() {
    let a = run(scenarios::wan(7, 20.0));
    let b = run(scenarios::wan(7, 20.0));
    assert_eq!(a.offsets, b.offsets);
    assert_eq!(a.converge_ms, b.converge_ms);
    let c = run(scenarios::wan(8, 20.0));
    assert_ne!(a.offsets, c.offsets);
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
/// on the same frame and the rate is left alone once they do. A controller chasing sub-frame
/// errors it cannot remove (as it does when not told the step: about 270 rate changes a minute, viewers
/// on different frames 20–70 % of the time) fails both bounds.
#[test]
fn viewers_on_one_screen_show_the_same_frame_without_hunting() {
    for seed in 1..=3 {
        let o = run(scenarios::screen(seed, 60.0, true));
        always(&o);
        // The offset is in whole frames: share of samples with viewers on different frames.
        assert_split_within("split", o.share_over(HALF_FRAME_MS), 0.15, &o);
        assert!(o.rate_changes_per_min() <= 60.0, "{}", summary(&o));
        assert!(o.percentile(50.0) <= HALF_FRAME_MS, "{}", summary(&o));
    }
}

/// Share of samples with viewers on different frames, over the samples taken while the
/// viewers rest: at least 3 s after every scripted action (a start, a join, a seek), so none of
/// their transients count.
fn split_at_rest(o: &Outcome, script_s: &[f64]) -> f64 {
    o.share_over_when(HALF_FRAME_MS, at_rest(script_s))
}

/// Whether a sample taken at true time `t` (s) is at rest: at least 3 s after each scripted
/// action.
fn at_rest(script_s: &[f64]) -> impl Fn(f64) -> bool + '_ {
    |t| script_s.iter().all(|a| t < *a || t - a >= 3.0)
}

/// Runs `sc` and asserts what holds everywhere plus viewers on the same frame at rest (at most
/// 0.5 % of those samples apart); the outcome, for more.
fn run_resting_on_one_frame(sc: Scenario) -> Outcome {
    let script_s: Vec<f64> = sc.script.iter().map(|(t, _)| *t).collect();
    let o = run(sc);
    always(&o);
    assert_split_within("split at rest", split_at_rest(&o, &script_s), 0.005, &o);
    o
}

/// Runs `sc`, whose one player's media clock drifts, and asserts the drift is trimmed rather
/// than chased: viewers apart at most 3.25 % of the samples, the drifting viewer changing its
/// rate at most 6.5 times a minute.
fn assert_drift_trimmed(sc: Scenario) -> Outcome {
    let drifting = sc
        .media_rate_error_ppm
        .iter()
        .position(|e| *e != 0.0)
        .expect("one drifting player");
    let o = run(sc);
    always(&o);
    assert_split_within("split", o.share_over(HALF_FRAME_MS), 0.0325, &o);
    let changes = o.slot_rate_changes_per_min(drifting);
    assert!(
        changes <= 6.5,
        "drifting viewer: {changes:.1} rate changes/min: {}",
        summary(&o)
    );
    o
}

/// With the phase told too, every start the initiator schedules puts the timeline on the shared
/// vsync grid, half a frame from any tie, so viewers never rest on different frames; what is
/// left of the split is the few hundred ms after a start, a join or a seek. Told the step only
/// (over 20 seeds at 60 s: split ≤ 2.6 %, 0 at rest, with the phase), a timeline that lands
/// near a tie keeps viewers a frame apart at rest: seed 5 has them apart 7.5 % of the run, 7.2 %
/// at rest, and fails both bounds.
#[test]
fn with_the_phase_told_viewers_on_one_screen_rest_on_the_same_frame() {
    for seed in 1..=10 {
        let sc = scenarios::screen(seed, 60.0, true);
        assert!(sc.tell_presentation_step && sc.tell_presentation_phase);
        let o = run_resting_on_one_frame(sc);
        assert_split_within("split", o.share_over(HALF_FRAME_MS), 0.04, &o);
    }
}

/// One viewer's media clock runs 2000 ppm slow (a real browser's fell a 60 Hz frame behind
/// every ~9 s): its engine corrects each frame of drift, and trims its resting rate from the
/// rests between corrections, so the frame-behind spells get rarer. Over 20 seeds of 180 s, with
/// the players timing their own starts: split 0.7–2.7 %, the drifting viewer's rate changes
/// 3.0–7.0 a minute (above 6.5 on seeds 16 and 18). With the trim at full gain each time (no
/// halving on a reversal), a start that lands early leaves a short rest, the trim overshoots and
/// swings 1000–3000 ppm around the drift: seed 2 splits 3.4 % at 9.7 changes a minute. Without
/// the trim (`TRIM_GAIN` 0) it falls behind every 8.3 s all run long: split 4.1–4.9 %, 8.3–12.3
/// rate changes a minute, failing both bounds on every seed.
#[test]
fn a_drifting_media_clock_is_trimmed_not_chased() {
    for seed in 1..=5 {
        let o = assert_drift_trimmed(scenarios::screen_drift(seed, 180.0));
        assert!(o.percentile(95.0) <= HALF_FRAME_MS, "{}", summary(&o));
    }
}

/// How far apart two viewers' media clocks may rest when their engines read them: each is
/// steered to the same place on the shared frame grid, but nothing cheaper than a fast
/// correction moves a Chromium clock (within 1/960 of 1.0 the rate does nothing, so the gentle
/// 0.1 % is idle), and a fast one starts only beyond 7 ms: two clocks rest up to 14 ms apart,
/// each within 7 ms of the grid, so still on the same frame (a tie is 8.3 ms from the grid).
/// Steering by the frames alone leaves them anywhere in the frame the renderer shows, and the
/// bound fails.
const CLOCKS_APART_MS: f64 = 14.0;

/// Pages read their media clocks (`screen-clock`) and the rate takes effect promptly: viewers
/// rest on the same frame with their clocks within a fast correction's threshold of the grid,
/// and the rate is left alone once there. Over seeds 1–10 at 60 s: no split at rest, clocks at
/// rest 3.2–11.1 ms apart (p95), 3.5–7.4 rate changes and 0.7–2.1 fast corrections a minute
/// (the frame-steered `screen` makes 2.1–4.9 rate changes; with a slow rate response the clock
/// steering makes 11–156).
#[test]
fn viewers_reading_their_clocks_rest_on_one_frame_without_hunting() {
    for seed in 1..=10 {
        let sc = scenarios::screen_clock(seed, 60.0);
        let script_s: Vec<f64> = sc.script.iter().map(|(t, _)| *t).collect();
        let o = run_resting_on_one_frame(sc);
        let clocks = o.clock_percentile_when(95.0, at_rest(&script_s));
        assert!(
            clocks <= CLOCKS_APART_MS,
            "clocks at rest {clocks:.2} ms apart (p95): {}",
            summary(&o)
        );
        assert!(o.rate_changes_per_min() <= 12.0, "{}", summary(&o));
    }
}

/// The viewer joining at 10 s starts frames off on every seed: its first start, with no start
/// lead learned yet, calls `play()` the guessed 80 ms early against this player's 30–60 ms and
/// lands 15–50 ms early (the fast correction's entry jump takes 20 ms of that back). It is
/// brought onto the others' frame, with its clock within the fast correction's threshold,
/// within 1.2–1.6 s of the join over seeds 1–10. (When the controller timed starts, with a 30 ms
/// guess, half the seeds started a frame late, and were on the frame within 1.7–2.2 s.)
#[test]
fn a_joiner_starting_frames_off_is_brought_onto_the_frame() {
    let mut started_off = 0;
    for seed in 1..=10 {
        let sc = scenarios::screen_clock(seed, 60.0);
        let join_s = sc
            .script
            .iter()
            .find(|(_, a)| *a == insieme_sim::Action::Join(2))
            .map(|(t, _)| *t)
            .expect("a viewer joins late");
        let next_s = sc
            .script
            .iter()
            .map(|(t, _)| *t)
            .find(|t| *t > join_s)
            .expect("an action after the join");
        let o = run(sc);
        always(&o);
        let samples = || {
            o.offsets
                .iter()
                .filter(|s| s.at_s >= join_s && s.at_s < next_s)
        };
        if samples().any(|s| s.shown_ms > HALF_FRAME_MS) {
            started_off += 1;
        }
        for s in samples().filter(|s| s.at_s >= join_s + 6.0) {
            let (t, shown, clocks) = (s.at_s, s.shown_ms, s.clock_ms);
            assert!(
                shown <= HALF_FRAME_MS && clocks <= CLOCKS_APART_MS,
                "at {t:.2} s, {shown:.2} ms apart on screen, clocks {clocks:.2} ms: {}",
                summary(&o)
            );
        }
    }
    assert!(
        started_off >= 4,
        "the joiner started a frame off on {started_off} seeds only: the test tests nothing"
    );
}

/// KNOWN FAILURE (engine): `screen-clock` with the rate taking effect over 50–300 ms, as in the
/// other `screen` scenarios (Chromium's took effect within a frame). A fast correction (±5 %)
/// ends once the clock reaches its aim, but the player's rate is still on its way back, so the
/// clock overshoots by 5 % of the response time (2.5–15 ms) plus the 0–4 ms given back on
/// leaving the stretched rate; 300 ms later it reads beyond 7 ms the other way, the next fast
/// correction sets it back 20 ms, and so on: a limit cycle of about a second (bench seed, slot
/// 2: fast −5 % at +8 ms, turned at −13 ms, rest at −1.5 ms, +7.8 ms 300 ms later, again).
/// Seeds 1–10 at 60 s: 11–156 rate changes a minute, viewers on different frames at rest
/// 0.9–22 % of the time, when this was written. On 2026-12-07, before the turn rule
/// (`steer_fast`: one turn at most, towards an aim still ahead) and the exit clamp
/// (`SHARED_EXIT_GAIN`), both made for what the start-on-canplay bench showed: 6.7–20.8
/// changes a minute, 5 of 10 seeds over 12, split at rest up to 1.53 %; after: 6.7–14.1, only
/// seed 7 over (14.1, split 1.36 %, bound 0.5 %), so it still fails. Tried on 2026-12-07 and
/// not kept: deciding nothing after a fast correction until the clock is still (two errors
/// 150 ms apart within 0.5 ms, at most 1.5 s), so its exit is learned whole (at `SETTLE`, a
/// response of 240 ms has given 70 % of its carry): 6.7–11.6 changes a minute, but the split at
/// rest rose over 0.5 % on 7 of 10 seeds (0.53–1.62 %: the clock waits off its frame while it
/// creeps), and the Firefox model's calibration run without rules no longer hunted as the
/// browser did.
#[test]
#[ignore = "engine hunts when the rate takes effect slowly (src/sync/clock_steering/mod.rs: FAST_EXIT)"]
fn clock_steering_with_a_slow_rate_response_does_not_hunt() {
    for seed in 1..=10 {
        let mut sc = scenarios::screen_clock(seed, 60.0);
        sc.rate_tau_ms = (50.0, 300.0);
        let o = run_resting_on_one_frame(sc);
        assert!(o.rate_changes_per_min() <= 12.0, "{}", summary(&o));
    }
}

/// A gentle correction must stay within 0.1 % of the normal rate wherever the estimated clock
/// skew puts the resting rate: one step past it and the audio renderer starts stretching, the
/// clock falls back 20 ms, and a 2 ms correction becomes a fast one with the viewer a frame
/// behind for about half a second. Before the controller clamped it, seeds 11, 20 and 29 (of
/// 1–30) showed it at rest (seed 20: rate 0.998998 at 37.97 s; split 0.85 %).
#[test]
fn gentle_corrections_do_not_set_the_clock_back() {
    for seed in [11, 20, 29] {
        run_resting_on_one_frame(scenarios::screen_clock(seed, 60.0));
    }
}

/// KNOWN FAILURE (engine): one viewer's media clock runs 2000 ppm slow (`screen-clock-drift`)
/// and its page reads it. The gentle rate (0.1 %) moves no Chromium clock, and steering by the
/// clock never trims the resting rate (the trim is learned on the frame-steered path only), so
/// the error grows past 7 ms every few seconds and each fast correction sets the clock back
/// 20 ms first. Seeds 1–8 at 180 s, prompt rate response: the drifting viewer makes 46–70 rate
/// changes a minute and viewers are on different frames 12–18 % of the time (the
/// frame-steered `screen-drift`, seeds 1–20: 3.0–7.0 and 0.7–2.7 %).
#[test]
#[ignore = "engine does not trim the resting rate while steering by the clock"]
fn a_drifting_clock_that_is_read_is_trimmed_not_chased() {
    for seed in 1..=5 {
        assert_drift_trimmed(scenarios::screen_clock_drift(seed, 180.0));
    }
}

/// A viewer's own seek makes its browser wait for data (`waiting`) once `play()` is called,
/// which the page reports as buffering. That wait holds the room only if it lasts past the
/// room's start: held at once, as before, every viewer still seeking when its `play()` came
/// held the group, and each hold made everyone seek again (one seek in the e2e bench paused
/// the room three times). Here seeks take 0.3–0.9 s, and the first one across the clip is
/// planned from the engines' first guess: over seeds 1–12, 0–2 holds a run and 8 in all
/// (7 when the controller, not the player, timed starts; holding at once: up to 3 a run, 15 in
/// all). A viewer not held for starts late and catches up alone, at 5 % or by seeking again:
/// the slowest seek converged in 3.6 s (6.0 s when the controller timed starts; 4.5–5.3 s
/// holding at once).
#[test]
fn a_seek_that_outlasts_the_start_holds_the_room_and_one_that_does_not_never() {
    let mut holds = 0;
    for seed in 1..=12 {
        let o = run(scenarios::seeks_while_playing(seed, 70.0));
        always(&o);
        assert!(o.holds <= 2, "{}", summary(&o));
        assert!(o.worst_converge_ms(70_000.0) <= 7_000.0, "{}", summary(&o));
        holds += o.holds;
    }
    assert!(holds <= 9, "{holds} holds");
}

/// The browser glue tells its engine the presentation step but not where frames fall on it
/// (`screen-live`): each viewer finds its grid offset from the frames it presents, and where
/// the room's timeline falls near the tie between two frames, noise puts one viewer's offset on
/// the other side of it. Each takes the side the oldest viewer announces, so they rest on one
/// frame wherever the video's first frame lies. Deciding alone (before version 3 of the wire),
/// 3 of 30 runs (seeds 1–6), all with the first frame 4 ms in, had a viewer a frame apart from
/// the seek at 36 s to the end (p95 16.7 ms). Since, over seeds 1–16: no run of 80 apart over
/// 0.5 % of the time at rest with each bucket's least-delayed clock exchange, one (0.72 %) with
/// the bounds' intersection; one may be, none over 1 %.
#[test]
fn viewers_finding_the_grid_themselves_take_one_side_of_a_tie() {
    let mut misses = Misses::new();
    for first_frame_ms in [0.0, 4.0, 7.0, 10.0, 13.0] {
        for seed in 1..=16 {
            let mut sc = scenarios::screen_live(seed, 60.0);
            assert!(sc.tell_presentation_step && !sc.tell_presentation_phase);
            sc.first_frame_ms = first_frame_ms;
            let script_s: Vec<f64> = sc.script.iter().map(|(t, _)| *t).collect();
            let o = run(sc);
            always(&o);
            let split = split_at_rest(&o, &script_s);
            assert_split_within("split at rest", split, 0.01, &o);
            misses.count(&missed(&[("split at rest", split <= 0.005)]), || {
                format!("first frame {first_frame_ms} ms, {}", summary(&o))
            });
        }
    }
    misses.assert_at_most(1);
}

/// A member with the room's key running a modified client (`scenarios::hostile`): the honest
/// peers refuse what it lies about, count it, and stay in sync on one state.
#[test]
fn a_lying_member_changes_nothing_for_the_others() {
    for seed in 1..=3 {
        let o = run(scenarios::hostile(seed, 90.0));
        let s = summary(&o);
        assert!(o.rejected > 0, "its lies are refused and counted: {s}");
        assert_eq!(o.steady_hard_seeks, 0, "{s}");
        assert!(o.final_agree, "{s}");
        assert!(o.percentile(95.0) <= 25.0, "{s}");
        assert!(o.jump_ms.is_some_and(|j| j <= 10.0), "{s}");
        assert!(o.join_ms.is_some_and(|j| j <= 10_000.0), "{s}");
        // Its seek margin, believed up to the longest lead (3 s), delays the first seeks of
        // those that have not measured their own; no more.
        assert!(o.worst_converge_ms(90e3) <= 4_000.0, "{s}");
    }
}

/// A room mixing browsers, its bounds, and what the sim and the browser measured.
struct MixedRoom {
    scenario: fn(u64, f64) -> Scenario,
    /// Offset p95 and p99, ms.
    p95_ms: f64,
    p99_ms: f64,
    /// How far the offset each viewer is shown may be from its true offset, p95, ms.
    self_estimate_ms: f64,
}

/// One frame at 24 fps, ms.
const FRAME_24_MS: f64 = 1e3 / 24.0;
/// One frame at 60 fps, ms, and a little for the rounding of whole steps.
const FRAME_60_MS: f64 = 1e3 / 60.0 + 0.01;

/// The mixed rooms (`scenarios::mixed_browsers`: Chromium and Firefox pages on one machine,
/// each in its measured model, `insieme_sim::browsers`), held where the engine holds them today.
/// Seeds 1–10 at 60 s and the bench's (offset p95 / p99 / self-estimate error p95, ms):
///
/// - two Chromium and a Firefox joining late, 60 fps: 9.7–13.0 / 10.9–16.7 / 2.4–4.1 (the
///   browser, one run: 9.7 / 11.9 / 7.7);
/// - the same at 24 fps: 12.5–25.0 / 15.2–32.6 / 9.6–10.8 (the browser: 24.9 / 31.1 / 15.0);
/// - Chromium and Firefox, 60 fps: 8.5–14.8 / 10.8–17.3 / 5.1–5.7 (p50 4.2–6.0, max 12–33;
///   issue 19's browser run, H.264 on an older app without the Firefox rules: p50 5, p95 14,
///   max 26, where the sim without the rules has p50 10 and p95 20);
/// - the same at 24 fps: 12.6–20.4 / 14.7–24.8 / 6.0–6.1.
///
/// Since the engine is told Chromium's clock jump before measuring it (2026-12-07), seeds 1–4
/// (p95 / p99, ms): 9.8–14.1 / 10.8–15.5; 12.9–18.8 / 16.7–22.0; 10.1–13.5 / 11.6–15.1;
/// 13.0–17.1 / 15.5–18.4, against 11.0–12.9 / 12.1–16.7; 11.5–25.0 / 13.6–25.0; 12.4–13.6 /
/// 13.8–15.7; 12.1–19.7 / 13.4–22.2 before: better or the same but for the first room's seed 2
/// (p95 12.9 → 14.1).
///
/// The issue's targets (p95 ≤ 10, p99 ≤ one frame, self-estimate ≤ 5 ms) are held in
/// `mixed_rooms_meet_the_issues_targets`, which fails.
fn mixed_rooms() -> [MixedRoom; 4] {
    [
        MixedRoom {
            scenario: |seed, s| scenarios::firefox_among_chromium(seed, s, 60.0),
            p95_ms: 14.5,
            p99_ms: FRAME_60_MS,
            self_estimate_ms: 5.0,
        },
        MixedRoom {
            scenario: |seed, s| scenarios::firefox_among_chromium(seed, s, 24.0),
            p95_ms: 26.0,
            p99_ms: FRAME_24_MS,
            self_estimate_ms: 11.5,
        },
        MixedRoom {
            scenario: |seed, s| scenarios::chromium_firefox(seed, s, 60.0),
            p95_ms: 15.0,
            p99_ms: 18.0,
            self_estimate_ms: 6.0,
        },
        MixedRoom {
            scenario: |seed, s| scenarios::chromium_firefox(seed, s, 24.0),
            p95_ms: 21.0,
            p99_ms: FRAME_24_MS,
            self_estimate_ms: 6.5,
        },
    ]
}

fn mixed_summary(o: &Outcome) -> String {
    let offsets: Vec<String> = (0..o.true_offset_by_slot.len())
        .map(|s| format!("{:+.1}", o.slot_mean_offset_ms(s)))
        .collect();
    format!(
        "{}; self-estimate error p95 {:.2} ms, outside its range {:.2} ({} unknown); mean offset \
         by slot {} ms",
        summary(o),
        o.self_estimate_percentile(95.0),
        o.self_estimate_outside_percentile(95.0),
        o.self_estimate_unknown,
        offsets.join(" ")
    )
}

/// Firefox among Chromium viewers, in the models measured of each: everyone converges, nobody
/// seeks in steady state, the late Firefox joiner is in sync within the 1.5 s target, offsets
/// stay where the engine holds them in the browser today (see [`mixed_rooms`]), and the offset
/// each viewer is shown tells the truth within the bound. The Firefox viewer, its clock told
/// half a step behind (the app's rule), does not sit behind the others: before that rule the
/// browser had it 7.2 ms behind at 60 fps.
///
/// Over seeds 1–16 of the four rooms, some runs miss a bound, always the same way: the Firefox
/// viewer rests 5–7 ms to one side (its picture half a refresh off a tie, taken the other way),
/// which lifts the 60 fps room's p95 to 14.6–16.2 ms; once a 24 fps room converged in 1.1 s.
/// 7 of 64 runs with each clock bucket's least-delayed exchange, 6 with the bounds'
/// intersection (2026-12-07); at most 8 may.
#[test]
fn firefox_among_chromium_viewers_stays_where_the_browser_does() {
    let mut misses = Misses::new();
    for room in mixed_rooms() {
        for seed in 1..=16 {
            let sc = (room.scenario)(seed, 60.0);
            let firefox = sc.slots - 1;
            let o = run(sc);
            always(&o);
            let s = mixed_summary(&o);
            assert!(o.join_ms.is_some_and(|j| j <= 1_500.0), "{s}");
            // What the list says is true, give or take what it says: "+0 ±17 ms" for a picture
            // known only to a refresh (Firefox's; at 24 fps everyone's), and beside one Firefox
            // viewer alone, half that for the exact Chromium one.
            let outside_p95 = o.self_estimate_outside_percentile(95.0);
            assert!(
                outside_p95 <= 1.0,
                "{s}; outside the range shown p95 {outside_p95:.2}"
            );
            let firefox_beside_chromium = o.name.ends_with("chromium");
            let why = missed(&[
                ("p95", o.percentile(95.0) <= room.p95_ms),
                ("p99", o.percentile(99.0) <= room.p99_ms),
                (
                    "self-estimate",
                    o.self_estimate_percentile(95.0) <= room.self_estimate_ms,
                ),
                ("converging", o.worst_converge_ms(60e3) <= 1_000.0),
                (
                    "Firefox's mean offset",
                    !firefox_beside_chromium || o.slot_mean_offset_ms(firefox).abs() <= 5.0,
                ),
            ]);
            misses.count(&why, || format!("seed {seed}, {s}"));
        }
    }
    misses.assert_at_most(8);
}

/// KNOWN FAILURE (engine and metric): issue 19's targets for every mixed room, offset p95
/// ≤ 10 ms and p99 ≤ one frame, and the offset each viewer is shown within 5 ms of its true
/// offset at p95. Firefox's picture changes at its own refresh ticks, in no fixed phase (its
/// model: `insieme_sim::browsers`), so against a Chromium picture held on the refresh it is
/// off by up to a refresh, uniformly: the half-step rule centres that (±8.3 ms at 60 Hz), and
/// its p95 alone is 7.9 ms before any clock error. The picture's error the engine tells is a
/// mean over frames, while the true offset at an instant swings over that refresh: the
/// estimate cannot follow it. At 24 fps the two Chromium viewers also steer at ±5 % (32–36
/// rate changes a minute on some seeds) and rest a refresh apart on seed 1, as three Chromium
/// viewers alone do in the same scenario: the 24 fps grid, not Firefox. Figures by seed in
/// [`mixed_rooms`].
#[test]
#[ignore = "a Firefox picture in no fixed phase is up to a refresh off the others: p95 9.7-25 ms"]
fn mixed_rooms_meet_the_issues_targets() {
    for room in mixed_rooms() {
        for seed in 1..=4 {
            let o = run((room.scenario)(seed, 60.0));
            let frame_ms = if o.name.ends_with("24") {
                FRAME_24_MS
            } else {
                FRAME_60_MS
            };
            let s = mixed_summary(&o);
            assert!(o.percentile(95.0) <= 10.0, "{s}");
            assert!(o.percentile(99.0) <= frame_ms, "{s}");
            assert!(o.self_estimate_percentile(95.0) <= 5.0, "{s}");
        }
    }
}

/// The Firefox model matters to the room: with it, the Firefox viewer's picture changes at
/// its own ticks, and viewers are a fraction of a frame apart most of the time (p50 3.3–4.3 ms
/// over seeds 1–10), which the offset shown still tells within 5 ms; with the late joiner in
/// Chromium instead, everyone rests on one frame (p50 0).
#[test]
fn a_firefox_viewer_is_not_a_chromium_one() {
    use insieme_sim::browsers::Browser::{Chromium, Firefox};
    for seed in 1..=3 {
        let with = |late| {
            let room = [Chromium, Chromium, late];
            run(scenarios::mixed_browsers("mixed", seed, 60.0, &room, 60.0))
        };
        let (firefox, chromium) = (with(Firefox), with(Chromium));
        always(&firefox);
        always(&chromium);
        let s = format!("{}\n{}", mixed_summary(&firefox), mixed_summary(&chromium));
        assert!(firefox.percentile(50.0) >= 2.0, "{s}");
        assert_eq!(chromium.percentile(50.0), 0.0, "{s}");
        assert!(chromium.self_estimate_percentile(95.0) <= 1.0, "{s}");
    }
}

/// Firefox with a sound output (a viewer with speakers) moves its media clock against every
/// rate change, about 8 ms at ±5 % (`browsers::firefox_with_sound_media_clock`). Joining two
/// Chromium viewers late, over seeds 1–8, it changed its rate 79–156 times a minute (12–23 fast
/// corrections) at p95 19.8–23.1 ms while the clock steering kept one jump for both directions,
/// the page telling an offset 9.4–13.2 ms off the truth (p95); learning each direction's jump
/// and exit gain, 8–18 changes (1.1–2.5 fast), p95 11.6–13.8 ms, told within 2.8–5.4 ms
/// (p99 15–24 ms against 11–16 ms without sound). Over seeds 1–16 (2026-12-07) one or two runs
/// rest at p95 15.4–15.8 ms (a tie, as in the rooms above); at most two may miss.
#[test]
fn a_firefox_viewer_with_speakers_is_not_hunted_by_its_own_clock() {
    use insieme_sim::browsers::Browser::{Chromium, FirefoxWithSound};
    let mut misses = Misses::new();
    for seed in 1..=16 {
        let browsers = [Chromium, Chromium, FirefoxWithSound];
        let o = run(scenarios::mixed_browsers(
            "mixed", seed, 60.0, &browsers, 60.0,
        ));
        always(&o);
        let s = mixed_summary(&o);
        let firefox = 2;
        assert!(o.slot_rate_changes_per_min(firefox) <= 20.0, "{s}");
        assert!(o.join_ms.is_some_and(|j| j <= 1_500.0), "{s}");
        let why = missed(&[
            ("p95", o.percentile(95.0) <= 14.5),
            ("self-estimate", o.self_estimate_percentile(95.0) <= 6.0),
        ]);
        misses.count(&why, || format!("seed {seed}, {s}"));
    }
    misses.assert_at_most(2);
}

/// The Firefox model against the browser's runs before the app had Firefox rules (the e2e
/// bench, two Chromium and a Firefox joining late, 60 fps, `docs/measurements/player.md`):
/// with Chromium's 80 ms start-lead guess the Firefox joiner started about 70 ms early and
/// joined in 2.32 s; steered onto Chromium's frame grid it corrected at ±5 % most of the time
/// and sat 4–7 ms behind. The sim, with every page taken for Chromium, shows the same: joins in
/// 2.27–2.44 s, the Firefox viewer 6.4–9.9 ms behind, 205–220 rate changes a minute (seeds
/// 1–10). With the rules (its start-lead guess, no step told, its clock told half a step
/// behind): joins in 0.93–1.13 s, 2.6–4.5 ms either side of the room, 4–16 rate changes a minute.
/// Without the rules the early start is now started again once (joins in 1.38–1.46 s, seeds
/// 1–4, against 0.98–1.11 s with the rules; not measured in the browser since). Over seeds
/// 1–16 (2026-12-07) the Firefox viewer with the rules rests 5.2–7.0 ms to one side in two or
/// three runs (a tie, as in the rooms above); at most three may.
#[test]
fn without_its_rules_a_firefox_viewer_behaves_as_the_browser_showed() {
    let mut misses = Misses::new();
    for seed in 1..=16 {
        let room = |rules| {
            use insieme_sim::browsers::Browser::{Chromium, Firefox};
            let browsers = [Chromium, Chromium, Firefox];
            let mut sc = scenarios::mixed_browsers("mixed", seed, 60.0, &browsers, 60.0);
            sc.browser_rules = rules;
            run(sc)
        };
        let (without, with) = (room(false), room(true));
        let s = format!("{}\n{}", mixed_summary(&without), mixed_summary(&with));
        always(&without);
        always(&with);
        let firefox = 2;
        // Since a start that lands further off than the rate removes in a second is started
        // again once (the controller's `landing`), the early start no longer costs the join
        // seconds at ±5 %: it joins later than with the rules, not 2 s later.
        assert!(without.join_ms > with.join_ms, "{s}");
        assert!(without.slot_mean_offset_ms(firefox) <= -5.0, "{s}");
        assert!(without.slot_rate_changes_per_min(firefox) >= 100.0, "{s}");
        assert!(with.join_ms.is_some_and(|j| j <= 1_500.0), "{s}");
        assert!(with.slot_rate_changes_per_min(firefox) <= 20.0, "{s}");
        let why = missed(&[(
            "Firefox's mean offset with the rules",
            with.slot_mean_offset_ms(firefox).abs() <= 5.0,
        )]);
        misses.count(&why, || format!("seed {seed}, {s}"));
    }
    misses.assert_at_most(3);
}
