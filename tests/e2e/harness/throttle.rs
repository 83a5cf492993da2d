//! Making one person's browser a slow device, over the DevTools protocol (Chromium only).
//!
//! `Emulation.setCPUThrottlingRate` slows the page's main thread by a factor (4 = a quarter of
//! the speed): the app's timers, its frame callbacks and its message handlers run late, as on a
//! slow laptop or phone, while the media pipeline (decoding, presenting) runs on as before.
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
