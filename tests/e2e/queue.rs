//! The shared queue ("Up next"): concurrent adds end in one order everywhere, a newcomer gets
//! the queue, and the end of a video starts the next one for everyone.

use crate::harness::actions::{add_to_queue as add, gather, poll_until};
use crate::harness::media::{
    short_clip, test_clip, wait_for_sync, CLIP_PATH, FILM, SHORT_CLIP_PATH,
};
use crate::harness::{Browser, Party, ServerOptions, TestServer, UI_TIMEOUT};
use anyhow::{ensure, Context, Result};
use fantoccini::Locator;
use std::time::Duration;

/// The link of every entry, in the order the panel lists them.
pub async fn queue_of(browser: &Browser) -> Result<Vec<String>> {
    let rows = browser
        .client
        .find_all(Locator::XPath(
            "//section[contains(@class,'up-next')]//li/span[@class='url']",
        ))
        .await?;
    let mut titles = Vec::new();
    for row in rows {
        titles.push(row.text().await?);
    }
    Ok(titles)
}

/// Waits until `browser` lists exactly `n` entries; returns them.
pub async fn wait_for_queue(browser: &Browser, n: usize) -> Result<Vec<String>> {
    poll_until(
        UI_TIMEOUT,
        Duration::from_millis(100),
        || queue_of(browser),
        |titles| titles.len() == n,
        |titles| format!("{} lists {titles:?}, not {n} entries", browser.name),
    )
    .await
}

/// Adds each link to the queue from `browser`, all in one task of the page, so that no piece
/// from anyone else can arrive in between.
async fn add_at_once(browser: &Browser, links: &[String]) -> Result<()> {
    browser.wait_for_button("Add to queue").await?;
    browser
        .client
        .execute(
            "const box = document.getElementById('video-url');
             const add = [...document.querySelectorAll('button')]
                 .find(b => b.textContent.trim() === 'Add to queue');
             for (const link of arguments[0]) {
                 box.value = link;
                 box.dispatchEvent(new Event('input', { bubbles: true }));
                 add.click();
             }",
            vec![serde_json::json!(links)],
        )
        .await
        .with_context(|| format!("{} adding {links:?}", browser.name))?;
    Ok(())
}

