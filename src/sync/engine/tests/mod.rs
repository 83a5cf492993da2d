//! The engine's tests, by concern, on the shared harness ([`crate::sync::test_harness::Mini`]).

mod hidden;
mod holds;
mod hostile;
mod picture;
mod scheduling;
mod starts;
mod timeline;

use crate::sync::test_harness::Mini;
use crate::sync::{ClockReading, Input, Intent, MediaTime, Observation, Span};

/// Peer 0 loads and plays; two seconds on, peer 1's player reports it is ready and peer 1
/// joins the room, already moving, by a seek of its own (a catch-up): the two, and where that
/// seek goes.
fn second_viewer_catching_up() -> (Mini, MediaTime) {
    let mut m = Mini::new(2);
    m.run_for(1_000_000);
    m.load(0);
    m.input(0, Input::Intent(Intent::Play));
    m.run_for(2_000_000);
    let ready = Observation {
        media_time: MediaTime(0),
        presented_at: m.local(1),
    };
    m.input(1, Input::Observation(ready));
    let seek = m.commands[1].iter().find_map(|c| match c {
        crate::sync::PlayerCommand::SeekTo(to) => Some(*to),
        _ => None,
    });
    (m, seek.expect("peer 1 joins the playing room by a seek"))
}

/// One viewer, its display presenting in steps of `step_us`: the film loaded, shown paused at
/// its start, and played.
fn one_viewer_playing(step_us: f64) -> Mini {
    let mut m = Mini::new(1);
    m.run_for(1_000_000);
    m.input(0, Input::PresentationStep(Span(step_us.round() as i64)));
    m.load(0);
    let ready = Observation {
        media_time: MediaTime(0),
        presented_at: m.local(0),
    };
    m.input(0, Input::Observation(ready));
    m.input(0, Input::Intent(Intent::Play));
    m
}

/// For `ms` milliseconds, each new frame of the timeline (frames `step_us` long, a refresh as
/// each begins): the clock read exactly on the timeline, then the frame shown `lag_frames`
/// behind it.
fn show_frames(m: &mut Mini, step_us: f64, lag_frames: i64, ms: usize) {
    let mut last_frame = None;
    for _ in 0..ms {
        m.run_for(1_000);
        let now = m.local(0);
        let Some(on_time) = m.engine(0).expected_position(now) else {
            continue;
        };
        let frame = (on_time.0 as f64 / step_us).floor() as i64;
        if m.engine(0).expected_speed(now) == Some(0.0) || last_frame == Some(frame) {
            continue;
        }
        last_frame = Some(frame);
        let clock = ClockReading {
            media_time: on_time,
            read_at: now,
        };
        m.input(0, Input::MediaClock(clock));
        let shown = Observation {
            media_time: MediaTime(((frame - lag_frames) as f64 * step_us).round() as i64),
            presented_at: now,
        };
        m.input(0, Input::Observation(shown));
    }
}
