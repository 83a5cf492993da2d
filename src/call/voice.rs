//! Who is speaking: a level meter and a voice-activity rule with hysteresis, fed about every
//! 20 ms with the level of one stream.
//!
//! It drives what a person notices, the speaking ring on a tile and smart volume: both suffer
//! more from flapping than from a little delay, so a sound must last a moment before it counts
//! and a pause between words does not end it. The thresholds follow a slow noise floor, so a
//! fan or a steady tone stops counting after a few seconds, while a few seconds of speech still
//! count.

use crate::num::Clamp;
use crate::sync::LocalTime;

/// The level of silence, and of anything quieter: a finite floor instead of −∞.
pub const SILENCE_DBFS: f64 = -100.0;
/// The ring is empty at this level: below it is room noise, not a voice.
pub const RING_EMPTY_DBFS: f64 = -60.0;
/// The ring is full at this level: loud speech close to the microphone.
pub const RING_FULL_DBFS: f64 = -20.0;
/// Speech starts no lower than this, whatever the floor: talk after the microphone's automatic
/// gain sits above it, a quiet room below it.
pub const ON_DBFS: f64 = -45.0;
/// Speech must also stand this far above the noise floor, so a steady hum stops counting.
pub const ON_ABOVE_FLOOR_DB: f64 = 10.0;
/// Speech ends only this far below the onset threshold, so a voice hovering near it does not
/// flap.
pub const RELEASE_BELOW_ON_DB: f64 = 6.0;
/// The level must stay at or above the onset this long before it counts: a click or a knock is
/// shorter. (The glue's analyser window should be shorter than this too, or one click spans
/// several frames.)
pub const ONSET_MS: f64 = 40.0;
/// The level must stay below the release this long before speech ends: longer than the pause
/// between words.
pub const HANGOVER_MS: f64 = 300.0;
/// How fast the noise floor climbs toward a steady level. Slow enough that 3 s of unbroken quiet
/// speech (−40 dBFS) still counts; a fan at −30 dBFS stops counting after about 7 s. It falls at
/// once to any quieter frame, so the dips between words keep it low while someone talks.
const FLOOR_RISE_DB_PER_SEC: f64 = 3.0;
/// The floor is not tracked below this: any lower floor gives the same thresholds, and would
/// only make a hum take longer to learn.
const FLOOR_MIN_DBFS: f64 = ON_DBFS - ON_ABOVE_FLOOR_DB;
/// Frames further apart than this do not make one run: an onset or a release must be seen, not
/// assumed across missing frames (a busy main thread, a throttled tab).
const MAX_FRAME_GAP_MS: f64 = 100.0;

/// RMS level of time-domain samples (−1..1) in dBFS, at least [`SILENCE_DBFS`]. Samples that
/// are not finite are ignored; no samples at all is silence.
pub fn rms_dbfs(samples: &[f32]) -> f64 {
    let finite = samples
        .iter()
        .filter(|s| s.is_finite())
        .map(|&s| f64::from(s));
    let (sum, count) = finite.fold((0.0, 0usize), |(sum, n), s| (sum + s * s, n + 1));
    // log10 of 0 is −∞ and 0/0 is NaN: both end at the floor through f64::max.
    (10.0 * (sum / count as f64).log10()).max(SILENCE_DBFS)
}

/// How full the speaking ring is, 0..1, linear in dB between [`RING_EMPTY_DBFS`] and
/// [`RING_FULL_DBFS`]; NaN is empty.
pub fn ring_level(level_dbfs: f64) -> f64 {
    let share = (level_dbfs - RING_EMPTY_DBFS) / (RING_FULL_DBFS - RING_EMPTY_DBFS);
    if share.is_nan() {
        0.0
    } else {
        share.clamp_to(0.0, 1.0)
    }
}

