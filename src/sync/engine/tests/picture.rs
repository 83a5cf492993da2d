//! What a viewer is told of its own offset: the picture's, even where the media clock the
//! engine steers by reads on time (issue 19).

use crate::sync::test_harness::Mini;
use crate::sync::{Input, Intent, Span};

/// A 60 fps film on a 60 Hz display, its clock read at every frame exactly on the timeline, its
/// picture `lag_frames` behind that clock (a renderer holding a cadence, a decoder that
/// lags). After 6 s of playing: (the error the engine steers by, the picture's error), in ms.
fn errors_with_picture_behind(lag_frames: i64) -> (Option<f64>, Option<f64>) {
    let step_us: f64 = 1e6 / 60.0;
    let mut m = super::one_viewer_playing(step_us);
    // A refresh as each frame begins on the timeline (within the millisecond steps), so the
    // timeline sits on the frame grid and only the lag is off it.
    super::show_frames(&mut m, step_us, lag_frames, 8_000);
    let now = m.local(0);
    let ms = |s: Option<Span>| s.map(|s| s.as_millis_f64());
    (
        ms(m.engine(0).playback_error()),
        ms(m.engine(0).picture_error(now)),
    )
}

#[test]
fn a_picture_on_its_clock_reads_on_time() {
    let (clock, picture) = errors_with_picture_behind(0);
    assert!(clock.is_some_and(|e| e.abs() < 2.0), "clock {clock:?}");
    assert!(
        picture.is_some_and(|e| e.abs() < 2.0),
        "picture {picture:?}"
    );
}

#[test]
fn a_picture_a_frame_behind_its_clock_reads_a_frame_behind() {
    let (clock, picture) = errors_with_picture_behind(1);
    // The clock is on time, and what the engine steers by says so...
    assert!(clock.is_some_and(|e| e.abs() < 2.0), "clock {clock:?}");
    // ...but the picture is a frame behind, and that is what the viewer is shown.
    assert!(
        picture.is_some_and(|e| (e + 16.7).abs() < 2.0),
        "picture {picture:?}"
    );
}

#[test]
fn no_frames_no_picture_error() {
    let mut m = Mini::new(1);
    m.run_for(1_000_000);
    m.load(0);
    m.input(0, Input::Intent(Intent::Play));
    m.run_for(2_000_000);
    assert_eq!(m.engine(0).picture_error(m.local(0)), None);
}
