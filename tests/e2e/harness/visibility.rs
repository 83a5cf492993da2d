//! Hiding a person's page as a background tab is hidden, in headless Chromium.
//!
//! Headless Chromium reports every page visible until another tab of the same window is brought
//! to the front: then the page's `document.visibilityState` is "hidden", it gets no animation
//! frames and no video frame callbacks, and (unless it plays sound) its timers run once a second,
//! as in a desktop browser's background tab. `Page.setWebLifecycleState` "frozen" freezes the page
//! instead (its video pauses, and it stays hidden after "active"), and the emulation domain has no
//! visibility override, so a second tab is the way (measured 2026-12-06, Chromium 156).

use super::Browser;
use anyhow::{bail, Context, Result};

/// A page kept hidden behind a blank tab; [`Hidden::show`] brings it back to the front.
pub struct Hidden {
    page: String,
    cover: String,
}

impl Browser {
    /// Opens a blank tab in front of this person's page, and checks the page says it is hidden.
    pub async fn hide_page(&self) -> Result<Hidden> {
        let page = target_id(
            &self
                .cdp("Target.getTargetInfo", serde_json::json!({}))
                .await?,
        )?;
        let created = self
            .cdp(
                "Target.createTarget",
                serde_json::json!({ "url": "about:blank", "newWindow": false }),
            )
            .await?;
        let cover = created["targetId"]
            .as_str()
            .context("Target.createTarget gave no targetId")?
            .to_string();
        self.cdp(
            "Target.activateTarget",
            serde_json::json!({ "targetId": cover }),
        )
        .await?;
        let hidden = Hidden { page, cover };
        let state = self.visibility_state().await?;
        if state != "hidden" {
            bail!("{}'s page is still {state} behind a blank tab", self.name);
        }
        Ok(hidden)
    }

    /// `document.visibilityState` of this person's page.
    pub async fn visibility_state(&self) -> Result<String> {
        let state = self
            .client
            .execute("return document.visibilityState", vec![])
            .await?;
        Ok(state.as_str().unwrap_or_default().to_string())
    }
}

impl Hidden {
    /// Brings the page back to the front and closes the blank tab; checks the page is visible.
    pub async fn show(self, browser: &Browser) -> Result<()> {
        browser
            .cdp(
                "Target.activateTarget",
                serde_json::json!({ "targetId": self.page }),
            )
            .await?;
        browser
            .cdp(
                "Target.closeTarget",
                serde_json::json!({ "targetId": self.cover }),
            )
            .await?;
        let state = browser.visibility_state().await?;
        if state != "visible" {
            bail!("{}'s page is {state} after being shown", browser.name);
        }
        Ok(())
    }
}

fn target_id(info: &serde_json::Value) -> Result<String> {
    info["targetInfo"]["targetId"]
        .as_str()
        .map(str::to_string)
        .context("Target.getTargetInfo gave no targetId")
}
