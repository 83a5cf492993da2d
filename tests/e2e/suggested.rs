//! The Suggested tab and richer queue entries: the deployer's catalogue shows, search filters
//! it, one click adds a video to Up next for everyone with its title and adder, entries get a
//! duration and a thumbnail drawn in the browser, a drag reorders them, and the room's history
//! (here, and a friend's, sent when a link opens) lists what was watched.

use crate::harness::actions::{gather, poll_until};
use crate::harness::media::{short_clip, test_clip, CLIP_PATH, SHORT_CLIP_PATH};
use crate::harness::{Browser, Party, ServerOptions, TestServer, UI_TIMEOUT};
use crate::queue::{click_in_entry, queue_of, wait_for_queue};
use anyhow::{ensure, Context, Result};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::Locator;
use std::time::Duration;

const SUGGESTED: &str = "//section[contains(@class,'suggested')]";

/// A catalogue naming the two test clips (relative links, as a deployer would write them).
fn catalogue(dir: &std::path::Path) -> Result<std::path::PathBuf> {
    let path = dir.join("catalog.json");
    let text = format!(
        r#"{{ "videos": [
            {{ "title": "Short clip", "url": "{}", "duration": 3, "tags": ["test"] }},
            {{ "title": "Long clip", "url": "{}" }},
            {{ "title": "", "url": "/dropped.webm" }}
        ] }}"#,
        SHORT_CLIP_PATH.trim_start_matches('/'),
        CLIP_PATH.trim_start_matches('/'),
    );
    std::fs::write(&path, text)?;
    Ok(path)
}

/// The titles the Suggested tab lists under `heading`.
async fn suggested_under(browser: &Browser, heading: &str) -> Result<Vec<String>> {
    let rows = browser
        .client
        .find_all(Locator::XPath(&format!(
            "{SUGGESTED}//h3[.='{heading}']/following-sibling::ul[1]/li/span[@class='title']"
        )))
        .await?;
    let mut titles = Vec::new();
    for row in rows {
        titles.push(row.text().await?);
    }
    Ok(titles)
}

/// Waits until `browser` lists exactly `want` under `heading`.
async fn wait_for_suggested(browser: &Browser, heading: &str, want: &[&str]) -> Result<()> {
    poll_until(
        UI_TIMEOUT,
        Duration::from_millis(100),
        || suggested_under(browser, heading),
        |seen| seen == want,
        |seen| {
            format!(
                "{} lists {seen:?} under {heading:?}, not {want:?}",
                browser.name
            )
        },
    )
    .await?;
    Ok(())
}

