//! The ready check as the party sees it: what it asks of the check itself (`live`:
//! `programme::ready` and the "Ready?" prompt), which is part of the programme's download
//! (`web::programme`, which also keeps the notes that arrive, and the check this page asked
//! for, until that code runs).
//!
//! The check holds no link and no engine: the party gives it room time, the room's state and
//! the people, sends the notes it returns (encoded, as they travel) and issues the start.

pub(crate) mod live;

use crate::room::people::People;
use crate::sync::{PeerId, RoomTime, Versioned};
use std::rc::Rc;

/// What the prompt's buttons do (the party's).
#[derive(Clone)]
pub struct PromptActions {
    pub ready: Rc<dyn Fn()>,
    pub start_anyway: Rc<dyn Fn()>,
    pub ask: Rc<dyn Fn()>,
}

/// The check after the party asked it.
pub struct Checked {
    /// This page starts the film now.
    pub start: bool,
    /// Someone's place in the check changed (the people given were updated).
    pub people_changed: bool,
}

/// A note as it travels.
pub type Note = Vec<u8>;

/// What the party asks of the running check.
pub trait ReadyEngine {
    /// Opens a check for `media`; nothing to send while room time is unknown (`None`: the
    /// load has not founded the timeline, nor has this page met it).
    fn open(&self, now: Option<RoomTime>, media: &str, may_control: bool) -> Option<Note>;
    fn mark_ready(&self) -> Option<Note>;
    fn start_anyway(&self, may_control: bool) -> Option<Note>;
    fn note(&self) -> Option<Note>;
    /// Merges a friend's note; returns what to pass on (a check newly heard of).
    fn merge(
        &self,
        from: PeerId,
        note: &[u8],
        now: Option<RoomTime>,
        may_control: &dyn Fn(PeerId) -> bool,
    ) -> Option<Note>;
    /// Decides whether to start, updates the prompt, and each person's readiness in
    /// `people`. `now` is room time, `None` while unknown; `state` the playback register's.
    fn check(
        &self,
        now: Option<RoomTime>,
        state: Option<&Versioned>,
        people: &mut People,
    ) -> Checked;
    fn refused(&self) -> u64;
    fn mount_prompt(&self, container: web_sys::HtmlElement, actions: PromptActions);
}
