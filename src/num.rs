//! Number helpers the wasm build wants smaller than the standard library's.

/// `f64::clamp` with a static panic message. The standard one formats both bounds with `Debug`
/// when they are out of order, which alone keeps all of Rust's float printing (~5 KB gzipped)
/// in the wasm. The result is the same for every input (NaN stays NaN, -0.0 stays -0.0), and,
/// like `f64::clamp`, it panics when `min > max` or either bound is NaN.
pub trait Clamp {
    fn clamp_to(self, min: Self, max: Self) -> Self;
}

impl Clamp for f64 {
    #[inline]
    fn clamp_to(self, min: f64, max: f64) -> f64 {
        assert!(min <= max, "clamp_to: min > max, or either was NaN");
        if self < min {
            min
        } else if self > max {
            max
        } else {
            self
        }
    }
}

/// `secs` whole seconds as a clock: `m:ss` under an hour, `h:mm:ss` from one. The one
/// formatting of a time for the stage's elapsed and total and the programme's lengths (each
/// rounds its own way before).
pub fn clock_text(secs: u64) -> String {
    let (hours, minutes, seconds) = (secs / 3600, secs / 60 % 60, secs % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes}:{seconds:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::{clock_text, Clamp};

    #[test]
    fn whole_seconds_read_as_a_clock() {
        for (secs, shown) in [
            (0, "0:00"),
            (9, "0:09"),
            (59, "0:59"),
            (60, "1:00"),
            (599, "9:59"),
            (3599, "59:59"),
            (3600, "1:00:00"),
            (3723, "1:02:03"),
            (36_000, "10:00:00"),
        ] {
            assert_eq!(clock_text(secs), shown, "{secs}");
        }
    }

    #[test]
    fn same_as_the_standard_clamp() {
        let values = [
            f64::NEG_INFINITY,
            -2.5,
            -1.0,
            -0.0,
            0.0,
            0.5,
            1.0,
            7.0,
            f64::INFINITY,
            f64::NAN,
        ];
        for value in values {
            for (min, max) in [(-1.0, 1.0), (0.0, 0.0), (-0.0, 0.0), (0.0, f64::INFINITY)] {
                let ours = value.clamp_to(min, max);
                #[allow(clippy::disallowed_methods)] // the reference
                let std = value.clamp(min, max);
                assert!(
                    ours.to_bits() == std.to_bits() || (ours.is_nan() && std.is_nan()),
                    "{value}.clamp({min}, {max}): {ours} vs {std}"
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "min > max")]
    fn refuses_bounds_out_of_order() {
        1.0.clamp_to(2.0, 1.0);
    }

    #[test]
    #[should_panic(expected = "min > max")]
    fn refuses_nan_bounds() {
        1.0.clamp_to(f64::NAN, 1.0);
    }
}
