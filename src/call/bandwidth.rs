//! What our camera and microphone send to each peer of the mesh.
//!
//! In a mesh every camera is encoded and sent once per receiver, so the uplink, not the
//! downlink, is what runs out first: an ordinary uplink is shared among the receivers, and no
//! receiver gets more lines than the largest tile it shows. Past [`MAX_CAMERAS`] cameras a mesh
//! stops being watchable, so later cameras join audio-only; a bigger room needs a media server
//! (an SFU) that receives each camera once and forwards it.

use super::tiles::MIN_TILE_PX;

/// Cameras a mesh carries: with six, each sender splits [`UPLINK_VIDEO_BPS`] five ways, about
/// 500 kbit/s each, the least that keeps a face in a tile sharp.
pub const MAX_CAMERAS: usize = 6;
/// Video a sender may put on an ordinary home uplink (often 5–10 Mbit/s, shared with the rest
/// of the house and the film's sync, which must keep its priority).
pub const UPLINK_VIDEO_BPS: u32 = 2_500_000;
/// Most video one receiver gets: enough for a tile-sized face at 30 fps; more is wasted.
pub const MAX_PEER_VIDEO_BPS: u32 = 1_200_000;
/// Least video one receiver gets: below it a face is mush, and audio-only serves better.
pub const MIN_PEER_VIDEO_BPS: u32 = 150_000;
/// Under this share a sender halves its frame rate: fewer, sharper frames of a face read better
/// than many blurred ones.
const LOW_VIDEO_BPS: u32 = 600_000;
const FULL_FRAMERATE: f64 = 30.0;
const REDUCED_FRAMERATE: f64 = 15.0;
/// Lines sent per CSS pixel of tile height: room for a device pixel ratio of 2.
const DEVICE_PIXEL_HEADROOM: u32 = 2;
/// Opus speech is clear at 24–32 kbit/s; a little more for music and laughter in the room.
pub const AUDIO_MAX_BITRATE_BPS: u32 = 40_000;

/// Whether a camera may be turned on while `cameras_on_besides_me` others are.
pub fn camera_allowed(cameras_on_besides_me: usize) -> bool {
    cameras_on_besides_me < MAX_CAMERAS
}

/// One `RTCRtpEncodingParameters` of a camera sender.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SendEncoding {
    pub max_bitrate_bps: u32,
    /// At least 1.0 (the browser refuses less).
    pub scale_resolution_down_by: f64,
    pub max_framerate: f64,
}

/// Video sent to each receiver while our camera goes to `receivers` peers.
fn peer_video_bps(receivers: usize) -> u32 {
    let share = UPLINK_VIDEO_BPS as usize / receivers.max(1);
    share.clamp(MIN_PEER_VIDEO_BPS as usize, MAX_PEER_VIDEO_BPS as usize) as u32
}

/// The encoding of our camera toward each of `receivers` peers. `tile_height_px` is the tallest
/// tile (CSS pixels) our camera is shown in by any receiver, when known; `capture_height_px` is
/// the height the camera captures.
pub fn camera_encoding(
    receivers: usize,
    tile_height_px: Option<u32>,
    capture_height_px: u32,
) -> SendEncoding {
    let max_bitrate_bps = peer_video_bps(receivers);
    let scale_resolution_down_by = match tile_height_px {
        Some(tile) if capture_height_px > 0 => {
            let lines = tile.max(MIN_TILE_PX).saturating_mul(DEVICE_PIXEL_HEADROOM);
            (f64::from(capture_height_px) / f64::from(lines)).max(1.0)
        }
        _ => 1.0,
    };
    let max_framerate = if max_bitrate_bps < LOW_VIDEO_BPS {
        REDUCED_FRAMERATE
    } else {
        FULL_FRAMERATE
    };
    SendEncoding {
        max_bitrate_bps,
        scale_resolution_down_by,
        max_framerate,
    }
}

/// The most one person sends, in kbit/s, to `receivers` peers (audio, and video if
/// `camera_on`): how far the mesh goes on one uplink.
pub fn mesh_uplink_kbps(receivers: usize, camera_on: bool) -> u64 {
    let video = if camera_on {
        peer_video_bps(receivers)
    } else {
        0
    };
    let per_peer = u64::from(AUDIO_MAX_BITRATE_BPS + video);
    (receivers as u64).saturating_mul(per_peer) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uplink_is_shared_among_receivers() {
        let sent = |receivers| camera_encoding(receivers, None, 720);
        let expected = |bps, fps| SendEncoding {
            max_bitrate_bps: bps,
            scale_resolution_down_by: 1.0,
            max_framerate: fps,
        };
        assert_eq!(sent(2), expected(MAX_PEER_VIDEO_BPS, 30.0));
        assert_eq!(sent(MAX_CAMERAS - 1), expected(500_000, 15.0));
        assert_eq!(sent(50), expected(MIN_PEER_VIDEO_BPS, 15.0));
        assert_eq!(sent(0), sent(1));
        for receivers in 1..MAX_CAMERAS {
            let total = sent(receivers).max_bitrate_bps as usize * receivers;
            assert!(total <= UPLINK_VIDEO_BPS as usize, "{receivers}");
        }
        let uplinks = [(5, true), (5, false), (0, true)].map(|(r, c)| mesh_uplink_kbps(r, c));
        assert_eq!(uplinks, [2_700, 200, 0]);
        let allowed = [0, MAX_CAMERAS - 1, MAX_CAMERAS].map(camera_allowed);
        assert_eq!(allowed, [true, true, false], "beyond the mesh, audio only");
    }

    #[test]
    fn no_more_lines_than_the_largest_tile_shows() {
        let scale = |tile, capture| camera_encoding(2, tile, capture).scale_resolution_down_by;
        assert_eq!(scale(Some(180), 720), 2.0);
        assert_eq!(scale(Some(90), 720), 4.0);
        assert_eq!(scale(Some(0), 720), 720.0 / f64::from(2 * MIN_TILE_PX));
        assert_eq!(scale(Some(400), 720), 1.0, "never scaled up");
        assert_eq!(scale(Some(u32::MAX), 720), 1.0);
        assert_eq!(scale(Some(180), 0), 1.0);
        assert_eq!(scale(None, 1080), 1.0);
    }
}
