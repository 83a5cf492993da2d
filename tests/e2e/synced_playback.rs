//! Watching a video together: everyone ends on the same state and in sync, whoever acts.
//!
//! Sync is measured by the harness from each page's own `<video>` (see `harness::media`), not from
//! the app's estimates. The tolerances here are loose on purpose (shared, noisy machines); the
//! precise numbers come from `cargo xtask bench e2e`.

use crate::harness::actions::{gather, load_clip, play_pause_seek_and_play, Turns};
use crate::harness::media::{party_with_clip, wait_for_sync, FILM};
use crate::harness::{Browser, Party};
use anyhow::{ensure, Context, Result};
use std::time::Duration;

/// Everyone within this of each other counts as in sync for these tests (three 60 Hz frames).
const TOLERANCE_MS: f64 = 50.0;
const SETTLE: Duration = Duration::from_secs(15);

/// Everyone named gathers in a party and the first of them loads the clip.
async fn gather_and_load(party: &Party, names: &[(&str, &str)]) -> Result<String> {
    let link = gather(party, names).await?;
    load_clip(party.person(names[0].0)).await?;
    Ok(link)
}

#[tokio::test(flavor = "multi_thread")]
async fn three_people_play_pause_and_seek_in_sync() -> Result<()> {
    let names = [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")];
    let party = party_with_clip(
        "three_people_play_pause_and_seek_in_sync",
        &["alice", "bob", "carol"],
    )
    .await?;
    let outcome = async {
        gather_and_load(&party, &names).await?;
        let everyone: Vec<&Browser> = names.iter().map(|(b, _)| party.person(b)).collect();
        let turns = Turns {
            plays: party.person("bob"),
            pauses: party.person("carol"),
            seeks: party.person("alice"),
            plays_again: party.person("bob"),
        };
        play_pause_seek_and_play(&everyone, turns).await
    }
    .await;
    party.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread")]
async fn late_joiner_lands_in_sync_while_others_play() -> Result<()> {
    let names = [("alice", "Alice"), ("bob", "Bob")];
    let party = party_with_clip("late_joiner_lands_in_sync", &["alice", "bob", "dave"]).await?;
    let outcome = async {
        let link = gather_and_load(&party, &names).await?;
        let (alice, bob, dave) = (
            party.person("alice"),
            party.person("bob"),
            party.person("dave"),
        );
        wait_for_sync(&[alice, bob], false, TOLERANCE_MS, Some(0.0), SETTLE).await?;
        alice.click_button("Play").await?;
        wait_for_sync(&[alice, bob], true, TOLERANCE_MS, None, SETTLE).await?;

        dave.join_as(&link, "Dave").await?;
        wait_for_sync(&[alice, bob, dave], true, TOLERANCE_MS, None, SETTLE).await?;
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_video_that_fails_to_load_shows_who_failed_and_why() -> Result<()> {
    let names = [("alice", "Alice"), ("bob", "Bob")];
    let party = party_with_clip("a_video_that_fails_to_load", &["alice", "bob"]).await?;
    let outcome = async {
        gather(&party, &names).await?;
        let (alice, bob) = (party.person("alice"), party.person("bob"));
        alice.type_into("Video URL", "/no-such-video.webm").await?;
        alice.click_button("Load video").await?;
        // Each sees the other's failure, with the browser's reason, in the people list.
        for (viewer, other) in [(alice, "Bob"), (bob, "Alice")] {
            let xpath = format!(
                "//li[contains(@class,'person') and starts-with(@data-state,'failed')]\
                 /span[@class='name' and normalize-space()='{other}']"
            );
            viewer
                .wait_for_xpath(&xpath, SETTLE)
                .await
                .with_context(|| format!("{} never saw that {other} failed", viewer.name))?;
        }
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

/// A member shares a link into a private network: no viewer's browser goes there, each says why,
/// and the room plays the next video as usual (issue 18, a member's shared URLs).
#[tokio::test(flavor = "multi_thread")]
async fn a_link_into_a_private_network_is_refused_by_every_viewer() -> Result<()> {
    let names = [("alice", "Alice"), ("bob", "Bob")];
    let party = party_with_clip("a_link_into_a_private_network", &["alice", "bob"]).await?;
    let outcome = async {
        gather(&party, &names).await?;
        let (alice, bob) = (party.person("alice"), party.person("bob"));
        // An address inside the tests' own network namespace: even a failure of the check
        // could send nothing off this machine.
        alice
            .type_into("Video URL", "https://10.213.0.77/router-admin.mp4")
            .await?;
        alice.click_button("Load video").await?;
        for viewer in [alice, bob] {
            viewer
                .wait_for_text("its link points into a private network (10.213.0.77)")
                .await?;
            let source = viewer
                .client
                .execute(
                    "return document.querySelector(arguments[0]).src;",
                    vec![serde_json::json!(FILM)],
                )
                .await?;
            ensure!(
                !source.as_str().unwrap_or_default().contains("10.213.0.77"),
                "{} gave the link to its player: {source}",
                viewer.name
            );
        }
        // Each tells the other only a code, not its own words about the host.
        alice.wait_for_text("failed: link refused").await?;
        bob.wait_for_text("failed: link refused").await?;
        // The room is not stuck on it.
        load_clip(alice).await?;
        let viewers = [alice, bob];
        wait_for_sync(&viewers, false, TOLERANCE_MS, Some(0.0), SETTLE).await?;
        Ok(())
    }
    .await;
    party.finish(outcome).await
}
