//! The fixed scenarios: the benchmark's five networks (LAN, WAN, an intent storm, the reference
//! leaving, churn), a stall scenario, a partition that heals, and screen scenarios where frames
//! appear only at display refreshes (one with a drifting media clock, and some where the pages
//! read their media clocks too), a room with a lying member, a room whose reference's page is
//! slow (`slow_reference`), a busy host whose pages handle every message late
//! (`busy_host_slow_guest`), and shorter variants for the regression tests.
//!
//! Parameters are constants here, chosen from a description of each network written before any
//! engine ran on them, and printed by the benchmark; the browser models' figures come from
//! measurements in headless Chromium (`docs/measurements/player.md`). They are not tuned to the
//! engine: if the engine misses a target, the engine changes, not the scenario.

use crate::browsers::{chromium_media_clock, Browser, CHROMIUM_RATE_RESPONSE_MS};
use crate::net::{Jitter, LinkSpec};
use crate::player::DisplaySpec;
use crate::rng::Rng;
use crate::world::{Action, Hostile, Scenario, StallSpec};
use insieme::sync::state::MAX_COUNTER;
use insieme::sync::wire::Timebase;
use insieme::sync::{Body, Config, Engine, Intent, LocalTime, MediaTime, Span, WireMessage};

/// The seed the benchmark runs with.
pub const BENCH_SEED: u64 = 0x1A5E_5EED;

/// LAN: RTT 2 ms ± 0.5.
pub fn lan_link() -> LinkSpec {
    LinkSpec {
        one_way_us: 750.0,
        jitter: Jitter::Uniform { max_us: 500.0 },
        asymmetry_us: 0.0,
        loss: 0.0,
        rto_min_us: 200_000.0,
    }
}

/// WAN: RTT 120 ms, jitter with a tail to +80 ms, asymmetry up to 6 ms, 2 % loss.
pub fn wan_link() -> LinkSpec {
    LinkSpec {
        one_way_us: 60_000.0,
        jitter: Jitter::Tail {
            mean_us: 4_000.0,
            tail_prob: 0.05,
            tail_max_us: 80_000.0,
        },
        asymmetry_us: 6_000.0,
        loss: 0.02,
        rto_min_us: 250_000.0,
    }
}

pub(crate) fn base(
    name: &'static str,
    seed: u64,
    slots: usize,
    duration_s: f64,
    link: LinkSpec,
) -> Scenario {
    Scenario {
        name,
        seed,
        slots,
        duration_s,
        link,
        skew_ppm: 100.0,
        clock_offset_s: 3.0 * 3600.0,
        fps: vec![30.0, 60.0],
        first_frame_ms: 0.0,
        seek_latency_ms: (50.0, 500.0),
        start_latency_ms: (10.0, 80.0),
        rate_tau_ms: (50.0, 300.0),
        stalls: None,
        display: None,
        tell_presentation_step: false,
        tell_presentation_phase: true,
        endpoint_order: true,
        media_rate_error_ppm: Vec::new(),
        clock_readings: None,
        browsers: Vec::new(),
        browser_rules: true,
        engine: Config::default(),
        hostile: None,
        script: Vec::new(),
    }
}

pub(crate) fn intent(t: f64, slot: usize, intent: Intent) -> (f64, Action) {
    (t, Action::Intent { slot, intent })
}

pub(crate) fn load(t: f64, slot: usize) -> (f64, Action) {
    intent(
        t,
        slot,
        Intent::Load {
            media_id: "big-buck-bunny".into(),
        },
    )
}

/// Everyone present from the start; load, play, and a few ordinary intents spread over the run.
fn watch_script(slots: usize, duration_s: f64) -> Vec<(f64, Action)> {
    let mut s: Vec<(f64, Action)> = (0..slots).map(|i| (0.0, Action::Join(i))).collect();
    s.push(load(2.0, 0));
    s.push(intent(4.0, 1 % slots, Intent::Play));
    s.push(intent(
        duration_s * 0.3,
        2 % slots,
        Intent::Seek(MediaTime::from_secs_f64(600.0)),
    ));
    s.push(intent(duration_s * 0.55, 3 % slots, Intent::Pause));
    s.push(intent(duration_s * 0.6, 4 % slots, Intent::Play));
    s
}

/// 8 peers on a LAN.
pub fn lan(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = base("lan", seed, 8, duration_s, lan_link());
    sc.skew_ppm = 50.0;
    sc.script = watch_script(8, duration_s);
    sc
}

