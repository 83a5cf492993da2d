//! A party: joining by link, the people list, chat, leaving, endpoint loss, a full room, and
//! what the endpoint (or a rogue client of it), or a member with a modified client, can and
//! cannot do.

use crate::harness::actions::{gather, play_clip_together, say, start_party};
use crate::harness::capture::RelayCapture;
use crate::harness::media::{party_with_clip, wait_for_sync};
use crate::harness::rogue::{spam_room, topic_of_link, RogueMember};
use crate::harness::{Party, ServerOptions, TestServer};
use anyhow::{ensure, Result};
use fantoccini::Locator;
use insieme::room::wire::{PeerMessage, ViewerPhase, ViewerStatus};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn three_people_join_chat_and_one_leaves() -> Result<()> {
    let party = Party::start(
        "three_people_join_chat_and_one_leaves",
        &["alice", "bob", "carol"],
    )
    .await?;
    let outcome = async {
        let (alice, bob, carol) = (
            party.person("alice"),
            party.person("bob"),
            party.person("carol"),
        );
        gather(
            &party,
            &[("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")],
        )
        .await?;
        say(alice, "ciao a tutti").await?;
        bob.wait_for_text("ciao a tutti").await?;
        carol.wait_for_text("ciao a tutti").await?;
        say(carol, "arrivo!").await?;
        alice.wait_for_text("arrivo!").await?;

        bob.click_button("Change name").await?;
        bob.type_into("Your name", "Roberto").await?;
        bob.click_button("Save name").await?;
        alice.wait_for_person("Roberto").await?;
        carol.wait_for_person("Roberto").await?;

        party.leave("carol").await?;
        alice
            .wait_until_gone("Carol", Duration::from_secs(10))
            .await?;
        bob.wait_until_gone("Carol", Duration::from_secs(10))
            .await?;
        say(bob, "still here").await?;
        alice.wait_for_text("still here").await
    }
    .await;
    party.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_loss_keeps_links_and_newcomers_join_after_restart() -> Result<()> {
    let mut party = Party::start("endpoint_loss_keeps_links", &["alice", "bob", "dave"]).await?;
    let outcome = async {
        let link = start_party(party.person("alice"), &party.server.url).await?;
        party.person("alice").join_as(&link, "Alice").await?;
        party.person("bob").join_as(&link, "Bob").await?;
        party.person("alice").wait_for_person("Bob").await?;

        party.server.kill().await?;
        say(party.person("alice"), "the server is gone").await?;
        party
            .person("bob")
            .wait_for_text("the server is gone")
            .await?;

        party.server.restart().await?;
        party.person("dave").join_as(&link, "Dave").await?;
        // Alice and Bob reconnect to the endpoint with backoff (up to 5 s, ±50 % jitter) before
        // they can answer a newcomer.
        for other in ["Alice", "Bob"] {
            party
                .person("dave")
                .wait_for_person_within(other, Duration::from_secs(20))
                .await?;
        }
        party.person("bob").wait_for_person("Dave").await?;
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_sees_no_plaintext_and_rogue_garbage_changes_nothing() -> Result<()> {
    let capture = RelayCapture::new()?;
    let server = TestServer::start_with(capture.options()).await?;
    let party = Party::start_with("endpoint_sees_no_plaintext", server, &["alice", "bob"]).await?;
    let outcome = async {
        let (alice, bob) = (party.person("alice"), party.person("bob"));
        let link = gather(&party, &[("alice", "Alice"), ("bob", "Bob")]).await?;

        let sent = spam_room(&party.server.topic_url(&topic_of_link(&link)?)).await?;
        ensure!(sent >= 8, "the rogue sent only {sent} messages");
        say(alice, "after the garbage").await?;
        bob.wait_for_text("after the garbage").await?;
        bob.wait_for_person("Alice").await?;

        // The rogue's own unsealed bait is the only plaintext allowed through.
        let rogue_bait =
            |decoded: &[u8]| String::from_utf8_lossy(decoded).contains("not sealed at all");
        capture.check_sealed(&["v=0", "a=fingerprint", "candidate:"], rogue_bait)?;
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

/// A room the endpoint holds no more people in: the newcomer is told so plainly (not
/// "Reconnecting…"), and those inside are not disturbed.
#[tokio::test(flavor = "multi_thread")]
async fn a_newcomer_to_a_full_room_is_told_it_is_full() -> Result<()> {
    let server = TestServer::start_with(ServerOptions {
        max_peers_per_topic: Some(1),
        ..Default::default()
    })
    .await?;
    let party = Party::start_with("a_full_room_says_so", server, &["alice", "bob"]).await?;
    let outcome = async {
        let (alice, bob) = (party.person("alice"), party.person("bob"));
        let link = start_party(alice, &party.server.url).await?;
        alice.join_as(&link, "Alice").await?;
        bob.join_as(&link, "Bob").await?;
        bob.wait_for_text("This party is full").await?;
        ensure!(
            bob.wait_for_no_xpath("//*[contains(text(), 'Reconnecting')]", Duration::ZERO)
                .await?,
            "bob is told he is reconnecting"
        );
        ensure!(
            alice
                .wait_for_no_xpath("//p[@role='status']", Duration::ZERO)
                .await?,
            "alice, inside, is told of an outage"
        );
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

/// A member with a modified client floods everyone with chat lines and statuses, thousands a
/// second: the others still chat and play in sync, see the flood's chat only at the chat rate,
/// and are told messages were ignored.
#[tokio::test(flavor = "multi_thread")]
async fn a_member_flooding_chat_and_status_cannot_stop_the_others() -> Result<()> {
    const FLOOD_MS: u32 = 15_000;
    let party = party_with_clip("a_member_flooding", &["alice", "bob", "mallory"]).await?;
    let outcome = async {
        let (alice, bob) = (party.person("alice"), party.person("bob"));
        let mallory = RogueMember(party.person("mallory"));
        mallory.arm().await?;
        let names = [("alice", "Alice"), ("bob", "Bob"), ("mallory", "Mallory")];
        gather(&party, &names).await?;
        let honest = [alice, bob];
        play_clip_together(&honest).await?;
        let settle = Duration::from_secs(15);

        let flood = [
            PeerMessage::Chat {
                text: "FLOOD".into(),
            },
            PeerMessage::Status(ViewerStatus {
                phase: ViewerPhase::Buffering,
                offset_ms: Some(1.0),
                picture_ms: Some(1.0),
                offset_within_ms: 0,
            }),
        ]
        .map(|message| message.encode());
        let started = tokio::time::Instant::now();
        mallory.start_flood(&flood, 10, FLOOD_MS).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;

        say(alice, "still chatting").await?;
        bob.wait_for_text("still chatting").await?;
        say(bob, "me too").await?;
        alice.wait_for_text("me too").await?;
        wait_for_sync(&honest, true, 50.0, None, settle).await?;
        let (sent, flooding) = mallory.flood_state().await?;
        ensure!(
            flooding,
            "the checks took {:?}, longer than the flood",
            started.elapsed()
        );
        ensure!(sent >= 5_000, "the flood sent only {sent} messages");

        // Only the chat rate (3 a second after a burst of 10) got through.
        let most = 10 + 3 * (started.elapsed().as_secs() + 2) as usize;
        for viewer in honest {
            let shown = viewer
                .client
                .find_all(Locator::XPath("//ol[@class='lines']/li[p='FLOOD']"))
                .await?
                .len();
            ensure!(
                (1..=most).contains(&shown),
                "{} shows {shown} flood lines of {sent} sent (at most {most} expected)",
                viewer.name
            );
            viewer
                .wait_for_xpath("//p[@data-dropped]", crate::harness::UI_TIMEOUT)
                .await?;
        }
        Ok(())
    }
    .await;
    party.finish(outcome).await
}
