//! A viewer in a background tab (issue 19): its page gets no frame callbacks, yet its sound
//! plays on, and the media clock it can still read on a timer must keep it on the timeline.

use crate::sync::test_harness::Mini;
use crate::sync::{ClockReading, Input, Intent, LocalTime, MediaTime, Observation, PlayerCommand};

/// A 60 fps film on a 60 Hz display.
const STEP_US: f64 = 1e6 / 60.0;

/// What a hidden spell left: the engine, its player's clock error (µs, positive ahead) at each
/// millisecond of the spell, and the player commands given meanwhile.
struct Hidden {
    m: Mini,
    errors: Vec<f64>,
    commands: Vec<PlayerCommand>,
}

/// One viewer playing for 3 s with every frame and its clock on the timeline; then its player
/// stops presenting frames and its media clock runs `drift` (a fraction) fast (and, as in
/// Chromium, ignores rates within 1/960 of the normal one), while the page reads that clock
/// every `read_every_us` (never: `None`) for `hidden_us`.
fn play_then_hide(drift: f64, read_every_us: Option<i64>, hidden_us: i64) -> Hidden {
    let mut m = super::one_viewer_playing(STEP_US);
    super::show_frames(&mut m, STEP_US, 0, 3_000);
    // Hidden: the player goes on from the timeline at the rate last commanded, its clock
    // `drift` fast.
    let now = m.local(0);
    let mut position = m.engine(0).expected_position(now).expect("playing").0 as f64;
    let mut rate = last_rate(&m.commands[0]).unwrap_or(1.0);
    let seen = m.commands[0].len();
    let mut errors = Vec::new();
    let mut next_read = 0;
    let mut elapsed = 0;
    while elapsed < hidden_us {
        m.run_for(1_000);
        elapsed += 1_000;
        position += 1_000.0 * as_chromium_plays(rate) * (1.0 + drift);
        let now = m.local(0);
        if read_every_us.is_some_and(|every| elapsed >= next_read + every) {
            next_read = elapsed;
            let clock = ClockReading {
                media_time: MediaTime(position.round() as i64),
                read_at: now,
            };
            m.input(0, Input::MediaClock(clock));
        }
        if let Some(commanded) = last_rate(&m.commands[0][seen..]) {
            rate = commanded;
        }
        let on_time = m.engine(0).expected_position(now).expect("playing").0 as f64;
        errors.push(position - on_time);
    }
    let commands = m.commands[0][seen..].to_vec();
    Hidden {
        m,
        errors,
        commands,
    }
}

/// The rate a Chromium media clock with sound moves at when `rate` is set: within 1/960 of the
/// normal rate the sound plays through unstretched (`crate::sync::clock_steering`), so only the
/// fast corrections move it.
fn as_chromium_plays(rate: f64) -> f64 {
    if (rate - 1.0).abs() <= 1.0 / 960.0 {
        1.0
    } else {
        rate
    }
}

fn last_rate(commands: &[PlayerCommand]) -> Option<f64> {
    commands.iter().rev().find_map(|c| match c {
        PlayerCommand::SetRate(rate) => Some(*rate),
        _ => None,
    })
}

fn worst_ms(errors: &[f64]) -> f64 {
    errors.iter().fold(0.0_f64, |m, e| m.max(e.abs())) / 1000.0
}

#[test]
fn a_hidden_player_whose_clock_is_read_keeps_its_sound_on_the_timeline() {
    // 1000 ppm fast (a poor sound card) for a minute: 60 ms off if nothing steered it.
    let hidden = play_then_hide(0.001, Some(50_000), 60_000_000);
    let worst = worst_ms(&hidden.errors);
    eprintln!("hidden a minute, 1000 ppm fast: at worst {worst:.1} ms off");
    assert!(worst < 10.0, "{worst:.1} ms off the timeline while hidden");
    assert!(
        hidden
            .commands
            .iter()
            .all(|c| matches!(c, PlayerCommand::SetRate(_))),
        "only the rate steers a hidden player: {:?}",
        hidden.commands
    );
}

#[test]
fn unread_the_same_clock_drifts_past_the_bound() {
    // The control for the test above: the drift is real, and only the readings remove it.
    let hidden = play_then_hide(0.001, None, 60_000_000);
    let last = hidden.errors.last().copied().unwrap_or_default() / 1000.0;
    assert!(last > 50.0, "{last:.1} ms");
}