/// Whether one stream carries speech now.
#[derive(Debug, Clone)]
pub struct VoiceActivity {
    speaking: bool,
    floor_dbfs: f64,
    last: Option<LocalTime>,
    /// Start of the current run of frames arguing for a change (loud while silent, quiet while
    /// speaking).
    run_since: Option<LocalTime>,
}

impl Default for VoiceActivity {
    fn default() -> Self {
        Self::new()
    }
}

impl VoiceActivity {
    pub fn new() -> Self {
        VoiceActivity {
            speaking: false,
            floor_dbfs: FLOOR_MIN_DBFS,
            last: None,
            run_since: None,
        }
    }

    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// Feeds the level measured at `now` and says whether the stream is speaking. A `now`
    /// before the previous one is ignored; NaN is silence.
    pub fn update(&mut self, now: LocalTime, level_dbfs: f64) -> bool {
        let level = if level_dbfs.is_nan() {
            SILENCE_DBFS
        } else {
            level_dbfs.clamp_to(SILENCE_DBFS, 0.0)
        };
        let gap_ms = match self.last {
            Some(last) if now < last => return self.speaking,
            Some(last) => (now - last).as_millis_f64(),
            None => 0.0,
        };
        self.last = Some(now);
        if gap_ms > HANGOVER_MS {
            // Unseen for longer than the hangover: whether the voice went on is unknown, and
            // claiming it did would hold the film ducked on stale evidence.
            self.speaking = false;
        }
        if gap_ms > MAX_FRAME_GAP_MS {
            self.run_since = None;
        }
        self.floor_dbfs = if level < self.floor_dbfs {
            level.max(FLOOR_MIN_DBFS)
        } else {
            let rise = FLOOR_RISE_DB_PER_SEC * gap_ms.min(MAX_FRAME_GAP_MS) / 1000.0;
            (self.floor_dbfs + rise).min(level)
        };
        let onset = ON_DBFS.max(self.floor_dbfs + ON_ABOVE_FLOOR_DB);
        let (argues_for_change, needed_ms) = if self.speaking {
            (level < onset - RELEASE_BELOW_ON_DB, HANGOVER_MS)
        } else {
            (level >= onset, ONSET_MS)
        };
        if !argues_for_change {
            self.run_since = None;
            return self.speaking;
        }
        let since = *self.run_since.get_or_insert(now);
        if (now - since).as_millis_f64() >= needed_ms {
            self.speaking = !self.speaking;
            self.run_since = None;
        }
        self.speaking
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_cases::deterministic;
    use proptest::prelude::*;

    const FRAME_MS: f64 = 20.0;

    /// Feeds `levels` one frame apart from `start_ms`; returns the speaking state after each.
    fn feed(vad: &mut VoiceActivity, start_ms: f64, levels: &[f64]) -> Vec<bool> {
        let at = |i: usize| LocalTime::from_millis_f64(start_ms + i as f64 * FRAME_MS);
        levels
            .iter()
            .enumerate()
            .map(|(i, &l)| vad.update(at(i), l))
            .collect()
    }

    #[test]
    fn levels_and_ring() {
        for silent in [&[][..], &[0.0; 64], &[f32::NAN, f32::INFINITY], &[1e-30; 4]] {
            assert_eq!(rms_dbfs(silent), SILENCE_DBFS);
        }
        assert!(rms_dbfs(&[1.0, -1.0, f32::NAN]).abs() < 1e-9);
        assert!((rms_dbfs(&[0.1; 8]) + 20.0).abs() < 1e-6);
        let rings = [-80.0, -40.0, 0.0, f64::NAN].map(ring_level);
        assert_eq!(rings, [0.0, 0.5, 1.0, 0.0]);
    }

    #[test]
    fn a_click_is_not_speech_but_a_word_is_and_a_pause_does_not_end_it() {
        let mut vad = VoiceActivity::new();
        let click = feed(&mut vad, 0.0, &[-100.0, -15.0, -15.0, -100.0, -100.0]);
        assert!(!click.contains(&true), "20 ms of loudness is a click");
        // A word: speaking once 40 ms of it were seen (the third loud frame).
        assert_eq!(
            feed(&mut vad, 1000.0, &[-25.0; 4]),
            [false, false, true, true]
        );
        // A 200 ms pause between words keeps speaking; a silence ends it after 300 ms.
        assert!(!feed(&mut vad, 1080.0, &[-70.0; 10]).contains(&false));
        assert!(!feed(&mut vad, 1280.0, &[-25.0; 3]).contains(&false));
        let end = feed(&mut vad, 1340.0, &[-70.0; 20]);
        assert_eq!(end.iter().position(|&s| !s), Some(15), "300 ms after");
    }

    #[test]
    fn speech_bursts_between_silences_are_each_detected() {
        let mut vad = VoiceActivity::new();
        for start in [0.0, 5000.0, 10_000.0, 15_000.0] {
            let talk = feed(&mut vad, start, &[-30.0; 150]); // 3 s
            assert!(!talk[2..].contains(&false), "burst at {start} held for 3 s");
            assert!(!feed(&mut vad, start + 3000.0, &[-90.0; 100])[99], "ended");
        }
    }

    #[test]
    fn gaps_and_backwards_time_make_no_state() {
        let mut vad = VoiceActivity::new();
        // A throttled tab sampling once a second never sees 40 ms of evidence.
        for second in 0..10 {
            assert!(!vad.update(LocalTime::from_secs_f64(f64::from(second)), -20.0));
        }
        assert!(feed(&mut vad, 20_000.0, &[-20.0; 3])[2]);
        // A reading from the past changes nothing; a long gap drops stale speech.
        assert!(vad.update(LocalTime::from_millis_f64(0.0), -100.0));
        assert!(!vad.update(LocalTime::from_millis_f64(30_000.0), -100.0));
    }

    proptest! {
        #![proptest_config(deterministic(64))]

        /// Property: a steady sound, however loud, stops counting as speech once the floor has
        /// climbed to it (a fan's level within 8 s, full scale within 20 s), and does not start
        /// again.
        #[test]
        fn a_steady_hum_is_not_speech_forever(level in -45.0f64..0.0) {
            let mut vad = VoiceActivity::new();
            let limit_ms = if level <= -30.0 { 8_000.0 } else { 20_000.0 };
            let states = feed(&mut vad, 0.0, &[level; 1500]);
            for (i, speaking) in states.iter().enumerate() {
                prop_assert!(!(*speaking && i as f64 * FRAME_MS > limit_ms), "frame {}", i);
            }
        }

        /// Property: whatever the levels and steps (gaps, repeats, going back), speech begins
        /// only after at least ONSET_MS of frames at or above ON_DBFS, none missing.
        #[test]
        fn speech_needs_an_onset_run(
            frames in prop::collection::vec((-50i32..400, prop_oneof![
                -100.0f64..0.0, Just(f64::NAN), Just(f64::INFINITY)]), 1..300)
        ) {
            let mut vad = VoiceActivity::new();
            let (mut now, mut last_seen) = (0.0f64, None::<f64>);
            let mut run_since: Option<f64> = None;
            for (step, level) in frames {
                now += f64::from(step);
                let before = vad.is_speaking();
                let after = vad.update(LocalTime::from_millis_f64(now), level);
                if last_seen.is_some_and(|last| now < last) {
                    prop_assert_eq!(before, after);
                    continue;
                }
                let broken = last_seen.is_some_and(|last| now - last > MAX_FRAME_GAP_MS);
                last_seen = Some(now);
                let loud = level >= ON_DBFS;
                if broken || !loud {
                    run_since = None;
                }
                if loud {
                    run_since.get_or_insert(now);
                }
                if !before && after {
                    prop_assert!(run_since.is_some_and(|s| now - s >= ONSET_MS - 0.01));
                }
            }
        }
    }
}
