//! Deployment configuration, read from `config.json` next to `index.html`.
//!
//! Keeping these settings in a file fetched at start-up (rather than compiled in) is what lets
//! the built `dist/` be dropped on any static host and pointed at any signaling endpoint.

use serde::Deserialize;

/// The signaling endpoint used when `config.json` names none: the same origin that served the
/// page, as `insieme-signal --static` does locally.
pub const DEFAULT_SIGNALING_URL: &str = "/ws";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// Base URL of the signaling endpoint: absolute (`wss://signal.example/ws`) or a path on the
    /// page's own origin (`/ws`).
    #[serde(default = "default_signaling_url")]
    pub signaling_url: String,
    /// STUN/TURN servers handed to `RTCPeerConnection`; none by default (LAN and most home
    /// networks connect on host candidates, and we send nothing to third parties unasked).
    #[serde(default)]
    pub ice_servers: Vec<IceServer>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub credential: Option<String>,
}

fn default_signaling_url() -> String {
    DEFAULT_SIGNALING_URL.to_owned()
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            signaling_url: default_signaling_url(),
            ice_servers: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("config.json is not valid: {0}")]
    Invalid(String),
    #[error("signaling_url {url:?} must be a ws:// or wss:// URL, or a path starting with '/'")]
    BadSignalingUrl { url: String },
}

impl AppConfig {
    /// Parses and checks `config.json`; unknown fields are refused so typos are not silent.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let config: AppConfig = crate::json::parse(text)
            .and_then(|value| crate::json::from_value(&value))
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.signaling_base(&PageOrigin::new("http", "localhost"))?;
        Ok(config)
    }

    /// The WebSocket base URL of the signaling endpoint, resolving a same-origin path against the
    /// page (`http` pages get `ws`, `https` pages get `wss`).
    pub fn signaling_base(&self, page: &PageOrigin) -> Result<String, ConfigError> {
        let url = self.signaling_url.trim_end_matches('/');
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
}
