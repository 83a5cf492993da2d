//! The reactions themselves, loaded on demand (see [`super`]): the pure state
//! (`crate::reactions`), the messages it sends, and the overlay: one element per reaction
//! shown, floating up over the film (or fading, for those who ask for less motion) and
//! removed when its animation ends.

use super::{Incoming, ReactionsEngine, Seed};
use crate::reactions::{Reaction, Reactions};
use crate::room::wire::PeerMessage;
use crate::signaling::payload::SessionId;
use crate::sync::{LocalTime, MediaTime};
use crate::web::chunk::ChunkUnavailable;
use leptos::prelude::GetUntracked;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Most reactions floating at once; a burst beyond it replaces the oldest still in the air.
const MAX_VISIBLE: u32 = 40;

/// Builds the running reactions: the one way into this part of the download. With
/// `lazy-chunks`, `xtask` moves everything only this reaches into its own file, fetched when
/// this is first called; a failed fetch comes back as [`ChunkUnavailable`].
#[cfg_attr(
    feature = "lazy-chunks",
    leptos::wasm_split::wasm_split(reactions, wasm_split_path = ::leptos::wasm_split, fallible)
)]
pub(super) fn start(seed: Seed) -> Result<Rc<dyn ReactionsEngine>, ChunkUnavailable> {
    // One listener for every reaction: each is removed once its animation has run.
    let on_end = Closure::<dyn Fn(web_sys::Event)>::new(|event: web_sys::Event| {
        if let Some(element) = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        {
            element.remove();
        }
    });
    if let Some(overlay) = &seed.overlay {
        let _ = overlay
            .add_event_listener_with_callback("animationend", on_end.as_ref().unchecked_ref());
    }
    Ok(Rc::new(Live {
        reactions: RefCell::new(Reactions::new(seed.me)),
        seed,
        _on_end: on_end,
    }))
}

struct Live {
    reactions: RefCell<Reactions>,
    seed: Seed,
    _on_end: Closure<dyn Fn(web_sys::Event)>,
}

impl Live {
    /// Floats `reaction` over the film, shown at the frame of media time `shown_at`. The
    /// element records both (`data-at-us`, `data-shown-at-us`, in microseconds), which the
    /// end-to-end tests read.
    fn show(&self, reaction: &Reaction, shown_at: Option<MediaTime>) {
        let Some(overlay) = &self.seed.overlay else {
            return;
        };
        if !self.seed.show.get_untracked() {
            return;
        }
        let Some(document) = overlay.owner_document() else {
            return;
        };
        while overlay.child_element_count() >= MAX_VISIBLE {
            if let Some(oldest) = overlay.first_element_child() {
                oldest.remove();
            }
        }
        let Ok(element) = document.create_element("span") else {
            return;
        };
        let element: web_sys::HtmlElement = element.unchecked_into();
        element.set_class_name("reaction");
        element.set_text_content(Some(reaction.kind.emoji()));
        let _ = element.set_attribute("data-kind", reaction.kind.name());
        let _ = element.set_attribute("data-at-us", &reaction.at.as_micros().to_string());
        if let Some(shown_at) = shown_at {
            let _ = element.set_attribute("data-shown-at-us", &shown_at.as_micros().to_string());
        }
        // Through the CSSOM, not a style attribute, which the content security policy forbids.
        let _ = element.style().set_property("--lane", lane(reaction));
        let _ = overlay.append_child(&element);
    }
}

/// Where across the film a reaction rises: one of ten lanes, from its id, so the same reaction
/// takes the same lane on every page and every pass, and a burst spreads out.
fn lane(reaction: &Reaction) -> &'static str {
    const LANES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    let id = reaction.id;
    let mixed = (id.session ^ u64::from(id.seq).wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_mul(0xbf58_476d_1ce4_e5b9);
    LANES[(mixed >> 60) as usize % LANES.len()]
}

impl ReactionsEngine for Live {
    fn set_video(&self, media: Option<&str>) {
        self.reactions.borrow_mut().set_video(media);
    }

    fn on_frame(&self, at: MediaTime) {
        let due = self.reactions.borrow_mut().on_frame(at);
        for reaction in &due {
            self.show(reaction, Some(at));
        }
    }

    fn react(
        &self,
        now: LocalTime,
        kind: crate::reactions::ReactionKind,
        at: MediaTime,
    ) -> Option<PeerMessage> {
        let (video, reaction) = self.reactions.borrow_mut().react(now, kind, at).ok()?;
        self.show(&reaction, Some(reaction.at));
        Some(PeerMessage::React { video, reaction })
    }

    fn receive(&self, from: SessionId, incoming: Incoming) {
        let shown = {
            let mut reactions = self.reactions.borrow_mut();
            match incoming {
                Incoming::Live(video, reaction) => reactions
                    .receive(from, video, reaction)
                    .map(|r| (r, reactions.frame())),
                Incoming::Track(video, track) => {
                    reactions.receive_track(from, video, &track);
                    None
                }
            }
        };
        if let Some((reaction, frame)) = shown {
            self.show(&reaction, frame);
        }
    }

    fn snapshot(&self) -> Option<PeerMessage> {
        let (video, reactions) = self.reactions.borrow().snapshot()?;
        Some(PeerMessage::ReactionTrack { video, reactions })
    }

    fn refused(&self) -> u64 {
        self.reactions.borrow().stats().refused
    }
}
