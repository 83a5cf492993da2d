//! Deployment configuration, read from `config.json` next to `index.html`.
//!
//! Keeping these settings in a file fetched at start-up (rather than compiled in) is what lets
//! the built `dist/` be dropped on any static host and pointed at any signaling endpoint.

use crate::json::{self, Value};

/// The signaling endpoint used when `config.json` names none: the same origin that served the
/// page, as `insieme-signal --static` does locally.
pub const DEFAULT_SIGNALING_URL: &str = "/ws";

/// Read by hand ([`AppConfig::from_json`]) rather than derived: serde's generic deserializer
/// was about 2 KB of the first download, for one small file.
#[derive(Debug, Clone, PartialEq)]
pub struct AppConfig {
    /// Base URL of the signaling endpoint: absolute (`wss://signal.example/ws`) or a path on the
    /// page's own origin (`/ws`).
    pub signaling_url: String,
    /// STUN (and statically credentialed TURN) servers handed to `RTCPeerConnection`. STUN
    /// lets a browser learn the address its NAT gives it, which is what connects friends in
    /// different homes; the shipped `config.json` names a public one.
    pub ice_servers: Vec<IceServer>,
    /// TURN URLs of the deployment's relay (coturn), for networks where no direct path exists
    /// (symmetric NATs, UDP blocked). Their short-lived credentials come from the signaling
    /// endpoint's welcome, never from this file: the shared secret stays on the servers.
    pub turn_urls: Vec<String>,
    /// `relay` sends everything through TURN (hides addresses from peers; also how the tests
    /// prove the relay path alone works).
    pub ice_transport_policy: IceTransportPolicy,
}

/// `RTCConfiguration.iceTransportPolicy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IceTransportPolicy {
    #[default]
    All,
    Relay,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IceServer {
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub credential: Option<String>,
}

impl IceServer {
    /// One entry of `ice_servers`: `urls` (required), `username` and `credential`.
    fn from_value(value: &Value) -> Result<Self, json::Error> {
        let fields = value.object()?;
        fields.only(&["urls", "username", "credential"])?;
        Ok(IceServer {
            urls: fields.strings("urls")?,
            username: fields.opt_string("username")?,
            credential: fields.opt_string("credential")?,
        })
    }

    /// A TURN server (a relay), as opposed to STUN only.
    pub fn is_turn(&self) -> bool {
        self.urls.iter().any(|url| has_scheme(url, &TURN_SCHEMES))
    }
}

fn default_signaling_url() -> String {
    DEFAULT_SIGNALING_URL.to_owned()
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            signaling_url: default_signaling_url(),
            ice_servers: Vec::new(),
            turn_urls: Vec::new(),
            ice_transport_policy: IceTransportPolicy::All,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("config.json is not valid: {0}")]
    Invalid(String),
    #[error("signaling_url \"{url}\" must be a ws:// or wss:// URL, or a path starting with '/'")]
    BadSignalingUrl { url: String },
    #[error("signaling_url \"{url}\" is not encrypted (ws://), and browsers refuse it from a page served over https; config.json must name a wss:// URL")]
    InsecureSignalingUrl { url: String },
    #[error("{field} entry \"{url}\" must start with {schemes}")]
    BadIceUrl {
        field: &'static str,
        url: String,
        schemes: &'static str,
    },
    #[error("ice_transport_policy is \"relay\" but no relay is configured (turn_urls, or a turn: server in ice_servers)")]
    RelayPolicyWithoutRelay,
}

/// URL schemes `RTCPeerConnection` accepts for ICE servers.
const ICE_SCHEMES: [&str; 4] = ["stun:", "stuns:", "turn:", "turns:"];
const TURN_SCHEMES: [&str; 2] = ["turn:", "turns:"];

fn has_scheme(url: &str, schemes: &[&str]) -> bool {
    schemes.iter().any(|scheme| url.starts_with(scheme))
}

