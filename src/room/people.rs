//! Who is in the room, as the people list shows them.

use super::wire::{ViewerPhase, ViewerStatus};
use crate::connectivity::{LinkPath, Unreachable};
use crate::programme::ready::Readiness;
use crate::signaling::payload::SessionId;

#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub session: SessionId,
    /// Until their profile arrives, a person is shown by a neutral placeholder.
    pub name: Option<String>,
    pub status: ViewerStatus,
    /// Round-trip time of our link to them, from the sync engine's clock samples.
    pub rtt_ms: Option<f32>,
    pub link: LinkState,
    /// The kind of path our link to them uses, once known.
    pub path: Option<LinkPath>,
    /// Where they stand in the ready check, while one waits.
    pub ready: Option<Readiness>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Connected,
    /// The link broke and is being restored (ICE restart).
    Reconnecting,
    /// The link never opened: no path worked, for this reason.
    Unreachable(Unreachable),
}

impl Person {
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("Someone")
    }
}

/// Everyone else in the room, in order of arrival.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct People {
    people: Vec<Person>,
}

impl People {
    pub fn iter(&self) -> impl Iterator<Item = &Person> {
        self.people.iter()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Person> {
        self.people.iter_mut()
    }

    pub fn len(&self) -> usize {
        self.people.len()
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    pub fn get(&self, session: SessionId) -> Option<&Person> {
        self.people.iter().find(|p| p.session == session)
    }

    /// The person for `session`, to update, if they are listed.
    pub fn get_mut(&mut self, session: SessionId) -> Option<&mut Person> {
        self.people.iter_mut().find(|p| p.session == session)
    }

    /// The person for `session`, added (connecting, unnamed) if new.
    pub fn entry(&mut self, session: SessionId) -> &mut Person {
        if let Some(index) = self.people.iter().position(|p| p.session == session) {
            return &mut self.people[index];
        }
        self.people.push(Person {
            session,
            name: None,
            status: ViewerStatus {
                phase: ViewerPhase::Idle,
                offset_ms: None,
            },
            rtt_ms: None,
            link: LinkState::Connecting,
            path: None,
            ready: None,
        });
        self.people.last_mut().expect("just pushed")
    }

    pub fn remove(&mut self, session: SessionId) -> Option<Person> {
        let index = self.people.iter().position(|p| p.session == session)?;
        Some(self.people.remove(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_added_once_updated_and_removed() {
        let mut people = People::default();
        people.entry(1).name = Some("Ada".into());
        people.entry(2);
        people.entry(1).link = LinkState::Connected;
        assert_eq!(people.len(), 2);
        assert_eq!(people.get(1).unwrap().display_name(), "Ada");
        assert_eq!(people.get(1).unwrap().link, LinkState::Connected);
        assert_eq!(people.get(2).unwrap().display_name(), "Someone");
        people.get_mut(2).unwrap().rtt_ms = Some(12.0);
        assert_eq!(people.get(2).unwrap().rtt_ms, Some(12.0));
        assert!(people.get_mut(3).is_none());
        assert_eq!(people.len(), 2);
        assert_eq!(people.remove(1).map(|p| p.session), Some(1));
        assert!(people.remove(1).is_none());
        assert_eq!(people.iter().map(|p| p.session).collect::<Vec<_>>(), [2]);
    }
}
