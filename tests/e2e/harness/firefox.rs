//! What is particular to a Firefox person: geckodriver's command line and Firefox's
//! capabilities (a fresh profile whose prefs keep it quiet and let it play and share media).
//!
//! The rest (the WebDriver session, the page helpers) is the same for every browser: see
//! [`super::browser`].

use super::Place;
use anyhow::{ensure, Result};
use std::path::Path;

/// Debian's Firefox (package `firefox-esr`); `FIREFOX` names another binary.
fn binary() -> String {
    std::env::var("FIREFOX").unwrap_or_else(|_| "firefox-esr".into())
}

/// geckodriver, installed by xtask into target/tools (crates.io); `GECKODRIVER` names another.
pub fn driver_binary() -> String {
    std::env::var("GECKODRIVER").unwrap_or_else(|_| "geckodriver".into())
}

/// geckodriver's arguments: its port, and the address it listens on when the test reaches it
/// from outside the browser's namespace (geckodriver then accepts only that address as the
/// request's Host, which is as far as it restricts clients).
pub fn driver_args(port: u16, listen_on: Option<std::net::IpAddr>) -> Vec<String> {
    let mut args = vec![format!("--port={port}")];
    if let Some(host) = listen_on {
        args.push(format!("--host={host}"));
    }
    args
}

/// Prefs of the fresh profile. Nothing may leave the machine, so every service Firefox calls
/// home with is off; media plays without a gesture, the camera and microphone are fakes that
/// need no prompt, and host candidates are plain addresses (no mDNS names, which a network
/// namespace cannot resolve), as the Chromium flags do for Chromium.
const PREFS: &[(&str, PrefValue)] = &[
    // Quiet: updates, telemetry, studies, safe browsing, captive portal, remote settings, push.
    ("app.update.enabled", PrefValue::Bool(false)),
    ("app.update.auto", PrefValue::Bool(false)),
    ("app.normandy.enabled", PrefValue::Bool(false)),
    ("app.shield.optoutstudies.enabled", PrefValue::Bool(false)),
    (
        "datareporting.healthreport.uploadEnabled",
        PrefValue::Bool(false),
    ),
    (
        "datareporting.policy.dataSubmissionEnabled",
        PrefValue::Bool(false),
    ),
    ("toolkit.telemetry.enabled", PrefValue::Bool(false)),
    ("toolkit.telemetry.unified", PrefValue::Bool(false)),
    ("toolkit.telemetry.server", PrefValue::Str("")),
    ("browser.ping-centre.telemetry", PrefValue::Bool(false)),
    (
        "browser.safebrowsing.malware.enabled",
        PrefValue::Bool(false),
    ),
    (
        "browser.safebrowsing.phishing.enabled",
        PrefValue::Bool(false),
    ),
    (
        "browser.safebrowsing.downloads.enabled",
        PrefValue::Bool(false),
    ),
    (
        "browser.safebrowsing.blockedURIs.enabled",
        PrefValue::Bool(false),
    ),
    (
        "browser.safebrowsing.provider.mozilla.updateURL",
        PrefValue::Str(""),
    ),
    (
        "network.captive-portal-service.enabled",
        PrefValue::Bool(false),
    ),
    (
        "network.connectivity-service.enabled",
        PrefValue::Bool(false),
    ),
    ("services.settings.server", PrefValue::Str("data:,")),
    (
        "messaging-system.rsexperimentloader.enabled",
        PrefValue::Bool(false),
    ),
    ("browser.region.update.enabled", PrefValue::Bool(false)),
    ("browser.region.network.url", PrefValue::Str("")),
    ("browser.search.update", PrefValue::Bool(false)),
    ("extensions.update.enabled", PrefValue::Bool(false)),
    ("extensions.getAddons.cache.enabled", PrefValue::Bool(false)),
    ("extensions.blocklist.enabled", PrefValue::Bool(false)),
    ("media.gmp-manager.updateEnabled", PrefValue::Bool(false)),
    ("media.gmp-manager.url", PrefValue::Str("")),
    ("dom.push.enabled", PrefValue::Bool(false)),
    ("dom.push.connection.enabled", PrefValue::Bool(false)),
    ("network.trr.mode", PrefValue::Int(5)),
    ("network.dns.disablePrefetch", PrefValue::Bool(true)),
    ("network.prefetch-next", PrefValue::Bool(false)),
    ("network.http.speculative-parallel-limit", PrefValue::Int(0)),
    ("browser.startup.page", PrefValue::Int(0)),
    ("browser.newtabpage.enabled", PrefValue::Bool(false)),
    (
        "browser.newtabpage.activity-stream.feeds.system.topstories",
        PrefValue::Bool(false),
    ),
    // Media: autoplay allowed (0), fake devices without a prompt.
    ("media.autoplay.default", PrefValue::Int(0)),
    ("media.autoplay.blocking_policy", PrefValue::Int(0)),
    ("media.navigator.streams.fake", PrefValue::Bool(true)),
    ("media.navigator.permission.disabled", PrefValue::Bool(true)),
    // WebRTC: plain host addresses, as `WebRtcHideLocalIpsWithMdns` is off for Chromium.
    (
        "media.peerconnection.ice.obfuscate_host_addresses",
        PrefValue::Bool(false),
    ),
    // The page's console goes to stdout, which the harness keeps (geckodriver has no log
    // command like chromedriver's).
    ("devtools.console.stdout.content", PrefValue::Bool(true)),
];

#[derive(Clone, Copy)]
enum PrefValue {
    Bool(bool),
    Int(i64),
    Str(&'static str),
}

impl PrefValue {
    fn json(self) -> serde_json::Value {
        match self {
            PrefValue::Bool(b) => b.into(),
            PrefValue::Int(i) => i.into(),
            PrefValue::Str(s) => s.into(),
        }
    }
}

/// The session's capabilities: headless Firefox in `profile` with [`PREFS`] and the place's own.
///
/// The place's extra flags are Chromium's and mean nothing to Firefox; a test that gives any (a
/// home's secure-origin flag, say) is told so rather than silently ignored.
pub fn capabilities(profile: &Path, place: &Place) -> Result<serde_json::Value> {
    let chromium_flags = &place.extra_flags;
    ensure!(
        chromium_flags.is_empty(),
        "Chromium flags {chromium_flags:?} given to a Firefox person; Firefox takes prefs"
    );
    let mut prefs: serde_json::Map<String, serde_json::Value> = PREFS
        .iter()
        .map(|(name, value)| (name.to_string(), value.json()))
        .collect();
    prefs.extend(place.firefox_prefs.iter().cloned());
    Ok(serde_json::json!({
        "browserName": "firefox",
        "moz:firefoxOptions": {
            "binary": binary(),
            "args": [
                "-headless",
                "-profile", profile.display().to_string(),
                "--window-size=1280,800",
            ],
            "prefs": prefs,
        },
    }))
}
