//! The replicated playback state: what is playing, and where it is at any room time.
//!
//! The state is a last-writer-wins register. Every change is stamped by a hybrid logical clock
//! (room time, a counter, and the writer's peer id as the final tie-break), so the stamps are
//! totally ordered, agree with causality (a change made after seeing another always wins over
//! it), and stay close to real time. Merging is "keep the larger stamp", which is commutative,
//! associative and idempotent: whatever order messages arrive in, every peer ends on the same
//! state.
//!
//! A state is a piecewise-linear map from room time to media position, anchored at one point.
//! After the anchor the media moves at `rate` if playing and stands still if paused; before
//! the anchor it moves at `lead_in_rate`. That one extra number lets a change take effect a
//! little in the future, identically everywhere: "start playing at X at room time T" is a
//! playing state with a lead-in rate of 0 (hold at X until T), and "pause at room time T" is a
//! paused state with a lead-in at the old rate (keep playing until T).

use super::time::{MediaTime, RoomTime, Span, MAX_ABS_MICROS};
use super::PeerId;
use serde::{Deserialize, Serialize};

/// Longest media id accepted (a URL or content hash fits easily).
pub const MAX_MEDIA_ID_LEN: usize = 2048;
/// Playback rates outside this range are refused (the browser's own limits).
pub const MIN_RATE: f64 = 0.0625;
pub const MAX_RATE: f64 = 16.0;
/// Largest stamp counter accepted. An honest counter only grows while a writer's room clock is
/// behind the latest stamp it saw, by one a write: rate-limited writes over the far-future
/// limit's minute stay thousands below this. A saturated counter was the attack: at
/// `u32::MAX` no later write could beat it. The local clock moves to the next microsecond
/// rather than past it.
pub const MAX_COUNTER: u32 = 1 << 16;

/// The version of a state: a hybrid logical clock reading plus the writer as tie-break.
/// Field order is comparison order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    /// Room time when the change was made (or later, if the writer had seen a later stamp).
    pub wall: RoomTime,
    /// Orders changes made within the same microsecond of wall time.
    pub counter: u32,
    /// Writer of the change.
    pub peer: PeerId,
}

/// Hybrid logical clock: issues stamps larger than every stamp seen or issued before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hlc {
    wall: RoomTime,
    counter: u32,
}

impl Default for Hlc {
    /// Starts below every sane room time (room times may be negative: they are some peer's
    /// monotonic clock plus a base).
    fn default() -> Self {
        Hlc {
            wall: RoomTime(-MAX_ABS_MICROS),
            counter: 0,
        }
    }
}

impl Hlc {
    /// A fresh stamp for a change made at room time `now` by `peer`: larger than every stamp
    /// seen or issued before, whatever their counters (a full counter moves the wall on).
    pub fn stamp(&mut self, now: RoomTime, peer: PeerId) -> Stamp {
        if now > self.wall {
            self.wall = now;
            self.counter = 0;
        } else if self.counter >= MAX_COUNTER {
            self.wall += Span(1);
            self.counter = 0;
        } else {
            self.counter += 1;
        }
        Stamp {
            wall: self.wall,
            counter: self.counter,
            peer,
        }
    }

    /// Remembers a stamp seen from a peer so later local stamps exceed it.
    pub fn observe(&mut self, s: &Stamp) {
        if (s.wall, s.counter) > (self.wall, self.counter) {
            self.wall = s.wall;
            self.counter = s.counter;
        }
    }
}

/// What everyone should be showing, as a function of room time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Playback {
    /// The media everyone has loaded (`None` before anything was chosen).
    pub media: Option<String>,
    /// Whether the media moves after the anchor.
    pub playing: bool,
    /// Playback rate after the anchor (1.0 is normal speed).
    pub rate: f64,
    /// The anchor: media position at room time `anchor_room`.
    pub anchor_media: MediaTime,
    pub anchor_room: RoomTime,
    /// Media speed before the anchor: 0 to hold still until a scheduled start, the old rate to
    /// keep playing until a scheduled pause or rate change.
    pub lead_in_rate: f64,
    /// Set while the group waits for a buffering viewer; that viewer (or, if it leaves, the
    /// reference) releases the hold. Distinguishes a buffering pause from a user's pause, which
    /// nobody but a user may undo.
    pub hold: Option<PeerId>,
}

