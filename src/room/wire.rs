//! The peer-to-peer wire format: versioned, compact (postcard) and size-bounded.
//!
//! Everything a peer receives is untrusted: decoding never panics, and anything malformed,
//! oversized, of another version or with impossible values is refused with a reason so the
//! caller can drop and count it.

use crate::programme::ready::MAX_NOTE_BYTES;
use crate::sync::wire::WireMessage;
use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change of [`PeerMessage`].
pub const WIRE_VERSION: u8 = 2;
/// Largest message accepted from a peer; chat and sync messages are far smaller.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024;
/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 40;
/// Longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 1000;

/// A display name another member gave, as we show it: [`visible_name`], `None` if that is blank
/// or longer than [`MAX_NAME_CHARS`] (the honest client never sends either).
pub fn normalize_name(name: &str) -> Option<String> {
    let name = visible_name(name);
    (!name.is_empty() && name.chars().count() <= MAX_NAME_CHARS).then_some(name)
}

/// A name with only what a reader sees: no control characters, no bidirectional overrides
/// or marks (which make a name display as other text than it is), no zero-width or blank
/// characters (which make two names look the same, or a name look empty); runs of any
/// whitespace become one space, and the ends are trimmed.
pub fn visible_name(name: &str) -> String {
    let mut visible = String::new();
    for c in name.chars() {
        if c.is_whitespace() {
            if !visible.is_empty() && !visible.ends_with(' ') {
                visible.push(' ');
            }
        } else if !is_invisible(c) {
            visible.push(c);
        }
    }
    visible.truncate(visible.trim_end().len());
    visible
}

/// Characters that show nothing (or change how the rest shows) in a name.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{061C}' // Arabic letter mark
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
            | '\u{180E}' // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}' // zero-width space, non-joiner, joiner; LTR/RTL marks
            | '\u{202A}'..='\u{202E}' // bidirectional embeddings and overrides
            | '\u{2060}'..='\u{206F}' // word joiner, invisible operators, bidi isolates
            | '\u{2800}' // braille blank
            | '\u{FEFF}' // zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotations
            | '\u{E0000}'..='\u{E007F}' // tags
        )
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PeerMessage {
    /// The sender's display name; sent when a link opens and on every rename.
    Profile { name: String },
    /// A chat line.
    Chat { text: String },
    /// How the sender's playback is doing, for everyone's people list.
    Status(ViewerStatus),
    /// The sync engine's own messages (clock samples, playback state).
    Sync(WireMessage),
    /// Whether the sender is in the call and with what; sent when a link opens and on every
    /// change, so tiles show who is muted or has the camera off without reading the media.
    Call(CallPresence),
    /// A piece of the shared queue ("Up next"): an edit, or part of a snapshot for a newcomer,
    /// as a postcard-encoded `programme::Delta`. Opaque here: the queue's code is a download
    /// of its own, fetched when a room first uses it, and decodes and checks the piece entry
    /// by entry when it merges it (`programme::Queue::merge`).
    Queue(Vec<u8>),
    /// What the sender knows of the room's ready check: sent when it opens or first hears of
    /// a check, when the sender is ready or starts anyway, and to each newcomer. A
    /// postcard-encoded `programme::ready::ReadyNote` of a few dozen bytes, opaque here: the
    /// check's code is a download of its own, and decodes and checks it when it merges it.
    Ready(Vec<u8>),
    /// What the sender's browser recorded this room watching (`programme::history`'s text,
    /// newest first, at most `MAX_HISTORY_BYTES`), sent when a link opens, for the others'
    /// Suggested tab. Opaque here like a queue piece: the queue's code reads it row by row.
    Watched(String),
    /// A reaction the sender just sent: a postcard-encoded `reactions::LiveReaction` (at
    /// most `MAX_LIVE_BYTES`). Opaque here like a queue piece: the reactions' code is a
    /// download of its own, which decodes and checks it.
    React(Vec<u8>),
    /// The sender's reaction track of the current video, for a newcomer, sent when a link
    /// opens: a postcard-encoded `reactions::TrackMessage` (at most 256 reactions, 5.6 KB).
    ReactionTrack(Vec<u8>),
    /// The party's host: a postcard-encoded `room::host::HostMessage`, a signed statement (a
    /// member's key, host controls, a grant, a handover, or a controller vouching for a state
    /// or queue piece) or a request for the remote. Opaque here, like `Queue`: the host's code
    /// is a download of its own and decodes and checks it (`HostMessage::decode`, then the
    /// signature, then the rules) before anything acts on it.
    Host(Vec<u8>),
}

