//! Learning how long this player's seeks and starts take, so that plans leave room for them.
//!
//! Seek latencies are learned from past seeks (until this player made one, from the peers that
//! have), so that a seek's own latency is never counted as drift. The player times its own
//! starts ([`crate::sync::start_lead`]); what they are left late by is learned here, for the
//! margins only. Dated measurements behind these rules: `docs/measurements/controller.md`.

use super::Observation;
use crate::num::Clamp;
use crate::sync::time::{LocalTime, MediaTime, Span};

/// A seek this close to where the player stands finds its frames decoded already and lands
/// far sooner than one across the media: learned from, it would have the room plan the next
/// seek's start too soon, and every viewer call `play()` mid-seek and start late.
const NEARBY_SEEK: Span = Span::from_millis(500);
/// A seek shows the frame its target falls in, which begins up to a frame earlier (42 ms at
/// 24 fps). Such a frame is the seek's landing: were it not taken as one, the seek would count
/// as done only at the next paused report, and every seek latency learned would be too long
/// by up to the report interval.
const SEEK_LANDS_BEFORE: Span = Span::from_millis(45);
/// What a seek across the media is guessed to take before one was measured: room for a slow
/// server (its margin, [`Latency::high`], is about half a second).
const SEEK_LATENCY_GUESS: Span = Span::from_millis(200);
/// The least margin a seek is planned with until this player measured [`SEEKS_TO_TRUST`] of
/// its own: one seek says little of the next, and a margin taken from one quick seek makes
/// every viewer start late and spend a second or more catching up. Starting 0.1 s later costs
/// the room less than that.
const SEEK_MARGIN_FLOOR: Span = Span::from_millis(250);
/// Own seeks after which their spread is known well enough to plan without the floor.
const SEEKS_TO_TRUST: u32 = 3;
/// What a start is guessed to be left late by, before one was measured.
const START_LATENESS_GUESS: Span = Span::from_millis(30);

/// Running mean and mean deviation of a latency, for planning ahead with a safe margin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Latency {
    mean: f64,
    dev: f64,
    n: u32,
    /// Smallest value learned, µs.
    floor: f64,
}

impl Latency {
    fn new(guess: Span) -> Latency {
        Latency {
            mean: guess.0 as f64,
            dev: guess.0 as f64 / 2.0,
            n: 0,
            floor: 0.0,
        }
    }
    /// A latency that may come out negative: the residual of a player that compensates its
    /// own start delay (the browser glue calls `play()` early by what it measured). Clamped at
    /// zero, every early start would be forgotten and every late one kept, so the mean would
    /// creep up and every start would come early by it.
    fn residual(guess: Span) -> Latency {
        Latency {
            floor: -500_000.0,
            ..Latency::new(guess)
        }
    }
    fn update(&mut self, x: Span) {
        let x = (x.0 as f64).clamp_to(self.floor, 5e6);
        if self.n == 0 {
            self.mean = x;
            self.dev = x.abs() / 4.0;
        } else {
            let a = (1.0 / (self.n as f64 + 1.0)).max(0.2);
            let err = x - self.mean;
            self.mean += a * err;
            self.dev += a * (err.abs() - self.dev);
        }
        self.n = self.n.saturating_add(1);
    }
    /// Expected latency.
    fn mean(&self) -> Span {
        Span(self.mean as i64)
    }
    /// A latency rarely exceeded.
    fn high(&self) -> Span {
        Span((self.mean + 3.0 * self.dev) as i64) + Span::from_millis(20)
    }
}

/// What seeks across the media take on this player: learned from its own, or, until it made
/// one, taken from the peers that have (told in their hellos), or else a guess. Peers watch
/// the same media, most often from the same server, so a peer's measured seek says more of ours
/// than a guess made for any server: without it, the room would plan its first seek with the
/// guess's half-second margin even when a viewer had measured a fifth of that.
#[derive(Clone, Copy, Debug, PartialEq)]
struct SeekLatency {
    own: Latency,
    /// The largest margin a peer measured on this media.
    told: Option<Span>,
}