/// Clicks `button` in the row of the entry whose link contains `entry`.
pub async fn click_in_entry(browser: &Browser, entry: &str, button: &str) -> Result<()> {
    let xpath = format!(
        "//section[contains(@class,'up-next')]//li[span[@class='url' and contains(., '{entry}')]]\
         //button[normalize-space()='{button}' and not(@disabled)]"
    );
    browser
        .wait_for_xpath(&xpath, UI_TIMEOUT)
        .await
        .with_context(|| format!("{} sees no {button:?} for {entry}", browser.name))?
        .click()
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn three_people_adding_at_once_see_one_order() -> Result<()> {
    let party = Party::start("queue_adds_at_once", &["alice", "bob", "carol"]).await?;
    let outcome = async {
        let people = [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")];
        gather(&party, &people).await?;
        let links = |who: &str| {
            (1..=3)
                .map(|n| format!("/{who}-{n}.webm"))
                .collect::<Vec<_>>()
        };
        let (alice, bob, carol) = (
            party.person("alice"),
            party.person("bob"),
            party.person("carol"),
        );
        let (a, b, c) = (links("alice"), links("bob"), links("carol"));
        tokio::try_join!(
            add_at_once(alice, &a),
            add_at_once(bob, &b),
            add_at_once(carol, &c)
        )?;
        let seen = [
            wait_for_queue(alice, 9).await?,
            wait_for_queue(bob, 9).await?,
            wait_for_queue(carol, 9).await?,
        ];
        ensure!(
            seen.iter().all(|s| *s == seen[0]),
            "the pages disagree: {seen:#?}"
        );
        // Each person's own adds keep their order.
        for own in [a, b, c] {
            let places: Vec<usize> = own
                .iter()
                .map(|l| seen[0].iter().position(|t| t.ends_with(l.as_str())))
                .collect::<Option<_>>()
                .with_context(|| format!("{own:?} missing from {:?}", seen[0]))?;
            ensure!(places.windows(2).all(|w| w[0] < w[1]), "{:?}", seen[0]);
        }
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_joiner_receives_the_queue() -> Result<()> {
    let party = Party::start("queue_late_joiner", &["alice", "bob", "carol"]).await?;
    let outcome = async {
        let (alice, bob, carol) = (
            party.person("alice"),
            party.person("bob"),
            party.person("carol"),
        );
        let link = gather(&party, &[("alice", "Alice"), ("bob", "Bob")]).await?;
        for name in ["one", "two", "three"] {
            add(alice, &format!("/{name}.webm")).await?;
        }
        wait_for_queue(bob, 3).await?;
        click_in_entry(bob, "three.webm", "Move up").await?;
        click_in_entry(alice, "one.webm", "Remove").await?;
        let want = ["three.webm", "two.webm"];
        let ends = |list: &[String]| {
            list.len() == want.len() && list.iter().zip(want).all(|(t, w)| t.ends_with(w))
        };
        let deadline = tokio::time::Instant::now() + UI_TIMEOUT;
        while !(ends(&queue_of(alice).await?) && ends(&queue_of(bob).await?)) {
            ensure!(
                tokio::time::Instant::now() < deadline,
                "alice lists {:?}, bob {:?}",
                queue_of(alice).await?,
                queue_of(bob).await?
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        carol.join_as(&link, "Carol").await?;
        let late = wait_for_queue(carol, 2).await?;
        ensure!(ends(&late), "carol lists {late:?}");
        carol.wait_for_text("added by Alice").await?;
        // Once she has met the room she edits like everyone.
        click_in_entry(carol, "two.webm", "Move up").await?;
        let deadline = tokio::time::Instant::now() + UI_TIMEOUT;
        while !queue_of(alice)
            .await?
            .first()
            .is_some_and(|t| t.ends_with("two.webm"))
        {
            ensure!(
                tokio::time::Instant::now() < deadline,
                "carol's move never reached alice"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

/// The link the film's `<video>` plays.
async fn film_source(browser: &Browser) -> Result<String> {
    let src = browser
        .client
        .execute(
            "const v = document.querySelector(arguments[0]); return v ? v.currentSrc : '';",
            vec![serde_json::json!(FILM)],
        )
        .await?;
    Ok(src.as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_end_of_a_video_starts_the_next_for_everyone() -> Result<()> {
    let options = ServerOptions {
        media: vec![test_clip().await?, short_clip().await?],
        ..Default::default()
    };
    let server = TestServer::start_with(options).await?;
    let party = Party::start_with("queue_end_starts_next", server, &["alice", "bob"]).await?;
    let outcome = async {
        let (alice, bob) = (party.person("alice"), party.person("bob"));
        gather(&party, &[("alice", "Alice"), ("bob", "Bob")]).await?;
        add(alice, SHORT_CLIP_PATH).await?;
        add(bob, CLIP_PATH).await?;
        wait_for_queue(alice, 2).await?;
        wait_for_queue(bob, 2).await?;
        click_in_entry(bob, SHORT_CLIP_PATH, "Play now").await?;
        // "Play now" asks everyone whether they are ready; the next one will not.
        for viewer in [alice, bob] {
            viewer.click_button("Ready").await?;
        }
        // Both load the short clip; it ends within seconds, then the long one plays for both,
        // together.
        let settle = Duration::from_secs(15);
        for (clip, what) in [(SHORT_CLIP_PATH, "started"), (CLIP_PATH, "moved on to")] {
            let deadline = tokio::time::Instant::now() + settle;
            for viewer in [alice, bob] {
                while !film_source(viewer).await?.ends_with(clip) {
                    ensure!(
                        tokio::time::Instant::now() < deadline,
                        "{} never {what} {clip}",
                        viewer.name
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        wait_for_sync(&[alice, bob], true, 100.0, None, settle).await?;
        for viewer in [alice, bob] {
            viewer
                .wait_for_xpath(
                    &format!("//li[@aria-current='true']/span[contains(., '{CLIP_PATH}')]"),
                    UI_TIMEOUT,
                )
                .await
                .with_context(|| format!("{} does not mark the clip playing", viewer.name))?;
        }
        Ok(())
    }
    .await;
    party.finish(outcome).await
}
