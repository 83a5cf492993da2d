//! Scenarios where a room could end up on two timelines (two room times, or two states) that
//! nothing heals: viewers whose links open only after each side formed a room of its own, and
//! a viewer starved of CPU while the room forms and starts. `sim/tests/timelines.rs` asserts
//! that every viewer converges to one room time and one state within a bound once the
//! disturbance is over.

use crate::scenarios::{intent, lan_link, load, wan_link};
use crate::world::{Action, Scenario};
use insieme::sync::{Intent, MediaTime};

/// When the two groups of [`groups_apart`] connect, true seconds.
pub const GROUPS_MEET_S: f64 = 20.0;

/// Two groups of two that formed apart (the links between them could not open: slots 0 and 1
/// on one side, 2 and 3 on the other) each load and play, the second 7 s into the video; then
/// the links open. Slot 0 opened the room first, so its group's timeline is the older.
/// With `older_plays` false, the older group never loads anything: the younger group's film
/// must become the room's.
pub fn groups_apart(seed: u64, duration_s: f64, older_plays: bool) -> Scenario {
    let name = if older_plays {
        "groups-apart"
    } else {
        "groups-apart-idle"
    };
    let mut sc = crate::scenarios::base(name, seed, 4, duration_s, wan_link());
    let mut s = vec![(0.0, Action::Partition(vec![0, 1]))];
    s.extend((0..4).map(|i| (0.1 * i as f64, Action::Join(i))));
    if older_plays {
        s.push(load(2.0, 0));
        s.push(intent(4.0, 1, Intent::Play));
    }
    s.push(load(2.5, 2));
    s.push(intent(3.0, 3, Intent::Seek(MediaTime::from_secs_f64(7.0))));
    s.push(intent(5.0, 3, Intent::Play));
    s.push((GROUPS_MEET_S, Action::Heal));
    sc.script = s;
    sc
}

/// How long the starved page of [`starved`] gets no CPU, s.
pub const STARVED_FOR_S: f64 = 2.0;

/// Three browsers on one machine (no skew, LAN-fast links) open the room together, as the
/// end-to-end ready test's do. The page on `slot` gets no CPU for [`STARVED_FOR_S`] from `at_s`
/// (a saturated machine: it handles its links opening, its pongs and its user's clicks late,
/// in order). At 2 s one page loads the film and the next edits the queue (`Input::Act`), so
/// two may found a timeline at once; at 6 s another starts the film.
pub fn starved(seed: u64, duration_s: f64, slot: usize, at_s: f64) -> Scenario {
    let mut sc = crate::scenarios::base("starved", seed, 3, duration_s, lan_link());
    sc.skew_ppm = 0.0;
    sc.clock_offset_s = 300.0;
    let mut s: Vec<(f64, Action)> = (0..3).map(|i| (0.0, Action::Join(i))).collect();
    s.push(load(2.0, slot));
    s.push((2.0, Action::Act((slot + 1) % 3)));
    s.push(intent(6.0, (slot + 2) % 3, Intent::Play));
    s.push((
        at_s,
        Action::Starve {
            slot,
            for_s: STARVED_FOR_S,
        },
    ));
    sc.script = s;
    sc
}
