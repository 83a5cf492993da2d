//! Which web pages may open a WebSocket here, judged by the `Origin` header browsers send with
//! every WebSocket request (a page cannot forge it; a program outside a browser can send
//! anything, so this keeps other sites' pages off the endpoint, not other programs).
//!
//! - `--allow-origin` lists them: only those, and a request without an Origin is refused.
//!   `--allow-origin '*'` allows any.
//! - Nothing listed, and the endpoint serves the app itself (`--static`): the app's own origin
//!   only, i.e. an Origin whose host (and port) is the request's `Host`. The app and its
//!   WebSocket then share an origin, and no other site's page can use this endpoint as its
//!   relay. A request without an Origin (not a browser) is let through: anything it could
//!   send instead would be.
//! - Nothing listed, no `--static` (the app lives elsewhere): any origin, as before; list the
//!   app's origin to narrow it.

use axum::http::{header, HeaderMap};

/// `--allow-origin` value that allows any origin.
pub const ANY: &str = "*";

/// The rule in force, decided once from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPolicy {
    Any,
    /// Only these (lower-cased, without a trailing slash).
    Listed(Vec<String>),
    /// Only an Origin on the request's own host.
    SameHost,
}

impl OriginPolicy {
    pub fn new(allow_origins: &[String], serves_app: bool) -> OriginPolicy {
        if allow_origins.iter().any(|o| o.trim() == ANY) {
            OriginPolicy::Any
        } else if !allow_origins.is_empty() {
            OriginPolicy::Listed(
                allow_origins
                    .iter()
                    .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                    .collect(),
            )
        } else if serves_app {
            OriginPolicy::SameHost
        } else {
            OriginPolicy::Any
        }
    }

    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let origin = headers.get(header::ORIGIN).map(|o| o.to_str().ok());
        match (self, origin) {
            (OriginPolicy::Any, _) => true,
            (OriginPolicy::Listed(listed), Some(Some(origin))) => {
                listed.iter().any(|a| a.eq_ignore_ascii_case(origin))
            }
            (OriginPolicy::Listed(_), _) => false,
            (OriginPolicy::SameHost, None) => true,
            (OriginPolicy::SameHost, Some(origin)) => {
                let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
                matches!((origin, host), (Some(origin), Some(host)) if same_host(origin, host))
            }
        }
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the same host and port as a `Host` header,
/// the scheme's default port being the same as none.
fn same_host(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return false,
    };
    let normal = |authority: &str| {
        authority
            .strip_suffix(default_port)
            .unwrap_or(authority)
            .to_ascii_lowercase()
    };
    !authority.is_empty() && normal(authority) == normal(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, origin.parse().unwrap());
        }
        headers
    }

    #[test]
    fn serving_the_app_allows_its_own_origin_only() {
        let policy = OriginPolicy::new(&[], true);
        assert_eq!(policy, OriginPolicy::SameHost);
        for (origin, host) in [
            ("http://127.0.0.1:8080", "127.0.0.1:8080"),
            ("https://Party.Example", "party.example"),
            ("https://party.example", "party.example:443"),
            ("http://[::1]:8080", "[::1]:8080"),
        ] {
            assert!(
                policy.allows(&request(Some(origin), host)),
                "{origin} on {host}"
            );
        }
        for (origin, host) in [
            ("https://evil.example", "party.example"),
            ("http://127.0.0.1:9999", "127.0.0.1:8080"),
            ("https://party.example.evil", "party.example"),
            ("null", "party.example"),
            ("file://", "party.example"),
        ] {
            assert!(
                !policy.allows(&request(Some(origin), host)),
                "{origin} on {host}"
            );
        }
        assert!(
            policy.allows(&request(None, "party.example")),
            "not a browser"
        );
    }

    #[test]
    fn a_list_is_strict_and_a_star_or_no_app_allows_any() {
        let listed = OriginPolicy::new(&["https://Watch.example/".into()], true);
        assert!(listed.allows(&request(Some("https://watch.example"), "x")));
        assert!(!listed.allows(&request(Some("https://other.example"), "x")));
        assert!(
            !listed.allows(&request(None, "x")),
            "a list wants an Origin"
        );
        let star = OriginPolicy::new(&["*".into()], true);
        assert!(star.allows(&request(Some("https://anything.example"), "x")));
        let elsewhere = OriginPolicy::new(&[], false);
        assert!(elsewhere.allows(&request(Some("https://anything.example"), "x")));
    }
}
