//! When a viewer's stall holds the room, and when it does not.

use crate::sync::Input;

/// Peer 0 plays; peer 1's player, ready, finds the room moving and seeks to catch up with it
/// alone (as a slow viewer fallen behind does); its seek then waits `wait_ms` for data. Whether
/// anyone's state was held for it, and peer 1's holds counted.
fn catch_up_seek_waiting(wait_ms: i64) -> (bool, u64) {
    let (mut m, _) = super::second_viewer_catching_up();
    m.input(1, Input::Buffering(true));
    m.run_for(wait_ms * 1_000);
    let held = (0..2).any(|i| {
        m.engine(i)
            .playback()
            .is_some_and(|v| v.playback.hold.is_some() || !v.playback.playing)
    });
    m.input(1, Input::Buffering(false));
    m.run_for(1_000_000);
    (held, m.engine(1).stats().holds)
}

/// A slow device fell behind and seeked to catch up; on its busy page the seek waited for data
/// past the grace (100 ms), and the room was held where its player froze before the seek, then
/// released a restart's lead later: the others lost about a second (`bench e2e --slow`,
/// `sim/tests/slow_reference.rs`). A catch-up is the late viewer's own: the room goes on.
#[test]
fn a_stall_in_our_own_catch_up_seek_holds_nobody() {
    for wait_ms in [150, 400, 3_000] {
        assert_eq!(
            catch_up_seek_waiting(wait_ms),
            (false, 0),
            "a catch-up seek that waited {wait_ms} ms for data held the room"
        );
    }
}