/// 8 peers across the world.
pub fn wan(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = base("wan", seed, 8, duration_s, wan_link());
    sc.script = watch_script(8, duration_s);
    sc
}

/// 3 peers issue 20 conflicting play/pause/seek intents within 2 s (on WAN links).
pub fn storm(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = base("storm", seed, 3, duration_s, wan_link());
    let mut s: Vec<(f64, Action)> = (0..3).map(|i| (0.0, Action::Join(i))).collect();
    s.push(load(2.0, 0));
    s.push(intent(4.0, 1, Intent::Play));
    let mut rng = Rng::new(seed ^ 0x5707);
    let start = 15.0;
    let mut times: Vec<f64> = (0..20).map(|_| rng.range(start, start + 2.0)).collect();
    times.sort_by(f64::total_cmp);
    for t in times {
        let slot = rng.below(3) as usize;
        let i = match rng.below(3) {
            0 => Intent::Play,
            1 => Intent::Pause,
            _ => Intent::Seek(MediaTime::from_secs_f64(rng.range(0.0, 600.0))),
        };
        s.push(intent(t, slot, i));
    }
    sc.script = s;
    sc
}

/// The reference peer leaves mid-playback (6 peers, WAN links).
pub fn handover(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = base("handover", seed, 6, duration_s, wan_link());
    let mut s: Vec<(f64, Action)> = (0..6).map(|i| (0.0, Action::Join(i))).collect();
    s.push(load(2.0, 0));
    s.push(intent(4.0, 1, Intent::Play));
    s.push((duration_s * 0.6, Action::LeaveReference));
    sc.script = s;
    sc
}

/// 12 devices joining and leaving over the run (WAN links); the reference leaves too when its
/// turn comes.
pub fn churn(seed: u64, duration_s: f64) -> Scenario {
    let slots = 12;
    let mut sc = base("churn", seed, slots, duration_s, wan_link());
    let initial = 6;
    let mut s: Vec<(f64, Action)> = (0..initial).map(|i| (0.0, Action::Join(i))).collect();
    s.push(load(2.0, 0));
    s.push(intent(4.0, 1, Intent::Play));
    let mut rng = Rng::new(seed ^ 0xC4A2);
    let mut present: Vec<bool> = (0..slots).map(|i| i < initial).collect();
    let mut t = 20.0;
    loop {
        t += rng.exp(12.0);
        if t > duration_s - 10.0 {
            break;
        }
        let slot = rng.below(slots as u64) as usize;
        let count = present.iter().filter(|p| **p).count();
        if present[slot] {
            if count > 3 {
                present[slot] = false;
                s.push((t, Action::Leave(slot)));
            }
        } else {
            present[slot] = true;
            s.push((t, Action::Join(slot)));
        }
    }
    sc.script = s;
    sc
}

/// Players stall at random (6 peers, WAN links, default buffering policy).
pub fn stalls(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = base("stall", seed, 6, duration_s, wan_link());
    sc.stalls = Some(StallSpec {
        mean_interval_s: 45.0,
        min_s: 0.5,
        max_s: 8.0,
    });
    sc.script = watch_script(6, duration_s);
    sc
}

/// A partition that heals: two sides play on alone for a while, then merge.
pub fn partition(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = base("partition", seed, 6, duration_s, wan_link());
    let mut s = watch_script(6, duration_s);
    s.retain(|(t, _)| *t < 10.0);
    s.push((20.0, Action::Partition(vec![0, 1, 2])));
    s.push((50.0, Action::Heal));
    sc.script = s;
    sc
}

/// A 60 Hz display, as nearly every laptop and desktop screen runs, its vsync phase drawn from
/// the seed.
pub fn display_60hz(seed: u64) -> DisplaySpec {
    let refresh_us = 1e6 / 60.0;
    DisplaySpec {
        refresh_us,
        phase_us: Rng::new(seed ^ 0xD15B).range(0.0, refresh_us),
    }
}

