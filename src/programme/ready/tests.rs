//! The ready check's rules, its convergence under any delivery, and one start from many.

use super::*;
use crate::sync::test_harness::Mini;
use crate::sync::{Input, Intent};

const FILM: &str = "https://v.example/film.webm";

fn at(ms: i64) -> RoomTime {
    RoomTime::from_micros(1_000_000_000 + ms * 1_000)
}

fn everyone(_: PeerId) -> bool {
    true
}

/// The room paused on `FILM`, loaded before any check, with `present` the others.
fn paused<'a>(now: RoomTime, present: &'a [PeerId]) -> Room<'a> {
    Room {
        now,
        media: Some(FILM),
        playing: false,
        version: Some(stamp(at(-1), 9)),
        present,
    }
}

fn stamp(wall: RoomTime, peer: u64) -> Stamp {
    Stamp {
        wall,
        counter: 0,
        peer: PeerId(peer),
    }
}

/// Pages 1..=n, page 1 having opened a check at `at(0)` that everyone else merged.
fn room_of(n: u64) -> Vec<ReadyCheck> {
    room_opened_at(n, at(0))
}

fn room_opened_at(n: u64, opened: RoomTime) -> Vec<ReadyCheck> {
    let mut pages: Vec<_> = (1..=n).map(|i| ReadyCheck::new(PeerId(i))).collect();
    let note = pages[0].open(opened, FILM, true).unwrap();
    for page in &mut pages[1..] {
        assert_eq!(
            page.merge(PeerId(1), note, Some(opened), &everyone),
            Merged::Adopted
        );
    }
    pages
}

fn others(me: u64, n: u64) -> Vec<PeerId> {
    (1..=n).filter(|i| *i != me).map(PeerId).collect()
}

#[test]
fn the_film_starts_when_the_last_present_person_is_ready() {
    let mut pages = room_of(3);
    let present = others(2, 3);
    let room = paused(at(1_000), &present);
    assert_eq!(pages[1].poll(&room), None);
    let view = pages[1].view(&room).unwrap();
    assert_eq!((view.seconds_left, view.me_ready), (29, false));
    // Page 2 hears 1 and 3 say ready, then is ready itself.
    for from in [1, 3] {
        let note = pages[from as usize - 1].mark_ready().unwrap();
        assert_eq!(
            pages[1].merge(PeerId(from), note, Some(at(1_000)), &everyone),
            Merged::Known
        );
    }
    assert_eq!(pages[1].poll(&room), None, "page 2 itself is not ready");
    let mine = pages[1].mark_ready().unwrap();
    assert!(mine.ready);
    assert_eq!(pages[1].poll(&room), Some(Go::AllReady));
    assert_eq!(pages[1].poll(&room), None, "one start per check and page");
    assert!(pages[1].view(&room).unwrap().me_ready);
}

#[test]
fn a_mark_counts_only_from_the_person_it_is_about() {
    let mut pages = room_of(3);
    // Page 3 forwards page 1's note: it says page 3 is not ready, and cannot say page 1 is.
    let mut forged = pages[0].mark_ready().unwrap();
    forged.ready = true;
    pages[1].merge(PeerId(3), forged, None, &everyone);
    let present = others(2, 3);
    let view = pages[1].view(&paused(at(1), &present)).unwrap();
    assert_eq!(view.ready, vec![PeerId(3)]);
}

#[test]
fn someone_who_leaves_stops_counting() {
    let mut pages = room_of(3);
    let note = pages[0].mark_ready().unwrap();
    pages[1].merge(PeerId(1), note, None, &everyone);
    pages[1].mark_ready();
    let with_carol = others(2, 3);
    assert_eq!(pages[1].poll(&paused(at(1_000), &with_carol)), None);
    // Page 3 left (or its player failed): the two left are all ready.
    let without = [PeerId(1)];
    assert_eq!(
        pages[1].poll(&paused(at(1_001), &without)),
        Some(Go::AllReady)
    );
}

