//! The party's host (issue 20): with Host controls on, a guest's Play does nothing and the
//! page says why; a member with a modified client sending a state under a forged signature
//! changes nothing (and the same forgery does move the room once Host controls are off, so
//! the check is what stopped it); a guest who asks for the remote and is made co-host
//! controls the room. And the host's role moves: the host takes the remote back from a
//! co-host, hands the role to someone else, and when that host leaves the others are told and
//! can reopen the room as a new party.

use crate::harness::actions::{gather, load_clip};
use crate::harness::media::{party_with_clip, sample, wait_for_sync};
use crate::harness::rogue::RogueMember;
use crate::harness::{Browser, UI_TIMEOUT};
use anyhow::{bail, ensure, Context, Result};
use insieme::room::host::{HostMessage, Signed, Statement};
use insieme::room::wire::PeerMessage;
use insieme::sync::{Body, Versioned, WireMessage};
use std::time::Duration;

/// Run before the app in the rogue's page: keeps a copy of every message its state channels
/// send and receive, so the test can forge from what the room really says.
const RECORD_STATE_CHANNELS: &str = "(() => {
    window.__stateLog = [];
    const keep = (bytes) => {
        window.__stateLog.push(Array.from(new Uint8Array(bytes)));
        if (window.__stateLog.length > 400) window.__stateLog.shift();
    };
    const send = RTCDataChannel.prototype.send;
    RTCDataChannel.prototype.send = function (data) {
        if (this.label === 'state' && data instanceof ArrayBuffer) keep(data);
        else if (this.label === 'state' && ArrayBuffer.isView(data)) keep(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
        return send.call(this, data);
    };
    // The app makes both ends of its channels with createDataChannel (negotiated ids).
    const create = RTCPeerConnection.prototype.createDataChannel;
    RTCPeerConnection.prototype.createDataChannel = function (...args) {
        const channel = create.apply(this, args);
        channel.addEventListener('message', (e) => {
            if (channel.label === 'state' && e.data instanceof ArrayBuffer) keep(e.data);
        });
        return channel;
    };
})();";

/// Every sync message the rogue's state channels carried, decoded.
async fn recorded_sync(rogue: &Browser) -> Result<Vec<WireMessage>> {
    let log = rogue
        .client
        .execute("return window.__stateLog || [];", vec![])
        .await?;
    let mut messages = Vec::new();
    for bytes in log.as_array().into_iter().flatten() {
        let bytes: Vec<u8> = serde_json::from_value(bytes.clone())?;
        if let Ok(PeerMessage::Sync(message)) = PeerMessage::decode(&bytes) {
            messages.push(message);
        }
    }
    Ok(messages)
}

/// A forgery from the room's latest state: the same, `playing` or not, stamped a millisecond
/// later in the name of a writer who is not there; relayed in the rogue's own latest hello (a
/// hello may relay a departed writer's state), after a statement "vouching" for it under a
/// signature that is not one.
async fn forge(rogue: &Browser, playing: bool) -> Result<Vec<Vec<u8>>> {
    let messages = recorded_sync(rogue).await?;
    let latest: Versioned = messages
        .iter()
        .filter_map(|m| match &m.body {
            Body::State(v) => Some(v.clone()),
            Body::Hello(h) => h.state.clone(),
            _ => None,
        })
        .max_by_key(|v| v.stamp)
        .context("the rogue saw no playback state")?;
    // The rogue's own hellos are the last ones it sent with a rank; any will do.
    let mut hello = messages
        .iter()
        .rev()
        .find_map(|m| match &m.body {
            Body::Hello(h) if h.rank.is_some() => Some(h.clone()),
            _ => None,
        })
        .context("the rogue recorded no hello")?;
    let mut forged = latest.clone();
    forged.stamp.wall = forged.stamp.wall + insieme::sync::Span::from_millis(1);
    forged.stamp.counter = 0;
    forged.stamp.peer = insieme::sync::PeerId(1);
    forged.playback.playing = playing;
    forged.playback.anchor_room = forged.stamp.wall + insieme::sync::Span::from_millis(500);
    forged.playback.lead_in_rate = 0.0;
    forged.playback.hold = None;
    hello.state = Some(forged.clone());
    let vouching = PeerMessage::Host(
        HostMessage::Signed(Signed {
            statement: Statement::State(forged),
            key: [vec![4u8], vec![7u8; 64]].concat(),
            signature: vec![9u8; 64],
        })
        .encode(),
    );
    let relay = PeerMessage::Sync(WireMessage::new(Body::Hello(hello)));
    Ok(vec![vouching.encode(), relay.encode()])
}

