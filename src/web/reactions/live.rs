//! The reactions themselves, part of the programme's download (see [`super`] and
//! `web::programme`): the pure state (`crate::reactions`), the messages decoded and encoded,
//! the bar's buttons and keys 1 to 6, and the overlay: one element per reaction shown,
//! floating up over the film (or fading, for those who ask for less motion) and removed when
//! its animation ends.

use super::{Incoming, ReactionsEngine, BAR_ID};
use crate::reactions::{LiveReaction, Reaction, ReactionKind, Reactions, TrackMessage};
use crate::room::wire::PeerMessage;
use crate::signaling::payload::SessionId;
use crate::sync::MediaTime;
use crate::web::dom::by_id;
use crate::web::event_listener::Listener;
use crate::web::keyboard::focused;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Most reactions floating at once; a burst beyond it replaces the oldest still in the air.
const MAX_VISIBLE: u32 = 40;

/// Builds the running reactions (`web::programme` calls this as its download starts): finds
/// the overlay, and listens to the bar's buttons and to keys 1 to 6; our reactions go to
/// `send`.
pub(crate) fn start(
    me: SessionId,
    send: impl Fn(&PeerMessage) + 'static,
) -> Rc<dyn ReactionsEngine> {
    let overlay: Option<web_sys::HtmlElement> = by_id("reaction-layer");
    let switch = by_id("show-reactions");
    // One listener for every reaction: each is removed once its animation has run.
    let on_end = Closure::<dyn Fn(web_sys::Event)>::new(|event: web_sys::Event| {
        if let Some(element) = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        {
            element.remove();
        }
    });
    if let Some(overlay) = &overlay {
        let _ = overlay
            .add_event_listener_with_callback("animationend", on_end.as_ref().unchecked_ref());
    }
    let live = Rc::new(Live {
        reactions: RefCell::new(Reactions::new(me)),
        overlay,
        switch,
        malformed: Cell::new(0),
        send: Box::new(send),
        _on_end: on_end,
        listeners: RefCell::new(Vec::new()),
    });
    // The listeners hold the reactions weakly: they live as long as the reactions do.
    let (clicks, keys) = (Rc::downgrade(&live), Rc::downgrade(&live));
    let on_click = move |ev: web_sys::Event| {
        let button = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.closest("button").ok().flatten());
        if let Some(kind) = button.and_then(|b| ReactionKind::from_key(&b.get_attribute("value")?))
        {
            press(&clicks, kind);
        }
    };
    let on_key = move |ev: web_sys::Event| {
        if let Some(kind) = reaction_key(&ev) {
            press(&keys, kind);
        }
    };
    let listeners = [
        by_id::<web_sys::Element>(BAR_ID)
            .and_then(|bar| Listener::new(&bar, "click", on_click).ok()),
        web_sys::window().and_then(|w| Listener::new(&w, "keydown", on_key).ok()),
    ];
    *live.listeners.borrow_mut() = listeners.into_iter().flatten().collect();
    live
}

/// The reaction keys 1 to 6 send, except while typing (text fields keep their digits).
fn reaction_key(ev: &web_sys::Event) -> Option<ReactionKind> {
    let ev = ev.dyn_ref::<web_sys::KeyboardEvent>()?;
    if ev.default_prevented() || ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.repeat() {
        return None;
    }
    let kind = ReactionKind::from_key(&ev.key())?;
    (!focused(ev).is_some_and(|f| f.typing())).then_some(kind)
}

/// The person pressed a reaction's button or key: shown here and sent to everyone, anchored
/// to the frame they see (nothing before the video's first frame: nothing to anchor it to).
fn press(live: &Weak<Live>, kind: ReactionKind) {
    let Some(live) = live.upgrade() else { return };
    let sent = {
        let mut reactions = live.reactions.borrow_mut();
        let Some(at) = reactions.frame() else { return };
        reactions.react(crate::web::local_now(), kind, at).ok()
    };
    if let Some((video, reaction)) = sent {
        live.show(&reaction, Some(reaction.at));
        (live.send)(&PeerMessage::React(
            LiveReaction { video, reaction }.encode(),
        ));
    }
}

struct Live {
    reactions: RefCell<Reactions>,
    /// The layer over the film and the "Show reactions" switch (both in the first load's
    /// view, which lives as long as the party).
    overlay: Option<web_sys::HtmlElement>,
    switch: Option<web_sys::HtmlInputElement>,
    /// Messages that did not decode.
    malformed: Cell<u64>,
    /// Where our reactions go (the party's broadcast).
    send: Box<dyn Fn(&PeerMessage)>,
    _on_end: Closure<dyn Fn(web_sys::Event)>,
    /// The bar's clicks and the page's keys.
    listeners: RefCell<Vec<Listener>>,
}

impl Live {
    /// Floats `reaction` over the film, shown at the frame of media time `shown_at`. The
    /// element records both (`data-at-us`, `data-shown-at-us`, in microseconds), which the
    /// end-to-end tests read.
    fn show(&self, reaction: &Reaction, shown_at: Option<MediaTime>) {
        let Some(overlay) = &self.overlay else {
            return;
        };
        if self.switch.as_ref().is_some_and(|s| !s.checked()) {
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

    fn receive(&self, from: SessionId, incoming: Incoming) {
        let shown = {
            let mut reactions = self.reactions.borrow_mut();
            match incoming {
                Incoming::Live(bytes) => match LiveReaction::decode(&bytes) {
                    Some(live) => reactions
                        .receive(from, live.video, live.reaction)
                        .map(|r| (r, reactions.frame())),
                    None => {
                        self.malformed.set(self.malformed.get() + 1);
                        None
                    }
                },
                Incoming::Track(bytes) => {
                    match TrackMessage::decode(&bytes) {
                        Some(track) => reactions.receive_track(from, track.video, &track.reactions),
                        None => self.malformed.set(self.malformed.get() + 1),
                    }
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
        Some(PeerMessage::ReactionTrack(
            TrackMessage { video, reactions }.encode(),
        ))
    }

    fn refused(&self) -> u64 {
        self.reactions.borrow().stats().refused + self.malformed.get()
    }
}
