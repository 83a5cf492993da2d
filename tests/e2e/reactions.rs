//! Reactions on the frame: a reaction shows at the others at the media time it was sent, and
//! again at everyone's (a newcomer's included) when the room rewinds before it and plays on.
//!
//! Each page's overlay records on every reaction it floats the media time it is anchored to
//! (`data-at-us`) and the media time of the frame the page showed when it floated it
//! (`data-shown-at-us`); a recorder in each page keeps those as the elements appear, since
//! they leave once their animation ends. The pages' presented frames are recorded too
//! (`film_frames`): a page whose frame callbacks a busy host held back can float a reaction no
//! sooner than on the first frame it presents past its anchor. (One full run floated one 66 ms
//! late; its cause was not recorded.)

use crate::harness::actions::{gather, play_clip_together, poll_until, seek_with_slider};
use crate::harness::film_frames::{recorded, start_recording, wall_ms};
use crate::harness::media::{party_with_clip, wait_for_sync};
use crate::harness::{Browser, UI_TIMEOUT};
use anyhow::{ensure, Context, Result};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use std::time::Duration;

/// Two frames of the 60 fps clip: how far from its anchor a page may float a reaction...
const TWO_FRAMES_US: i64 = 33_334;
/// ...or from the first frame it presented past the anchor, where that came later: one frame
/// (the page's own frame callback and the recorder's may see neighbouring frames).
const ONE_FRAME_US: i64 = 16_667;

/// A reaction as one page floated it.
#[derive(Debug, Clone, PartialEq)]
struct Floated {
    kind: String,
    at_us: i64,
    shown_at_us: i64,
}

/// Starts recording every reaction the page floats.
async fn record_reactions(browser: &Browser) -> Result<()> {
    browser
        .client
        .execute(
            "window.floated = [];
             new MutationObserver(changes => {
                 for (const change of changes) for (const node of change.addedNodes) {
                     if (node.classList && node.classList.contains('reaction')) {
                         window.floated.push([node.dataset.kind, Number(node.dataset.atUs),
                             Number(node.dataset.shownAtUs)]);
                     }
                 }
             }).observe(document.body, { childList: true, subtree: true });",
            vec![],
        )
        .await
        .with_context(|| format!("{} recording reactions", browser.name))?;
    Ok(())
}

async fn floated(browser: &Browser) -> Result<Vec<Floated>> {
    let value = browser
        .client
        .execute("return window.floated || [];", vec![])
        .await?;
    let rows = value.as_array().cloned().unwrap_or_default();
    Ok(rows
        .iter()
        .filter_map(|row| {
            let row = row.as_array()?;
            Some(Floated {
                kind: row.first()?.as_str()?.to_owned(),
                at_us: row.get(1)?.as_f64()? as i64,
                shown_at_us: row.get(2)?.as_f64()? as i64,
            })
        })
        .collect())
}

/// Waits until `browser` has floated `n` reactions; returns them.
async fn wait_for_floated(browser: &Browser, n: usize) -> Result<Vec<Floated>> {
    poll_until(
        UI_TIMEOUT,
        Duration::from_millis(50),
        || floated(browser),
        |seen| seen.len() >= n,
        |seen| format!("{} floated {seen:?}, not {n} reactions", browser.name),
    )
    .await
}

/// Presses a digit key as a person does (on whatever has focus: not a text field here).
async fn press_key(browser: &Browser, key: char) -> Result<()> {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    browser.client.perform_actions(keys).await?;
    Ok(())
}

