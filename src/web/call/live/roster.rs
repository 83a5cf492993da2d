//! Who is in the call and what goes to each of them: our presence as the others are told it,
//! our tracks on every open link with each sender's budget, and the tiles we show.

use super::local_media::LocalMedia;
use super::senders::{Kind, LinkSenders};
use super::{CallPhase, LiveCall, Remote, Tile};
use crate::call::{camera_encoding, max_video_tiles, plan_tiles, tile_height_px, TileInput};
use crate::num::Clamp;
use crate::room::wire::{CallPresence, PeerMessage};
use crate::signaling::payload::SessionId;
use crate::web::mesh::Channel;
use web_sys::{MediaStream, MediaStreamTrack};

impl LiveCall {
    /// Puts our current tracks (or none) on every open link, and their budgets.
    pub(super) fn send_local_tracks(&self) {
        let local = self.local();
        self.for_each_link(|senders, pc, fallback| {
            let stream = local.as_ref().map(|l| &l.stream).unwrap_or(fallback);
            let audio = local.as_ref().and_then(|l| l.audio.as_ref());
            let video = local.as_ref().and_then(|l| l.video.as_ref());
            senders.send(pc, Kind::Audio, audio, stream);
            senders.send(pc, Kind::Video, video, stream);
        });
        self.apply_encodings();
        self.publish_presence();
    }

    /// Runs `f` on each open link's senders and connection.
    pub(super) fn for_each_link(
        &self,
        mut f: impl FnMut(&mut LinkSenders, &web_sys::RtcPeerConnection, &MediaStream),
    ) {
        let Some(mesh) = self.inner.borrow().mesh.clone() else {
            return;
        };
        let Ok(empty) = MediaStream::new() else {
            return;
        };
        for session in mesh.open_sessions() {
            let Some(pc) = mesh.peer_connection(session) else {
                continue;
            };
            let mut inner = self.inner.borrow_mut();
            let senders = inner.senders.entry(session).or_default();
            f(senders, &pc, &empty);
        }
    }

    /// Splits our uplink across the links, each scaled to the tiles its receiver shows.
    pub(super) fn apply_encodings(&self) {
        let inner = self.inner.borrow();
        let receivers = inner.senders.len().max(1);
        let capture_height = inner
            .local
            .as_ref()
            .map(LocalMedia::video_height)
            .unwrap_or(240);
        for (session, senders) in &inner.senders {
            let tile_px = inner
                .remotes
                .get(session)
                .map(|r| u32::from(r.presence.tile_px))
                .filter(|px| *px > 0);
            senders.apply_encoding(&camera_encoding(receivers, tile_px, capture_height));
        }
    }

    /// Our presence as it stands.
    pub(super) fn presence(&self) -> CallPresence {
        let tile_px = self.tile_px().min(u32::from(u16::MAX)) as u16;
        let inner = self.inner.borrow();
        let microphone_open = inner
            .local
            .as_ref()
            .and_then(|l| l.audio.as_ref())
            .is_some_and(MediaStreamTrack::enabled);
        CallPresence {
            joined: inner.my.phase == CallPhase::In,
            muted: !microphone_open,
            camera: inner.my.camera,
            tile_px,
        }
    }

    /// How tall our tiles are drawn: they shrink as the call grows.
    pub fn tile_px(&self) -> u32 {
        let inner = self.inner.borrow();
        let tiles = inner.remotes.values().filter(|r| r.presence.joined).count()
            + usize::from(inner.my.phase == CallPhase::In);
        tile_height_px(tiles, strip_px())
    }

    /// Tells everyone our presence if it changed since we last did.
    pub(super) fn publish_presence(&self) {
        let presence = self.presence();
        let changed = {
            let mut inner = self.inner.borrow_mut();
            std::mem::replace(&mut inner.told, presence) != presence
        };
        if changed {
            self.send_presence(None, presence);
        }
    }

    pub(super) fn send_presence(&self, to: Option<SessionId>, presence: CallPresence) {
        let Some(mesh) = self.inner.borrow().mesh.clone() else {
            return;
        };
        let bytes = PeerMessage::Call(presence).encode();
        match to {
            Some(session) => {
                mesh.send(session, Channel::State, &bytes);
            }
            None => mesh.broadcast(Channel::State, &bytes),
        }
    }

    pub(super) fn replan_tiles(&self) {
        let tiles: Vec<Tile> = {
            let inner = self.inner.borrow();
            let joined: Vec<(&SessionId, &Remote)> = inner
                .remotes
                .iter()
                .filter(|(_, r)| r.presence.joined)
                .collect();
            let inputs: Vec<TileInput> = joined
                .iter()
                .map(|(session, remote)| TileInput {
                    session: **session,
                    camera_on: remote.presence.camera,
                    joined_order: remote.joined_order,
                })
                .collect();
            plan_tiles(&inputs, &inner.history, max_video_tiles(strip_px()))
                .into_iter()
                .filter_map(|slot| {
                    let remote = inner.remotes.get(&slot.session)?;
                    Some(Tile {
                        session: slot.session,
                        presence: remote.presence,
                        show_video: slot.show_video,
                    })
                })
                .collect()
        };
        crate::web::set_if_changed(self.set.tiles, tiles);
    }

    pub(super) fn remote_cameras(&self) -> usize {
        let inner = self.inner.borrow();
        inner
            .remotes
            .values()
            .filter(|r| r.presence.joined && r.presence.camera)
            .count()
    }
}

/// How much room the tiles get: on a wide screen they stand in a column along half the
/// window's height (beside the film's controls, never over them); on a phone they float in a
/// row across most of its width.
fn strip_px() -> u32 {
    let window = web_sys::window();
    let size =
        |value: Option<wasm_bindgen::JsValue>| value.and_then(|v| v.as_f64()).unwrap_or(800.0);
    let width = size(window.as_ref().and_then(|w| w.inner_width().ok()));
    let height = size(window.as_ref().and_then(|w| w.inner_height().ok()));
    let strip = if width > PHONE_WIDTH_PX {
        height / 2.0
    } else {
        width * 0.7
    };
    strip.clamp_to(0.0, 10_000.0) as u32
}

/// Below this width the page is laid out for a phone (as `style/stage.css` says).
const PHONE_WIDTH_PX: f64 = 600.0;