impl AppConfig {
    /// Parses and checks `config.json`; unknown fields are refused so typos are not silent.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let config = json::parse(text)
            .and_then(|value| Self::from_value(&value))
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.signaling_base(&PageOrigin::new("http", "localhost"))?;
        config.check_ice_urls()?;
        Ok(config)
    }

    /// The fields of `config.json`, each optional (a missing one, or `null`, takes its
    /// default); any other field is refused.
    fn from_value(value: &Value) -> Result<Self, json::Error> {
        let fields = value.object()?;
        fields.only(&[
            "signaling_url",
            "ice_servers",
            "turn_urls",
            "ice_transport_policy",
        ])?;
        let ice_transport_policy = match fields.opt_string("ice_transport_policy")?.as_deref() {
            None | Some("all") => IceTransportPolicy::All,
            Some("relay") => IceTransportPolicy::Relay,
            Some(other) => {
                return Err(json::Error::new(format!(
                    "ice_transport_policy `{other}` must be `all` or `relay`"
                )))
            }
        };
        Ok(AppConfig {
            signaling_url: fields
                .opt_string("signaling_url")?
                .unwrap_or_else(default_signaling_url),
            ice_servers: fields
                .opt_array("ice_servers")?
                .iter()
                .map(IceServer::from_value)
                .collect::<Result<_, _>>()?,
            turn_urls: fields.opt_strings("turn_urls")?,
            ice_transport_policy,
        })
    }

    /// A wrong ICE URL makes `RTCPeerConnection` throw for every link; refuse it up front, with
    /// the entry named.
    fn check_ice_urls(&self) -> Result<(), ConfigError> {
        let mut ice = self.ice_servers.iter().flat_map(|server| &server.urls);
        if let Some(url) = ice.find(|url| !has_scheme(url, &ICE_SCHEMES)) {
            return Err(ConfigError::BadIceUrl {
                field: "ice_servers",
                url: url.clone(),
                schemes: "stun:, stuns:, turn: or turns:",
            });
        }
        if let Some(url) = self
            .turn_urls
            .iter()
            .find(|url| !has_scheme(url, &TURN_SCHEMES))
        {
            return Err(ConfigError::BadIceUrl {
                field: "turn_urls",
                url: url.clone(),
                schemes: "turn: or turns:",
            });
        }
        let static_turn = self.ice_servers.iter().any(IceServer::is_turn);
        if self.ice_transport_policy == IceTransportPolicy::Relay
            && self.turn_urls.is_empty()
            && !static_turn
        {
            return Err(ConfigError::RelayPolicyWithoutRelay);
        }
        Ok(())
    }

    /// The WebSocket base URL of the signaling endpoint, resolving a same-origin path against the
    /// page (`http` pages get `ws`, `https` pages get `wss`). An absolute `ws://` URL from an
    /// https page is refused here: the browser would refuse it anyway, with no way to recover.
    pub fn signaling_base(&self, page: &PageOrigin) -> Result<String, ConfigError> {
        let url = self.signaling_url.trim_end_matches('/');
        if url.starts_with("ws://") && page.scheme == "https" {
            return Err(ConfigError::InsecureSignalingUrl {
                url: self.signaling_url.clone(),
            });
        }
        if url.starts_with("ws://") || url.starts_with("wss://") {
            return Ok(url.to_owned());
        }
        if url.starts_with('/') && !url.starts_with("//") {
            let scheme = if page.scheme == "https" { "wss" } else { "ws" };
            return Ok(format!("{scheme}://{}{url}", page.host));
        }
        Err(ConfigError::BadSignalingUrl {
            url: self.signaling_url.clone(),
        })
    }
}

/// The scheme and host (with port) of the page, as `location.protocol` / `location.host` give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOrigin {
    pub scheme: String,
    pub host: String,
}

impl PageOrigin {
    pub fn new(scheme: &str, host: &str) -> Self {
        Self {
            scheme: scheme.trim_end_matches(':').to_owned(),
            host: host.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_object_gives_defaults() {
        assert_eq!(AppConfig::from_json("{}"), Ok(AppConfig::default()));
        // `null` is a field left out.
        assert_eq!(
            AppConfig::from_json(
                r#"{"signaling_url": null, "ice_servers": null, "turn_urls": null,
                    "ice_transport_policy": null}"#
            ),
            Ok(AppConfig::default())
        );
    }

    #[test]
    fn every_field_is_read() {
        let config = AppConfig::from_json(
            r#"{"signaling_url": "/signal", "turn_urls": ["turn:t.example"],
                "ice_transport_policy": "all",
                "ice_servers": [{"urls": ["turn:s.example"], "username": "u", "credential": "c"},
                                {"urls": ["stun:s.example"]}]}"#,
        )
        .unwrap();
        assert_eq!(
            config,
            AppConfig {
                signaling_url: "/signal".into(),
                ice_servers: vec![
                    IceServer {
                        urls: vec!["turn:s.example".into()],
                        username: Some("u".into()),
                        credential: Some("c".into()),
                    },
                    IceServer {
                        urls: vec!["stun:s.example".into()],
                        username: None,
                        credential: None,
                    },
                ],
                turn_urls: vec!["turn:t.example".into()],
                ice_transport_policy: IceTransportPolicy::All,
            }
        );
    }

