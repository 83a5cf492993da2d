//! What people do in a party, as steps shared by the tests and the end-to-end benchmark.

use super::media::{wait_for_sync, CLIP_PATH};
use super::{Browser, Party};
use anyhow::Result;

/// `browser` starts a party from the landing page and returns its link.
pub async fn start_party(browser: &Browser, server_url: &str) -> Result<String> {
    browser.open(server_url).await?;
    browser.click_button("Start a watch party").await?;
    browser.field_value("#room-link").await
}

/// The first of `people` (browser, display name) starts a party, everyone joins it by the link,
/// and each waits until they see all the others connected. Returns the link.
pub async fn gather(party: &Party, people: &[(&str, &str)]) -> Result<String> {
    let link = start_party(party.person(people[0].0), &party.server.url).await?;
    for (browser, name) in people {
        party.person(browser).join_as(&link, name).await?;
    }
    for (browser, _) in people {
        for (_, other) in people.iter().filter(|(b, _)| b != browser) {
            party.person(browser).wait_for_person(other).await?;
        }
    }
    Ok(link)
}

/// Pastes the test clip's URL and loads it for everyone.
pub async fn load_clip(browser: &Browser) -> Result<()> {
    load_clip_at(browser, CLIP_PATH).await
}

/// Pastes the URL of a clip the server serves at `path` and loads it for everyone.
pub async fn load_clip_at(browser: &Browser, path: &str) -> Result<()> {
    browser.type_into("Video URL", path).await?;
    browser.click_button("Load video").await
}

/// Moves the seek bar as a person dragging it would (input while dragging, change on release).
pub async fn seek_with_slider(browser: &Browser, secs: f64) -> Result<()> {
    browser
        .client
        .execute(
            "const bar = document.querySelector('input[aria-label=\"Seek\"]');
             bar.value = String(arguments[0]);
             bar.dispatchEvent(new Event('input', { bubbles: true }));
             bar.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![serde_json::json!(secs)],
        )
        .await?;
    Ok(())
}

/// Puts `link` into the queue through the source box, as a person does.
pub async fn add_to_queue(browser: &Browser, link: &str) -> Result<()> {
    browser.type_into("Video URL", link).await?;
    browser.click_button("Add to queue").await
}

/// Sends a chat line.
pub async fn say(browser: &Browser, text: &str) -> Result<()> {
    browser.type_into("Message", text).await?;
    browser.click_button("Send").await
}

/// The first of `viewers` loads the test clip and, once everyone is paused on its first frame,
/// the second presses Play; returns when everyone plays within 50 ms of each other (three 60 Hz
/// frames, the suite's loose tolerance on a busy host).
pub async fn play_clip_together(viewers: &[&Browser]) -> Result<()> {
    play_together(viewers, CLIP_PATH).await
}

/// As [`play_clip_together`], with the clip the server serves at `path`.
pub async fn play_together(viewers: &[&Browser], path: &str) -> Result<()> {
    const TOLERANCE_MS: f64 = 50.0;
    const SETTLE: std::time::Duration = std::time::Duration::from_secs(15);
    load_clip_at(viewers[0], path).await?;
    wait_for_sync(viewers, false, TOLERANCE_MS, Some(0.0), SETTLE).await?;
    viewers[1].click_button("Play").await?;
    wait_for_sync(viewers, true, TOLERANCE_MS, None, SETTLE).await?;
    Ok(())
}

/// Who does what in [`play_pause_seek_and_play`].
pub struct Turns<'a> {
    pub plays: &'a Browser,
    pub pauses: &'a Browser,
    pub seeks: &'a Browser,
    pub plays_again: &'a Browser,
}

/// The core scenario, on `everyone` with the test clip loaded: once they are paused on its first
/// frame, one plays, one pauses, one seeks to 20 s and one plays again; after each step everyone
/// is in that state within 50 ms of each other (near 20 s, then 21 s, after the seek).
pub async fn play_pause_seek_and_play(everyone: &[&Browser], turns: Turns<'_>) -> Result<()> {
    const TOLERANCE_MS: f64 = 50.0;
    const SETTLE: std::time::Duration = std::time::Duration::from_secs(15);
    wait_for_sync(everyone, false, TOLERANCE_MS, Some(0.0), SETTLE).await?;
    turns.plays.click_button("Play").await?;
    wait_for_sync(everyone, true, TOLERANCE_MS, None, SETTLE).await?;
    turns.pauses.click_button("Pause").await?;
    wait_for_sync(everyone, false, TOLERANCE_MS, None, SETTLE).await?;
    seek_with_slider(turns.seeks, 20.0).await?;
    wait_for_sync(everyone, false, TOLERANCE_MS, Some(20.0), SETTLE).await?;
    turns.plays_again.click_button("Play").await?;
    wait_for_sync(everyone, true, TOLERANCE_MS, Some(21.0), SETTLE).await?;
    Ok(())
}

/// Reads something from the pages every `every` until `done` accepts it, and returns it; after
/// `timeout`, fails with `describe` of the last reading (what the page showed instead).
pub async fn poll_until<T, Read, Fut>(
    timeout: std::time::Duration,
    every: std::time::Duration,
    mut read: Read,
    done: impl Fn(&T) -> bool,
    describe: impl Fn(&T) -> String,
) -> Result<T>
where
    Read: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let seen = read().await?;
        if done(&seen) {
            return Ok(seen);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "{}",
            describe(&seen)
        );
        tokio::time::sleep(every).await;
    }
}
