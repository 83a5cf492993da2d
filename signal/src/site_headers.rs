//! The security headers of the endpoint's responses, and the Content-Security-Policy of the
//! app it serves with `--static` (also written as a `_headers` file for static hosts, see
//! `bin/static-headers.rs`).
//!
//! The policy allows exactly what the app does, and nothing else:
//! - scripts: its own files, the loader Trunk inlines into index.html (by its sha256, read
//!   from the served index.html at start-up), and compiling WebAssembly (`'wasm-unsafe-eval'`,
//!   which allows no JavaScript eval);
//! - connections: `config.json` and the wasm from its own origin, and the WebSocket to this
//!   endpoint (`ws:`/`wss:` on the request's own host; `'self'` alone does not cover them in
//!   every browser), plus the endpoint `config.json` names if it is elsewhere;
//! - media: videos from any https URL (a room plays whatever link is shared) and blobs;
//! - images: its own, data: (the favicon and the CSS glyphs are data: SVGs), blob:, and the
//!   https origins of the thumbnails the deployer's `catalog.json` names (read at start-up,
//!   like `config.json`; the app shows them in its Suggested tab): a thumbnail host learns the
//!   viewer's address, as the video's host does when the video plays, and only hosts the
//!   deployer chose can;
//! - styles: its own stylesheets only; the app sets inline styles through the CSSOM
//!   (`style.setProperty`), which a policy does not restrict, never as `style` attributes;
//! - no frames of it on other sites (`frame-ancestors 'none'`), no `<base>`, no forms, no
//!   plugins (`default-src 'none'` covers the rest).

use std::io;
use std::path::Path;

use axum::http::{HeaderName, HeaderValue};
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Sent with every response: never guess a type (a file served as text/plain stays text), no
/// Referer to other sites (the room link's secret is in the fragment, which browsers never
/// send, but a path could still say too much), and never inside another site's frame.
pub const ALWAYS: [(HeaderName, HeaderValue); 3] = [
    (
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    ),
    (
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    ),
    (
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    ),
];

/// The app's Content-Security-Policy, built once at start-up: everything but the WebSocket's
/// origin, which depends on the request's host and goes between the two halves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csp {
    /// How many inline `<script>`s of index.html the policy allows by hash (for the log).
    inline_scripts: usize,
    /// The policy up to `connect-src 'self'`.
    before_host: String,
    /// The rest of it: the signaling origin if elsewhere, then the directives after it.
    after_host: String,
}

/// Most thumbnail origins named in the policy: a catalogue's pictures come from a few hosts;
/// past this, the others' thumbnails are refused (the row shows no picture) rather than the
/// header growing without bound.
pub const MAX_THUMBNAIL_ORIGINS: usize = 32;

impl Csp {
    /// The policy for the app in `dir`: its index.html and config.json, when present.
    pub fn for_site(dir: &Path) -> io::Result<Csp> {
        let index = read_if_present(&dir.join("index.html"))?;
        let config = read_if_present(&dir.join("config.json"))?;
        let catalog = read_if_present(&dir.join("catalog.json"))?;
        let hashes = |tag| {
            index
                .as_deref()
                .map(|html| {
                    inline_contents(html, tag)
                        .into_iter()
                        .map(sha256_source)
                        .collect()
                })
                .unwrap_or_default()
        };
        let script_hashes: Vec<String> = hashes("script");
        // Trunk writes no inline `<style>` today; any it writes is allowed by hash.
        let style_hashes: Vec<String> = hashes("style");
        let thumbnail_origins = catalog
            .as_deref()
            .map(thumbnail_origins)
            .unwrap_or_default();
        let signaling = config
            .as_deref()
            .and_then(signaling_origin)
            .map(|origin| format!(" {origin}"))
            .unwrap_or_default();
        let list = |items: &[String]| items.iter().map(|h| format!(" {h}")).collect::<String>();
        Ok(Csp {
            inline_scripts: script_hashes.len(),
            before_host: format!(
                "default-src 'none'; \
                 script-src 'self' 'wasm-unsafe-eval'{scripts}; \
                 style-src 'self'{styles}; \
                 img-src 'self' data: blob:{images}; \
                 media-src 'self' https: blob:; \
                 connect-src 'self'",
                scripts = list(&script_hashes),
                styles = list(&style_hashes),
                images = list(&thumbnail_origins),
            ),
            after_host: format!(
                "{signaling}; \
                 font-src 'self'; \
                 manifest-src 'self'; \
                 base-uri 'none'; \
                 form-action 'none'; \
                 frame-ancestors 'none'"
            ),
        })
    }