/// The sender's place in the call, as the others' tiles show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CallPresence {
    pub joined: bool,
    /// The microphone is off (muted, or not shared at all).
    pub muted: bool,
    /// The camera is sending.
    pub camera: bool,
    /// The height, in CSS pixels, of the largest tile the sender shows: senders scale their
    /// camera to what their receivers display.
    pub tile_px: u16,
}

/// Largest picture error ([`ViewerStatus::picture_ms`]) a sender can mean, ms: a player further
/// off than this is not in sync at all, and no median should count it.
pub const MAX_PICTURE_MS: f32 = 600_000.0;

/// A viewer's state as shown to the others.
///
/// `picture_ms`, then `offset_within_ms`, came after the others: they are the last fields, and a
/// status from a sender that does not know one (it ends before) reads as `None` and 0. A sender
/// that does sends them after the rest, which a receiver that does not know them never reads
/// (postcard ignores what follows a message). So all versions keep working with each other
/// within one [`WIRE_VERSION`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ViewerStatus {
    pub phase: ViewerPhase,
    /// The offset the sender shows for itself, in milliseconds: its picture's error less the
    /// room's median of them (what a receiver that ignores `picture_ms` shows for it).
    pub offset_ms: Option<f32>,
    /// The sender's picture's own error from the room's timeline, ms (positive: ahead), with no
    /// room median taken off: what each viewer's offset from the room is worked out from
    /// (`room::people::offset_from_room`). `None`: not measured (not playing, no frames shown for
    /// a while, a hidden tab), or a sender from before this field.
    pub picture_ms: Option<f32>,
    /// How far, either way, `offset_ms` may be from the truth, whole ms: 0 where the sender's
    /// picture is where its frames' times put it, a refresh where it is not (film rates, Firefox:
    /// `BrowserKind::picture_within`). Last, after `picture_ms` and read as it is: 0 from a sender
    /// from before it.
    pub offset_within_ms: u8,
}

impl<'de> Deserialize<'de> for ViewerStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct(
            "ViewerStatus",
            &["phase", "offset_ms", "picture_ms", "offset_within_ms"],
            StatusVisitor,
        )
    }
}

/// Reads a [`ViewerStatus`] with or without its last field (see there).
struct StatusVisitor;

