//! Who is in the room, as the people list shows them.

use super::shown_offset::{room_middle, ShownOffset};
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

/// Everyone else's name, by session (see [`People::names`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Names(Vec<(SessionId, String)>);

impl Names {
    /// `session`'s name, or the neutral placeholder for someone not (yet) listed.
    pub fn of(&self, session: SessionId) -> &str {
        self.0
            .iter()
            .find(|(s, _)| *s == session)
            .map_or("Someone", |(_, name)| name)
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

    /// Who is called what, as views that show only names depend on: the list changes with every
    /// status and clock sample, the names rarely.
    pub fn names(&self) -> Names {
        Names(
            self.people
                .iter()
                .map(|p| (p.session, p.display_name().to_owned()))
                .collect(),
        )
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
                picture_ms: None,
                offset_within_ms: 0,
            },
            rtt_ms: None,
            link: LinkState::Connecting,
            path: None,
            ready: None,
        });
        self.people.last_mut().expect("just pushed")
    }

    /// Our offset from the room, ms (positive: ahead), from our picture's error `mine`: it less
    /// the median of everyone's, ours and those of the people connected and playing who sent
    /// theirs ([`ViewerStatus::picture_ms`]). Each error is against the room's timeline as its
    /// viewer's clock maps it, so whatever all pictures share (where a frame rate's frames fall
    /// between refreshes, a frame grid all steer to) cancels, and what is left is how far ours
    /// is from the middle of the room. `None` when ours is unknown.
    ///
    /// Its precision is ours (`mine_within_ms`, how far either way our picture may be from its
    /// error) or the room's middle's, whichever is coarser ([`room_middle`]: the precision of
    /// the picture in the middle, as its viewer sent it, [`ViewerStatus::offset_within_ms`]).
    /// With two viewers the middle is their mean, so an exact picture beside a Firefox one is
    /// known only to half a refresh.
    pub fn offset_from_room(&self, mine: Option<f32>, mine_within_ms: u8) -> Option<ShownOffset> {
        let mine = f64::from(mine.filter(|ms| ms.is_finite())?);
        let mut viewers = vec![(mine, f64::from(mine_within_ms))];
        for p in &self.people {
            if p.link == LinkState::Connected && p.status.phase == ViewerPhase::Playing {
                // Received statuses are validated finite (`room::wire`).
                if let Some(error) = p.status.picture_ms {
                    viewers.push((f64::from(error), f64::from(p.status.offset_within_ms)));
                }
            }
        }
        let (room, room_within) = room_middle(&viewers)?;
        Some(ShownOffset {
            ms: (mine - room) as f32,
            within_ms: mine_within_ms.max(room_within.ceil() as u8),
        })
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

    #[test]
    fn names_change_with_a_name_not_with_a_clock_sample_or_a_status() {
        let mut people = People::default();
        people.entry(1).name = Some("Ada".into());
        people.entry(2);
        let names = people.names();
        assert_eq!(
            (names.of(1), names.of(2), names.of(3)),
            ("Ada", "Someone", "Someone")
        );
        people.get_mut(1).unwrap().rtt_ms = Some(3.0);
        playing_with(&mut people, 2, Some(1.0));
        assert_eq!(people.names(), names);
        people.entry(2).name = Some("Bea".into());
        assert_ne!(people.names(), names);
        assert_eq!(people.names().of(2), "Bea");
    }

    fn playing_with(people: &mut People, session: SessionId, picture_ms: Option<f32>) {
        let person = people.entry(session);
        person.link = LinkState::Connected;
        person.status.phase = ViewerPhase::Playing;
        person.status.picture_ms = picture_ms;
    }

    /// Our offset from the room, ms, for an exact picture of ours.
    fn offset(people: &People, mine: Option<f32>) -> Option<f32> {
        people.offset_from_room(mine, 0).map(|o| o.ms)
    }

    #[test]
    fn the_offset_from_the_room_is_ours_less_the_median_of_everyones() {
        let mut people = People::default();
        // Alone: the room is us.
        assert_eq!(offset(&people, Some(-4.0)), Some(0.0));
        assert_eq!(offset(&people, None), None);
        // Three pictures 4 ms behind the timeline (a grid all share), ours a frame ahead of them.
        playing_with(&mut people, 1, Some(-4.0));
        playing_with(&mut people, 2, Some(-4.2));
        assert_eq!(offset(&people, Some(12.7)), Some(16.7));
        // Ours in the middle: on time.
        assert_eq!(offset(&people, Some(-4.1)), Some(0.0));
        // Two: the mean of the two middle ones.
        people.get_mut(2).unwrap().status.picture_ms = None;
        assert_eq!(offset(&people, Some(4.0)), Some(4.0));
    }

    #[test]
    fn only_people_playing_and_connected_count_and_unknowns_are_left_out() {
        let mut people = People::default();
        playing_with(&mut people, 1, Some(0.0));
        playing_with(&mut people, 2, Some(1.0));
        // Paused, an older client (no picture error), a broken link: none of them counts.
        playing_with(&mut people, 3, Some(500.0));
        people.get_mut(3).unwrap().status.phase = ViewerPhase::Paused;
        playing_with(&mut people, 4, None);
        playing_with(&mut people, 5, Some(-900.0));
        people.get_mut(5).unwrap().link = LinkState::Reconnecting;
        assert_eq!(offset(&people, Some(30.0)), Some(29.0));
        assert_eq!(offset(&people, Some(f32::NAN)), None);
    }

    #[test]
    fn the_offsets_precision_is_ours_or_the_rooms_middles_whichever_is_coarser() {
        let mut people = People::default();
        // Beside one Firefox viewer (known to a refresh), the middle is the mean of the two.
        playing_with(&mut people, 1, Some(10.0));
        people.get_mut(1).unwrap().status.offset_within_ms = 17;
        let ours = people.offset_from_room(Some(0.0), 0).unwrap();
        assert_eq!((ours.ms, ours.within_ms), (-5.0, 9));
        // Two exact viewers and the Firefox one at an end: the middle is exact, and so is ours.
        playing_with(&mut people, 2, Some(0.0));
        assert_eq!(people.offset_from_room(Some(0.0), 0).unwrap().within_ms, 0);
        // The Firefox one in the middle: the room is known only to its refresh.
        assert_eq!(
            people.offset_from_room(Some(20.0), 0).unwrap().within_ms,
            17
        );
        // Ours known only to a refresh stays so, whatever the room.
        assert_eq!(
            people.offset_from_room(Some(-5.0), 17).unwrap().within_ms,
            17
        );
        // Someone who sent no picture error adds no precision either.
        playing_with(&mut people, 3, None);
        people.get_mut(3).unwrap().status.offset_within_ms = 200;
        assert_eq!(people.offset_from_room(Some(0.0), 0).unwrap().within_ms, 0);
    }
}
