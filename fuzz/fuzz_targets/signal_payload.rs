#![no_main]

use insieme::signaling::payload::{Envelope, SignalPayload, MAX_PAYLOAD_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let payload = SignalPayload::decode(bytes);
    if let Ok(payload) = &payload {
        let again = payload.encode();
        // Encoding writes absent options as `null`, so a payload just under the limit may
        // re-encode just over it; what fits must read back the same.
        if again.len() <= MAX_PAYLOAD_BYTES {
            assert_eq!(
                SignalPayload::decode(&again).as_ref(),
                Ok(payload),
                "re-encoded as {:?}",
                String::from_utf8_lossy(&again)
            );
        }
    }
    if let Ok(envelope) = Envelope::decode(bytes) {
        let again = envelope.encode();
        if again.len() <= MAX_PAYLOAD_BYTES {
            assert_eq!(
                Envelope::decode(&again).as_ref(),
                Ok(&envelope),
                "re-encoded as {:?}",
                String::from_utf8_lossy(&again)
            );
        }
        // The number is one more field of the same object: the payload reads the same
        // without it (unknown fields are ignored).
        assert_eq!(payload, Ok(envelope.payload));
    }
});
