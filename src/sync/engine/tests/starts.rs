//! A start on a page whose `play()` takes far longer than the guessed start lead (a saturated
//! page, issue 19): it lands tens of milliseconds late, and is started again once with the lead
//! it just taught the player, rather than corrected over seconds at ±5 %.

use crate::sync::browser_kind::BrowserKind;
use crate::sync::start_lead::{AtCall, PendingStart, StartProgress};
use crate::sync::test_harness::Mini;
use crate::sync::{
    ClockReading, Config, Input, Intent, LocalTime, MediaTime, Observation, PlayerCommand, Span,
    StartLead,
};

/// A 60 fps film on a 60 Hz display.
const STEP_US: i64 = 16_667;
/// A seek nearby lands this long after it is asked for.
const SEEK_US: i64 = 30_000;

/// A player as the browser glue and a Chromium `<video>` show it to the engine: `play()` is
/// called early by the lead learned from its own starts ([`StartLead`], as the glue does) and
/// the media moves `play_latency` after each call (the i-th start's, the last one for the
/// rest); a seek lands [`SEEK_US`] later; while moving, every refresh reads the clock and shows
/// the frame it falls in; while paused, the position is reported every 250 ms.
struct SlowPlayer {
    play_latency: Vec<Span>,
    lead: StartLead,
    position: f64,
    rate: f64,
    moving_from: Option<LocalTime>,
    /// A `PlayAt` whose `play()` is not called yet: (asked for, call at).
    to_call: Option<(LocalTime, LocalTime)>,
    start: Option<PendingStart>,
    seek_lands: Option<LocalTime>,
    calls: usize,
    seen: usize,
    /// When the media first moved after each `play()`.
    moved_at: Vec<LocalTime>,
}

impl SlowPlayer {
    fn new(play_latency: &[i64]) -> SlowPlayer {
        SlowPlayer {
            play_latency: play_latency
                .iter()
                .map(|&ms| Span::from_millis(ms))
                .collect(),
            lead: StartLead::new(),
            position: 0.0,
            rate: 1.0,
            moving_from: None,
            to_call: None,
            start: None,
            seek_lands: None,
            calls: 0,
            seen: 0,
            moved_at: Vec::new(),
        }
    }

    /// Runs `us` of engine time; the clock's error from the timeline (µs, positive ahead) at
    /// each millisecond it plays.
    fn run(&mut self, m: &mut Mini, us: i64) -> Vec<(LocalTime, f64)> {
        let mut errors = Vec::new();
        for _ in 0..us / 1_000 {
            m.run_for(1_000);
            let now = m.local(0);
            self.call_play(now);
            let moving = self.moving_from.is_some_and(|t| now >= t);
            if moving {
                self.position += 1_000.0 * self.rate;
            }
            let refresh = now.0.rem_euclid(STEP_US) < 1_000;
            if self.seek_lands.is_some_and(|t| now >= t) {
                self.seek_lands = None;
                m.input(0, Input::Observation(self.shown(now)));
            } else if moving && refresh {
                let reading = ClockReading {
                    media_time: MediaTime(self.position.round() as i64),
                    read_at: now,
                };
                m.input(0, Input::MediaClock(reading));
                let frame = self.shown(now);
                self.check_started(frame);
                m.input(0, Input::Observation(frame));
            } else if !moving && now.0.rem_euclid(250_000) < 1_000 {
                m.input(0, Input::Observation(self.shown(now)));
            }
            self.obey(m, now);
            if moving {
                if let Some(on_time) = m.engine(0).expected_position(now) {
                    errors.push((now, self.position - on_time.0 as f64));
                }
            }
        }
        errors
    }

    /// The frame the clock falls in, shown at `now`.
    fn shown(&self, now: LocalTime) -> Observation {
        let frame = (self.position / STEP_US as f64).floor() as i64 * STEP_US;
        Observation {
            media_time: MediaTime(frame),
            presented_at: now,
        }
    }

