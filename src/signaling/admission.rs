//! The order the endpoint admitted the topic's peers in, oldest first: its `welcome` lists the
//! peers already there oldest first, and it announces every later join (`joined`) and
//! departure (`left`) in turn, so every peer keeps the same order (PROTOCOL.md). The sync
//! engine takes it as the room's ranks ([`crate::sync::Input::Seniority`]): facts the room
//! agrees on, where ranks in hellos are only claims.
//!
//! The endpoint knows peers by transport (one per connection); the room knows them by session.
//! A page that reconnects (an endpoint restart, a fresh TURN credential) gets a new transport at
//! the end of the order, so the order is of current transports, mapped to sessions through the
//! routes the mesh learned from their greetings.

use super::payload::SessionId;

/// Most transports tracked: far above any room (the endpoint caps a topic's peers); joins past
/// it stay untracked, so those peers rank after everyone, as the youngest do anyway.
const MAX_TRACKED: usize = 1024;

/// The endpoint's order of admission, of transports, ours included once welcomed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admission {
    order: Vec<String>,
    /// Our own transport, from the latest welcome.
    me: Option<String>,
}

impl Admission {
    /// A welcome (first or after a reconnect): the peers already there, oldest first, then us.
    /// It replaces everything known before: transports of an earlier connection are gone.
    pub fn welcomed(&mut self, me: &str, peers: &[String]) {
        self.order = peers
            .iter()
            .filter(|p| p.as_str() != me)
            .take(MAX_TRACKED - 1)
            .cloned()
            .collect();
        self.order.push(me.to_string());
        self.me = Some(me.to_string());
    }

    /// A peer joined after everyone known.
    pub fn joined(&mut self, transport: &str) {
        if self.order.len() < MAX_TRACKED && !self.order.iter().any(|t| t == transport) {
            self.order.push(transport.to_string());
        }
    }

    pub fn left(&mut self, transport: &str) {
        self.order.retain(|t| t != transport);
    }

    /// The sessions whose transport is known (`routes`: session and its transport), and ours,
    /// oldest first; sessions of unknown transports are left out (they rank last). `None`
    /// before the first welcome: without our own place, no order is known. (A walk of the order
    /// rather than a sort: a sort's code would weigh kilobytes in the first download.)
    pub fn seniority(&self, me: SessionId, routes: &[(SessionId, &str)]) -> Option<Vec<SessionId>> {
        let mine = self.me.as_deref()?;
        let mut sessions = Vec::with_capacity(routes.len() + 1);
        for transport in &self.order {
            if transport == mine {
                sessions.push(me);
            } else if let Some((session, _)) = routes
                .iter()
                .find(|(session, route)| route == transport && *session != me)
            {
                sessions.push(*session);
            }
        }
        Some(sessions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_welcome_then_joins_give_the_endpoints_order() {
        let mut a = Admission::default();
        assert_eq!(
            a.seniority(1, &[(2, "b")]),
            None,
            "nothing before a welcome"
        );
        a.welcomed("c", &strings(&["a", "b"]));
        a.joined("d");
        a.joined("d");
        // Sessions 10 (on "b"), 20 (on "d"), 30 (on "a"), 40 (route unknown); we are 5 on "c".
        let routes = [(10, "b"), (20, "d"), (30, "a"), (40, "x")];
        assert_eq!(a.seniority(5, &routes), Some(vec![30, 10, 5, 20]));
    }

    #[test]
    fn every_peer_computes_the_same_order() {
        // The endpoint admits a, b, c, d in turn; each page sees the welcome of its time and
        // the joins after it.
        let all = ["a", "b", "c", "d"];
        let session = |t: &str| all.iter().position(|x| *x == t).unwrap() as SessionId;
        let routes: Vec<(SessionId, &str)> = all.iter().map(|t| (session(t), *t)).collect();
        for (i, me) in all.iter().enumerate() {
            let mut a = Admission::default();
            a.welcomed(me, &strings(&all[..i]));
            for later in &all[i + 1..] {
                a.joined(later);
            }
            assert_eq!(
                a.seniority(session(me), &routes),
                Some(vec![0, 1, 2, 3]),
                "as {me} sees it"
            );
        }
    }

    #[test]
    fn a_departure_or_a_reconnect_moves_a_peer() {
        let mut a = Admission::default();
        a.welcomed("b", &strings(&["a"]));
        a.joined("c");
        // Session 1 reconnects: its transport "a" leaves, "a2" joins after everyone.
        a.left("a");
        a.joined("a2");
        let routes = [(1, "a2"), (3, "c")];
        assert_eq!(a.seniority(2, &routes), Some(vec![2, 3, 1]));
        // We reconnect: a fresh welcome replaces the order.
        a.welcomed("b2", &strings(&["c", "a2"]));
        assert_eq!(a.seniority(2, &routes), Some(vec![3, 1, 2]));
    }

    #[test]
    fn the_order_stays_bounded() {
        let mut a = Admission::default();
        a.welcomed("me", &[]);
        for i in 0..5_000 {
            a.joined(&format!("t{i}"));
        }
        assert_eq!(a.order.len(), MAX_TRACKED);
    }
}