#[test]
fn at_the_deadline_the_opener_starts_and_the_others_after_a_grace() {
    let mut pages = room_of(3);
    let end = at(0) + WAIT;
    let (p1, p2) = (others(1, 3), others(2, 3));
    assert_eq!(pages[0].poll(&paused(end - Span(1), &p1)), None);
    assert_eq!(pages[0].poll(&paused(end, &p1)), Some(Go::TimeUp));
    assert_eq!(pages[1].poll(&paused(end, &p2)), None);
    assert_eq!(pages[1].view(&paused(end, &p2)).unwrap().seconds_left, 0);
    assert_eq!(pages[1].poll(&paused(end + GRACE, &p2)), Some(Go::TimeUp));
    // With the opener gone, nobody waits for its start.
    let only_page_2 = [PeerId(2)];
    assert_eq!(pages[2].poll(&paused(end, &only_page_2)), Some(Go::TimeUp));
}

#[test]
fn start_anyway_starts_everywhere_when_allowed() {
    let mut pages = room_of(3);
    let present = others(3, 3);
    let room = paused(at(10), &present);
    assert_eq!(pages[1].start_anyway(false), None, "host mode, not a host");
    let note = pages[1].start_anyway(true).unwrap();
    assert!(note.anyway);
    // From someone who may not control, the flag is ignored.
    let only_1 = |p: PeerId| p == PeerId(1);
    pages[2].merge(PeerId(2), note, None, &only_1);
    assert_eq!(pages[2].poll(&room), None);
    pages[2].merge(PeerId(2), note, None, &everyone);
    assert_eq!(pages[2].poll(&room), Some(Go::Anyway));
    // Opening a check is the same permission.
    let mut guest = ReadyCheck::new(PeerId(2));
    assert_eq!(guest.open(at(0), FILM, false), None);
    let from_guest = pages[1].open(at(20), FILM, true).unwrap();
    assert_eq!(
        pages[0].merge(PeerId(2), from_guest, None, &only_1),
        Merged::Ignored
    );
    assert_eq!(pages[0].refused(), 1);
}

#[test]
fn notes_that_waited_merged_in_a_row_then_polled_once_start_as_polling_each_would() {
    // Page 3's code ran late (the party's replay, `web::party`): the check, a mark and a
    // "Start anyway" waited, and are merged in a row before one poll.
    let mut pages = room_of(2);
    let opened = pages[0].note().unwrap();
    let marked = pages[1].mark_ready().unwrap();
    let anyway = pages[0].start_anyway(true).unwrap();
    let waited = [(1, opened), (2, marked), (1, anyway)];
    let present = others(3, 3);
    let room = paused(at(10), &present);

    let mut polled_each = ReadyCheck::new(PeerId(3));
    let each: Vec<Option<Go>> = waited
        .iter()
        .map(|&(from, note)| {
            polled_each.merge(PeerId(from), note, Some(at(10)), &everyone);
            polled_each.poll(&room)
        })
        .collect();
    assert_eq!(each, [None, None, Some(Go::Anyway)]);

    let mut polled_once = ReadyCheck::new(PeerId(3));
    for &(from, note) in &waited {
        polled_once.merge(PeerId(from), note, Some(at(10)), &everyone);
    }
    assert_eq!(polled_once.poll(&room), Some(Go::Anyway));
    assert_eq!(
        polled_once.poll(&room),
        None,
        "one start per check and page"
    );
    assert_eq!(polled_once.view(&room), polled_each.view(&room));
}

#[test]
fn a_start_ends_the_check_for_good_and_an_older_playing_state_does_not() {
    let mut pages = room_of(2);
    let present = [PeerId(2)];
    // Loading the video that was playing: the register still shows the old playing state
    // (older than the check) until the load arrives. The check waits, it is not over.
    let mut room = paused(at(10), &present);
    room.playing = true;
    assert!(pages[0].view(&room).is_none());
    room.playing = false;
    assert!(pages[0].view(&room).is_some());
    // Someone pressed Play: a playing state newer than the check. Over, even once paused.
    room.playing = true;
    room.version = Some(stamp(at(20), 2));
    assert!(pages[0].view(&room).is_none());
    room.playing = false;
    assert!(pages[0].view(&room).is_none());
    assert_eq!(pages[0].poll(&paused(at(0) + WAIT, &present)), None);
    assert!(pages[0].note().unwrap().started);
    // A newcomer told so by the note does not ask either.
    let mut late = ReadyCheck::new(PeerId(3));
    late.merge(PeerId(1), pages[0].note().unwrap(), None, &everyone);
    assert!(late.view(&paused(at(30), &present)).is_none());
}