    fn call_play(&mut self, now: LocalTime) {
        let Some((asked, call_at)) = self.to_call else {
            return;
        };
        if now < call_at || self.seek_lands.is_some() {
            return;
        }
        self.to_call = None;
        let latency = self.play_latency[self.calls.min(self.play_latency.len() - 1)];
        self.calls += 1;
        self.moving_from = Some(now + latency);
        self.moved_at.push(now + latency);
        let at_call = AtCall {
            paused: true,
            seeking: false,
            ready_to_play: true,
        };
        let from = MediaTime(self.position.round() as i64);
        self.start = Some(PendingStart::new(asked, now, from, self.rate, at_call));
    }

    fn check_started(&mut self, frame: Observation) {
        let Some(start) = self.start else { return };
        match start.on_frame(frame.media_time, frame.presented_at, true) {
            StartProgress::Pending => {}
            StartProgress::Lost => self.start = None,
            StartProgress::Started(at) => {
                self.lead.learn_start(&start, at, true);
                self.start = None;
            }
        }
    }

    fn obey(&mut self, m: &Mini, now: LocalTime) {
        let commands = m.commands[0][self.seen..].to_vec();
        self.seen = m.commands[0].len();
        for command in commands {
            match command {
                PlayerCommand::SeekTo(to) => {
                    self.position = to.0 as f64;
                    self.seek_lands = Some(now + Span::from_micros(SEEK_US));
                }
                PlayerCommand::SetRate(rate) => self.rate = rate,
                PlayerCommand::PlayAt(at) => self.to_call = Some((at, self.lead.call_at(at))),
                PlayerCommand::Pause => {
                    self.moving_from = None;
                    self.to_call = None;
                    self.start = None;
                }
                PlayerCommand::Load { .. } => {}
            }
        }
    }
}

/// One viewer with the film loaded and shown paused at its start, on a 60 Hz display.
fn loaded_viewer(config: Config) -> Mini {
    let mut m = Mini::with_config(1, config);
    m.run_for(1_000_000);
    m.input(0, Input::PresentationStep(Span::from_micros(STEP_US)));
    m.load(0);
    let ready = Observation {
        media_time: MediaTime(0),
        presented_at: m.local(0),
    };
    m.input(0, Input::Observation(ready));
    m
}

/// What pressing Play did over `for_us`, on a page whose `play()` takes `play_latency` ms (the
/// i-th start's).
struct Pressed {
    m: Mini,
    player: SlowPlayer,
    errors: Vec<(LocalTime, f64)>,
    play_ats: usize,
}

fn press_play(play_latency: &[i64], for_us: i64) -> Pressed {
    press_play_with(Config::default(), play_latency, for_us)
}

/// [`press_play`] with an engine made with `config`.
fn press_play_with(config: Config, play_latency: &[i64], for_us: i64) -> Pressed {
    let mut m = loaded_viewer(config);
    let mut player = SlowPlayer::new(play_latency);
    player.seen = m.commands[0].len();
    m.input(0, Input::Intent(Intent::Play));
    let from = m.commands[0].len();
    let errors = player.run(&mut m, for_us);
    let play_ats = m.commands[0][from..]
        .iter()
        .filter(|c| matches!(c, PlayerCommand::PlayAt(_)))
        .count()
        + usize::from(matches!(
            m.commands[0].get(from - 1),
            Some(PlayerCommand::PlayAt(_))
        ));
    Pressed {
        m,
        player,
        errors,
        play_ats,
    }
}

/// The first instant from which the clock stays within `within_us` of the timeline to the end.
fn on_time_from(errors: &[(LocalTime, f64)], within_us: f64) -> Option<LocalTime> {
    let last_off = errors.iter().rposition(|(_, e)| e.abs() > within_us);
    match last_off {
        None => errors.first().map(|(t, _)| *t),
        Some(i) => errors.get(i + 1).map(|(t, _)| *t),
    }
}

/// Within a frame of the 60 fps film. (This player shows the frame its clock falls in, up to a
/// frame behind the clock, and the engine's picture steering keeps that clock a few
/// milliseconds behind the timeline: it rests 1–10 ms behind, not within half a frame.)
const ON_FRAME_US: f64 = STEP_US as f64;

