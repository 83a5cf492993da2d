//! Which kind of path a link uses, from `RTCPeerConnection.getStats()`' selected candidate pair:
//! direct (host candidates), through NAT (server- or peer-reflexive: STUN worked), or relayed
//! through TURN (and over which transport, since TURN over TCP or TLS is the fallback for
//! networks that block UDP).
//!
//! The glue turns the stats report into [`StatsRecord`]s; the decision is made here.

/// An ICE candidate's type (`candidateType`, or `typ` in a candidate line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateType {
    Host,
    Srflx,
    Prflx,
    Relay,
}

impl CandidateType {
    pub fn parse(text: &str) -> Option<CandidateType> {
        match text {
            "host" => Some(CandidateType::Host),
            "srflx" => Some(CandidateType::Srflx),
            "prflx" => Some(CandidateType::Prflx),
            "relay" => Some(CandidateType::Relay),
            _ => None,
        }
    }
}

/// The type named in an SDP candidate line (`candidate:… typ relay raddr …`).
pub fn candidate_type(candidate_line: &str) -> Option<CandidateType> {
    let mut tokens = candidate_line.split_ascii_whitespace();
    tokens.find(|token| *token == "typ")?;
    CandidateType::parse(tokens.next()?)
}

/// The entries of a stats report that say which path is in use; others are [`StatsRecord::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsRecord {
    /// `type: "transport"`.
    Transport {
        selected_pair_id: Option<String>,
    },
    /// `type: "candidate-pair"`.
    CandidatePair(PairStats),
    /// `type: "local-candidate"` or `"remote-candidate"`.
    Candidate {
        id: String,
        local: bool,
        candidate_type: Option<CandidateType>,
        address: Option<String>,
        /// `relayProtocol` of a local relay candidate: how we reach the TURN server.
        relay_protocol: Option<String>,
    },
    Other,
}

/// A candidate pair, as far as choosing the selected one goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairStats {
    pub id: String,
    pub local_id: String,
    pub remote_id: String,
    /// `state: "succeeded"`.
    pub succeeded: bool,
    pub nominated: bool,
    /// Firefox's own flag (it has no transport entry).
    pub selected: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// Host to host: both on one network.
    Host,
    /// Through at least one NAT, found with STUN or by the connectivity checks themselves.
    Srflx,
    /// Through a TURN relay.
    Relay,
}

/// How we reach the TURN server on a relayed path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayTransport {
    Udp,
    Tcp,
    Tls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkPath {
    pub kind: PathKind,
    /// Known when our own side is the relayed one.
    pub relay_transport: Option<RelayTransport>,
}

impl LinkPath {
    /// A stable code (the people list's `data-path`).
    pub fn code(self) -> &'static str {
        match self.kind {
            PathKind::Host => "host",
            PathKind::Srflx => "srflx",
            PathKind::Relay => "relay",
        }
    }

    /// What a person reads next to the round-trip time.
    pub fn label(self) -> &'static str {
        match (self.kind, self.relay_transport) {
            (PathKind::Host, _) => "direct",
            (PathKind::Srflx, _) => "through NAT",
            (PathKind::Relay, Some(RelayTransport::Tcp)) => "relayed (TCP)",
            (PathKind::Relay, Some(RelayTransport::Tls)) => "relayed (TLS)",
            (PathKind::Relay, _) => "relayed",
        }
    }
}

/// The path of the selected candidate pair, if the report names one.
pub fn selected_path(records: &[StatsRecord]) -> Option<LinkPath> {
    let (local_id, remote_id) = selected_pair(records)?;
    let candidate = |wanted: &str| {
        records.iter().find_map(|record| match record {
            StatsRecord::Candidate {
                id,
                candidate_type: Some(candidate_type),
                address,
                relay_protocol,
                ..
            } if id == wanted => Some((
                *candidate_type,
                address.as_deref(),
                relay_protocol.as_deref(),
            )),
            _ => None,
        })
    };
    let (local, _, relay_protocol) = candidate(local_id)?;
    let (remote, remote_address, _) = candidate(remote_id)?;
    let kind = if local == CandidateType::Relay || remote == CandidateType::Relay {
        PathKind::Relay
    } else if matches!(local, CandidateType::Srflx | CandidateType::Prflx)
        || remote == CandidateType::Srflx
    {
        PathKind::Srflx
    } else if remote == CandidateType::Prflx && !is_remote_host_address(records, remote_address) {
        // A peer-reflexive remote is what a NAT looks like from inside, but also what a host
        // candidate looks like when the checks beat its trickled description: only an address
        // no remote host candidate has means a NAT.
        PathKind::Srflx
    } else {
        PathKind::Host
    };
    let relay_transport = if local == CandidateType::Relay {
        match relay_protocol {
            Some("udp") => Some(RelayTransport::Udp),
            Some("tcp") => Some(RelayTransport::Tcp),
            Some("tls") => Some(RelayTransport::Tls),
            _ => None,
        }
    } else {
        None
    };
    Some(LinkPath {
        kind,
        relay_transport,
    })
}