impl<'de> serde::de::Visitor<'de> for StatusVisitor {
    type Value = ViewerStatus;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a viewer status")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ViewerStatus, A::Error> {
        use serde::de::Error;
        let phase = seq
            .next_element()?
            .ok_or_else(|| A::Error::invalid_length(0, &self))?;
        let offset_ms = seq
            .next_element()?
            .ok_or_else(|| A::Error::invalid_length(1, &self))?;
        // The message ends here when the sender is older than the field: unknown. The status is
        // the last thing in a message, so nothing is left unread behind a failed read.
        let picture_ms = seq.next_element().ok().flatten();
        let offset_within_ms = match picture_ms {
            Some(_) => seq.next_element().ok().flatten().unwrap_or(0),
            None => 0,
        };
        Ok(ViewerStatus {
            phase,
            offset_ms,
            picture_ms: picture_ms.flatten(),
            offset_within_ms,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ViewerPhase {
    Idle,
    Loading,
    Paused,
    Playing,
    Buffering,
    AutoplayBlocked,
    /// The video failed to load or play here, for this reason.
    Failed(MediaFailure),
}

/// Why the video failed for a viewer, as the others are told it: a code, never the browser's
/// own words, which could tell a member something about the viewer's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MediaFailure {
    Aborted,
    Network,
    Undecodable,
    /// Unreachable, not a media file, or a format the browser cannot play.
    Unplayable,
    /// Refused before loading, by the room's rules for shared links.
    Refused,
    Unknown,
}

impl MediaFailure {
    /// From a `MediaError.code`.
    pub fn from_media_error(code: u16) -> Self {
        match code {
            1 => MediaFailure::Aborted,
            2 => MediaFailure::Network,
            3 => MediaFailure::Undecodable,
            4 => MediaFailure::Unplayable,
            _ => MediaFailure::Unknown,
        }
    }

    /// A few words for the people list.
    pub fn label(self) -> &'static str {
        match self {
            MediaFailure::Aborted => "loading aborted",
            MediaFailure::Network => "network error",
            MediaFailure::Undecodable => "cannot decode it",
            MediaFailure::Unplayable => "cannot play this link",
            MediaFailure::Refused => "link refused",
            MediaFailure::Unknown => "unknown error",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    version: u8,
    message: PeerMessage,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("message of {0} bytes exceeds the {MAX_MESSAGE_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("message is not in the peer wire format: {0}")]
    Malformed(String),
    #[error("message is of wire version {0}, this client speaks {WIRE_VERSION}")]
    Version(u8),
    #[error("message carries impossible values: {0}")]
    Invalid(String),
}

impl PeerMessage {
    pub fn encode(&self) -> Vec<u8> {
        let envelope = Envelope {
            version: WIRE_VERSION,
            message: self.clone(),
        };
        postcard::to_allocvec(&envelope).expect("peer messages always serialize")
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return Err(WireError::TooLarge(bytes.len()));
        }
        // The version is the first byte, so a future format is recognised before decoding it.
        match bytes.first() {
            Some(&version) if version != WIRE_VERSION => return Err(WireError::Version(version)),
            None => return Err(WireError::Malformed("empty message".into())),
            _ => {}
        }
        let envelope: Envelope =
            postcard::from_bytes(bytes).map_err(|e| WireError::Malformed(e.to_string()))?;
        envelope.message.validate()?;
        Ok(match envelope.message {
            PeerMessage::Profile { name } => PeerMessage::Profile {
                name: visible_name(&name),
            },
            message => message,
        })
    }

    fn validate(&self) -> Result<(), WireError> {
        let invalid = |why: &str| Err(WireError::Invalid(why.into()));
        match self {
            PeerMessage::Profile { name } if normalize_name(name).is_none() => {
                invalid("name is blank or too long")
            }
            PeerMessage::Chat { text }
                if text.trim().is_empty() || text.chars().count() > MAX_CHAT_CHARS =>
            {
                invalid("chat text is empty or too long")
            }
            PeerMessage::Status(ViewerStatus {
                offset_ms: Some(offset),
                ..
            }) if !offset.is_finite() => invalid("offset is not a finite number"),
            PeerMessage::Status(ViewerStatus {
                picture_ms: Some(picture),
                ..
            }) if !(-MAX_PICTURE_MS..=MAX_PICTURE_MS).contains(picture) => {
                invalid("picture error is not a number within ten minutes")
            }
            PeerMessage::Sync(message) => message
                .validate()
                .map_err(|e| WireError::Invalid(format!("{e:?}"))),
            PeerMessage::Queue(piece) if piece.is_empty() => invalid("empty queue piece"),
            PeerMessage::Ready(note) if note.is_empty() || note.len() > MAX_NOTE_BYTES => {
                invalid("ready-check note is empty or too long")
            }
            PeerMessage::Watched(text)
                if text.is_empty() || text.len() > crate::programme::history::MAX_HISTORY_BYTES =>
            {
                invalid("watched list is empty or too long")
            }
            PeerMessage::React(live)
                if live.is_empty() || live.len() > crate::reactions::message::MAX_LIVE_BYTES =>
            {
                invalid("reaction empty or too long")
            }
            PeerMessage::ReactionTrack(track) if track.is_empty() => {
                invalid("empty reaction track")
            }
            PeerMessage::Host(bytes) if bytes.is_empty() => invalid("empty host message"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<PeerMessage> {
        vec![
            PeerMessage::Profile { name: "Ada".into() },
            PeerMessage::Chat {
                text: "ciao a tutti 👋".into(),
            },
            PeerMessage::Status(ViewerStatus {
                phase: ViewerPhase::Failed(MediaFailure::Unplayable),
                offset_ms: Some(-3.5),
                picture_ms: None,
                offset_within_ms: 0,
            }),
            PeerMessage::Status(ViewerStatus {
                phase: ViewerPhase::Playing,
                offset_ms: None,
                picture_ms: Some(-41.5),
                offset_within_ms: 17,
            }),
            PeerMessage::Call(CallPresence {
                joined: true,
                muted: true,
                camera: false,
                tile_px: 180,
            }),
        ]
    }

    /// The status as senders from before `picture_ms` wrote it.
    #[derive(Serialize)]
    struct OldStatus {
        phase: ViewerPhase,
        offset_ms: Option<f32>,
    }

    /// A message as an older sender wrote it, around a status of its time (`S`). The variants
    /// before `Status` are never built: they only give it its old index.
    #[derive(Serialize)]
    #[allow(dead_code)]
    enum OldMessage<S> {
        Profile { name: String },
        Chat { text: String },
        Status(S),
    }

    #[test]
    fn a_status_from_an_older_sender_has_no_picture_error() {
        let old = OldMessage::Status(OldStatus {
            phase: ViewerPhase::Playing,
            offset_ms: Some(4.0),
        });
        let bytes = postcard::to_allocvec(&(WIRE_VERSION, old)).unwrap();
        assert_eq!(
            PeerMessage::decode(&bytes),
            Ok(PeerMessage::Status(ViewerStatus {
                phase: ViewerPhase::Playing,
                offset_ms: Some(4.0),
                picture_ms: None,
                offset_within_ms: 0,
            }))
        );
    }

    #[test]
    fn a_status_from_a_sender_before_the_offsets_precision_reads_as_exact() {
        /// The status as senders from before `offset_within_ms` wrote it.
        #[derive(Serialize)]
        struct PictureStatus {
            phase: ViewerPhase,
            offset_ms: Option<f32>,
            picture_ms: Option<f32>,
        }
        let sent = OldMessage::Status(PictureStatus {
            phase: ViewerPhase::Playing,
            offset_ms: Some(4.0),
            picture_ms: Some(-3.0),
        });
        let bytes = postcard::to_allocvec(&(WIRE_VERSION, sent)).unwrap();
        assert_eq!(
            PeerMessage::decode(&bytes),
            Ok(PeerMessage::Status(ViewerStatus {
                phase: ViewerPhase::Playing,
                offset_ms: Some(4.0),
                picture_ms: Some(-3.0),
                offset_within_ms: 0,
            }))
        );
    }

    #[test]
    fn an_older_receiver_reads_a_new_status_without_its_picture_error() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct OldReceived {
            phase: ViewerPhase,
            offset_ms: Option<f32>,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        enum OldReceivedMessage {
            Profile { name: String },
            Chat { text: String },
            Status(OldReceived),
        }
        let new = PeerMessage::Status(ViewerStatus {
            phase: ViewerPhase::Playing,
            offset_ms: Some(-2.0),
            picture_ms: Some(12.5),
            offset_within_ms: 0,
        });
        let (version, old): (u8, OldReceivedMessage) = postcard::from_bytes(&new.encode()).unwrap();
        assert_eq!(version, WIRE_VERSION);
        assert_eq!(
            old,
            OldReceivedMessage::Status(OldReceived {
                phase: ViewerPhase::Playing,
                offset_ms: Some(-2.0),
            })
        );
    }

    #[test]
    fn round_trips_compactly() {
        for message in samples() {
            let bytes = message.encode();
            assert!(bytes.len() < 64, "{message:?} took {} bytes", bytes.len());
            assert_eq!(PeerMessage::decode(&bytes), Ok(message));
        }
    }

    /// A queue whose snapshot needs several messages: maximal links, titles and names.
    fn big_queue() -> crate::programme::Queue {
        use crate::programme::{entry::MAX_TITLE_CHARS, Item, Queue};
        use crate::sync::{PeerId, RoomTime};
        let mut queue = Queue::new(PeerId(7));
        for n in 0..12 {
            let url = format!("https://videos.example/{n}/");
            let item = Item {
                url: url.clone() + &"v".repeat(crate::programme::entry::MAX_URL_BYTES - url.len()),
                title: "é".repeat(MAX_TITLE_CHARS),
                duration: None,
                added_by: "N".repeat(MAX_NAME_CHARS),
            };
            queue
                .add(RoomTime::from_micros(1_000_000 + n), item)
                .unwrap();
        }
        queue
    }

    #[test]
    fn queue_pieces_fit_a_message_and_round_trip() {
        let queue = big_queue();
        let pieces = queue.snapshot().split();
        assert!(pieces.len() > 1);
        let mut copy = crate::programme::Queue::new(crate::sync::PeerId(8));
        for piece in pieces {
            let bytes = PeerMessage::Queue(piece.encode()).encode();
            assert!(bytes.len() <= MAX_MESSAGE_BYTES, "{} bytes", bytes.len());
            match PeerMessage::decode(&bytes) {
                Ok(PeerMessage::Queue(back)) => {
                    let back = crate::programme::Delta::decode(&back).unwrap();
                    assert_eq!(back, piece);
                    assert!(copy.merge(back, None));
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(copy.entries(), queue.entries());
        let empty = PeerMessage::Queue(Vec::new());
        assert!(matches!(
            PeerMessage::decode(&empty.encode()),
            Err(WireError::Invalid(_))
        ));
    }

    #[test]
    fn watched_lists_fit_a_message_and_are_bounded() {
        use crate::programme::history::{History, Watched, MAX_HISTORY, MAX_HISTORY_BYTES};
        let mut full = History::default();
        for i in 0..MAX_HISTORY as u64 {
            full.record(Watched {
                url: format!("https://x.org/{i}/{}", "u".repeat(2000)),
                title: "é".repeat(200),
                at_ms: i,
            });
        }
        let bytes = PeerMessage::Watched(full.encode()).encode();
        assert!(bytes.len() <= MAX_MESSAGE_BYTES, "{} bytes", bytes.len());
        assert!(matches!(
            PeerMessage::decode(&bytes),
            Ok(PeerMessage::Watched(_))
        ));
        for bad in [String::new(), "x".repeat(MAX_HISTORY_BYTES + 1)] {
            assert!(matches!(
                PeerMessage::decode(&PeerMessage::Watched(bad).encode()),
                Err(WireError::Invalid(_))
            ));
        }
    }

    #[test]
    fn refuses_empty_and_oversized_reactions() {
        for message in [
            PeerMessage::React(Vec::new()),
            PeerMessage::React(vec![1; crate::reactions::message::MAX_LIVE_BYTES + 1]),
            PeerMessage::ReactionTrack(Vec::new()),
        ] {
            assert!(
                matches!(
                    PeerMessage::decode(&message.encode()),
                    Err(WireError::Invalid(_))
                ),
                "{message:?}"
            );
        }
    }

    #[test]
    fn refuses_other_versions_sizes_and_values() {
        let mut bytes = PeerMessage::Chat { text: "hi".into() }.encode();
        bytes[0] = WIRE_VERSION + 1;
        assert_eq!(
            PeerMessage::decode(&bytes),
            Err(WireError::Version(WIRE_VERSION + 1))
        );
        assert_eq!(
            PeerMessage::decode(&[]),
            Err(WireError::Malformed("empty message".into()))
        );
        assert_eq!(
            PeerMessage::decode(&vec![WIRE_VERSION; MAX_MESSAGE_BYTES + 1]),
            Err(WireError::TooLarge(MAX_MESSAGE_BYTES + 1))
        );
        let nan = PeerMessage::Status(ViewerStatus {
            phase: ViewerPhase::Playing,
            offset_ms: Some(f32::NAN),
            picture_ms: None,
            offset_within_ms: 0,
        });
        assert!(matches!(
            PeerMessage::decode(&nan.encode()),
            Err(WireError::Invalid(_))
        ));
        for picture in [f32::NAN, f32::INFINITY, -MAX_PICTURE_MS - 1.0, 1e9] {
            let absurd = PeerMessage::Status(ViewerStatus {
                phase: ViewerPhase::Playing,
                offset_ms: Some(1.0),
                picture_ms: Some(picture),
                offset_within_ms: 0,
            });
            assert!(
                matches!(
                    PeerMessage::decode(&absurd.encode()),
                    Err(WireError::Invalid(_))
                ),
                "{picture}"
            );
        }
        let blank = PeerMessage::Profile { name: "   ".into() };
        assert!(matches!(
            PeerMessage::decode(&blank.encode()),
            Err(WireError::Invalid(_))
        ));
        let essay = PeerMessage::Chat {
            text: "x".repeat(MAX_CHAT_CHARS + 1),
        };
        assert!(matches!(
            PeerMessage::decode(&essay.encode()),
            Err(WireError::Invalid(_))
        ));
    }

    #[test]
    fn a_ready_note_is_small_and_an_impossible_one_refused() {
        use crate::programme::ready::{media_tag, ReadyNote, WAIT};
        use crate::sync::{PeerId, RoomTime, Stamp};
        let note = ReadyNote {
            id: Stamp {
                wall: RoomTime::from_micros(1_000_000_000),
                counter: 3,
                peer: PeerId(u64::MAX),
            },
            media: media_tag("https://v.example/film.webm"),
            deadline: RoomTime::from_micros(1_000_000_000) + WAIT,
            ready: true,
            started: false,
            anyway: false,
        };
        let bytes = PeerMessage::Ready(note.encode()).encode();
        assert!(bytes.len() <= 48, "{} bytes", bytes.len());
        match PeerMessage::decode(&bytes) {
            Ok(PeerMessage::Ready(back)) => assert_eq!(ReadyNote::decode(&back), Some(note)),
            other => panic!("{other:?}"),
        }
        // Impossible values are refused by the check's code, oversized ones here.
        let endless = ReadyNote {
            deadline: RoomTime::from_micros(i64::MAX),
            ..note
        };
        assert_eq!(ReadyNote::decode(&endless.encode()), None);
        assert_eq!(ReadyNote::decode(&[0xff; 8]), None);
        for bad in [Vec::new(), vec![0; MAX_NOTE_BYTES + 1]] {
            assert!(matches!(
                PeerMessage::decode(&PeerMessage::Ready(bad).encode()),
                Err(WireError::Invalid(_))
            ));
        }
    }

    #[test]
    fn names_are_shown_as_they_read() {
        assert_eq!(
            normalize_name("  Ada \t Lovelace \n"),
            Some("Ada Lovelace".into())
        );
        // Invisible characters cannot make a second "Ada", or an empty-looking name.
        for lookalike in [
            "A\u{200B}da",
            "\u{FEFF}Ada\u{200D}",
            "Ad\u{00AD}a\u{2060}",
            "Ada\u{0007}",
            "\u{E0041}Ada",
        ] {
            assert_eq!(
                normalize_name(lookalike),
                Some("Ada".into()),
                "{lookalike:?}"
            );
        }
        for blank in [
            "",
            "   ",
            "\u{3164}",
            "\u{2800}\u{200B}",
            "\u{202E}\u{00A0}",
        ] {
            assert_eq!(normalize_name(blank), None, "{blank:?}");
        }
        // An override that would show "Ada.exe" backwards is gone; the text is what shows.
        assert_eq!(
            normalize_name("\u{202E}exe.adA\u{202C}"),
            Some("exe.adA".into())
        );
        assert_eq!(
            normalize_name("\u{2067}Bob\u{2069}\u{200F}"),
            Some("Bob".into())
        );
        // Letters of every script, accents and emoji stay.
        assert_eq!(normalize_name("Zoë 李 🎬"), Some("Zoë 李 🎬".into()));
        // Bounded after cleaning: padding with invisibles does not help, letters count.
        let padded = format!("{}{}", "\u{200B}".repeat(500), "a".repeat(MAX_NAME_CHARS));
        assert_eq!(
            normalize_name(&padded).map(|n| n.len()),
            Some(MAX_NAME_CHARS)
        );
        assert_eq!(normalize_name(&"a".repeat(MAX_NAME_CHARS + 1)), None);
    }

    #[test]
    fn a_profile_arrives_with_its_name_as_shown() {
        let sneaky = PeerMessage::Profile {
            name: "\u{202E}Ada\u{200B}".into(),
        };
        assert_eq!(
            PeerMessage::decode(&sneaky.encode()),
            Ok(PeerMessage::Profile { name: "Ada".into() })
        );
        let invisible = PeerMessage::Profile {
            name: "\u{200B}\u{3164}".into(),
        };
        assert!(matches!(
            PeerMessage::decode(&invisible.encode()),
            Err(WireError::Invalid(_))
        ));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz: every prefix and many single-byte mutations of valid messages.
        for message in samples() {
            let bytes = message.encode();
            for end in 0..bytes.len() {
                let _ = PeerMessage::decode(&bytes[..end]);
            }
            for i in 0..bytes.len() {
                for flip in [0x01u8, 0x80, 0xff] {
                    let mut mutated = bytes.clone();
                    mutated[i] ^= flip;
                    let _ = PeerMessage::decode(&mutated);
                }
            }
        }
    }
}
