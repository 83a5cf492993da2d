#![no_main]

use insieme::room::wire::PeerMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // Never panics, whatever arrives; and whatever it accepts, encoded again, reads back the
    // same (a relayed or re-sent message means what the first one did).
    if let Ok(message) = PeerMessage::decode(bytes) {
        let again = message.encode();
        assert_eq!(
            PeerMessage::decode(&again),
            Ok(message),
            "re-encoded as {again:?}"
        );
    }
});