/// Sends `messages` once to each of the `honest` viewers, on the rogue's state channels.
async fn send_from(rogue: &RogueMember<'_>, messages: &[Vec<u8>], honest: usize) -> Result<()> {
    let channels = rogue.send_once(messages).await?;
    ensure!(
        channels >= honest,
        "the forgery went out on {channels} state channel(s), not one to each of {honest} viewers"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}

/// Fails if any of `viewers` plays during the next `for_how_long`.
async fn stays_paused(viewers: &[&Browser], for_how_long: Duration) -> Result<()> {
    let until = tokio::time::Instant::now() + for_how_long;
    while tokio::time::Instant::now() < until {
        for viewer in viewers {
            let s = sample(viewer).await?;
            if !s.paused {
                bail!("{} plays ({s:?})", viewer.name);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

async fn switch_host_controls(host: &Browser) -> Result<()> {
    host.wait_for_xpath("//input[@aria-label='Host controls']", UI_TIMEOUT)
        .await
        .context("the host sees no Host controls switch")?
        .click()
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn host_controls_stop_guests_and_forgeries_and_let_a_cohost_control() -> Result<()> {
    let party = party_with_clip("host_controls", &["alice", "bob", "mallory"]).await?;
    let outcome = async {
        let (alice, bob) = (party.person("alice"), party.person("bob"));
        let mallory = RogueMember(party.person("mallory"));
        mallory.arm().await?;
        mallory
            .0
            .add_script_before_pages(RECORD_STATE_CHANNELS)
            .await?;
        let names = [("alice", "Alice"), ("bob", "Bob"), ("mallory", "Mallory")];
        gather(&party, &names).await?;
        let honest = [alice, bob];
        let settle = Duration::from_secs(15);
        load_clip(alice).await?;
        wait_for_sync(&honest, false, 50.0, Some(0.0), settle).await?;

        // Alice started the party: she is its host, and only she has the switch.
        alice.wait_for_text("You are the host").await?;
        ensure!(
            bob.client
                .find_all(fantoccini::Locator::XPath(
                    "//input[@aria-label='Host controls']"
                ))
                .await?
                .is_empty(),
            "a guest has the Host controls switch"
        );
        switch_host_controls(alice).await?;
        alice.wait_for_text("You have the remote.").await?;
        bob.wait_for_text("The host has the remote.").await?;

        // A guest's Play does nothing, and says why.
        play_is_refused(bob, &honest).await?;

        // A forged signature vouching for a playing state changes nothing.
        let forged = forge(mallory.0, true).await?;
        send_from(&mallory, &forged, honest.len()).await?;
        stays_paused(&honest, Duration::from_secs(3)).await?;

        // Bob asks; Alice makes him co-host; his Play now plays the room.
        make_cohost(alice, bob, "Bob").await?;
        bob.click_button("Play").await?;
        wait_for_sync(&honest, true, 50.0, None, settle).await?;

        // The same forgery (pausing, this time) with Host controls off does move the room:
        // the signature check is what stopped it above.
        switch_host_controls(alice).await?;
        ensure!(
            bob.wait_for_no_xpath(
                "//*[contains(normalize-space(), 'You are a co-host')]",
                UI_TIMEOUT
            )
            .await?,
            "bob still reads that he is a co-host with Host controls off"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        let forged = forge(mallory.0, false).await?;
        send_from(&mallory, &forged, honest.len()).await?;
        wait_for_sync(&honest, false, 50.0, None, settle)
            .await
            .context("outside host mode the forgery should have paused the room")?;
        Ok(())
    }
    .await;
    party.finish(outcome).await
}

/// `guest` asks for the remote and `host` makes them a co-host.
async fn make_cohost(host: &Browser, guest: &Browser, guest_name: &str) -> Result<()> {
    guest.click_button("Ask for the remote").await?;
    host.wait_for_text(&format!("{guest_name} asks for the remote."))
        .await?;
    host.click_button("Make co-host").await?;
    guest.wait_for_text("You are a co-host").await
}

/// `who` presses Play without the remote: nothing happens, and the page says why.
async fn play_is_refused(who: &Browser, everyone: &[&Browser]) -> Result<()> {
    who.click_button("Play").await?;
    who.wait_for_text("only the host and co-hosts can play")
        .await?;
    stays_paused(everyone, Duration::from_secs(2)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_host_takes_back_the_remote_hands_over_and_a_gone_host_leaves_a_way_out() -> Result<()>
{
    let party = party_with_clip("host_handover", &["alice", "bob", "carol"]).await?;
    let outcome = async {
        let (alice, bob, carol) = (
            party.person("alice"),
            party.person("bob"),
            party.person("carol"),
        );
        let names = [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")];
        let first_link = gather(&party, &names).await?;
        let everyone = [alice, bob, carol];
        let settle = Duration::from_secs(15);
        load_clip(alice).await?;
        wait_for_sync(&everyone, false, 50.0, Some(0.0), settle).await?;
        switch_host_controls(alice).await?;
        bob.wait_for_text("The host has the remote.").await?;

        // Alice makes Bob a co-host, then takes the remote back: his Play does nothing again.
        make_cohost(alice, bob, "Bob").await?;
        alice.click_button("Take back the remote").await?;
        bob.wait_for_text("The host has the remote.").await?;
        play_is_refused(bob, &everyone).await?;

        // Alice hands the host role to Bob (a co-host again first): he has the remote, she
        // is a guest, and Carol sees the new host's hand on it.
        make_cohost(alice, bob, "Bob").await?;
        alice.click_button("Make host").await?;
        bob.wait_for_text("You have the remote.").await?;
        alice.wait_for_text("The host has the remote.").await?;
        play_is_refused(alice, &everyone).await?;
        bob.click_button("Play").await?;
        wait_for_sync(&everyone, true, 50.0, None, settle).await?;

        // Bob, the host now, leaves: the others are told, and may reopen the room as a new
        // party with its own link, whose host they are.
        party.leave("bob").await?;
        carol
            .wait_for_text("The host has the remote, and has left the room.")
            .await?;
        carol.wait_for_text("If the host is gone for good").await?;
        carol.click_button("Reopen as a new party").await?;
        carol.wait_for_text("You are the host").await?;
        let new_link = carol.field_value("#room-link").await?;
        ensure!(
            new_link != first_link,
            "reopening kept the old link {first_link}"
        );
        Ok(())
    }
    .await;
    party.finish(outcome).await
}