#[test]
fn another_video_is_not_waited_for() {
    // Auto-advance loads and plays the next video: the check for the last one stays quiet.
    let mut pages = room_of(2);
    let present = [PeerId(2)];
    let next = Room {
        media: Some("https://v.example/next.webm"),
        playing: false,
        ..paused(at(0) + WAIT + GRACE, &present)
    };
    assert!(pages[0].view(&next).is_none());
    assert_eq!(pages[0].poll(&next), None);
    let nothing = Room {
        media: None,
        ..next
    };
    assert_eq!(pages[0].poll(&nothing), None);
}

#[test]
fn impossible_or_far_future_notes_are_refused() {
    let mut page = ReadyCheck::new(PeerId(1));
    let mut other = ReadyCheck::new(PeerId(2));
    let good = other.open(at(0), FILM, true).unwrap();
    let far = ReadyNote {
        id: stamp(at(0) + MAX_FUTURE + Span(1), 2),
        deadline: at(0) + MAX_FUTURE,
        ..good
    };
    let endless = ReadyNote {
        deadline: good.id.wall + WAIT + Span(1),
        ..good
    };
    let saturated = ReadyNote {
        id: Stamp {
            counter: u32::MAX,
            ..good.id
        },
        ..good
    };
    let insane = ReadyNote {
        id: stamp(RoomTime(i64::MAX), 2),
        deadline: RoomTime(i64::MAX),
        ..good
    };
    for bad in [far, endless, saturated, insane] {
        assert_eq!(
            page.merge(PeerId(2), bad, Some(at(0)), &everyone),
            Merged::Ignored,
            "{bad:?}"
        );
    }
    assert_eq!(page.refused(), 4);
    assert!(page.note().is_none());
    assert_eq!(
        page.merge(PeerId(2), good, Some(at(0)), &everyone),
        Merged::Adopted
    );
}

#[test]
fn a_newer_check_supersedes_and_an_older_one_is_ignored() {
    let mut pages = room_of(2);
    let first = pages[0].note().unwrap();
    let second = pages[1].open(at(100), FILM, true).unwrap();
    assert!(second.id > first.id);
    assert_eq!(
        pages[0].merge(PeerId(2), second, None, &everyone),
        Merged::Adopted
    );
    assert_eq!(
        pages[1].merge(PeerId(1), first, None, &everyone),
        Merged::Ignored
    );
    // A page that saw a later id opens after it, even with a clock behind.
    let third = pages[0].open(at(50), FILM, true).unwrap();
    assert!(third.id > second.id);
}

// ---- Any delivery converges. ----

/// SplitMix64, seeded: one seed replays a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Pages that open checks, mark, start anyway and pass on what they adopt, with every note
/// delivered late, out of order, duplicated or lost; at the end each page sends its note to
/// each other once (a link reopening), and all must know the same check.
fn random_run(seed: u64) {
    let mut rng = Rng(seed);
    let n = 3 + rng.below(4);
    let mut pages: Vec<_> = (0..n).map(|i| ReadyCheck::new(PeerId(i as u64))).collect();
    // In flight: (to, from, note).
    let mut flight: Vec<(usize, usize, ReadyNote)> = Vec::new();
    let send = |flight: &mut Vec<_>, from: usize, note: Option<ReadyNote>| {
        for to in (0..n).filter(|to| *to != from) {
            flight.extend(note.map(|note| (to, from, note)));
        }
    };
    for step in 0..200 {
        let now = at(step * 10);
        let who = rng.below(n);
        match rng.below(10) {
            0 => {
                let note = pages[who].open(now, FILM, true);
                send(&mut flight, who, note);
            }
            1..=3 => {
                let note = pages[who].mark_ready();
                send(&mut flight, who, note);
            }
            4 => {
                let note = pages[who].start_anyway(true);
                send(&mut flight, who, note);
            }
            _ if !flight.is_empty() => {
                let i = rng.below(flight.len());
                // One in six is delivered and stays in flight (a repeat); one in eight is lost.
                let (to, from, note) = match rng.below(6) {
                    0 => flight[i],
                    _ => flight.swap_remove(i),
                };
                let lost = rng.below(8) == 0;
                if !lost
                    && pages[to].merge(PeerId(from as u64), note, Some(now), &everyone)
                        == Merged::Adopted
                {
                    let relay = pages[to].note();
                    send(&mut flight, to, relay);
                }
            }
            _ => {}
        }
    }
    // The links reopen: everyone's note reaches everyone, in a random order, twice over
    // (the second round carries what the first adopted).
    for _ in 0..2 {
        let mut last: Vec<_> = (0..n)
            .flat_map(|from| (0..n).map(move |to| (to, from)))
            .filter(|(to, from)| to != from)
            .collect();
        while !last.is_empty() {
            let (to, from) = last.swap_remove(rng.below(last.len()));
            if let Some(note) = pages[from].note() {
                pages[to].merge(PeerId(from as u64), note, None, &everyone);
            }
        }
    }
    let first = pages[0].check.clone();
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(page.check, first, "seed {seed}: page {i} differs");
    }
    // Every mark a page made on the winning check is known everywhere.
    if let Some(c) = &first {
        for page in &pages {
            let own = page.note().unwrap();
            assert_eq!(own.id, c.id);
            assert_eq!(own.ready, c.ready.contains(&page.me), "seed {seed}");
        }
    }
}

