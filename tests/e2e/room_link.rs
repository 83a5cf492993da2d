//! Starting a party and joining it by its link, and what a link served over plain http says.

use crate::harness::{Party, ServerOptions, TestServer, UI_TIMEOUT};
use anyhow::{ensure, Result};
use insieme::room_link::{RoomSecret, Route, SECRET_BYTES};
use std::time::Duration;

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
            matches!(Route::from_hash(fragment), Route::Room(_, Some(_))),
            "not a room link naming its host: {link}"
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

/// An address of this machine other than loopback (in `cargo xtask test`'s namespace, the near
/// end of its veth pair). Connecting a UDP socket sends nothing; it only picks the route.
fn non_loopback_address() -> Result<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0")?;
    socket.connect("192.0.2.1:9")?;
    let address = socket.local_addr()?.ip();
    ensure!(!address.is_loopback(), "this machine has only loopback");
    Ok(address)
}

/// Served over plain http from another computer, the page has no WebCrypto: a friend opening a
/// room link is told plainly that it needs https, before being asked for a name.
#[tokio::test(flavor = "multi_thread")]
async fn a_room_link_over_plain_http_from_another_computer_says_it_needs_https() -> Result<()> {
    let server = TestServer::start_with(ServerOptions {
        listen: Some(format!("{}:0", non_loopback_address()?)),
        ..Default::default()
    })
    .await?;
    let party = Party::start_with("plain_http_needs_https", server, &["bob"]).await?;
    let outcome = async {
        let bob = party.person("bob");
        let link =
            RoomSecret::from_bytes([7; SECRET_BYTES]).link(&format!("{}/", party.server.url));
        bob.open(&link).await?;
        bob.wait_for_text("This page must be opened over https")
            .await?;
        bob.wait_for_text("no party can be started or joined here")
            .await?;
        let https = bob
            .wait_for_xpath("//a[normalize-space()='Open over https']", UI_TIMEOUT)
            .await?
            .attr("href")
            .await?
            .unwrap_or_default();
        ensure!(
            https == link.replacen("http://", "https://", 1),
            "the https link is {https}"
        );
        ensure!(
            bob.wait_for_no_xpath("//input[@aria-label='Your name']", Duration::ZERO)
                .await?,
            "bob was asked for a name on a page that cannot join"
        );
        Ok(())
    }
    .await;
    party.finish(outcome).await
}
