//! Medians and percentiles of samples: the one place they are computed, for the engine, the
//! simulator, the benches and the tests.
//!
//! The rule is nearest rank, without interpolation: percentile `p` of `n` sorted values is the
//! value at index `round(p / 100 × (n − 1))` (halves round up). Every result is a value that
//! was measured (a frame offset, a start lead), never an average of two, which matters where
//! values wrap around or come in whole frames. The median is percentile 50: the middle value,
//! and for an even count the upper of the two middle ones.
//!
//! One exception, kept apart under its own name: [`median_interpolated`], the textbook median
//! (the mean of the two middle values for an even count), which the controller's error windows
//! have always used; moving them to the rule above would change how the engine steers.
//!
//! Values sort by `f64::total_cmp`, so a NaN sorts last (after `+inf`) instead of panicking.

/// Sorts `values` into the order the percentiles below expect.
pub fn sort(values: &mut [f64]) {
    values.sort_by(f64::total_cmp);
}

/// Percentile `p` (0–100) of values already sorted by [`sort`]; `None` when there are none or
/// `p` is outside 0–100.
pub fn percentile_of_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    let index = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted.get(index.min(sorted.len() - 1)).copied()
}

/// Percentile `p` (0–100) of `values` in any order (sorts a copy).
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sort(&mut sorted);
    percentile_of_sorted(&sorted, p)
}

/// Several percentiles of `values` in any order, sorting once; `None` when there are none or
/// one `p` is outside 0–100.
pub fn percentiles<const N: usize>(values: &[f64], ps: [f64; N]) -> Option<[f64; N]> {
    let mut sorted = values.to_vec();
    sort(&mut sorted);
    let mut out = [0.0; N];
    for (slot, p) in out.iter_mut().zip(ps) {
        *slot = percentile_of_sorted(&sorted, p)?;
    }
    Some(out)
}

/// The median of `values` in any order: percentile 50 (the upper middle value for an even
/// count); `None` when there are none.
pub fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 50.0)
}

/// The textbook median of `values` in any order: the middle value, and for an even count the
/// mean of the two middle ones (so not always a measured value); `None` when there are none.
/// The controller's windows of errors use it (`sync::samples::recent_median`).
pub fn median_interpolated(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sort(&mut sorted);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[mid]),
        _ => Some((sorted[mid - 1] + sorted[mid]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_a_measured_value_the_upper_middle_for_an_even_count() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(3.0));
        assert_eq!(median(&[1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn the_interpolated_median_averages_the_two_middle_values_of_an_even_count() {
        assert_eq!(median_interpolated(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median_interpolated(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median_interpolated(&[-20.0, 7.0]), Some(-6.5));
        assert_eq!(median_interpolated(&[7.0]), Some(7.0));
        assert_eq!(median_interpolated(&[]), None);
        // For an odd count it is the median.
        let odd = [9.0, -3.0, 4.0, 4.5, 0.0];
        assert_eq!(median_interpolated(&odd), median(&odd));
    }

    #[test]
    fn percentiles_take_the_nearest_rank_without_interpolating() {
        let values: Vec<f64> = (0..=10).rev().map(f64::from).collect();
        assert_eq!(percentile(&values, 0.0), Some(0.0));
        assert_eq!(percentile(&values, 100.0), Some(10.0));
        // 95 % of the way through 11 values: index 9.5, rounded up.
        assert_eq!(percentile(&values, 95.0), Some(10.0));
        assert_eq!(percentile(&values, 94.0), Some(9.0));
        // Never between two values.
        assert_eq!(percentile(&[0.0, 10.0], 40.0), Some(0.0));
        assert_eq!(percentile(&[0.0, 10.0], 60.0), Some(10.0));
        assert_eq!(
            percentiles(&values, [50.0, 95.0, 99.0]),
            Some([5.0, 10.0, 10.0])
        );
    }

    #[test]
    fn bad_input_gives_no_value_rather_than_a_panic() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[1.0], 101.0), None);
        assert_eq!(percentile(&[1.0], -1.0), None);
        assert_eq!(percentile(&[1.0], f64::NAN), None);
        assert_eq!(percentiles(&[1.0], [50.0, 120.0]), None);
        // A NaN sorts last: the median of the rest is unharmed.
        assert_eq!(median(&[f64::NAN, 1.0, 2.0]), Some(2.0));
        assert_eq!(percentile(&[f64::NAN, 1.0, 2.0], 0.0), Some(1.0));
    }
}
