//! Why a friend cannot be reached, said plainly.

/// Why a link that never opened gave up, from what this side can know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// No TURN relay is configured, and no direct path worked (symmetric NATs, a firewall).
    NoRelay,
    /// A relay is configured, but it gave us no relay address: it is down, unreachable from
    /// here, or refused our credential.
    RelayUnreachable,
    /// We had a relay address and still no path worked.
    Failed,
    /// Their page never answered our negotiation: it closed or is stuck (or was never a real
    /// page: a member's modified client can announce people who do not exist).
    NoAnswer,
}

impl Unreachable {
    /// The decision: what was configured, and whether we gathered a relay candidate.
    pub fn diagnose(relay_configured: bool, relay_candidate_gathered: bool) -> Unreachable {
        match (relay_configured, relay_candidate_gathered) {
            (false, _) => Unreachable::NoRelay,
            (true, false) => Unreachable::RelayUnreachable,
            (true, true) => Unreachable::Failed,
        }
    }

    /// A stable code (the people list's `data-reason`).
    pub fn code(self) -> &'static str {
        match self {
            Unreachable::NoRelay => "no-relay",
            Unreachable::RelayUnreachable => "relay-unreachable",
            Unreachable::Failed => "failed",
            Unreachable::NoAnswer => "no-answer",
        }
    }

    /// What a person reads.
    pub fn explanation(self) -> &'static str {
        match self {
            Unreachable::NoRelay => {
                "your networks allow no direct link, and this server has no relay configured"
            }
            Unreachable::RelayUnreachable => {
                "your networks allow no direct link, and the relay server did not answer"
            }
            Unreachable::Failed => "no network path worked, not even through the relay",
            Unreachable::NoAnswer => "their page never answered; it may have closed or be stuck",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_follows_what_was_configured_and_gathered() {
        assert_eq!(Unreachable::diagnose(false, false), Unreachable::NoRelay);
        assert_eq!(Unreachable::diagnose(false, true), Unreachable::NoRelay);
        assert_eq!(
            Unreachable::diagnose(true, false),
            Unreachable::RelayUnreachable
        );
        assert_eq!(Unreachable::diagnose(true, true), Unreachable::Failed);
        let codes: Vec<_> = [
            Unreachable::NoRelay,
            Unreachable::RelayUnreachable,
            Unreachable::Failed,
            Unreachable::NoAnswer,
        ]
        .map(Unreachable::code)
        .into();
        assert_eq!(
            codes,
            ["no-relay", "relay-unreachable", "failed", "no-answer"]
        );
    }
}