/// Drags the entry whose link ends with `from` onto the one whose link ends with `to`, with the
/// events a person's drag fires (WebDriver cannot drive HTML5 drag and drop itself).
async fn drag(browser: &Browser, from: &str, to: &str) -> Result<()> {
    browser
        .client
        .execute(
            "const rows = [...document.querySelectorAll('section.up-next li')];
             const row = end => rows.find(r => r.querySelector('.url').textContent.endsWith(end));
             const [from, to] = [row(arguments[0]), row(arguments[1])];
             const dataTransfer = new DataTransfer();
             const fire = (el, type) => el.dispatchEvent(
                 new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer }));
             fire(from, 'dragstart');
             fire(to, 'dragover');
             fire(to, 'drop');
             fire(from, 'dragend');",
            vec![serde_json::json!(from), serde_json::json!(to)],
        )
        .await
        .with_context(|| format!("{} dragging {from} onto {to}", browser.name))?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn suggestions_add_to_everyones_queue_and_history_lists_what_was_watched() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let options = ServerOptions {
        media: vec![
            test_clip().await?,
            short_clip().await?,
            catalogue(dir.path())?,
        ],
        ..Default::default()
    };
    let server = TestServer::start_with(options).await?;
    let party = Party::start_with("suggested", server, &["alice", "bob", "carol"]).await?;
    let outcome = async {
        let (alice, bob, carol) = (
            party.person("alice"),
            party.person("bob"),
            party.person("carol"),
        );
        let link = gather(&party, &[("alice", "Alice"), ("bob", "Bob")]).await?;

        // The programme's code, fetched as the room opened, draws the live tabs; Suggested
        // then shows the catalogue (its bad entry dropped).
        wait_for_live_tabs(alice).await?;
        alice.click_button("Suggested").await?;
        wait_for_suggested(alice, "From the catalogue", &["Short clip", "Long clip"]).await?;
        alice.type_into("Search suggestions", "SHORT").await?;
        wait_for_suggested(alice, "From the catalogue", &["Short clip"]).await?;
        alice
            .wait_for_xpath(
                &format!("{SUGGESTED}//li[span[@class='title']='Short clip']/button[normalize-space()='Add to queue' and not(@disabled)]"),
                UI_TIMEOUT,
            )
            .await?
            .click()
            .await?;
        alice.type_into("Search suggestions", "long").await?;
        wait_for_suggested(alice, "From the catalogue", &["Long clip"]).await?;
        alice
            .wait_for_xpath(
                &format!("{SUGGESTED}//button[normalize-space()='Add to queue' and not(@disabled)]"),
                UI_TIMEOUT,
            )
            .await?
            .click()
            .await?;

        // Bob sees both, titled by the catalogue and added by Alice, each with the length and
        // a frame his own browser read.
        let entries = wait_for_queue(bob, 2).await?;
        ensure!(
            entries[0].ends_with(SHORT_CLIP_PATH) && entries[1].ends_with(CLIP_PATH),
            "bob lists {entries:?}"
        );
        for (title, length) in [("Short clip", "0:03"), ("Long clip", "1:30")] {
            bob.wait_for_xpath(
                &format!(
                    "//section[contains(@class,'up-next')]//li[span[@class='title']='{title}' \
                     and span[@class='by']='added by Alice' and span[@class='duration']='{length}'] \
                     /img[@class='thumb' and starts-with(@src, 'data:image/jpeg')]"
                ),
                UI_TIMEOUT,
            )
            .await
            .with_context(|| format!("bob shows no titled, timed, pictured {title}"))?;
        }

        // A drag reorders it for everyone (a hidden tab's rows read as empty: back to Up next).
        alice.click_button("Up next").await?;
        drag(bob, CLIP_PATH, SHORT_CLIP_PATH).await?;
        let deadline = tokio::time::Instant::now() + UI_TIMEOUT;
        while !queue_of(alice)
            .await?
            .first()
            .is_some_and(|l| l.ends_with(CLIP_PATH))
        {
            ensure!(
                tokio::time::Instant::now() < deadline,
                "bob's drag never reached alice: {:?}",
                queue_of(alice).await?
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // What the room plays goes into its history, here and, sent when a link opens, at a
        // late friend's (less what she watches herself on arrival).
        click_in_entry(alice, SHORT_CLIP_PATH, "Play now").await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        click_in_entry(alice, CLIP_PATH, "Play now").await?;
        alice.click_button("Suggested").await?;
        alice.type_into("Search suggestions", "clip").await?;
        wait_for_suggested(alice, "Watched in this room", &["Long clip", "Short clip"]).await?;
        carol.join_as(&link, "Carol").await?;
        // The queue's arrival loads its code, which redraws the tabs: click once it has.
        wait_for_queue(carol, 2).await?;
        carol.click_button("Suggested").await?;
        wait_for_suggested(carol, "Watched in this room", &["Long clip"]).await?;
        wait_for_suggested(carol, "Friends watched", &["Short clip"]).await?;
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

/// Waits until the programme's code (fetched as the room opens) has drawn the live tabs in
/// place of the first load's static stand-in, which does nothing when clicked. Only the live
/// tabs name the panels they control.
async fn wait_for_live_tabs(browser: &Browser) -> Result<()> {
    poll_until(
        UI_TIMEOUT,
        Duration::from_millis(50),
        || async {
            let live = browser
                .client
                .execute(
                    "const tab = document.getElementById('tab-up-next');
                     return !!tab && tab.hasAttribute('aria-controls');",
                    vec![],
                )
                .await?;
            Ok(live.as_bool().unwrap_or(false))
        },
        |live| *live,
        |_| "the live tabs were not drawn".to_owned(),
    )
    .await?;
    Ok(())
}

/// Which tab has the focus, which is chosen and reachable by Tab (its tabindex), and which
/// panel shows: "focus:<id> chosen:<id> tabbable:<id> shown:<id>".
async fn tabs_state(browser: &Browser) -> Result<String> {
    let state = browser
        .client
        .execute(
            "const tabs = [...document.querySelectorAll('[role=tab]')];
             const one = test => (tabs.find(test) || { id: '-' }).id;
             const panel = [...document.querySelectorAll('[role=tabpanel]')]
                 .find(p => !p.hidden);
             return `focus:${document.activeElement.id || '-'}`
                 + ` chosen:${one(t => t.getAttribute('aria-selected') === 'true')}`
                 + ` tabbable:${one(t => t.tabIndex === 0)}`
                 + ` shown:${panel ? panel.id : '-'}`;",
            vec![],
        )
        .await?;
    Ok(state.as_str().unwrap_or_default().to_owned())
}

/// Presses `key` (a WebDriver key code) on whatever has the focus, then waits until the tabs
/// are in `want` (see [`tabs_state`]).
async fn press_on_tabs(browser: &Browser, key: char, want: &str) -> Result<()> {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    browser.client.perform_actions(keys).await?;
    poll_until(
        UI_TIMEOUT,
        Duration::from_millis(50),
        || tabs_state(browser),
        |seen| seen == want,
        |seen| format!("after {key:?} the tabs are {seen:?}, not {want:?}"),
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tabs_follow_the_arrow_keys_home_and_end() -> Result<()> {
    const RIGHT: char = '\u{E014}';
    const LEFT: char = '\u{E012}';
    const HOME: char = '\u{E011}';
    const END: char = '\u{E010}';
    const UP_NEXT: &str =
        "focus:tab-up-next chosen:tab-up-next tabbable:tab-up-next shown:panel-up-next";
    const SUGGESTED: &str =
        "focus:tab-suggested chosen:tab-suggested tabbable:tab-suggested shown:panel-suggested";
    let party = Party::start("suggested_tab_keys", &["alice"]).await?;
    let outcome = async {
        let alice = party.person("alice");
        gather(&party, &[("alice", "Alice")]).await?;
        // As the room opens (the stand-in, then the live tabs as the programme's code
        // arrives): no panel yet, Up next chosen and the one Tab reaches.
        let standing = tabs_state(alice).await?;
        ensure!(
            standing == "focus:- chosen:tab-up-next tabbable:tab-up-next shown:-",
            "the tabs as the room opens are {standing:?}"
        );
        wait_for_live_tabs(alice).await?;
        ensure!(
            tabs_state(alice).await? == standing,
            "the live tabs differ from the stand-in before the queue is used"
        );
        alice
            .client
            .execute("document.getElementById('tab-up-next').focus();", vec![])
            .await?;
        // Choosing Suggested by a key is using the queue: both panels are drawn.
        press_on_tabs(alice, RIGHT, SUGGESTED).await?;
        // The live tabs: round and round, and to the ends.
        press_on_tabs(alice, RIGHT, UP_NEXT).await?;
        press_on_tabs(alice, LEFT, SUGGESTED).await?;
        press_on_tabs(alice, HOME, UP_NEXT).await?;
        press_on_tabs(alice, END, SUGGESTED).await?;
        Ok(())
    }
    .await;
    party.finish(outcome).await
}