impl Playback {
    /// The state after a buffering hold ends: playing again from where it was held, starting
    /// at room time `start` (a little ahead, so everyone can start together).
    pub fn released_at(self, start: RoomTime) -> Playback {
        Playback {
            playing: true,
            anchor_room: start,
            lead_in_rate: 0.0,
            hold: None,
            ..self
        }
    }

    /// The empty state a room starts in.
    pub fn empty() -> Playback {
        Playback {
            media: None,
            playing: false,
            rate: 1.0,
            anchor_media: MediaTime(0),
            anchor_room: RoomTime(0),
            lead_in_rate: 0.0,
            hold: None,
        }
    }

    /// Media speed (media seconds per room second) at room time `t`.
    pub fn speed_at(&self, t: RoomTime) -> f64 {
        if t < self.anchor_room {
            self.lead_in_rate
        } else if self.playing {
            self.rate
        } else {
            0.0
        }
    }

    /// Where the media should be at room time `t` (never before the start of the media).
    pub fn position_at(&self, t: RoomTime) -> MediaTime {
        let dt = t - self.anchor_room;
        let pos = self.anchor_media + dt.mul_f64(self.speed_at(t));
        pos.max(MediaTime(0))
    }

    /// Whether the values are possible at all: finite rates within the browser's range, times
    /// within the sane range, a bounded media id. Checked on everything that arrives from a
    /// peer, before it can touch the register.
    pub fn is_valid(&self) -> bool {
        let rate_ok = self.rate.is_finite() && (MIN_RATE..=MAX_RATE).contains(&self.rate);
        let lead_ok = self.lead_in_rate.is_finite()
            && (self.lead_in_rate == 0.0 || (MIN_RATE..=MAX_RATE).contains(&self.lead_in_rate));
        let media_ok = self
            .media
            .as_ref()
            .is_none_or(|m| m.len() <= MAX_MEDIA_ID_LEN);
        rate_ok
            && lead_ok
            && media_ok
            && self.anchor_media.is_sane()
            && self.anchor_media >= MediaTime(0)
            && self.anchor_room.is_sane()
    }

    /// Orders two different states written with the same stamp (only a lying writer does
    /// that, sending each peer another one), so that every replica keeps the same of them.
    fn tie_key(&self) -> impl Ord + '_ {
        (
            (self.playing, self.anchor_room, self.anchor_media),
            (self.rate.to_bits(), self.lead_in_rate.to_bits()),
            (self.hold, self.media.as_deref()),
        )
    }
}

/// A state with its version, as replicated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Versioned {
    pub stamp: Stamp,
    pub playback: Playback,
}

impl Versioned {
    /// Whether this state wins a merge with `other`: the larger stamp, or of two states with
    /// one stamp, the larger by [`Playback::tie_key`].
    pub fn beats(&self, other: &Versioned) -> bool {
        self.stamp > other.stamp
            || (self.stamp == other.stamp && self.playback.tie_key() > other.playback.tie_key())
    }
}

/// The last-writer-wins register holding the room's playback state.
#[derive(Clone, Debug, Default)]
pub struct Register {
    current: Option<Versioned>,
    hlc: Hlc,
}

impl Register {
    pub fn new() -> Register {
        Register::default()
    }

    /// The winning state so far.
    pub fn get(&self) -> Option<&Versioned> {
        self.current.as_ref()
    }

    /// Whether `v` would replace the current state.
    pub fn beats_current(&self, v: &Versioned) -> bool {
        self.current.as_ref().is_none_or(|c| v.beats(c))
    }