#[test]
fn a_hidden_player_has_no_picture_error_though_its_clock_steers_it() {
    let mut hidden = play_then_hide(0.001, Some(50_000), 5_000_000);
    let now: LocalTime = hidden.m.local(0);
    assert_eq!(hidden.m.engine(0).picture_error(now), None);
    // Frames come back, on the timeline: the picture is known again, from them alone.
    super::show_frames(&mut hidden.m, STEP_US, 0, 500);
    let now = hidden.m.local(0);
    let picture = hidden.m.engine(0).picture_error(now);
    assert!(
        picture.is_some_and(|e| e.as_millis_f64().abs() < 2.0),
        "picture {picture:?}"
    );
}

#[test]
fn readings_a_second_apart_do_not_steer_a_hidden_player() {
    // Timers of a silent hidden page run once a second: a fast correction (5 %, 50 ms a second)
    // closed on readings that far apart overshoots by more than the drift it corrects (95 ms
    // in a minute where the drift alone is 60 ms), so they are left alone.
    let hidden = play_then_hide(0.001, Some(1_000_000), 60_000_000);
    assert_eq!(hidden.commands, Vec::new());
}

/// A player as a hidden page shows it to the engine: it follows every command at once (a seek
/// lands at once, a `PlayAt` moves from its instant), reads its clock every 50 ms while it
/// moves and, while paused, reports its position every 250 ms; it shows no frame.
struct HiddenPlayer {
    position: f64,
    rate: f64,
    moving_from: Option<LocalTime>,
    seen: usize,
}

impl HiddenPlayer {
    fn run(&mut self, m: &mut Mini, us: i64) -> Vec<f64> {
        let mut errors = Vec::new();
        for step in 0..us / 1_000 {
            m.run_for(1_000);
            let now = m.local(0);
            let moving = self.moving_from.is_some_and(|t| now >= t);
            if moving {
                self.position += 1_000.0 * as_chromium_plays(self.rate);
            }
            if moving && step % 50 == 0 {
                let clock = ClockReading {
                    media_time: MediaTime(self.position.round() as i64),
                    read_at: now,
                };
                m.input(0, Input::MediaClock(clock));
            } else if !moving && step % 250 == 0 {
                let held = Observation {
                    media_time: MediaTime(self.position.round() as i64),
                    presented_at: now,
                };
                m.input(0, Input::Observation(held));
            }
            let commands: Vec<PlayerCommand> = m.commands[0][self.seen..].to_vec();
            self.seen = m.commands[0].len();
            for command in commands {
                match command {
                    PlayerCommand::SeekTo(to) => self.position = to.0 as f64,
                    PlayerCommand::SetRate(rate) => self.rate = rate,
                    PlayerCommand::PlayAt(at) => self.moving_from = Some(at),
                    PlayerCommand::Pause => self.moving_from = None,
                    PlayerCommand::Load { .. } => {}
                }
            }
            if let Some(on_time) = m.engine(0).expected_position(now) {
                errors.push(self.position - on_time.0 as f64);
            }
        }
        errors
    }
}

#[test]
fn a_seek_while_hidden_starts_again_once_without_a_frame() {
    // Someone seeks while our page is hidden: the player pauses, seeks and is started again;
    // the start is seen by the clock, as no frame comes. (It used to be retried every 3 s, a
    // pause and a seek each, and then given up: the player went uncontrolled.)
    let hidden = play_then_hide(0.0, Some(50_000), 1_000_000);
    let mut m = hidden.m;
    let now = m.local(0);
    let mut player = HiddenPlayer {
        position: m.engine(0).expected_position(now).expect("playing").0 as f64,
        rate: last_rate(&m.commands[0]).unwrap_or(1.0),
        moving_from: Some(now),
        seen: m.commands[0].len(),
    };
    let from = m.commands[0].len();
    m.input(0, Input::Intent(Intent::Seek(MediaTime(30_000_000))));
    let errors = player.run(&mut m, 20_000_000);
    let starts = m.commands[0][from..]
        .iter()
        .filter(|c| matches!(c, PlayerCommand::PlayAt(_)))
        .count();
    assert_eq!(starts, 1, "{:?}", &m.commands[0][from..]);
    let late = worst_ms(&errors[2_000..]);
    assert!(late < 10.0, "{late:.1} ms off after the start");
    // And it is still steered: a clock knocked off now is brought back.
    player.rate *= 1.02;
    let errors = player.run(&mut m, 10_000_000);
    let last = errors.last().copied().unwrap_or(f64::MAX) / 1000.0;
    assert!(last.abs() < 10.0, "{last:.1} ms off 10 s after a knock");
}