/// 3 browsers on one machine, as in the real-browser benchmark: one clock (no skew, but each
/// page's `performance.now()` has its own origin), LAN-fast links, 60 fps video on one 60 Hz
/// display (one vsync phase for all), a viewer joining late and a seek. `tell` says whether
/// each engine is told its presentation step and where frames fall on it (`screen`) or not
/// (`screen-untold`, the engine as it was before the step existed), to show what the inputs
/// change.
pub fn screen(seed: u64, duration_s: f64, tell: bool) -> Scenario {
    let name = if tell { "screen" } else { "screen-untold" };
    let mut sc = base(name, seed, 3, duration_s, lan_link());
    sc.skew_ppm = 0.0;
    // Pages opened up to a few minutes apart.
    sc.clock_offset_s = 300.0;
    sc.fps = vec![60.0];
    sc.seek_latency_ms = (50.0, 200.0);
    sc.start_latency_ms = (30.0, 60.0);
    sc.rate_tau_ms = (50.0, 300.0);
    sc.display = Some(display_60hz(seed));
    sc.tell_presentation_step = tell;
    let mut s: Vec<(f64, Action)> = (0..2).map(|i| (0.0, Action::Join(i))).collect();
    s.push(load(2.0, 0));
    s.push(intent(4.0, 1, Intent::Play));
    s.push((10.0, Action::Join(2)));
    s.push(intent(
        duration_s * 0.6,
        2,
        Intent::Seek(MediaTime::from_secs_f64(600.0)),
    ));
    sc.script = s;
    sc
}

/// How slow the drifting player's media clock runs in `screen-drift`, ppm: about as slow as a
/// real browser's media clock (driven by the sound card) was measured to run
/// (`docs/measurements/player.md`).
pub const DRIFT_PPM: f64 = 2_000.0;

/// `screen` (engines told step and phase) with the media clock of the viewer on slot 1 (there
/// from the start; it starts playback) running [`DRIFT_PPM`] slow, unbeknown to its engine:
/// it falls a frame behind every 8.3 s unless its engine learns to trim the rate.
pub fn screen_drift(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = screen(seed, duration_s, true);
    sc.name = "screen-drift";
    sc.media_rate_error_ppm = vec![0.0, -DRIFT_PPM, 0.0];
    sc
}

/// `screen` (engines told step and phase) with every page also reading its media clock at each
/// frame ([`chromium_media_clock`]), as the browser glue does while playing: the engines steer
/// the clock rather than the frames.
///
/// The rate takes effect within a frame, as measured there ([`CHROMIUM_RATE_RESPONSE_MS`]).
/// (The other `screen` scenarios draw 50–300 ms; with that, a fast correction overshoots, see
/// the ignored test `clock_steering_with_a_slow_rate_response_does_not_hunt`.)
pub fn screen_clock(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = screen(seed, duration_s, true);
    sc.name = "screen-clock";
    sc.clock_readings = Some(chromium_media_clock());
    sc.rate_tau_ms = CHROMIUM_RATE_RESPONSE_MS;
    sc
}

/// `screen-clock` with the media clock of the viewer on slot 1 running [`DRIFT_PPM`] slow, as
/// in `screen-drift`: no rate within 0.1 % of 1.0 moves a Chromium clock, so only fast
/// corrections hold it.
pub fn screen_clock_drift(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = screen_clock(seed, duration_s);
    sc.name = "screen-clock-drift";
    sc.media_rate_error_ppm = vec![0.0, -DRIFT_PPM, 0.0];
    sc
}

/// `screen-clock` where people seek while the room plays, one every 10 s, on players whose
/// seeks take 0.3–0.9 s (a video from a distant server). The first seek, a nudge of 0.2 s,
/// finds its data decoded and is quick, and teaches the engines nothing; the next one, across
/// the clip, is planned from their first guess, which some seeks outlast: those players call
/// `play()` while still seeking, the browser waits for data (`waiting`), and the page reports
/// buffering.
pub fn seeks_while_playing(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = screen_clock(seed, duration_s);
    sc.name = "seeks-while-playing";
    sc.seek_latency_ms = (300.0, 900.0);
    let mut s: Vec<(f64, Action)> = (0..3).map(|i| (0.0, Action::Join(i))).collect();
    s.push(load(2.0, 0));
    s.push(intent(4.0, 1, Intent::Play));
    s.push(intent(10.0, 0, Intent::Seek(MediaTime::from_secs_f64(6.2))));
    let mut at = 15.0;
    let mut rng = Rng::new(seed ^ 0x5eec);
    while at < duration_s - 5.0 {
        let to = MediaTime::from_secs_f64(rng.range(0.0, 600.0));
        s.push(intent(at, rng.below(3) as usize, Intent::Seek(to)));
        at += 10.0;
    }
    sc.script = s;
    sc
}

/// `screen-clock` as the browser glue runs it: told the presentation step, not where frames
/// fall on it (no [`insieme::sync::Input::FrameGrid`]), so the engines find the grid only from
/// the frames they present; and the video's frames start at 7 ms, as the end-to-end clip's do.
pub fn screen_live(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = screen_clock(seed, duration_s);
    sc.name = "screen-live";
    sc.tell_presentation_phase = false;
    sc.first_frame_ms = 7.0;
    sc
}

