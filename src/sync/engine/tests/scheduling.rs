//! How changes are scheduled: loading before room time is known, starts on the initiator's
//! frame grid, seeks planned with the margins peers measured.

use crate::sync::test_harness::Mini;
use crate::sync::{
    FrameGrid, Input, Intent, LocalTime, MediaTime, Observation, PlayerCommand, Span,
};

#[test]
fn a_newcomer_loads_the_media_before_it_knows_the_room_time() {
    let mut m = Mini::new(2);
    // Peer 0 founds the room at once: peer 1 hears the state before it has the clock
    // samples (4, one per 100 ms) that room time needs.
    m.load(0);
    m.run_for(30_000);
    assert!(m.engine(1).room_time(m.local(1)).is_none());
    assert_eq!(
        m.commands[1],
        vec![PlayerCommand::Load {
            media_id: "film".into()
        }],
        "only the load: placing the player needs room time"
    );
    m.run_for(1_000_000);
    assert!(m.engine(1).room_time(m.local(1)).is_some());
    let loads = m.commands[1]
        .iter()
        .filter(|c| matches!(c, PlayerCommand::Load { .. }))
        .count();
    assert_eq!(loads, 1, "loaded once: {:?}", m.commands[1]);
}

/// Peer 1 pauses, seeks and plays to each position; each start as (local instant, media
/// position). `grid`: what its player reported.
fn starts_with_grid(grid: Option<FrameGrid>, seeks: &[i64]) -> Vec<(LocalTime, MediaTime)> {
    let mut m = Mini::new(2);
    m.run_for(1_000_000);
    m.load(0);
    m.run_for(500_000);
    if let Some(grid) = grid {
        m.input(1, Input::FrameGrid(grid));
    }
    let mut starts = Vec::new();
    for &seek_to in seeks {
        m.input(1, Input::Intent(Intent::Pause));
        m.run_for(300_000);
        m.input(1, Input::Intent(Intent::Seek(MediaTime(seek_to))));
        m.input(1, Input::Intent(Intent::Play));
        m.run_for(300_000);
        let v = m.engine(1).playback().unwrap().playback.clone();
        let map = m.engine(1).room_map(m.local(1)).unwrap();
        starts.push((map.to_local(v.anchor_room), v.anchor_media));
    }
    starts
}

#[test]
fn a_start_lands_on_the_initiators_frame_grid() {
    let refresh_us = 1e6 / 60.0;
    let seeks = [0, 12_345_678, 600_003_001];
    // A refresh at an arbitrary instant of peer 1's clock (`Mini` starts it at -2081 s).
    let vsync = LocalTime(-2_081_000_000 + 123_456);
    let grid = FrameGrid {
        vsync,
        refresh_us,
        frame: MediaTime(0),
        frame_us: refresh_us,
    };
    let off = |x: f64| (x / refresh_us - (x / refresh_us).round()).abs() * refresh_us;
    for (start, from) in starts_with_grid(Some(grid), &seeks) {
        // The microsecond rounding of the room map may leave a microsecond or two.
        assert!(
            off((start - vsync).0 as f64) <= 2.0,
            "start {start:?} off the refreshes"
        );
        assert!(off(from.0 as f64) <= 1.0, "from {from:?} off the frames");
    }
    // A peer whose player reported no grid schedules as before: starts fall anywhere.
    let plain = starts_with_grid(None, &seeks);
    assert!(
        plain
            .iter()
            .any(|(start, _)| off((*start - vsync).0 as f64) > 100.0),
        "{plain:?}"
    );
}

/// Peer 0 loads and plays; peer 1's player reports it is ready and joins the playing room
/// by a seek, whose frame (one that begins 9.5 ms before the target) it shows `measured`
/// after asking, or never for `None`; then peer 0 seeks. How far ahead peer 0 schedules
/// that seek's start.
fn seek_lead(measured: Option<Span>) -> Span {
    let (mut m, to) = super::second_viewer_catching_up();
    if let Some(took) = measured {
        m.run_for(took.0);
        // As Chromium shows it: the frame the target falls in, which begins before it.
        let landed = Observation {
            media_time: to - Span::from_micros(9_500),
            presented_at: m.local(1),
        };
        m.input(1, Input::Observation(landed));
    }
    // Hellos carry it (every 2 s on the unreliable channel).
    m.run_for(3_000_000);
    m.input(
        0,
        Input::Intent(Intent::Seek(MediaTime::from_secs_f64(30.0))),
    );
    let v = m.engine(0).playback().unwrap().playback.clone();
    let map = m.engine(0).room_map(m.local(0)).unwrap();
    map.to_local(v.anchor_room) - m.local(0)
}

#[test]
fn a_seek_is_planned_with_what_a_peer_measured_seeks_take() {
    // Neither measured a seek: both plan with the guess, whose margin is 0.52 s.
    let guessed = seek_lead(None);
    // Peer 1's seek took 200 ms: the margin is 370 ms (its mean, three deviations of a
    // quarter of it, and 20 ms), for peer 0 too, which never measured one.
    let told = seek_lead(Some(Span::from_millis(200)));
    let saved = guessed - told;
    assert!(
        (Span::from_millis(140)..=Span::from_millis(160)).contains(&saved),
        "guessed {guessed:?}, told {told:?}"
    );
    assert!(told >= Span::from_millis(370), "told {told:?}");
    // A quick one (60 ms) is not trusted below the floor: one seek says little of the next.
    let quick = seek_lead(Some(Span::from_millis(60)));
    let saved = guessed - quick;
    assert!(
        (Span::from_millis(260)..=Span::from_millis(280)).contains(&saved),
        "guessed {guessed:?}, quick {quick:?}"
    );
    assert!(quick >= Span::from_millis(250), "quick {quick:?}");
}
