//! What the call is told before its code has arrived.
//!
//! The call's code is a separate download, fetched the first time someone needs it: we join,
//! or a friend joins and their media starts to arrive. Until it runs, the party's reports
//! about links, presences and tracks wait here, kept to what still matters: a closed link
//! takes its reports with it, a newer presence replaces an older one, and a link keeps only
//! its latest few tracks. However long a party lasts without a call, the log stays bounded
//! by the open links.

use crate::room::wire::CallPresence;
use crate::signaling::payload::SessionId;

/// Tracks kept per link while waiting: a friend sends at most a microphone and a camera, and
/// a renegotiation may add a replacement of each.
pub const MAX_TRACKS_PER_LINK: usize = 4;

/// One report from the party to the call. `T` is the browser's track event.
#[derive(Debug, Clone, PartialEq)]
pub enum CallReport<T> {
    LinkOpen(SessionId),
    LinkGone(SessionId),
    Presence(SessionId, CallPresence),
    Track(SessionId, T),
}

impl<T> CallReport<T> {
    fn session(&self) -> SessionId {
        match self {
            CallReport::LinkOpen(s)
            | CallReport::LinkGone(s)
            | CallReport::Presence(s, _)
            | CallReport::Track(s, _) => *s,
        }
    }
}

/// The reports waiting for the call's code, in the order they must be replayed.
#[derive(Debug)]
pub struct PendingReports<T> {
    reports: Vec<CallReport<T>>,
}

impl<T> Default for PendingReports<T> {
    fn default() -> Self {
        PendingReports {
            reports: Vec::new(),
        }
    }
}

impl<T> PendingReports<T> {
    /// Keeps `report` for later. True when it means the call is needed now: someone is in
    /// it, or their media is arriving.
    pub fn record(&mut self, report: CallReport<T>) -> bool {
        let session = report.session();
        let needed = match &report {
            CallReport::Presence(_, presence) => presence.joined,
            CallReport::Track(..) => true,
            CallReport::LinkOpen(_) | CallReport::LinkGone(_) => false,
        };
        match report {
            CallReport::LinkGone(_) => {
                // The call never needs to hear of a link it would only be told is gone.
                self.reports.retain(|r| r.session() != session);
            }
            CallReport::LinkOpen(_) => {
                self.reports.retain(|r| r.session() != session);
                self.reports.push(report);
            }
            CallReport::Presence(..) => {
                self.reports
                    .retain(|r| !(matches!(r, CallReport::Presence(..)) && r.session() == session));
                self.reports.push(report);
            }
            CallReport::Track(..) => {
                let is_track_of = |r: &CallReport<T>| {
                    matches!(r, CallReport::Track(..)) && r.session() == session
                };
                if self.reports.iter().filter(|r| is_track_of(r)).count() >= MAX_TRACKS_PER_LINK {
                    if let Some(oldest) = self.reports.iter().position(is_track_of) {
                        self.reports.remove(oldest);
                    }
                }
                self.reports.push(report);
            }
        }
        needed
    }

    /// Everything kept, oldest first, leaving the log empty.
    pub fn take(&mut self) -> Vec<CallReport<T>> {
        std::mem::take(&mut self.reports)
    }

    pub fn len(&self) -> usize {
        self.reports.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reports.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Report = CallReport<u32>;

    fn joined() -> CallPresence {
        CallPresence {
            joined: true,
            ..CallPresence::default()
        }
    }

    #[test]
    fn only_someone_in_the_call_or_their_media_needs_the_call() {
        let mut pending = PendingReports::default();
        assert!(!pending.record(Report::LinkOpen(1)));
        assert!(!pending.record(Report::Presence(1, CallPresence::default())));
        assert!(pending.record(Report::Presence(1, joined())));
        assert!(pending.record(Report::Track(1, 7)));
        assert!(!pending.record(Report::LinkGone(1)));
    }

    #[test]
    fn reports_replay_in_order_with_the_latest_presence() {
        let mut pending = PendingReports::default();
        pending.record(Report::LinkOpen(1));
        pending.record(Report::Presence(1, CallPresence::default()));
        pending.record(Report::LinkOpen(2));
        pending.record(Report::Presence(1, joined()));
        pending.record(Report::Track(1, 10));
        assert_eq!(
            pending.take(),
            vec![
                Report::LinkOpen(1),
                Report::LinkOpen(2),
                Report::Presence(1, joined()),
                Report::Track(1, 10),
            ]
        );
        assert!(pending.is_empty());
    }

    #[test]
    fn a_closed_link_takes_its_reports_with_it() {
        let mut pending = PendingReports::default();
        pending.record(Report::LinkOpen(1));
        pending.record(Report::Presence(1, joined()));
        pending.record(Report::Track(1, 10));
        pending.record(Report::LinkOpen(2));
        pending.record(Report::LinkGone(1));
        assert_eq!(pending.take(), vec![Report::LinkOpen(2)]);
    }

    #[test]
    fn a_link_keeps_only_its_latest_tracks() {
        let mut pending = PendingReports::default();
        pending.record(Report::LinkOpen(1));
        for track in 0..10 {
            pending.record(Report::Track(1, track));
        }
        let tracks: Vec<u32> = pending
            .take()
            .into_iter()
            .filter_map(|r| match r {
                CallReport::Track(_, t) => Some(t),
                _ => None,
            })
            .collect();
        assert_eq!(tracks, vec![6, 7, 8, 9]);
    }

    fn report() -> impl Strategy<Value = Report> {
        let session = 0u64..6;
        prop_oneof![
            session.clone().prop_map(Report::LinkOpen),
            session.clone().prop_map(Report::LinkGone),
            (session.clone(), any::<bool>()).prop_map(|(s, joined)| Report::Presence(
                s,
                CallPresence {
                    joined,
                    ..CallPresence::default()
                }
            )),
            (session, any::<u32>()).prop_map(|(s, t)| Report::Track(s, t)),
        ]
    }

    proptest! {
        /// However long the party, the log holds at most a link, a presence and a few tracks
        /// per session, and never anything of a session whose link closed last.
        #[test]
        fn the_log_stays_bounded_by_the_links(reports in proptest::collection::vec(report(), 0..400)) {
            let mut pending = PendingReports::default();
            for r in &reports {
                pending.record(r.clone());
            }
            prop_assert!(pending.len() <= 6 * (2 + MAX_TRACKS_PER_LINK));
            let kept = pending.take();
            for session in 0..6u64 {
                let last = reports.iter().rev().find(|r| r.session() == session);
                if matches!(last, Some(CallReport::LinkGone(_))) {
                    prop_assert!(kept.iter().all(|r| r.session() != session));
                }
            }
        }
    }
}