/// A room of real browsers on one machine, as the end-to-end bench runs them (`screen-live`'s
/// machine: one clock, one 60 Hz display, LAN-fast links, pages opened minutes apart), each slot
/// in its browser ([`crate::browsers`]) and its page told what the app's glue tells: the
/// presentation step (Chromium only) and no frame grid. Everyone but the last is there from the
/// start; the last joins at 10 s (the bench's late joiner, Firefox where there is one) and
/// seeks at 60 % of the run. The video's frames start at 7 ms at 60 fps (the bench's WebM clip,
/// its Opus pre-skip) and at 0 otherwise.
pub fn mixed_browsers(
    name: &'static str,
    seed: u64,
    duration_s: f64,
    browsers: &[Browser],
    fps: f64,
) -> Scenario {
    let slots = browsers.len();
    let mut sc = base(name, seed, slots, duration_s, lan_link());
    sc.skew_ppm = 0.0;
    sc.clock_offset_s = 300.0;
    sc.fps = vec![fps];
    sc.first_frame_ms = if fps == 60.0 { 7.0 } else { 0.0 };
    sc.seek_latency_ms = (50.0, 200.0);
    sc.display = Some(display_60hz(seed));
    sc.tell_presentation_step = true;
    sc.tell_presentation_phase = false;
    sc.browsers = browsers.to_vec();
    let late = slots - 1;
    let mut s: Vec<(f64, Action)> = (0..late).map(|i| (0.0, Action::Join(i))).collect();
    s.push(load(2.0, 0));
    s.push(intent(4.0, 1 % late, Intent::Play));
    s.push((10.0, Action::Join(late)));
    s.push(intent(
        duration_s * 0.6,
        late,
        Intent::Seek(MediaTime::from_secs_f64(600.0)),
    ));
    sc.script = s;
    sc
}

/// Two Chromium viewers and a Firefox one joining late, at `fps` (60 or 24): the end-to-end
/// bench's `--browsers chromium,chromium,firefox` (with `--clip mp4-24` at 24 fps).
pub fn firefox_among_chromium(seed: u64, duration_s: f64, fps: f64) -> Scenario {
    let name = if fps == 24.0 {
        "firefox-among-chromium-24"
    } else {
        "firefox-among-chromium"
    };
    use Browser::{Chromium, Firefox};
    mixed_browsers(name, seed, duration_s, &[Chromium, Chromium, Firefox], fps)
}

/// A Chromium viewer and a Firefox one joining late, at `fps` (60 or 24).
pub fn chromium_firefox(seed: u64, duration_s: f64, fps: f64) -> Scenario {
    let name = if fps == 24.0 {
        "chromium-firefox-24"
    } else {
        "chromium-firefox"
    };
    use Browser::{Chromium, Firefox};
    mixed_browsers(name, seed, duration_s, &[Chromium, Firefox], fps)
}

/// What the lying member of [`hostile`] sends: it claims rank 0 and its own clock 30 s on as
/// the timeline, an hour's seek and preparation, the room's state stamped an hour ahead in its
/// hellos, and every state it writes a minute ahead with the largest counter.
fn mallory(e: &Engine, now: LocalTime, msg: &mut WireMessage) {
    let room = e.room_time(now);
    match &mut msg.body {
        Body::Hello(h) => {
            h.rank = Some(0);
            h.timebase = Some(Timebase {
                reference: e.id(),
                base: e.timebase().base + Span::from_secs(30),
            });
            h.seek = Some(Span::from_secs(3600));
            h.prep = Span::from_secs(3600);
            if let (Some(v), Some(room)) = (&mut h.state, room) {
                v.stamp.wall = room + Span::from_secs(3600);
                v.stamp.peer = e.id();
            }
        }
        Body::State(v) => {
            if let Some(room) = room {
                v.stamp.wall = room + Span::from_secs(59);
                v.stamp.counter = MAX_COUNTER;
            }
        }
        _ => {}
    }
}

/// 5 honest peers on WAN links and a member running a modified client ([`mallory`]) that
/// joins at 10 s, seeks at 40 % of the run; a viewer joins after it (at 30 s), and the
/// reference leaves at 70 %. The honest peers must watch as if it were not there.
pub fn hostile(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = base("hostile", seed, 6, duration_s, wan_link());
    let mut s = watch_script(5, duration_s);
    s.retain(|(_, a)| *a != Action::Join(4));
    s.push((10.0, Action::Join(5)));
    s.push((30.0, Action::Join(4)));
    s.push(intent(
        duration_s * 0.4,
        5,
        Intent::Seek(MediaTime::from_secs_f64(300.0)),
    ));
    s.push((duration_s * 0.7, Action::LeaveReference));
    sc.script = s;
    sc.hostile = Some(Hostile {
        slot: 5,
        tamper: mallory,
    });
    sc
}