impl SeekLatency {
    fn new() -> SeekLatency {
        SeekLatency {
            own: Latency::new(SEEK_LATENCY_GUESS),
            told: None,
        }
    }

    /// Our own margin, once we measured a seek: what we tell peers.
    fn measured(&self) -> Option<Span> {
        (self.own.n > 0).then(|| self.own.high())
    }

    /// The margin to plan a seek with.
    fn high(&self) -> Span {
        let margin = self.measured().or(self.told).unwrap_or(self.own.high());
        if self.own.n >= SEEKS_TO_TRUST {
            margin
        } else {
            margin.max(SEEK_MARGIN_FLOOR)
        }
    }
}

/// A seek issued and not yet seen to land.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PendingSeek {
    target: MediaTime,
    issued: LocalTime,
    /// Whether its latency says anything of the next seeks (see [`NEARBY_SEEK`]).
    telling: bool,
}

/// The latencies learned, and the seek under way that is being timed.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Latencies {
    seek: SeekLatency,
    start: Latency,
    pending: Option<PendingSeek>,
    /// When the last seek landed (its first frame), until the next seek is issued.
    landed: Option<LocalTime>,
}

impl Latencies {
    pub(super) fn new() -> Latencies {
        Latencies {
            seek: SeekLatency::new(),
            start: Latency::residual(START_LATENESS_GUESS),
            pending: None,
            landed: None,
        }
    }

    /// Another media was loaded, perhaps from another server: what our seeks take is unknown
    /// (the peers' tell us anew with their next hellos), and a seek under way is moot.
    pub(super) fn new_media(&mut self) {
        self.seek.own = Latency::new(SEEK_LATENCY_GUESS);
        self.pending = None;
    }

    /// A seek to `to` was issued at `now`, the player last seen at `from`.
    pub(super) fn seek_issued(&mut self, now: LocalTime, to: MediaTime, from: Option<MediaTime>) {
        self.pending = Some(PendingSeek {
            target: to,
            issued: now,
            telling: from.is_some_and(|from| (from - to).abs() > NEARBY_SEEK),
        });
        self.landed = None;
    }

    /// Whether a seek we asked for has not shown its first frame yet.
    pub(super) fn seeking(&self) -> bool {
        self.pending.is_some()
    }

    /// Takes an observation while a seek may be under way; `false` while the seek has not
    /// landed (the observation says nothing of the timeline yet). The first frame at or just
    /// before the target lands it, and its latency is learned, net of any motion since.
    pub(super) fn seek_settled_by(&mut self, obs: Observation) -> bool {
        let Some(s) = self.pending else {
            return true;
        };
        let d = obs.media_time - s.target;
        if obs.presented_at < s.issued || d < -SEEK_LANDS_BEFORE || d > Span::from_secs(1) {
            return false;
        }
        let landed = obs.presented_at - Span(d.0.max(0));
        if s.telling {
            self.seek.own.update(landed - s.issued);
        }
        self.pending = None;
        self.landed = Some(landed);
        true
    }

    /// A start was seen: the media began moving at `started`, asked to at `play_at`. Its
    /// lateness counts from when the player could first start: the later of the command's
    /// instant and the seek's landing.
    pub(super) fn started(&mut self, started: LocalTime, play_at: LocalTime) {
        let ready = self.landed.map_or(play_at, |l| l.max(play_at));
        self.start.update(started - ready);
    }

    /// The margin a seek is planned with.
    pub(super) fn seek_margin(&self) -> Span {
        self.seek.high()
    }

    /// What a start is expected to be left late by.
    pub(super) fn start_lateness(&self) -> Span {
        self.start.mean()
    }

    /// Time this player needs to be ready for a start that needs a seek. Never negative,
    /// though starts may be learned as early: a player that starts early needs no less time
    /// to seek, and peers refuse a negative margin (`WireMessage::validate`).
    pub(super) fn prep(&self) -> Span {
        (self.seek.high() + self.start.high()).max(Span::ZERO)
    }

