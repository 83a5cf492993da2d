//! Firefox as a viewer among Chromium ones (issue 19): the core scenarios of
//! `synced_playback.rs` with one Firefox person, asserting the same things, measured the same
//! way (each page's own `<video>`, see `harness::media`).

use crate::harness::actions::{gather, load_clip, play_pause_seek_and_play, Turns};
use crate::harness::media::{party_with_browsers, wait_for_sync, Clip};
use crate::harness::{Browser, Place};
use anyhow::{ensure, Result};
use std::time::Duration;

/// As in `synced_playback.rs`: three 60 Hz frames, loose on purpose on a shared machine.
const TOLERANCE_MS: f64 = 50.0;
const SETTLE: Duration = Duration::from_secs(15);

/// Three people, Bob in Firefox, play, pause, seek and play again; then Dave (Firefox too)
/// opens the link while they play and lands in sync. One party for both scenarios: each
/// browser costs seconds to start, and the suite's time is shared.
#[tokio::test(flavor = "multi_thread")]
async fn firefox_viewers_play_pause_seek_and_join_in_sync_with_chromium() -> Result<()> {
    let names = [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")];
    let people = [
        ("alice", Place::default()),
        ("bob", Place::firefox()),
        ("carol", Place::default()),
        ("dave", Place::firefox()),
    ];
    let party = party_with_browsers(Clip::Webm60, "firefox_viewers_in_sync", &people).await?;
    let outcome = async {
        for firefox in ["bob", "dave"] {
            let agent = party
                .person(firefox)
                .client
                .execute("return navigator.userAgent", vec![])
                .await?;
            let agent = agent.as_str().unwrap_or_default();
            ensure!(
                agent.contains("Firefox/"),
                "{firefox} runs {agent}, not Firefox"
            );
        }
        let link = gather(&party, &names).await?;
        load_clip(party.person("alice")).await?;
        let everyone: Vec<&Browser> = names.iter().map(|(b, _)| party.person(b)).collect();
        // Bob, in Firefox, plays and seeks; the Chromium viewers pause and play again.
        let turns = Turns {
            plays: party.person("bob"),
            pauses: party.person("carol"),
            seeks: party.person("bob"),
            plays_again: party.person("alice"),
        };
        play_pause_seek_and_play(&everyone, turns).await?;

        let dave = party.person("dave");
        dave.join_as(&link, "Dave").await?;
        let with_dave: Vec<&Browser> = everyone.iter().copied().chain([dave]).collect();
        wait_for_sync(&with_dave, true, TOLERANCE_MS, None, SETTLE).await?;
        Ok(())
    }
    .await;
    party.finish(outcome).await
}