#[test]
fn a_start_that_lands_far_late_is_started_again_once_with_the_lead_it_taught() {
    // `play()` takes 150 ms against the 80 ms guess: the start lands 70 ms late.
    let p = press_play(&[150], 6_000_000);
    let first_move = p.player.moved_at[0];
    let first_error = p.errors[0].1;
    assert!(
        (-75_000.0..=-55_000.0).contains(&first_error),
        "lands about 70 ms late: {first_error:.0} µs"
    );
    assert_eq!(p.m.engine(0).stats().controller.start_restarts, 1);
    assert_eq!(p.play_ats, 2, "{:?}", p.m.commands[0]);
    // Learned from the frames it showed, each of which began up to a frame before the clock.
    let lead = p.player.lead.lead();
    assert!(
        (Span::from_millis(150)..=Span::from_micros(150_000 + STEP_US)).contains(&lead),
        "{lead:?}"
    );
    let on_time = on_time_from(&p.errors, ON_FRAME_US).expect("on the frame by the end");
    let took = (on_time - first_move).as_millis_f64();
    eprintln!("70 ms late: on the frame {took:.0} ms after it first moved, restarted");
    assert!(
        took <= 1_000.0,
        "on the frame {took:.0} ms after it first moved"
    );
}

#[test]
fn a_start_the_rate_removes_within_a_second_is_not_started_again() {
    // 100 ms against the 80 ms guess: 20 ms late, corrected by the rate (40 ms with the jump
    // leaving the normal rate costs a Chromium clock: 0.8 s at 5 %).
    let p = press_play(&[100], 6_000_000);
    assert_eq!(p.m.engine(0).stats().controller.start_restarts, 0);
    assert_eq!(p.play_ats, 1, "{:?}", p.m.commands[0]);
    let on_time = on_time_from(&p.errors, ON_FRAME_US).expect("on the frame by the end");
    let took = (on_time - p.player.moved_at[0]).as_millis_f64();
    eprintln!("20 ms late: on the frame {took:.0} ms after it first moved, by the rate");
    assert!(took > 0.0, "it did land off");
}

#[test]
fn a_page_whose_start_lead_keeps_changing_is_started_again_only_once() {
    // Every `play()` takes 70 ms longer than the last: each start lands 70 ms late, whatever
    // the lead learned. One restart, then the rate.
    let p = press_play(&[150, 220, 290, 360], 10_000_000);
    assert_eq!(p.m.engine(0).stats().controller.start_restarts, 1);
    assert_eq!(p.play_ats, 2, "{:?}", p.m.commands[0]);
    let restart_error = p
        .errors
        .iter()
        .find(|(t, _)| *t >= p.player.moved_at[1])
        .map(|(_, e)| *e);
    assert!(
        restart_error.is_some_and(|e| e < -55_000.0),
        "the restart landed late too: {restart_error:?}"
    );
    let on_time = on_time_from(&p.errors, ON_FRAME_US);
    assert!(on_time.is_some(), "the rate brings it on the frame");
}

#[test]
fn a_start_the_rate_needs_over_a_second_for_with_the_clocks_jump_is_started_again() {
    // 135 ms against the 80 ms guess, the start aimed 10 ms ahead (half the jump it guesses):
    // 45 ms late, which 5 % alone removes in 0.9 s, but a Chromium clock is first set back
    // about 20 ms by leaving the normal rate (no correction measured it yet, so the glue's
    // guess for the browser counts): 1.3 s. As a page busy 45 ms of every 50 landed in
    // Chromium.
    let mut chromium = Config::default();
    chromium.controller.entry_jump_guess = BrowserKind::Other.entry_jump_guess();
    let p = press_play_with(chromium, &[135], 6_000_000);
    assert_eq!(p.m.engine(0).stats().controller.start_restarts, 1);
    assert_eq!(p.play_ats, 2, "{:?}", p.m.commands[0]);
}

#[test]
fn a_restart_that_never_showed_is_retried_but_not_started_again_a_second_time() {
    // The first start lands 70 ms late and is started again; that restart's `play()` never
    // moves the media before the start times out, so it is retried; the retry lands 150 ms
    // late. It is still the one restart: the rate corrects it.
    let p = press_play(&[150, 5_000, 300], 10_000_000);
    let stats = p.m.engine(0).stats().controller;
    assert!(
        stats.start_retries >= 1,
        "the restart was retried: {stats:?}"
    );
    assert_eq!(stats.start_restarts, 1, "{:?}", p.m.commands[0]);
}