    /// Merges a state from a peer; returns true when it replaced the current one.
    pub fn merge(&mut self, v: Versioned) -> bool {
        self.hlc.observe(&v.stamp);
        let newer = self.beats_current(&v);
        if newer {
            self.current = Some(v);
        }
        newer
    }

    /// Records a local change made at room time `now`; returns it for broadcasting. It is
    /// compared like a peer's: a write that would not win everywhere is not kept here either
    /// (`None`; the clock's stamps always win, so this is only a guard).
    pub fn write(&mut self, now: RoomTime, me: PeerId, playback: Playback) -> Option<Versioned> {
        let v = Versioned {
            stamp: self.hlc.stamp(now, me),
            playback,
        };
        self.merge(v.clone()).then_some(v)
    }
}

/// How long a start, pause or rate change is scheduled ahead: enough for the message to reach
/// everyone and for them to get ready, so that all begin on the same instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leads {
    /// For a change that only needs the message to arrive (pause, rate).
    pub arrive: Span,
    /// For a start from where everyone already is (play after pause).
    pub start: Span,
    /// For a start that needs everyone to seek first.
    pub seek: Span,
    /// For a start of a media nobody has loaded yet: each viewer must fetch it and decode its
    /// first frame before the instant.
    pub load: Span,
}

/// A user's wish, turned into a new state by [`apply_intent`].
#[derive(Clone, Debug, PartialEq)]
pub enum Intent {
    /// Load a media (paused at its start).
    Load {
        media_id: String,
    },
    /// Load a media and play it from its start, for everyone at one instant far enough ahead
    /// that every viewer has loaded it (the queue's next video, "Play now"). A `Load` and then
    /// a `Play` would schedule the start as for a paused video everyone already shows, and
    /// viewers still loading would start late and catch up.
    Start {
        media_id: String,
    },
    Play,
    Pause,
    Seek(MediaTime),
    SetRate(f64),
}

/// Why an intent did not produce a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntentError {
    /// No media is loaded, so there is nothing to play, pause or seek.
    NoMedia,
    /// A value outside the accepted range (negative position, NaN or out-of-range rate...).
    Invalid,
    /// The intent would not change anything (play while playing).
    NoChange,
}

