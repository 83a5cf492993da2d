//! One reaction: who sent it (an id that is also the key for deduplication), which of the six,
//! and the media time of the frame the sender saw when they sent it.

use crate::signaling::payload::SessionId;
use crate::sync::MediaTime;
use serde::{Deserialize, Serialize};

/// The latest media time a reaction may carry: 48 hours, beyond any film. A peer's reaction
/// outside `0..=MAX_MEDIA_TIME` is refused (the honest client only sends frames' times).
pub const MAX_MEDIA_TIME: MediaTime = MediaTime::from_micros(48 * 3600 * 1_000_000);

/// The six reactions. Their order is the keys 1 to 6 and the buttons' order; the wire carries
/// the variant's index, so an unknown kind does not decode (and is counted as malformed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReactionKind {
    Laugh,
    Love,
    Wow,
    Sad,
    Clap,
    Fire,
}

impl ReactionKind {
    pub const ALL: [ReactionKind; 6] = [
        ReactionKind::Laugh,
        ReactionKind::Love,
        ReactionKind::Wow,
        ReactionKind::Sad,
        ReactionKind::Clap,
        ReactionKind::Fire,
    ];

    /// The button's accessible name: what the emoji means.
    pub fn name(self) -> &'static str {
        match self {
            ReactionKind::Laugh => "Laugh",
            ReactionKind::Love => "Love",
            ReactionKind::Wow => "Wow",
            ReactionKind::Sad => "Sad",
            ReactionKind::Clap => "Clap",
            ReactionKind::Fire => "Fire",
        }
    }

    pub fn emoji(self) -> &'static str {
        match self {
            ReactionKind::Laugh => "😂",
            ReactionKind::Love => "❤️",
            ReactionKind::Wow => "😮",
            ReactionKind::Sad => "😢",
            ReactionKind::Clap => "👏",
            ReactionKind::Fire => "🔥",
        }
    }

    /// The key that sends it: "1" to "6".
    pub fn key(self) -> &'static str {
        ["1", "2", "3", "4", "5", "6"][self as usize]
    }

    /// The reaction a key sends: "1" to "6", in the buttons' order.
    pub fn from_key(key: &str) -> Option<ReactionKind> {
        let digit = key.strip_prefix(|c: char| ('1'..='6').contains(&c))?;
        if !digit.is_empty() {
            return None;
        }
        let index = key.as_bytes()[0] - b'1';
        Some(ReactionKind::ALL[usize::from(index)])
    }
}

/// The reaction bar's markup, static so that the first download carries one string rather
/// than the code to build six buttons (`ui::reactions`): each button named after its emoji's
/// meaning, with its key as its value, and the "Show reactions" switch.
pub const BAR_HTML: &str = concat!(
    r#"<button type="button" class="reaction-button" value="1" aria-label="Laugh" title="Laugh (1)">😂</button>"#,
    r#"<button type="button" class="reaction-button" value="2" aria-label="Love" title="Love (2)">❤️</button>"#,
    r#"<button type="button" class="reaction-button" value="3" aria-label="Wow" title="Wow (3)">😮</button>"#,
    r#"<button type="button" class="reaction-button" value="4" aria-label="Sad" title="Sad (4)">😢</button>"#,
    r#"<button type="button" class="reaction-button" value="5" aria-label="Clap" title="Clap (5)">👏</button>"#,
    r#"<button type="button" class="reaction-button" value="6" aria-label="Fire" title="Fire (6)">🔥</button>"#,
    r#"<label class="switch"><input type="checkbox" role="switch" id="show-reactions" checked>Show reactions</label>"#,
);

/// A reaction's identity: its sender's session and the sender's count (0, 1, 2…), so copies
/// (a live message and the same reaction in a newcomer's track) are recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReactionId {
    pub session: SessionId,
    pub seq: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub id: ReactionId,
    pub kind: ReactionKind,
    /// The media time of the frame the sender saw.
    pub at: MediaTime,
}

impl Reaction {
    /// Whether its media time is one a film can have.
    pub fn is_sane(&self) -> bool {
        (0..=MAX_MEDIA_TIME.as_micros()).contains(&self.at.as_micros())
    }
}

/// Which video a reaction belongs to, without sending its link (up to 2 KB) with each one: a
/// 64-bit FNV-1a hash of the room's media id, which every page computes alike. A collision
/// only mixes two videos' reactions; a member who crafts one could as well send reactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VideoKey(pub u64);

pub fn video_key(media_id: &str) -> VideoKey {
    VideoKey(crate::programme::ready::media_tag(media_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_one_to_six_send_the_buttons_in_order() {
        let sent: Vec<_> = ["1", "2", "3", "4", "5", "6"]
            .iter()
            .map(|k| ReactionKind::from_key(k))
            .collect();
        assert_eq!(sent, ReactionKind::ALL.map(Some));
        for kind in ReactionKind::ALL {
            assert_eq!(ReactionKind::from_key(kind.key()), Some(kind));
        }
        for other in ["0", "7", "", "11", "a", "١", "Digit1"] {
            assert_eq!(ReactionKind::from_key(other), None, "{other:?}");
        }
        let names = ReactionKind::ALL.map(ReactionKind::name);
        assert_eq!(names, ["Laugh", "Love", "Wow", "Sad", "Clap", "Fire"]);
    }

    #[test]
    fn the_bar_has_each_reaction_named_with_its_key_and_emoji() {
        for kind in ReactionKind::ALL {
            let button = format!(
                r#"value="{}" aria-label="{}" title="{} ({})">{}</button>"#,
                kind.key(),
                kind.name(),
                kind.name(),
                kind.key(),
                kind.emoji()
            );
            assert!(BAR_HTML.contains(&button), "{button}");
        }
        assert_eq!(BAR_HTML.matches("<button").count(), 6);
    }

    #[test]
    fn sane_media_times_are_those_of_a_film() {
        let at = |micros| Reaction {
            id: ReactionId { session: 1, seq: 0 },
            kind: ReactionKind::Wow,
            at: MediaTime::from_micros(micros),
        };
        assert!(at(0).is_sane());
        assert!(at(MAX_MEDIA_TIME.as_micros()).is_sane());
        assert!(!at(-1).is_sane());
        assert!(!at(MAX_MEDIA_TIME.as_micros() + 1).is_sane());
        assert!(!at(i64::MIN).is_sane());
    }

    #[test]
    fn video_keys_are_the_same_everywhere_and_tell_links_apart() {
        // FNV-1a's published test vectors: the key must not depend on the platform.
        assert_eq!(video_key(""), VideoKey(0xcbf2_9ce4_8422_2325));
        assert_eq!(video_key("a"), VideoKey(0xaf63_dc4c_8601_ec8c));
        assert_ne!(
            video_key("https://v.example/a.mp4"),
            video_key("https://v.example/b.mp4")
        );
    }
}
