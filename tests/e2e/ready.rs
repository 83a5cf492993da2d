//! The ready check: a video loaded by hand asks everyone "Ready?", the people list shows who
//! is, and the film starts for all when the last person is ready, or when someone presses
//! "Start anyway".

use crate::harness::actions::{gather, load_clip, poll_until};
use crate::harness::homes::friend_row;
use crate::harness::media::{party_with_clip, wait_for_sync};
use crate::harness::{Browser, Party, UI_TIMEOUT};
use anyhow::{ensure, Result};
use std::time::Duration;

/// Everyone plays (or waits) within this of each other: three 60 Hz frames, the suite's loose
/// tolerance on a busy host (as `play_clip_together`).
const TOLERANCE_MS: f64 = 50.0;
const SETTLE: Duration = Duration::from_secs(15);

/// The readiness `viewer`'s people list shows for `name` ("ready", "loading", "not yet"), checked
/// against what the row says. Attribute and text come from one read of the row: read one after
/// the other, a row turning from "loading" to "not yet" between them once failed CI.
async fn readiness_of(viewer: &Browser, name: &str) -> Result<String> {
    let row = poll_until(
        UI_TIMEOUT,
        Duration::from_millis(100),
        || friend_row(viewer, name),
        |row| row.as_ref().is_some_and(|row| row.ready.is_some()),
        |row| format!("{} shows no readiness for {name}: {row:?}", viewer.name),
    )
    .await?
    .unwrap_or_default();
    let shown = row.ready.unwrap_or_default();
    ensure!(
        row.text.contains(&shown),
        "{name}'s row reads {:?}, not {shown:?}",
        row.text
    );
    Ok(shown)
}

/// Waits until `viewer` shows `name` as `want`.
async fn wait_for_readiness(viewer: &Browser, name: &str, want: &str) -> Result<()> {
    poll_until(
        UI_TIMEOUT,
        Duration::from_millis(100),
        || readiness_of(viewer, name),
        |shown| shown == want,
        |shown| format!("{} shows {name} as {shown:?}, not {want:?}", viewer.name),
    )
    .await?;
    Ok(())
}

/// Waits until the prompt is gone from every viewer.
async fn prompt_gone(viewers: &[&Browser]) -> Result<()> {
    for viewer in viewers {
        ensure!(
            viewer
                .wait_for_no_xpath("//*[normalize-space()='Ready?']", UI_TIMEOUT)
                .await?,
            "{} still asks Ready?",
            viewer.name
        );
    }
    Ok(())
}

/// Alice, Bob and Carol meet; Alice loads the clip ("Load video" asks everyone).
async fn gather_and_load(party: &Party) -> Result<[&Browser; 3]> {
    let people = [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")];
    gather(party, &people).await?;
    let all = people.map(|(browser, _)| party.person(browser));
    load_clip(all[0]).await?;
    Ok(all)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_film_starts_when_the_last_person_is_ready() -> Result<()> {
    let party = party_with_clip("ready_last_person", &["alice", "bob", "carol"]).await?;
    let outcome = async {
        let [alice, bob, carol] = gather_and_load(&party).await?;
        let all = [alice, bob, carol];
        for viewer in all {
            viewer.wait_for_text("Ready?").await?;
            viewer.wait_for_text("Starting anyway in").await?;
        }
        // Nobody is ready yet: each is listed as loading or not yet, never ready.
        for (viewer, other) in [(alice, "Bob"), (bob, "Carol"), (carol, "Alice")] {
            let shown = readiness_of(viewer, other).await?;
            ensure!(
                shown == "not yet" || shown == "loading",
                "{} shows {other} as {shown:?}",
                viewer.name
            );
        }
        wait_for_sync(&all, false, TOLERANCE_MS, Some(0.0), SETTLE).await?;
        for (viewer, other) in [(alice, "Bob"), (carol, "Alice")] {
            wait_for_readiness(viewer, other, "not yet").await?;
        }
        alice.click_button("Ready").await?;
        bob.click_button("Ready").await?;
        wait_for_readiness(carol, "Alice", "ready").await?;
        wait_for_readiness(carol, "Bob", "ready").await?;
        wait_for_readiness(alice, "Carol", "not yet").await?;
        // Two of three ready: the film still waits, paused at its start, for everyone.
        wait_for_sync(&all, false, TOLERANCE_MS, Some(0.0), SETTLE).await?;
        carol.click_button("Ready").await?;
        let spread = wait_for_sync(&all, true, TOLERANCE_MS, None, SETTLE).await?;
        println!("ready_last_person: all three play, spread {spread:.1} ms");
        prompt_gone(&all).await
    }
    .await;
    party.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread")]
async fn start_anyway_starts_the_film_for_everyone() -> Result<()> {
    let party = party_with_clip("ready_start_anyway", &["alice", "bob", "carol"]).await?;
    let outcome = async {
        let [alice, bob, carol] = gather_and_load(&party).await?;
        let all = [alice, bob, carol];
        wait_for_sync(&all, false, TOLERANCE_MS, Some(0.0), SETTLE).await?;
        carol.click_button("Ready").await?;
        wait_for_readiness(bob, "Carol", "ready").await?;
        // Bob, not ready himself, starts it for everyone.
        bob.click_button("Start anyway").await?;
        let spread = wait_for_sync(&all, true, TOLERANCE_MS, None, SETTLE).await?;
        println!("ready_start_anyway: all three play, spread {spread:.1} ms");
        prompt_gone(&all).await?;
        // Paused later, anyone can ask again; the film waits until everyone is ready.
        alice.click_button("Pause").await?;
        wait_for_sync(&all, false, TOLERANCE_MS, None, SETTLE).await?;
        carol.click_button("Ready check").await?;
        for viewer in all {
            viewer.wait_for_text("Ready?").await?;
        }
        for viewer in all {
            viewer.click_button("Ready").await?;
        }
        wait_for_sync(&all, true, TOLERANCE_MS, None, SETTLE).await?;
        prompt_gone(&all).await
    }
    .await;
    party.finish(outcome).await
}
