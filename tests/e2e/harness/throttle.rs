//! Making one person's browser a slow device, over the DevTools protocol (Chromium only).
//!
//! `Emulation.setCPUThrottlingRate` slows the page's main thread by a factor (4 = a quarter of
//! the speed): the app's timers, its frame callbacks and its message handlers run late, as on a
//! slow laptop or phone, while the media pipeline (decoding, presenting) runs on as before.
//! A page that is merely slowed still keeps up (the app is idle most of the time: a fifth of the
//! speed left it on the frame, 2026-12-06), so a slow device is also kept busy: a task that holds
//! the main thread most of each interval (`saturate`), as a heavy page on a slow phone does.
//! Slowed and busy, its callbacks run tens of milliseconds late.
//! `Network.emulateNetworkConditions` caps the page's downloads, so its video fetches slower than
//! it plays and it buffers; WebRTC is not throttled by it, so the links to the others stay as
//! they were.

use super::Browser;
use anyhow::Result;

impl Browser {
    /// Slows this person's page `rate` times (1 ends the throttle).
    pub async fn throttle_cpu(&self, rate: f64) -> Result<()> {
        self.cdp(
            "Emulation.setCPUThrottlingRate",
            serde_json::json!({ "rate": rate }),
        )
        .await?;
        Ok(())
    }

    /// Keeps this person's main thread busy `busy_ms` of every `every_ms` (wall time, so a
    /// slowed page is as busy), until [`Browser::unsaturate`].
    pub async fn saturate(&self, busy_ms: f64, every_ms: f64) -> Result<()> {
        self.client
            .execute(
                "const [busy, every] = arguments;
                 clearInterval(window.__saturating);
                 window.__saturating = setInterval(() => {
                     const until = performance.now() + busy;
                     while (performance.now() < until) {}
                 }, every);",
                vec![busy_ms.into(), every_ms.into()],
            )
            .await?;
        Ok(())
    }

    /// Ends [`Browser::saturate`].
    pub async fn unsaturate(&self) -> Result<()> {
        self.client
            .execute("clearInterval(window.__saturating);", vec![])
            .await?;
        Ok(())
    }

    /// Caps this person's downloads at `bytes_per_second` (`None` lifts the cap).
    pub async fn throttle_downloads(&self, bytes_per_second: Option<f64>) -> Result<()> {
        self.cdp("Network.enable", serde_json::json!({})).await?;
        // -1 is the protocol's "no limit".
        let throughput = bytes_per_second.unwrap_or(-1.0);
        self.cdp(
            "Network.emulateNetworkConditions",
            serde_json::json!({
                "offline": false,
                "latency": 0,
                "downloadThroughput": throughput,
                "uploadThroughput": -1,
            }),
        )
        .await?;
        Ok(())
    }
}
