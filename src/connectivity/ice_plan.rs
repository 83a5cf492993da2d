//! The ICE servers and policy every peer connection is created with.
//!
//! STUN servers come from `config.json`. TURN is split in two on purpose: the URLs are the
//! deployment's (`config.json`), the credentials are minted per client by the signaling
//! endpoint from coturn's shared secret and arrive with its welcome, so they expire within
//! hours and the secret never reaches a browser.

use crate::config::{AppConfig, IceServer, IceTransportPolicy};
use insieme_signal_protocol::TurnCredential;

/// Share of a TURN credential's life after which a fresh one is fetched: a party outlives a
/// credential (hours), and a friend joining late must still get a relay.
const RENEW_AT_SHARE: f64 = 0.8;
/// Never renew more often than this, whatever a (misconfigured) endpoint says.
const MIN_RENEWAL_SECS: u64 = 60;

/// How long after receiving `credential` to fetch a fresh one (by rejoining the endpoint, whose
/// welcome carries it): before it expires, never in a tight loop.
pub fn renewal_delay_secs(credential: &TurnCredential) -> u64 {
    ((credential.ttl_secs as f64 * RENEW_AT_SHARE) as u64).max(MIN_RENEWAL_SECS)
}

/// What `RTCConfiguration` gets, and whether it can relay.
#[derive(Debug, Clone, PartialEq)]
pub struct IcePlan {
    pub servers: Vec<IceServer>,
    pub policy: IceTransportPolicy,
    /// A TURN server with credentials is among `servers`: the one path that works when no
    /// direct one does.
    pub relay_configured: bool,
    /// Something about the plan the logs should know (TURN URLs but no credential).
    pub warning: Option<String>,
}

impl IcePlan {
    /// The plan from the deployment's configuration and the endpoint's latest credential.
    pub fn new(config: &AppConfig, credential: Option<&TurnCredential>) -> IcePlan {
        let mut servers = config.ice_servers.clone();
        let static_turn = servers
            .iter()
            .any(|server| server.is_turn() && server.credential.is_some());
        let mut warning = None;
        let minted_turn = match (config.turn_urls.is_empty(), credential) {
            (true, _) => false,
            (false, Some(credential)) => {
                servers.push(IceServer {
                    urls: config.turn_urls.clone(),
                    username: Some(credential.username.clone()),
                    credential: Some(credential.credential.clone()),
                });
                true
            }
            (false, None) => {
                warning = Some(
                    "config.json names TURN servers, but the signaling endpoint sent no TURN \
                     credential (is it started with --turn-secret-file?): relaying is off"
                        .to_owned(),
                );
                false
            }
        };
        IcePlan {
            servers,
            policy: config.ice_transport_policy,
            relay_configured: static_turn || minted_turn,
            warning,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> AppConfig {
        AppConfig::from_json(json).unwrap()
    }

    fn credential() -> TurnCredential {
        TurnCredential {
            username: "1700000000:abc".into(),
            credential: "c2VjcmV0".into(),
            ttl_secs: 14_400,
        }
    }

    #[test]
    fn turn_urls_get_the_endpoints_credential() {
        let config = config(
            r#"{"ice_servers": [{"urls": ["stun:stun.example:3478"]}],
                "turn_urls": ["turn:t.example:3478?transport=udp", "turns:t.example:443"]}"#,
        );
        let plan = IcePlan::new(&config, Some(&credential()));
        assert!(plan.relay_configured);
        assert_eq!(plan.warning, None);
        assert_eq!(plan.servers.len(), 2);
        assert_eq!(plan.servers[0].urls, ["stun:stun.example:3478"]);
        assert_eq!(
            plan.servers[1],
            IceServer {
                urls: vec![
                    "turn:t.example:3478?transport=udp".into(),
                    "turns:t.example:443".into()
                ],
                username: Some("1700000000:abc".into()),
                credential: Some("c2VjcmV0".into()),
            }
        );
    }

    #[test]
    fn a_credential_is_renewed_before_it_expires_but_not_in_a_loop() {
        assert_eq!(renewal_delay_secs(&credential()), 11_520);
        let short = TurnCredential {
            ttl_secs: 0,
            ..credential()
        };
        assert_eq!(renewal_delay_secs(&short), 60);
        let huge = TurnCredential {
            ttl_secs: u64::MAX,
            ..credential()
        };
        assert!(renewal_delay_secs(&huge) > 60);
    }

    #[test]
    fn turn_urls_without_a_credential_cannot_relay_and_say_why() {
        let config = config(r#"{"turn_urls": ["turn:t.example:3478"]}"#);
        let plan = IcePlan::new(&config, None);
        assert!(!plan.relay_configured);
        assert!(plan.servers.is_empty());
        assert!(plan.warning.unwrap().contains("--turn-secret-file"));
    }

    #[test]
    fn a_credential_without_turn_urls_is_unused() {
        let config = config(r#"{"ice_servers": [{"urls": ["stun:s.example"]}]}"#);
        let plan = IcePlan::new(&config, Some(&credential()));
        assert!(!plan.relay_configured);
        assert_eq!(plan.servers.len(), 1);
        assert_eq!(plan.warning, None);
    }

    #[test]
    fn a_statically_credentialed_turn_server_relays_and_the_policy_is_kept() {
        let config = config(
            r#"{"ice_servers": [{"urls": ["turn:t.example"], "username": "u", "credential": "p"}],
                "ice_transport_policy": "relay"}"#,
        );
        let plan = IcePlan::new(&config, None);
        assert!(plan.relay_configured);
        assert_eq!(plan.policy, IceTransportPolicy::Relay);
    }
}
