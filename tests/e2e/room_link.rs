//! Starting a party and joining it by its link.

use crate::harness::Party;
use anyhow::{ensure, Result};
use insieme::room_link::Route;

#[tokio::test(flavor = "multi_thread")]
async fn friend_opens_the_shared_link_and_sees_the_same_room() -> Result<()> {
    let party = Party::start(
        "friend_opens_the_shared_link_and_sees_the_same_room",
        &["alice", "bob"],
    )
    .await?;
    let outcome = async {
        let (alice, bob) = (party.person("alice"), party.person("bob"));
        alice.open(&party.server.url).await?;
        alice.click_button("Start a watch party").await?;
        alice.wait_for_text("Your watch party").await?;
        let link = alice.field_value("#room-link").await?;
        let fragment = link
            .strip_prefix(&format!("{}/", party.server.url))
            .unwrap_or_default();
        ensure!(
            matches!(Route::from_hash(fragment), Route::Room(_)),
            "not a room link: {link}"
        );
        ensure!(
            alice.client.current_url().await?.as_str() == link,
            "alice is not on her own link"
        );

        alice.click_button("Copy room link").await?;
        // Headless Chromium may refuse the clipboard; either way the person is told what happened.
        alice.wait_for_text("ink").await?;

        bob.open(&link).await?;
        bob.wait_for_text("Your watch party").await?;
        let bobs_link = bob.field_value("#room-link").await?;
        ensure!(
            bobs_link == link,
            "bob sees {bobs_link}, alice shared {link}"
        );
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_link_explains_and_leads_back() -> Result<()> {
    let party = Party::start("malformed_link_explains_and_leads_back", &["carol"]).await?;
    let outcome = async {
        let carol = party.person("carol");
        carol
            .open(&format!("{}/#this-is-not-a-room", party.server.url))
            .await?;
        carol.wait_for_text("This room link does not work").await?;
        carol
            .client
            .find(fantoccini::Locator::LinkText("Back to start"))
            .await?
            .click()
            .await?;
        carol.click_button("Start a watch party").await?;
        carol.wait_for_text("Your watch party").await?;
        Ok(())
    }
    .await;
    party.finish(outcome).await
}