/// Fails unless `reaction` floated within two frames of its anchor, or, where `viewer`'s page
/// presented no frame that soon after the anchor (from wall time `since` on, in ms), within a
/// frame of the first it did present.
async fn ensure_on_time(viewer: &Browser, reaction: &Floated, since: f64) -> Result<()> {
    let late = reaction.shown_at_us - reaction.at_us;
    if late.abs() <= TWO_FRAMES_US {
        return Ok(());
    }
    let (frames, _, _) = recorded(viewer).await?;
    let first_past = frames
        .iter()
        .filter(|&&(shown_at, _)| shown_at >= since)
        .map(|&(_, media_s)| (media_s * 1e6).round() as i64)
        .find(|&media_us| media_us >= reaction.at_us);
    ensure!(
        late > 0 && first_past.is_some_and(|first| reaction.shown_at_us <= first + ONE_FRAME_US),
        "{} floated {reaction:?}, {:.1} ms from its media time; the first frame it presented past \
         it was at {first_past:?} µs",
        viewer.name,
        late as f64 / 1000.0
    );
    eprintln!(
        "{} floated {reaction:?} {:.1} ms late: its first frame past the anchor came as late",
        viewer.name,
        late as f64 / 1000.0
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reaction_shows_at_its_media_time_for_everyone_and_again_after_a_rewind() -> Result<()> {
    let party = party_with_clip("reactions_on_the_frame", &["alice", "bob", "carol"]).await?;
    let outcome = async {
        let (alice, bob, carol) = (
            party.person("alice"),
            party.person("bob"),
            party.person("carol"),
        );
        let link = gather(&party, &[("alice", "Alice"), ("bob", "Bob")]).await?;
        record_reactions(alice).await?;
        record_reactions(bob).await?;
        play_clip_together(&[alice, bob]).await?;
        for viewer in [alice, bob] {
            ensure!(start_recording(viewer).await?, "{} has no film to record", viewer.name);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;

        // The first reaction fetches the reactions' code on both pages.
        alice.click_button("Clap").await?;
        let first = wait_for_floated(bob, 1).await?[0].clone();
        let mine = wait_for_floated(alice, 1).await?[0].clone();
        ensure!(mine.kind == "Clap" && mine.shown_at_us == mine.at_us, "alice floated {mine:?}");
        ensure!(first.kind == "Clap" && first.at_us == mine.at_us, "bob floated {first:?}");
        eprintln!(
            "first reaction (code fetched on its arrival): bob floated it {:.1} ms from its media time",
            (first.shown_at_us - first.at_us) as f64 / 1000.0
        );
        // Once the code runs, a reaction floats at the others' within a frame or two.
        tokio::time::sleep(Duration::from_secs(1)).await;
        press_key(alice, '3').await?;
        let wow = wait_for_floated(bob, 2).await?[1].clone();
        let sent = wait_for_floated(alice, 2).await?[1].clone();
        ensure!(sent.kind == "Wow" && wow.kind == "Wow" && wow.at_us == sent.at_us, "{sent:?} {wow:?}");
        ensure_on_time(bob, &wow, 0.0).await?;
        eprintln!(
            "second reaction: bob floated it {:.1} ms from its media time",
            (wow.shown_at_us - wow.at_us) as f64 / 1000.0
        );

        // Carol joins late: the others' tracks reach her.
        carol.join_as(&link, "Carol").await?;
        record_reactions(carol).await?;
        wait_for_sync(&[alice, bob, carol], true, 50.0, None, Duration::from_secs(15)).await?;
        ensure!(start_recording(carol).await?, "Carol has no film to record");

        // The room rewinds to before both reactions and plays through them again.
        let back_to = mine.at_us as f64 / 1e6 - 2.0;
        let rewound_at = wall_ms();
        seek_with_slider(bob, back_to).await?;
        for (viewer, before) in [(alice, 2), (bob, 2), (carol, 0)] {
            let again = &wait_for_floated(viewer, before + 2).await?[before..before + 2];
            ensure!(
                again[0].at_us == mine.at_us && again[1].at_us == sent.at_us,
                "{} floated {again:?} after the rewind, not the reactions at {} and {} µs",
                viewer.name,
                mine.at_us,
                sent.at_us
            );
            for reaction in again {
                ensure_on_time(viewer, reaction, rewound_at).await?;
            }
        }
        // Playing on shows neither a third time.
        tokio::time::sleep(Duration::from_secs(2)).await;
        for (viewer, total) in [(alice, 4), (bob, 4), (carol, 2)] {
            let all = floated(viewer).await?;
            ensure!(all.len() == total, "{} floated {all:?}", viewer.name);
        }
        Ok(())
    }
    .await;
    party.finish(outcome).await
}
