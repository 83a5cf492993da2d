//! What the video call decides (pure): who is speaking, how far the film is lowered under the
//! voices, what our camera sends to each peer of the mesh, which tiles show video and how big,
//! and what to tell someone whose camera or microphone could not be used.
//!
//! The browser glue (`web::call`) measures levels with Web Audio, reads `getUserMedia` errors
//! and sets sender parameters; everything that decides something from them lives here and is
//! tested natively.

mod bandwidth;
mod ducking;
mod media_problem;
mod pending;
mod tiles;
mod voice;

pub use bandwidth::{
    camera_allowed, camera_encoding, mesh_uplink_kbps, SendEncoding, AUDIO_MAX_BITRATE_BPS,
    MAX_CAMERAS, MAX_PEER_VIDEO_BPS, MIN_PEER_VIDEO_BPS, UPLINK_VIDEO_BPS,
};
pub use ducking::{db_to_gain, Ducker, ATTACK_MS, DUCK_DB, RELEASE_MS};
pub use media_problem::MediaProblem;
pub use pending::{CallReport, PendingReports, MAX_TRACKS_PER_LINK};
pub use tiles::{
    max_video_tiles, plan_tiles, tile_height_px, SpeakerHistory, TileInput, TileSlot, MAX_TILE_PX,
    MIN_TILE_PX, TILE_GAP_PX,
};
pub use voice::{
    ring_level, rms_dbfs, VoiceActivity, HANGOVER_MS, ONSET_MS, ON_ABOVE_FLOOR_DB, ON_DBFS,
    RELEASE_BELOW_ON_DB, RING_EMPTY_DBFS, RING_FULL_DBFS, SILENCE_DBFS,
};