/// Computes the state an intent leads to from the current one, at room time `now`.
pub fn apply_intent(
    cur: Option<&Playback>,
    intent: &Intent,
    now: RoomTime,
    leads: Leads,
) -> Result<Playback, IntentError> {
    let empty = Playback::empty();
    let cur = cur.unwrap_or(&empty);
    if let Intent::Load { media_id } | Intent::Start { media_id } = intent {
        if media_id.len() > MAX_MEDIA_ID_LEN {
            return Err(IntentError::Invalid);
        }
        let playing = matches!(intent, Intent::Start { .. });
        return Ok(Playback {
            media: Some(media_id.clone()),
            playing,
            rate: cur.rate,
            anchor_media: MediaTime(0),
            anchor_room: if playing { now + leads.load } else { now },
            lead_in_rate: 0.0,
            hold: None,
        });
    }
    if cur.media.is_none() {
        return Err(IntentError::NoMedia);
    }
    // "Moving" is about the state after any scheduled change, which is what the user sees as
    // playing or paused.
    let pos_now = cur.position_at(now);
    let next = match *intent {
        Intent::Load { .. } | Intent::Start { .. } => unreachable!("handled above"),
        Intent::Play => {
            if cur.playing && cur.hold.is_none() {
                return Err(IntentError::NoChange);
            }
            Playback {
                playing: true,
                anchor_media: pos_now,
                anchor_room: now + leads.start,
                lead_in_rate: 0.0,
                hold: None,
                ..cur.clone()
            }
        }
        Intent::Pause => {
            if !cur.playing {
                if cur.hold.is_some() {
                    // A user pausing during a buffering hold turns it into a real pause.
                    return Ok(Playback {
                        hold: None,
                        ..cur.clone()
                    });
                }
                return Err(IntentError::NoChange);
            }
            if now < cur.anchor_room && cur.lead_in_rate == 0.0 {
                // A start is scheduled but not reached: stay where we are holding.
                Playback {
                    playing: false,
                    anchor_room: now,
                    anchor_media: pos_now,
                    hold: None,
                    ..cur.clone()
                }
            } else {
                let at = now + leads.arrive;
                Playback {
                    playing: false,
                    anchor_media: cur.position_at(at),
                    anchor_room: at,
                    lead_in_rate: cur.speed_at(at),
                    hold: None,
                    ..cur.clone()
                }
            }
        }
        Intent::Seek(to) => {
            if !to.is_sane() || to < MediaTime(0) {
                return Err(IntentError::Invalid);
            }
            if cur.playing {
                Playback {
                    anchor_media: to,
                    anchor_room: now + leads.seek,
                    lead_in_rate: 0.0,
                    ..cur.clone()
                }
            } else {
                Playback {
                    anchor_media: to,
                    anchor_room: now,
                    lead_in_rate: 0.0,
                    ..cur.clone()
                }
            }
        }
        Intent::SetRate(r) => {
            if !(r.is_finite() && (MIN_RATE..=MAX_RATE).contains(&r)) {
                return Err(IntentError::Invalid);
            }
            if cur.playing && now >= cur.anchor_room {
                let at = now + leads.arrive;
                Playback {
                    rate: r,
                    anchor_media: cur.position_at(at),
                    anchor_room: at,
                    lead_in_rate: cur.rate,
                    ..cur.clone()
                }
            } else {
                Playback {
                    rate: r,
                    ..cur.clone()
                }
            }
        }
    };
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_cases::deterministic;
    use proptest::prelude::*;

    #[test]
    fn a_released_hold_plays_on_from_the_held_position() {
        let held = Playback {
            media: Some("film".into()),
            playing: false,
            anchor_media: MediaTime::from_micros(42_000_000),
            anchor_room: RoomTime::from_micros(1_000_000),
            hold: Some(PeerId(7)),
            ..Playback::empty()
        };
        let start = RoomTime::from_micros(3_000_000);
        let resumed = held.clone().released_at(start);
        assert!(resumed.playing && resumed.hold.is_none());
        assert_eq!(
            (resumed.anchor_media, resumed.anchor_room),
            (held.anchor_media, start)
        );
        assert_eq!(resumed.lead_in_rate, 0.0);
        assert_eq!((resumed.media, resumed.rate), (held.media, held.rate));
    }

    fn leads() -> Leads {
        Leads {
            arrive: Span::from_millis(100),
            start: Span::from_millis(200),
            seek: Span::from_millis(500),
            load: Span::from_millis(900),
        }
    }

    fn loaded() -> Playback {
        apply_intent(
            None,
            &Intent::Load {
                media_id: "m".into(),
            },
            RoomTime(0),
            leads(),
        )
        .unwrap()
    }

    #[test]
    fn a_start_of_a_new_media_plays_it_from_zero_after_the_load_lead() {
        let start = |media: &str| Intent::Start {
            media_id: media.into(),
        };
        let playing = apply_intent(Some(&loaded()), &Intent::Play, RoomTime(0), leads()).unwrap();
        let next =
            apply_intent(Some(&playing), &start("next"), RoomTime(5_000_000), leads()).unwrap();
        assert_eq!(next.media.as_deref(), Some("next"));
        assert!(next.playing);
        assert_eq!(next.anchor_room, RoomTime(5_900_000));
        assert_eq!(next.position_at(RoomTime(5_900_000)), MediaTime(0));
        assert_eq!(next.position_at(RoomTime(6_900_000)), MediaTime(1_000_000));
        // Where nothing was loaded yet, too; and a link too long is refused like a load's.
        assert!(apply_intent(None, &start("first"), RoomTime(0), leads()).is_ok_and(|p| p.playing));
        let long = "x".repeat(MAX_MEDIA_ID_LEN + 1);
        assert_eq!(
            apply_intent(None, &start(&long), RoomTime(0), leads()),
            Err(IntentError::Invalid)
        );
    }

    #[test]
    fn play_holds_until_the_scheduled_start_then_moves() {
        let p = apply_intent(Some(&loaded()), &Intent::Play, RoomTime(1_000_000), leads()).unwrap();
        assert_eq!(p.position_at(RoomTime(1_100_000)), MediaTime(0));
        assert_eq!(p.position_at(RoomTime(1_200_000)), MediaTime(0));
        assert_eq!(p.position_at(RoomTime(2_200_000)), MediaTime(1_000_000));
    }

    #[test]
    fn pause_keeps_playing_until_it_takes_effect() {
        let playing = apply_intent(Some(&loaded()), &Intent::Play, RoomTime(0), leads()).unwrap();
        let paused = apply_intent(
            Some(&playing),
            &Intent::Pause,
            RoomTime(10_200_000),
            leads(),
        )
        .unwrap();
        // Before the pause lands, the new state agrees with the old one: nobody jumps.
        for t in [10_200_000, 10_250_000, 10_299_999] {
            assert_eq!(
                paused.position_at(RoomTime(t)),
                playing.position_at(RoomTime(t))
            );
        }
        assert_eq!(
            paused.position_at(RoomTime(20_000_000)),
            MediaTime(10_100_000)
        );
    }

    #[test]
    fn rate_change_is_continuous() {
        let playing = apply_intent(Some(&loaded()), &Intent::Play, RoomTime(0), leads()).unwrap();
        let fast = apply_intent(
            Some(&playing),
            &Intent::SetRate(2.0),
            RoomTime(5_000_000),
            leads(),
        )
        .unwrap();
        let at = fast.anchor_room;
        assert_eq!(fast.position_at(at), playing.position_at(at));
        assert_eq!(
            fast.position_at(at + Span::from_secs(1)) - fast.position_at(at),
            Span::from_secs(2)
        );
        assert!(apply_intent(
            Some(&playing),
            &Intent::SetRate(f64::NAN),
            RoomTime(0),
            leads()
        )
        .is_err());
    }

    /// Most writes in one generated history.
    const MAX_WRITES: usize = 20;

    /// One write in a generated history: by which peer, after merging which of the writes sent
    /// before it (concurrency), at which wall time, seeking where.
    #[derive(Clone, Debug)]
    struct Write {
        writer: prop::sample::Index,
        seen: Vec<bool>,
        wall: i64,
        seek_to: i64,
    }

    fn write() -> impl Strategy<Value = Write> {
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(any::<bool>(), MAX_WRITES),
            0..5i64, // many equal walls on purpose
            0..1000i64,
        )
            .prop_map(|(writer, seen, wall, seek_to)| Write {
                writer,
                seen,
                wall,
                seek_to,
            })
    }

    /// Peers, their writes, and for each peer an order to deliver every write in, half of them
    /// twice.
    fn history() -> impl Strategy<Value = (usize, Vec<Write>, Vec<Vec<usize>>)> {
        (2..=5usize, prop::collection::vec(write(), 1..=MAX_WRITES)).prop_flat_map(
            |(peers, writes)| {
                let n = writes.len();
                let order: Vec<usize> = (0..n).chain(0..n / 2).collect();
                let orders = prop::collection::vec(Just(order).prop_shuffle(), peers);
                (Just(peers), Just(writes), orders)
            },
        )
    }

    proptest! {
        #![proptest_config(deterministic(300))]

        /// Property: whatever order a set of concurrent and causal writes is delivered in (with
        /// duplicates), every replica ends on the same state, and it is the largest stamp.
        #[test]
        fn concurrent_writes_converge_whatever_the_delivery_order(
            (peers, writes, orders) in history()
        ) {
            let mut regs: Vec<Register> = (0..peers).map(|_| Register::new()).collect();
            let mut sent: Vec<Versioned> = Vec::new();
            for write in &writes {
                let w = write.writer.index(peers);
                for (s, seen) in sent.iter().zip(&write.seen) {
                    if *seen {
                        regs[w].merge(s.clone());
                    }
                }
                let wall = RoomTime(write.wall);
                let cur = regs[w].get().map(|v| v.playback.clone());
                let p = apply_intent(
                    cur.as_ref(),
                    &Intent::Seek(MediaTime(write.seek_to)),
                    wall,
                    leads(),
                )
                .unwrap_or_else(|_| loaded());
                sent.push(regs[w].write(wall, PeerId(w as u64), p).unwrap());
            }
            let expected = sent.iter().map(|v| v.stamp).max().unwrap();
            for (r, order) in regs.iter_mut().zip(&orders) {
                for &i in order {
                    r.merge(sent[i].clone());
                }
                prop_assert_eq!(r.get().unwrap().stamp, expected);
            }
            let first = regs[0].get().cloned();
            prop_assert!(regs.iter().all(|r| r.get().cloned() == first));
        }
    }

    #[test]
    fn stamps_respect_causality() {
        let mut a = Register::new();
        let mut b = Register::new();
        let va = a.write(RoomTime(1_000), PeerId(9), loaded()).unwrap();
        b.merge(va.clone());
        // b's clock is behind, yet its later write must win.
        let vb = b.write(RoomTime(500), PeerId(1), loaded()).unwrap();
        assert!(vb.stamp > va.stamp);
        a.merge(vb.clone());
        assert_eq!(a.get().unwrap().stamp, vb.stamp);
    }

    /// The saturated-clock attack: a stamp with the largest counter and peer id a wall
    /// minute ahead. The wire refuses counters past [`MAX_COUNTER`]; at the bound, a write
    /// after seeing it still wins, here and at every peer that merges it.
    #[test]
    fn a_write_after_the_largest_counter_still_wins() {
        let mut honest = Register::new();
        let mut other = Register::new();
        let attack = Versioned {
            stamp: Stamp {
                wall: RoomTime(60_000_000),
                counter: MAX_COUNTER,
                peer: PeerId(u64::MAX),
            },
            playback: loaded(),
        };
        assert!(honest.merge(attack.clone()) && other.merge(attack.clone()));
        let mut last = attack.stamp;
        for i in 0..3 {
            let w = honest
                .write(RoomTime(1_000 + i), PeerId(1), loaded())
                .unwrap();
            assert!(w.stamp > last, "{:?} after {last:?}", w.stamp);
            last = w.stamp;
            assert!(other.merge(w.clone()));
            assert_eq!(other.get(), honest.get());
        }
        assert_eq!(
            last.wall,
            RoomTime(60_000_001),
            "the wall moved on by a microsecond"
        );
    }

    /// A writer sending two peers different states under one stamp does not split them: both
    /// keep the same one, whichever arrives first.
    #[test]
    fn two_states_under_one_stamp_converge() {
        let stamp = Stamp {
            wall: RoomTime(5),
            counter: 0,
            peer: PeerId(3),
        };
        let a = Versioned {
            stamp,
            playback: loaded(),
        };
        let mut b = a.clone();
        b.playback.anchor_media = MediaTime(7_000_000);
        let mut x = Register::new();
        let mut y = Register::new();
        x.merge(a.clone());
        x.merge(b.clone());
        y.merge(b.clone());
        y.merge(a.clone());
        assert_eq!(x.get(), y.get());
        // And a local write compares like a merge: it never loses to what it has seen.
        let mut z = Register::new();
        z.merge(a);
        assert!(z.write(RoomTime(5), PeerId(1), loaded()).is_some());
    }
}