    pub fn inline_scripts(&self) -> usize {
        self.inline_scripts
    }

    /// The header value for a request to `host` (its `Host` header), which names the
    /// WebSocket's origin; None (or a host that is not a plain host[:port]) leaves it to
    /// `'self'`. Only the host is added per request: the rest was built at start-up.
    pub fn header_value(&self, host: Option<&str>) -> String {
        let mut value = self.before_host.clone();
        if let Some(host) = host.filter(|h| is_plain_host(h)) {
            for scheme in [" ws://", " wss://"] {
                value.push_str(scheme);
                value.push_str(host);
            }
        }
        value.push_str(&self.after_host);
        value
    }

    /// A `_headers` file (the format of Netlify and Cloudflare Pages) giving every path of
    /// the site these headers; the WebSocket's origin comes from `config.json` there, since
    /// the host is not known in advance.
    pub fn headers_file(&self) -> String {
        let mut file = String::from("/*\n");
        for (name, value) in ALWAYS {
            let value = value.to_str().expect("static ASCII");
            file.push_str(&format!("  {}: {value}\n", title_case(name.as_str())));
        }
        file.push_str(&format!(
            "  Content-Security-Policy: {}\n",
            self.header_value(None)
        ));
        file
    }
}

fn read_if_present(path: &Path) -> io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io::Error::new(
            error.kind(),
            format!("reading {}: {error}", path.display()),
        )),
    }
}

/// `'sha256-<base64>'` of a script's or style's text, as CSP wants it.
fn sha256_source(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// `Host` values that can go into the header as they are: a name or address, maybe a port.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

/// The origin (`wss://host[:port]`) of `config.json`'s `signaling_url`, when it is absolute.
fn signaling_origin(config: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(config).ok()?;
    let url = value.get("signaling_url")?.as_str()?;
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return None,
    };
    let host = rest.split(['/', '?', '#']).next()?;
    is_plain_host(host).then(|| format!("{scheme}://{host}"))
}

/// The distinct `https://host[:port]` origins of the thumbnails `catalog.json` lists (an
/// object with a `"videos"` list, or a bare list, as the app reads it), in file order, at most
/// [`MAX_THUMBNAIL_ORIGINS`]. Relative thumbnails are the site's own; other schemes (http:
/// on an https page is refused by the browser anyway) and hosts that are not plain names or
/// addresses add nothing. A file that is not JSON adds nothing (the app ignores it too).
fn thumbnail_origins(catalog: &str) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(catalog) else {
        return Vec::new();
    };
    let videos = match &value {
        serde_json::Value::Array(list) => Some(list),
        other => other.get("videos").and_then(|v| v.as_array()),
    };
    let mut origins: Vec<String> = Vec::new();
    for thumbnail in videos
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("thumbnail")?.as_str())
    {
        let Some((scheme, rest)) = thumbnail.split_once("://") else {
            continue;
        };
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if !scheme.eq_ignore_ascii_case("https") || !is_plain_host(host) {
            continue;
        }
        let origin = format!("https://{}", host.to_ascii_lowercase());
        if !origins.contains(&origin) {
            if origins.len() == MAX_THUMBNAIL_ORIGINS {
                break;
            }
            origins.push(origin);
        }
    }
    origins
}

/// `x-content-type-options` → `X-Content-Type-Options`, as `_headers` files usually spell it.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The text of every `<tag>` element in `html` that has no `src` attribute (inline scripts or
/// styles), exactly as written: a CSP hash covers those bytes. Enough HTML for what Trunk
/// writes (quoted or bare attributes, any case); not a general parser.
pub fn inline_contents<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    // ASCII lower-casing keeps every byte offset.
    let lower = html.to_ascii_lowercase();
    let (open, close) = (format!("<{tag}"), format!("</{tag}"));
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = lower[at..].find(&open) {
        let name_end = at + offset + open.len();
        let ends_name = lower[name_end..]
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_whitespace() || b == b'>' || b == b'/');
        if !ends_name {
            at = name_end;
            continue;
        }
        let Some(tag_len) = tag_end(&html[name_end..]) else {
            break;
        };
        let attributes = &html[name_end..name_end + tag_len];
        let body = name_end + tag_len + 1;
        let Some(body_len) = lower[body..].find(&close) else {
            break;
        };
        if !attribute_names(attributes).any(|name| name.eq_ignore_ascii_case("src")) {
            found.push(&html[body..body + body_len]);
        }
        at = body + body_len;
    }
    found
}

