//! Smart volume, as SharePlay does it: while anyone else in the call speaks, the film is
//! lowered, so voices are heard over it and the microphones pick up less of it to echo back.
//!
//! The gain moves linearly in dB: a quick attack, so the first word is not lost under the film,
//! and a gentle release, so the film does not pump back up between sentences.

use crate::sync::LocalTime;

/// How far the film is lowered under a voice: clearly under speech, still followed.
pub const DUCK_DB: f64 = -12.0;
/// Time from untouched to fully lowered once someone speaks.
pub const ATTACK_MS: f64 = 50.0;
/// Time from fully lowered back to untouched once nobody speaks.
pub const RELEASE_MS: f64 = 600.0;

/// Linear gain of a level in dB (0 dB → 1.0). NaN leaves the sound untouched (1.0).
pub fn db_to_gain(db: f64) -> f64 {
    if db.is_nan() {
        1.0
    } else {
        10f64.powf(db / 20.0)
    }
}

/// The film's gain under the call's voices.
#[derive(Debug, Clone, Default)]
pub struct Ducker {
    /// Current attenuation, between [`DUCK_DB`] and 0.
    db: f64,
    last: Option<LocalTime>,
}

impl Ducker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The film's linear gain now, without moving it.
    pub fn gain(&self) -> f64 {
        db_to_gain(self.db)
    }

    /// Moves the gain toward lowered while `anyone_speaking` (and smart volume is `enabled`),
    /// toward untouched otherwise, and returns it: 1.0 untouched, `db_to_gain(DUCK_DB)` fully
    /// lowered. The first call and a `now` before the latest one do not move it; a long gap
    /// completes the ramp, as the time has passed.
    pub fn update(&mut self, now: LocalTime, anyone_speaking: bool, enabled: bool) -> f64 {
        let elapsed_ms = match self.last {
            Some(last) if now > last => (now - last).as_millis_f64(),
            _ => 0.0,
        };
        self.last = Some(self.last.map_or(now, |last| last.max(now)));
        self.db = if anyone_speaking && enabled {
            (self.db + DUCK_DB * elapsed_ms / ATTACK_MS).max(DUCK_DB)
        } else {
            (self.db - DUCK_DB * elapsed_ms / RELEASE_MS).min(0.0)
        };
        self.gain()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_cases::deterministic;
    use proptest::prelude::*;

    fn at(ms: f64) -> LocalTime {
        LocalTime::from_millis_f64(ms)
    }

    fn db(gain: f64) -> f64 {
        20.0 * gain.log10()
    }

    #[test]
    fn quick_attack_gentle_release_and_a_switch() {
        let mut duck = Ducker::new();
        // (ms, someone speaking, smart volume on, the film's level after in dB)
        let script = [
            (1000.0, true, true, 0.0), // the first call moves nothing
            (1025.0, true, true, -6.0),
            (1050.0, true, true, DUCK_DB),
            (5000.0, true, true, DUCK_DB),
            (5300.0, false, true, -6.0),
            (5600.0, false, true, 0.0),
            (5700.0, true, true, DUCK_DB),
            (6000.0, true, false, -6.0), // switched off: released gently, then left alone
            (9000.0, true, false, 0.0),
            (5.0, true, true, 0.0),          // time going back moves nothing
            (60_000.0, true, true, DUCK_DB), // a long gap completes the ramp
        ];
        for (ms, speaking, on, want) in script {
            let got = db(duck.update(at(ms), speaking, on));
            assert!((got - want).abs() < 1e-9, "at {ms} ms: {got} dB");
        }
        assert!((db_to_gain(DUCK_DB) - 0.2512).abs() < 1e-4);
        assert_eq!(db_to_gain(f64::NAN), 1.0);
    }

    proptest! {
        #![proptest_config(deterministic(256))]

        /// Property: the gain stays within [lowered, 1], falls only while someone speaks with
        /// smart volume on, rises only otherwise, and never faster than its ramp.
        #[test]
        fn gain_stays_in_range_and_moves_the_right_way(
            steps in prop::collection::vec((-100i64..2000, any::<bool>(), any::<bool>()), 1..100)
        ) {
            let mut ducker = Ducker::new();
            let (mut now, mut gain, mut last) = (0i64, 1.0, None::<i64>);
            for (step, speaking, enabled) in steps {
                now += step;
                let next = ducker.update(at(now as f64), speaking, enabled);
                prop_assert!((db_to_gain(DUCK_DB) - 1e-12..=1.0).contains(&next));
                let elapsed = last.map_or(0, |l| (now - l).max(0)) as f64;
                if speaking && enabled {
                    prop_assert!(next <= gain);
                    prop_assert!(db(gain) - db(next) <= -DUCK_DB / ATTACK_MS * elapsed + 1e-9);
                } else {
                    prop_assert!(next >= gain);
                    prop_assert!(db(next) - db(gain) <= -DUCK_DB / RELEASE_MS * elapsed + 1e-9);
                }
                gain = next;
                last = Some(last.map_or(now, |l| l.max(now)));
            }
        }
    }
}