/// The local and remote candidate ids of the selected pair: the transport's
/// `selectedCandidatePairId` (the standard), else a pair flagged `selected` (Firefox), else a
/// nominated pair that succeeded.
fn selected_pair(records: &[StatsRecord]) -> Option<(&str, &str)> {
    let pair_where = |wanted: &dyn Fn(&PairStats) -> bool| {
        records.iter().find_map(|record| match record {
            StatsRecord::CandidatePair(pair) if wanted(pair) => {
                Some((pair.local_id.as_str(), pair.remote_id.as_str()))
            }
            _ => None,
        })
    };
    let chosen_by_transport = records.iter().find_map(|record| match record {
        StatsRecord::Transport {
            selected_pair_id: Some(id),
        } => Some(id.as_str()),
        _ => None,
    });
    chosen_by_transport
        .and_then(|chosen| pair_where(&|pair| pair.id == chosen))
        .or_else(|| pair_where(&|pair| pair.selected))
        .or_else(|| pair_where(&|pair| pair.nominated && pair.succeeded))
}

fn is_remote_host_address(records: &[StatsRecord], address: Option<&str>) -> bool {
    let Some(address) = address else {
        return false;
    };
    records.iter().any(|record| {
        matches!(record, StatsRecord::Candidate {
            local: false,
            candidate_type: Some(CandidateType::Host),
            address: Some(host),
            ..
        } if host == address)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: &str, local: bool, kind: &str, address: &str) -> StatsRecord {
        StatsRecord::Candidate {
            id: id.into(),
            local,
            candidate_type: CandidateType::parse(kind),
            address: Some(address.into()),
            relay_protocol: None,
        }
    }

    fn relay(id: &str, protocol: &str) -> StatsRecord {
        StatsRecord::Candidate {
            id: id.into(),
            local: true,
            candidate_type: Some(CandidateType::Relay),
            address: Some("10.120.0.1".into()),
            relay_protocol: Some(protocol.into()),
        }
    }

    fn pair_stats(id: &str, local: &str, remote: &str) -> PairStats {
        PairStats {
            id: id.into(),
            local_id: local.into(),
            remote_id: remote.into(),
            succeeded: true,
            nominated: true,
            selected: false,
        }
    }

    fn pair(id: &str, local: &str, remote: &str) -> StatsRecord {
        StatsRecord::CandidatePair(pair_stats(id, local, remote))
    }

    fn transport(selected: &str) -> StatsRecord {
        StatsRecord::Transport {
            selected_pair_id: Some(selected.into()),
        }
    }

    fn path_of(records: &[StatsRecord]) -> Option<(&'static str, &'static str)> {
        selected_path(records).map(|path| (path.code(), path.label()))
    }

    #[test]
    fn candidate_lines_name_their_type() {
        let line = "candidate:1 1 udp 41885439 10.120.0.1 50000 typ relay raddr 10.0.0.2 rport 1";
        assert_eq!(candidate_type(line), Some(CandidateType::Relay));
        assert_eq!(
            candidate_type("candidate:2 1 udp 2122260223 10.0.0.2 5000 typ host generation 0"),
            Some(CandidateType::Host)
        );
        assert_eq!(candidate_type(""), None);
        assert_eq!(candidate_type("candidate:3 typ"), None);
        assert_eq!(candidate_type("candidate:3 typ tunnel"), None);
    }

    #[test]
    fn host_to_host_is_direct() {
        let records = [
            transport("p1"),
            pair("p1", "l1", "r1"),
            candidate("l1", true, "host", "10.0.0.2"),
            candidate("r1", false, "host", "10.0.0.3"),
        ];
        assert_eq!(path_of(&records), Some(("host", "direct")));
    }

    #[test]
    fn a_reflexive_candidate_on_either_side_is_through_nat() {
        // The local side pairs from its host base; the remote was found with STUN.
        let records = [
            transport("p1"),
            pair("p1", "l1", "r1"),
            candidate("l1", true, "host", "192.168.1.2"),
            candidate("r1", false, "srflx", "10.121.0.2"),
        ];
        assert_eq!(path_of(&records), Some(("srflx", "through NAT")));
        let records = [
            transport("p1"),
            pair("p1", "l1", "r1"),
            candidate("l1", true, "prflx", "10.121.0.2"),
            candidate("r1", false, "host", "10.0.0.3"),
        ];
        assert_eq!(path_of(&records), Some(("srflx", "through NAT")));
    }

    #[test]
    fn a_peer_reflexive_remote_with_a_host_address_is_direct() {
        // The checks arrived before the trickled host candidate: same address, no NAT.
        let lan = [
            transport("p1"),
            pair("p1", "l1", "r1"),
            candidate("l1", true, "host", "10.0.0.2"),
            candidate("r1", false, "prflx", "10.0.0.3"),
            candidate("r2", false, "host", "10.0.0.3"),
        ];
        assert_eq!(path_of(&lan), Some(("host", "direct")));
        let nat = [
            transport("p1"),
            pair("p1", "l1", "r1"),
            candidate("l1", true, "host", "10.0.0.2"),
            candidate("r1", false, "prflx", "10.121.0.2"),
            candidate("r2", false, "host", "192.168.1.2"),
        ];
        assert_eq!(path_of(&nat), Some(("srflx", "through NAT")));
    }

    #[test]
    fn a_relay_on_either_side_is_relayed_with_our_transport_when_known() {
        let ours = [
            transport("p1"),
            pair("p1", "l1", "r1"),
            relay("l1", "tcp"),
            candidate("r1", false, "srflx", "10.121.0.2"),
        ];
        assert_eq!(path_of(&ours), Some(("relay", "relayed (TCP)")));
        let tls = [
            transport("p1"),
            pair("p1", "l1", "r1"),
            relay("l1", "tls"),
            candidate("r1", false, "relay", "10.120.0.1"),
        ];
        assert_eq!(path_of(&tls), Some(("relay", "relayed (TLS)")));
        let theirs = [
            transport("p1"),
            pair("p1", "l1", "r1"),
            candidate("l1", true, "host", "10.0.0.2"),
            candidate("r1", false, "relay", "10.120.0.1"),
        ];
        assert_eq!(path_of(&theirs), Some(("relay", "relayed")));
        let udp = [
            transport("p1"),
            pair("p1", "l1", "r1"),
            relay("l1", "udp"),
            candidate("r1", false, "relay", "10.120.0.1"),
        ];
        assert_eq!(path_of(&udp), Some(("relay", "relayed")));
    }

    #[test]
    fn the_pair_is_found_without_a_transport_entry() {
        // Firefox flags its pair `selected`; failing that, a nominated pair that succeeded.
        let firefox = StatsRecord::CandidatePair(PairStats {
            selected: true,
            nominated: false,
            ..pair_stats("p2", "l2", "r2")
        });
        let records = [
            pair("p1", "l1", "r1"),
            firefox,
            candidate("l1", true, "host", "10.0.0.2"),
            candidate("r1", false, "host", "10.0.0.3"),
            relay("l2", "udp"),
            candidate("r2", false, "srflx", "10.121.0.2"),
        ];
        assert_eq!(path_of(&records), Some(("relay", "relayed")));
        assert_eq!(
            path_of(
                &records[..1]
                    .iter()
                    .chain(&records[2..4])
                    .cloned()
                    .collect::<Vec<_>>()
            ),
            Some(("host", "direct"))
        );
    }

    #[test]
    fn no_selected_pair_or_unknown_candidates_is_no_path() {
        assert_eq!(path_of(&[]), None);
        assert_eq!(
            path_of(&[
                StatsRecord::Transport {
                    selected_pair_id: None
                },
                StatsRecord::Other
            ]),
            None
        );
        let failing = StatsRecord::CandidatePair(PairStats {
            succeeded: false,
            ..pair_stats("p1", "l1", "r1")
        });
        let records = [
            failing,
            candidate("l1", true, "host", "10.0.0.2"),
            candidate("r1", false, "host", "10.0.0.3"),
        ];
        assert_eq!(path_of(&records), None);
        // The transport names a pair whose candidates the report lacks.
        assert_eq!(path_of(&[transport("p1"), pair("p1", "l1", "r1")]), None);
    }
}