/// A slow device's page from `from_s` to `until_s` (true seconds): no CPU 35 ms of every 50
/// (`bench e2e --slow`'s busy task), so it handles its messages, timers and its player's
/// reports late.
fn slow_page(slot: usize, from_s: f64, until_s: f64) -> impl Iterator<Item = (f64, Action)> {
    ((from_s * 20.0) as usize..(until_s * 20.0) as usize)
        .map(move |tick| (tick as f64 / 20.0, Action::Starve { slot, for_s: 0.035 }))
}

/// Three browsers on one machine (no skew, LAN-fast links) join, load and play, on a script
/// the caller adds to.
fn three_on_one_machine(name: &'static str, seed: u64, duration_s: f64) -> Scenario {
    let mut sc = base(name, seed, 3, duration_s, lan_link());
    sc.skew_ppm = 0.0;
    sc.clock_offset_s = 300.0;
    let mut s: Vec<(f64, Action)> = (0..3).map(|i| (0.1 * i as f64, Action::Join(i))).collect();
    s.push(load(2.0, 0));
    s.push(intent(4.0, 1, Intent::Play));
    sc.script = s;
    sc
}

/// When the reference's page of [`slow_reference`] is slow, true seconds.
pub const SLOW_FROM_S: f64 = 10.0;
pub const SLOW_UNTIL_S: f64 = 25.0;

/// Three browsers on one machine (no skew, LAN-fast links) play; from [`SLOW_FROM_S`] to
/// [`SLOW_UNTIL_S`] the page whose clock is room time (slot 0, the oldest) is a slow device: it
/// gets no CPU 35 ms of every 50 (`bench e2e --slow`'s busy task), so it handles its messages,
/// timers and its player's reports late. Every player stalls now and then for 20 to 150 ms, as
/// a slow device's did in Chromium.
pub fn slow_reference(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = three_on_one_machine("slow-reference", seed, duration_s);
    sc.stalls = Some(StallSpec {
        mean_interval_s: 1.5,
        min_s: 0.02,
        max_s: 0.15,
    });
    sc.script.extend(slow_page(0, SLOW_FROM_S, SLOW_UNTIL_S));
    sc
}

/// When the guest's page of [`busy_host_slow_guest`] is slow, true seconds...
pub const GUEST_SLOW_FROM_S: f64 = 20.0;
/// ...and until when.
pub const GUEST_SLOW_UNTIL_S: f64 = 40.0;

/// Three browsers on one busy machine (no skew, LAN-fast links), as the end-to-end suite runs
/// them on two cores (load averages of 7 to 19): every page's event loop is held 5 to 30 ms
/// at a time with 0.5 to 3 ms free between, so nearly every message waits before its arrival
/// is stamped, as the pongs did in Chromium on such a host (round trips of 18 to 55 ms
/// between pages on one machine, docs/measurements/slow.md). From
/// [`GUEST_SLOW_FROM_S`] to [`GUEST_SLOW_UNTIL_S`] a guest's page (slot 2, not the reference)
/// is a slow device as in [`slow_reference`]: no CPU 35 ms of every 50.
///
/// A page that handles a pong late stamps its arrival late, and that exchange puts the peer's
/// clock behind by half the wait; the room time each viewer reckons (`Outcome::room`) shows
/// how well its clock estimate sees through that. (In Chromium the slow guest's estimate of
/// the reference's clock slid 10 ms while it was slow, docs/measurements/slow.md.)
pub fn busy_host_slow_guest(seed: u64, duration_s: f64) -> Scenario {
    let mut sc = three_on_one_machine("busy-host-slow-guest", seed, duration_s);
    let mut rng = Rng::new(seed ^ 0xb05e);
    for slot in 0..3 {
        let mut at = rng.range(0.0, 0.1);
        while at < duration_s {
            let for_s = rng.range(0.005, 0.030);
            sc.script.push((at, Action::Starve { slot, for_s }));
            at += for_s + rng.range(0.0005, 0.003);
        }
    }
    sc.script
        .extend(slow_page(2, GUEST_SLOW_FROM_S, GUEST_SLOW_UNTIL_S));
    sc.script.sort_by(|a, b| a.0.total_cmp(&b.0));
    sc
}