/// Where the start tag ends (its `>`, outside quotes), from just after the tag name.
fn tag_end(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, b) in text.bytes().enumerate() {
        match (quote, b) {
            (None, b'>') => return Some(i),
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), b) if b == q => quote = None,
            _ => {}
        }
    }
    None
}

/// The attribute names in a start tag's attribute text (`type=module crossorigin src="x"`).
fn attribute_names(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut names = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"=/>".contains(&bytes[i]) {
            i += 1;
        }
        if i > start {
            names.push(&text[start..i]);
        }
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            match bytes.get(i) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != q {
                        i += 1;
                    }
                    i += 1;
                }
                _ => {
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                        i += 1;
                    }
                }
            }
        }
    }
    names.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head of a release index.html as Trunk writes it (minified, bare attributes).
    const TRUNK_INDEX: &str = "<!doctype html><html lang=en><meta charset=utf-8><title>Insieme</title><script type=module>import init, * as bindings from '/insieme-b81508ab92c3202a.js';\nconst wasm = await init({ module_or_path: '/insieme-b81508ab92c3202a_bg.wasm' });\n\n\nwindow.wasmBindings = bindings;\n\n\ndispatchEvent(new CustomEvent(\"TrunkApplicationStarted\", {detail: {wasm}}));</script><link href=/main.css rel=stylesheet><SCRIPT src=\"/other.js\" data-x='>'></SCRIPT><scripts>not a script</scripts></head>";

    #[test]
    fn finds_inline_scripts_only_and_hashes_them_as_browsers_do() {
        let scripts = inline_contents(TRUNK_INDEX, "script");
        assert_eq!(scripts.len(), 1, "{scripts:?}");
        assert!(scripts[0].starts_with("import init"));
        assert!(scripts[0].ends_with("{detail: {wasm}}));"));
        // Computed independently: python3 hashlib.sha256 over the same text, base64.
        assert_eq!(
            sha256_source(scripts[0]),
            "'sha256-T5IWUSLAG07KqlRBe8BSSVQdi8be5k67MW2Dxqii73k='"
        );
        assert!(inline_contents(TRUNK_INDEX, "style").is_empty());
        assert_eq!(
            inline_contents("<style media=\"x\">a{b:c}</style>", "style"),
            ["a{b:c}"]
        );
    }

    /// The policy of a site of Trunk's index.html with `config` and `catalog`, written to a
    /// directory of its own (`name`) for the time it is read.
    fn policy_of_site(name: &str, config: &str, catalog: &str) -> Csp {
        let dir = std::env::temp_dir().join(format!("insieme-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), TRUNK_INDEX).unwrap();
        std::fs::write(dir.join("config.json"), config).unwrap();
        std::fs::write(dir.join("catalog.json"), catalog).unwrap();
        let csp = Csp::for_site(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        csp
    }

    #[test]
    fn the_policy_allows_what_the_app_does_and_names_the_websocket_host() {
        let csp = policy_of_site(
            "csp",
            r#"{"signaling_url": "wss://signal.example:8443/ws", "ice_servers": []}"#,
            r#"{"videos": [{"title": "A", "url": "a.webm", "thumbnail": "https://img.example/a.jpg"}]}"#,
        );
        let value = csp.header_value(Some("party.example:8080"));
        for part in [
            "default-src 'none'",
            "script-src 'self' 'wasm-unsafe-eval' 'sha256-T5IWUSLAG07KqlRBe8BSSVQdi8be5k67MW2Dxqii73k='",
            "connect-src 'self' ws://party.example:8080 wss://party.example:8080 wss://signal.example:8443",
            "media-src 'self' https: blob:",
            "img-src 'self' data: blob: https://img.example;",
            "frame-ancestors 'none'",
        ] {
            assert!(value.contains(part), "{part} missing from {value}");
        }
        assert!(!value.contains("'unsafe-eval'") && !value.contains("'unsafe-inline'"));
        assert!(HeaderValue::from_str(&value).is_ok());
        // A Host that is not a plain host cannot put anything into the policy.
        let odd = csp.header_value(Some("evil; script-src *"));
        assert!(
            odd.contains("connect-src 'self' wss://signal.example:8443;"),
            "{odd}"
        );
        let file = csp.headers_file();
        assert!(
            file.starts_with("/*\n  X-Content-Type-Options: nosniff\n"),
            "{file}"
        );
        assert!(file.contains("  Content-Security-Policy: default-src 'none';"));
    }

    #[test]
    fn the_policy_is_the_same_text_with_and_without_a_host() {
        let csp = policy_of_site(
            "csp-text",
            r#"{"signaling_url": "wss://signal.example:8443/ws"}"#,
            r#"{"videos": [{"thumbnail": "https://img.example/a.jpg"}, {"thumbnail": "https://cdn.example/b.jpg"}]}"#,
        );
        let without_host = "default-src 'none'; \
             script-src 'self' 'wasm-unsafe-eval' 'sha256-T5IWUSLAG07KqlRBe8BSSVQdi8be5k67MW2Dxqii73k='; \
             style-src 'self'; \
             img-src 'self' data: blob: https://img.example https://cdn.example; \
             media-src 'self' https: blob:; \
             connect-src 'self' wss://signal.example:8443; \
             font-src 'self'; \
             manifest-src 'self'; \
             base-uri 'none'; \
             form-action 'none'; \
             frame-ancestors 'none'";
        assert_eq!(csp.header_value(None), without_host);
        assert_eq!(
            csp.header_value(Some("party.example")),
            without_host.replace(
                "connect-src 'self'",
                "connect-src 'self' ws://party.example wss://party.example"
            )
        );
    }

    #[test]
    fn only_absolute_signaling_urls_add_an_origin() {
        assert_eq!(signaling_origin(r#"{"signaling_url": "/ws"}"#), None);
        assert_eq!(
            signaling_origin(r#"{"signaling_url": "https://Signal.example/ws"}"#).as_deref(),
            Some("wss://Signal.example")
        );
        assert_eq!(signaling_origin("not json"), None);
    }

    #[test]
    fn only_https_thumbnails_of_the_catalogue_add_their_origins() {
        let catalog = r#"{ "comment": "x", "videos": [
            { "thumbnail": "https://IMG.example/a.jpg" },
            { "thumbnail": "https://img.example/b.jpg?x=1" },
            { "thumbnail": "https://cdn.example:8443/c.png#top" },
            { "thumbnail": "media/relative.jpg" },
            { "thumbnail": "http://plain.example/d.jpg" },
            { "thumbnail": "data:image/png;base64,AAAA" },
            { "thumbnail": "https://user@evil.example/e.jpg" },
            { "thumbnail": "https://evil.example; script-src */f.jpg" },
            { "thumbnail": 7 },
            { "title": "no thumbnail" }
        ] }"#;
        assert_eq!(
            thumbnail_origins(catalog),
            ["https://img.example", "https://cdn.example:8443"]
        );
        // A bare list reads the same; what is not a catalogue adds nothing.
        assert_eq!(
            thumbnail_origins(r#"[{"thumbnail": "https://a.example/x.jpg"}]"#),
            ["https://a.example"]
        );
        for nothing in ["", "not json", "{}", r#"{"videos": 3}"#, "[1, null]"] {
            assert!(thumbnail_origins(nothing).is_empty(), "{nothing:?}");
        }
        // Bounded: a catalogue naming many hosts cannot grow the header without end.
        let many: Vec<String> = (0..100)
            .map(|i| format!(r#"{{"thumbnail": "https://h{i}.example/t.jpg"}}"#))
            .collect();
        let origins = thumbnail_origins(&format!("[{}]", many.join(",")));
        assert_eq!(origins.len(), MAX_THUMBNAIL_ORIGINS);
        assert_eq!(origins[0], "https://h0.example");
    }
}
