//! Ranks as facts: the signaling endpoint's join order ([`Input::Seniority`](super::Input)).
//!
//! Without it a rank is a claim each peer makes in its hellos, and the defences against a
//! false claim (`docs/engine.md`, "What a member cannot do") cost honest rooms: two groups that
//! formed apart each refuse the other's claim and never merge, and a page that acted before its
//! links were handled (a starved CPU) holds its own rank 0 against the room's. The endpoint
//! admits peers one at a time and tells everyone the same order (its `welcome` lists the peers
//! there oldest first, and it announces each join after), so once the glue passes it on, every
//! peer ranks every other alike, claims are ignored, and the reference is simply the oldest
//! peer present that announced a timeline. The endpoint cannot read the room's traffic; what a
//! rogue endpoint could do with the order is in `docs/engine.md`.

use super::{Channel, Engine};
use crate::sync::PeerId;

/// Most peers of an order kept: a room is a few dozen people; the glue's list is local input,
/// bounded anyway so that nothing grows without limit.
const MAX_ORDER: usize = 1024;

impl Engine {
    pub(super) fn on_seniority(&mut self, mut order: Vec<PeerId>) {
        order.truncate(MAX_ORDER);
        if self.seniority.as_ref() == Some(&order) {
            return;
        }
        self.seniority = Some(order);
        self.apply_seniority();
    }

    /// Our rank and every linked peer's, from the order (a peer missing from it is unranked,
    /// after everyone; we, missing, come after everyone in it).
    pub(super) fn apply_seniority(&mut self) {
        let Some(order) = &self.seniority else {
            return;
        };
        let position = |id: PeerId| order.iter().position(|p| *p == id).map(|i| i as u64);
        let mine = Some(position(self.me).unwrap_or(order.len() as u64));
        for (id, p) in self.peers.iter_mut() {
            p.rank = position(*id);
        }
        // Ranks are facts now: nobody founds a timeline or rejoins one as a newcomer.
        self.alone = false;
        if self.rank != mine {
            self.rank = mine;
            self.ranked_at = self.joins;
            self.broadcast_hello(Channel::Reliable);
        }
        self.tell_controller_older_grids();
    }

    /// Whether ranks are the endpoint's facts rather than the peers' claims.
    pub(super) fn ranks_are_facts(&self) -> bool {
        self.seniority.is_some()
    }

    /// A peer older than us is linked: our own clock is not room time, theirs (or the oldest
    /// present's) is, and we wait to learn it before acting on any.
    pub(super) fn older_peer_linked(&self) -> bool {
        let Some(mine) = self.rank else {
            return false;
        };
        self.peers
            .iter()
            .any(|(id, p)| p.rank.is_some_and(|r| (r, *id) < (mine, self.me)))
    }
}
