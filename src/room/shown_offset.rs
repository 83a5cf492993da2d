//! A viewer's offset from the room as the people list says it: a number, and how far either
//! way the truth may be from it. Where a viewer's picture is exactly where its frames' times
//! put it (60 fps in Chromium on a 60 Hz screen), "+3 ms" is what the frames say; where it is
//! known only to a refresh (film rates, Firefox: `BrowserKind::picture_within`), a bare "+0 ms"
//! would be the reassuring number issue 19 found lists showing while the viewer sat a frame off,
//! so the list says "+0 ±17 ms"; and with no picture to measure (not playing, a hidden tab) it
//! says so rather than show a number at all.

use super::wire::ViewerStatus;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShownOffset {
    /// From the room, ms (positive: ahead).
    pub ms: f32,
    /// How far either way the true offset may be from `ms`, whole ms (0: exact).
    pub within_ms: u8,
}

impl ShownOffset {
    /// What a viewer's status says of its own offset, if anything.
    pub fn of(status: &ViewerStatus) -> Option<ShownOffset> {
        Some(ShownOffset {
            ms: status.offset_ms.filter(|ms| ms.is_finite())?,
            within_ms: status.offset_within_ms,
        })
    }
}

/// The offset as the people list reads it: "+3 ms", "-2 ±17 ms", or "offset unknown".
pub fn offset_label(offset: Option<ShownOffset>) -> String {
    match offset {
        None => "offset unknown".into(),
        Some(ShownOffset { ms, within_ms: 0 }) => format!("{:+} ms", ms.round() as i64),
        Some(ShownOffset { ms, within_ms }) => {
            format!("{:+} ±{within_ms} ms", ms.round() as i64)
        }
    }
}

/// The room's middle of everyone's picture errors (ms) and how precisely it is known: each
/// viewer's `(error, within)`, the middle one's (the mean of the two middle ones' for an even
/// count). The middle is a viewer's picture, known as precisely as that viewer's: among two
/// exact Chromium pictures and a Firefox one known to a refresh, the room is exact while
/// Firefox's error lies outside theirs, and known to a refresh while it lies between them.
pub fn room_middle(viewers: &[(f64, f64)]) -> Option<(f64, f64)> {
    // The errors alone are sorted, with the sort the app already has: sorting the pairs would
    // add another instance of the standard sort to the first load (1.5 KB gzip).
    let mut errors: Vec<f64> = viewers.iter().map(|v| v.0).collect();
    crate::stats::sort(&mut errors);
    let n = errors.len();
    let middle = match n {
        0 => return None,
        n if n % 2 == 1 => &errors[n / 2..=n / 2],
        n => &errors[n / 2 - 1..=n / 2],
    };
    // Two viewers on the same error: the coarser precision, as either may be the middle.
    let within_of = |error: f64| {
        viewers
            .iter()
            .filter(|v| v.0 == error)
            .fold(0.0, |within: f64, v| within.max(v.1))
    };
    let count = middle.len() as f64;
    Some((
        middle.iter().sum::<f64>() / count,
        middle.iter().map(|&e| within_of(e)).sum::<f64>() / count,
    ))
}

/// A precision as the status carries it: whole ms, rounded up (a bound, not a mean), at most
/// 255 (a picture known only to a quarter second is not in sync at all).
pub fn within_ms(within: crate::sync::Span) -> u8 {
    let ms = (within.as_millis_f64().max(0.0)).ceil();
    ms.min(f64::from(u8::MAX)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::wire::ViewerPhase;
    use crate::sync::Span;

    #[test]
    fn the_list_says_a_number_give_or_take_what_the_picture_allows() {
        let exact = ShownOffset {
            ms: 2.6,
            within_ms: 0,
        };
        assert_eq!(offset_label(Some(exact)), "+3 ms");
        let film = ShownOffset {
            ms: -0.4,
            within_ms: 17,
        };
        assert_eq!(offset_label(Some(film)), "+0 ±17 ms");
        let far = ShownOffset {
            ms: -80.2,
            within_ms: 17,
        };
        // A viewer far off still reads far off: the precision does not hide it.
        assert_eq!(offset_label(Some(far)), "-80 ±17 ms");
        assert_eq!(offset_label(None), "offset unknown");
    }

    #[test]
    fn a_status_gives_its_senders_offset_and_precision() {
        let mut status = ViewerStatus {
            phase: ViewerPhase::Playing,
            offset_ms: Some(-12.0),
            picture_ms: Some(3.0),
            offset_within_ms: 17,
        };
        assert_eq!(
            ShownOffset::of(&status),
            Some(ShownOffset {
                ms: -12.0,
                within_ms: 17
            })
        );
        status.offset_ms = None;
        assert_eq!(ShownOffset::of(&status), None);
    }

    #[test]
    fn the_rooms_middle_is_as_precise_as_the_picture_in_the_middle() {
        assert_eq!(room_middle(&[]), None);
        // Firefox (±17) between two exact pictures: the room is Firefox's.
        let room = [(3.0, 0.0), (1.0, 17.0), (-2.0, 0.0)];
        assert_eq!(room_middle(&room), Some((1.0, 17.0)));
        // Firefox at one end: the room is exact.
        let room = [(3.0, 0.0), (9.0, 17.0), (-2.0, 0.0)];
        assert_eq!(room_middle(&room), Some((3.0, 0.0)));
        // Two: their mean, half each's precision.
        let room = [(0.0, 0.0), (10.0, 17.0)];
        assert_eq!(room_middle(&room), Some((5.0, 8.5)));
        // Two on the middle's error: the coarser.
        let room = [(0.0, 0.0), (1.0, 0.0), (1.0, 17.0)];
        assert_eq!(room_middle(&room), Some((1.0, 17.0)));
    }

    #[test]
    fn a_precision_is_rounded_up_to_whole_milliseconds_and_bounded() {
        assert_eq!(within_ms(Span::ZERO), 0);
        assert_eq!(within_ms(Span::from_micros(16_667)), 17);
        assert_eq!(within_ms(Span::from_micros(16_000)), 16);
        assert_eq!(within_ms(Span::from_secs(3)), 255);
        assert_eq!(within_ms(Span(-5)), 0);
    }
}
