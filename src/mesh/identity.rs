//! Who a session is: the hash of its page's DTLS certificate.
//!
//! Every member holds the room key, so anything sealed can come from any of them; what a
//! member cannot copy is another page's private key. Each page makes one certificate for all
//! its peer connections and takes its session id from the certificate's SHA-256 fingerprint,
//! which the page's SDP states (`a=fingerprint`) and DTLS then proves. So a description that
//! claims a session whose id is not its fingerprint's is refused, and one that copies the
//! right fingerprint cannot finish the DTLS handshake: a member can no longer sit between two
//! others under their names.

use crate::signaling::payload::SessionId;

/// The session id a certificate's SHA-256 fingerprint gives (`AB:CD:…`, 32 bytes in hex):
/// its first eight bytes, big-endian. None if it is not such a fingerprint.
pub fn session_of_fingerprint(fingerprint: &str) -> Option<SessionId> {
    // Hex by hand: the standard integer parser is a kilobyte of download for two digits.
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let mut bytes = Vec::with_capacity(32);
    for pair in fingerprint.trim().split(':') {
        let &[high, low] = pair.as_bytes() else {
            return None;
        };
        bytes.push(digit(high)? << 4 | digit(low)?);
    }
    if bytes.len() != 32 {
        return None;
    }
    Some(bytes[..8].iter().fold(0, |id, b| id << 8 | u64::from(*b)))
}

/// The SHA-256 fingerprint an SDP states (`a=fingerprint:sha-256 …`), if it states exactly
/// one (every media section of one connection carries the same certificate).
pub fn sdp_fingerprint(sdp: &str) -> Option<&str> {
    let mut found = None;
    for line in sdp.lines() {
        let Some(rest) = line.trim_end().strip_prefix("a=fingerprint:") else {
            continue;
        };
        let (algorithm, value) = rest.split_once(' ')?;
        if !algorithm.eq_ignore_ascii_case("sha-256") {
            return None;
        }
        match found {
            None => found = Some(value.trim()),
            Some(seen) if seen.eq_ignore_ascii_case(value.trim()) => {}
            Some(_) => return None,
        }
    }
    found
}

/// Whether `sdp` is from the page whose session is `session`.
pub fn sdp_is_from(sdp: &str, session: SessionId) -> bool {
    sdp_fingerprint(sdp).and_then(session_of_fingerprint) == Some(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FINGERPRINT: &str =
        "0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
    const SESSION: SessionId = 0x0A1B_2C3D_4E5F_6071;

    fn sdp(fingerprints: &[&str]) -> String {
        let mut sdp = String::from("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
        for f in fingerprints {
            sdp.push_str("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n");
            sdp.push_str(&format!("a=fingerprint:{f}\r\n"));
        }
        sdp
    }

    #[test]
    fn a_session_is_its_fingerprints_first_eight_bytes() {
        assert_eq!(session_of_fingerprint(FINGERPRINT), Some(SESSION));
        assert_eq!(
            session_of_fingerprint(&FINGERPRINT.to_lowercase()),
            Some(SESSION)
        );
        for bad in [
            "",
            "0A:1B",
            "0A1B:2C",
            &FINGERPRINT.replace("FF", "GG"),
            &format!("{FINGERPRINT}:00"),
        ] {
            assert_eq!(session_of_fingerprint(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_description_is_from_the_session_its_fingerprint_names() {
        let honest = sdp(&[
            &format!("sha-256 {FINGERPRINT}"),
            &format!("SHA-256 {FINGERPRINT}"),
        ]);
        assert!(sdp_is_from(&honest, SESSION));
        assert!(!sdp_is_from(&honest, SESSION + 1));
        // Two certificates in one description, another hash, or none: from nobody.
        let other = FINGERPRINT.replacen("0A", "0B", 1);
        for refused in [
            sdp(&[
                &format!("sha-256 {FINGERPRINT}"),
                &format!("sha-256 {other}"),
            ]),
            sdp(&[&format!("sha-1 {FINGERPRINT}")]),
            sdp(&[]),
        ] {
            assert!(!sdp_is_from(&refused, SESSION), "{refused}");
        }
    }
}