#[test]
fn any_delivery_converges_on_one_check() {
    for seed in 0..300 {
        random_run(seed);
    }
}

// ---- Many starts make one. ----

/// Three pages whose checks all see everyone ready at once each issue a Play on their own
/// engine, in the same millisecond or a few apart: the register's last writer wins, so every
/// engine ends on one state, one start instant, the same everywhere.
#[test]
fn concurrent_starts_converge() {
    for stagger_ms in [0, 1, 3, 7] {
        let mut m = Mini::new(3);
        m.run_for(1_000_000);
        m.input(
            0,
            Input::Intent(Intent::Load {
                media_id: FILM.into(),
            }),
        );
        m.run_for(500_000);
        // Page 0 opens the check after its load; it reaches all, and all are ready.
        let mut checks = room_opened_at(3, m.room(0));
        for i in 0..3 {
            let note = checks[i].mark_ready().unwrap();
            for j in (0..3).filter(|j| *j != i) {
                checks[j].merge(PeerId(i as u64 + 1), note, None, &everyone);
            }
        }
        let mut issued = 0;
        for (i, check) in checks.iter_mut().enumerate() {
            let present = others(i as u64 + 1, 3);
            let v = m.engine(i).playback().cloned().unwrap();
            let room = Room {
                now: m.room(i),
                media: v.playback.media.as_deref(),
                playing: v.playback.playing,
                version: Some(v.stamp),
                present: &present,
            };
            // A page the first start has reached sees the check over and starts nothing.
            match check.poll(&room) {
                Some(go) => {
                    assert_eq!(go, Go::AllReady);
                    m.input(i, Input::Intent(Intent::Play));
                    issued += 1;
                }
                None => assert!(
                    v.playback.playing,
                    "page {i} neither started nor saw a start"
                ),
            }
            m.run_for(stagger_ms * 1_000);
        }
        if 2 * stagger_ms * 1_000 < crate::sync::test_harness::DELAY {
            assert_eq!(issued, 3, "each page started before any start reached it");
        }
        m.run_for(1_000_000);
        let states: Vec<_> = (0..3).map(|i| m.engine(i).playback().cloned()).collect();
        let won = states[0].clone().unwrap();
        assert!(won.playback.playing);
        assert!(
            states.iter().all(|s| s.as_ref() == Some(&won)),
            "stagger {stagger_ms} ms: {states:#?}"
        );
        // And the check is over on every page: the playing state is newer than it.
        for (i, check) in checks.iter_mut().enumerate() {
            let present = others(i as u64 + 1, 3);
            let room = Room {
                now: m.room(i),
                media: Some(FILM),
                playing: true,
                version: Some(won.stamp),
                present: &present,
            };
            assert!(check.view(&room).is_none());
            assert!(check.note().unwrap().started);
        }
    }
}

#[test]
fn readiness_reads_as_the_people_list_shows_it() {
    assert_eq!(Readiness::of(true, false), Readiness::Ready);
    assert_eq!(Readiness::of(false, false).label(), "loading");
    assert_eq!(Readiness::of(false, true).label(), "not yet");
    assert_eq!(media_tag(FILM), media_tag(FILM));
    assert_ne!(media_tag(FILM), media_tag("https://v.example/other.webm"));
}