    /// How long a seek across the media took this player, rarely exceeded, once it has made
    /// one on the media loaded.
    pub(super) fn measured_seek(&self) -> Option<Span> {
        self.seek.measured()
    }

    /// The largest seek margin among the peers, if any has measured one on this media.
    pub(super) fn set_told_seek(&mut self, told: Option<Span>) {
        self.seek.told = told;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(media_ms: i64, at_ms: i64) -> Observation {
        Observation {
            media_time: MediaTime(media_ms * 1000),
            presented_at: LocalTime(at_ms * 1000),
        }
    }

    #[test]
    fn a_seek_lands_on_the_frame_its_target_falls_in() {
        let mut l = Latencies::new();
        l.seek_issued(LocalTime(0), MediaTime(60_000_000), Some(MediaTime(0)));
        assert!(l.seeking());
        // Still the old position: under way.
        assert!(!l.seek_settled_by(obs(0, 50)));
        // The frame 13 ms before the target: landed, and learned.
        assert!(l.seek_settled_by(obs(59_987, 120)));
        assert!(!l.seeking());
        assert_eq!(
            l.measured_seek(),
            Some(
                Latency {
                    mean: 120_000.0,
                    dev: 30_000.0,
                    n: 1,
                    floor: 0.0
                }
                .high()
            )
        );
    }

    #[test]
    fn a_nearby_seek_is_not_learned_from() {
        let mut l = Latencies::new();
        l.seek_issued(LocalTime(0), MediaTime(100_000), Some(MediaTime(0)));
        assert!(l.seek_settled_by(obs(100, 10)));
        assert_eq!(l.measured_seek(), None);
    }

    /// As many seeks across the media as it takes to trust them, each landing `ms` later.
    fn measure_seeks(l: &mut Latencies, ms: i64) {
        for i in 0..SEEKS_TO_TRUST as i64 {
            let at = i * 10_000;
            l.seek_issued(
                LocalTime(at * 1000),
                MediaTime(60_000_000),
                Some(MediaTime(0)),
            );
            assert!(l.seek_settled_by(obs(60_000, at + ms)));
        }
    }

    #[test]
    fn seeks_are_planned_with_the_floor_until_enough_are_measured() {
        let mut l = Latencies::new();
        l.set_told_seek(Some(Span::from_millis(100)));
        assert_eq!(l.seek_margin(), SEEK_MARGIN_FLOOR);
        measure_seeks(&mut l, 50);
        // Three quick seeks of 50 ms: the margin is their own, below the floor.
        assert!(l.seek_margin() < SEEK_MARGIN_FLOOR, "{:?}", l.seek_margin());
        // Another media: unknown again.
        l.new_media();
        assert_eq!(l.measured_seek(), None);
        assert_eq!(l.seek_margin(), SEEK_MARGIN_FLOOR);
    }

    /// Found by the `sync_engine` fuzz target: starts that came early made the announced
    /// preparation negative, and every peer refused this player's hellos.
    #[test]
    fn preparation_is_never_negative_however_early_starts_are() {
        let mut l = Latencies::new();
        // Quick seeks, trusted once measured...
        measure_seeks(&mut l, 30);
        // ...and starts that always come half a second early.
        for i in 0..50 {
            let play_at = 1_000_000_000 + 1_000_000 * i;
            l.started(LocalTime(play_at - 500_000), LocalTime(play_at));
        }
        assert!(l.start_lateness() < Span::ZERO);
        assert!(l.prep() >= Span::ZERO, "{:?}", l.prep());
    }

    #[test]
    fn an_early_start_is_learned_as_early() {
        let mut l = Latencies::new();
        l.started(LocalTime(990_000), LocalTime(1_000_000));
        assert_eq!(l.start_lateness(), Span::from_millis(-10));
    }
}