    #[test]
    fn same_origin_path_follows_page_scheme() {
        let config = AppConfig::default();
        let http = PageOrigin::new("http:", "127.0.0.1:8080");
        let https = PageOrigin::new("https:", "party.example");
        assert_eq!(
            config.signaling_base(&http).unwrap(),
            "ws://127.0.0.1:8080/ws"
        );
        assert_eq!(
            config.signaling_base(&https).unwrap(),
            "wss://party.example/ws"
        );
    }

    #[test]
    fn an_unencrypted_endpoint_is_refused_from_an_https_page() {
        let config = AppConfig::from_json(r#"{"signaling_url": "ws://signal.example/ws"}"#)
            .expect("fine for an http page");
        let https = PageOrigin::new("https:", "party.example");
        assert_eq!(
            config.signaling_base(&https),
            Err(ConfigError::InsecureSignalingUrl {
                url: "ws://signal.example/ws".into()
            })
        );
        assert!(config
            .signaling_base(&https)
            .unwrap_err()
            .to_string()
            .contains("wss://"));
        let http = PageOrigin::new("http:", "192.168.1.20:8080");
        assert_eq!(
            config.signaling_base(&http).unwrap(),
            "ws://signal.example/ws"
        );
    }

    #[test]
    fn absolute_endpoint_and_ice_servers() {
        let config = AppConfig::from_json(
            r#"{"signaling_url": "wss://signal.example/ws/",
                "ice_servers": [{"urls": ["stun:stun.example:3478"]}]}"#,
        )
        .unwrap();
        let page = PageOrigin::new("https:", "cdn.example");
        assert_eq!(
            config.signaling_base(&page).unwrap(),
            "wss://signal.example/ws"
        );
        assert_eq!(config.ice_servers[0].urls, ["stun:stun.example:3478"]);
    }

    #[test]
    fn mistakes_are_refused_with_a_reason() {
        assert!(matches!(
            AppConfig::from_json("not json"),
            Err(ConfigError::Invalid(_))
        ));
        assert!(matches!(
            AppConfig::from_json(r#"{"signalling_url": "/ws"}"#),
            Err(ConfigError::Invalid(_))
        ));
        assert_eq!(
            AppConfig::from_json(r#"{"signaling_url": "https://x.example/ws"}"#),
            Err(ConfigError::BadSignalingUrl {
                url: "https://x.example/ws".into()
            })
        );
        assert!(AppConfig::from_json(r#"{"signaling_url": "//evil.example/ws"}"#).is_err());
    }

    #[test]
    fn turn_urls_and_the_relay_policy() {
        let config = AppConfig::from_json(
            r#"{"ice_servers": [{"urls": ["stun:stun.example:3478"]}],
                "turn_urls": ["turn:turn.example:3478?transport=udp", "turns:turn.example:443"],
                "ice_transport_policy": "relay"}"#,
        )
        .unwrap();
        assert_eq!(config.turn_urls.len(), 2);
        assert_eq!(config.ice_transport_policy, IceTransportPolicy::Relay);
        assert_eq!(
            AppConfig::from_json("{}").unwrap().ice_transport_policy,
            IceTransportPolicy::All
        );
    }

    #[test]
    fn wrong_ice_urls_and_a_relay_policy_without_relay_are_refused() {
        assert!(matches!(
            AppConfig::from_json(r#"{"turn_urls": ["stun:turn.example"]}"#),
            Err(ConfigError::BadIceUrl {
                field: "turn_urls",
                ..
            })
        ));
        assert!(matches!(
            AppConfig::from_json(r#"{"ice_servers": [{"urls": ["https://stun.example"]}]}"#),
            Err(ConfigError::BadIceUrl {
                field: "ice_servers",
                ..
            })
        ));
        assert_eq!(
            AppConfig::from_json(r#"{"ice_transport_policy": "relay"}"#),
            Err(ConfigError::RelayPolicyWithoutRelay)
        );
        assert!(AppConfig::from_json(r#"{"ice_transport_policy": "sometimes"}"#).is_err());
        // A TURN server with static credentials in ice_servers is a relay too.
        assert!(AppConfig::from_json(
            r#"{"ice_servers": [{"urls": ["turn:t.example"], "username": "u", "credential": "c"}],
                "ice_transport_policy": "relay"}"#
        )
        .is_ok());
    }
}
