//! Friends in different homes connect: through STUN behind ordinary NATs, through coturn
//! behind symmetric ones or where UDP cannot leave, and when the app is told to use relays
//! only; where nothing can work, the people list says why. The networks are real namespaces
//! and nftables NATs (see `harness::network`); coturn and the endpoint run with the shipped
//! configuration.
//!
//! Connection times and offsets per shape are measured by `cargo xtask bench paths`; these
//! tests check the paths and that the film plays in sync (loosely: three 60 Hz frames).

use crate::harness::homes::{meet, play_together, wait_for_row, Shape, World, WorldOptions};
use crate::harness::network::Nat;
use anyhow::{ensure, Result};
use std::time::Duration;

const NAMES: [&str; 2] = ["alice", "bob"];
const DISPLAY: [&str; 2] = ["Alice", "Bob"];
const IN_SYNC_MS: f64 = 50.0;

/// Meets in `shape`, checks both sides report its path, and (if `play`) that the film plays
/// in sync over it.
async fn connects_over(test_name: &str, shape: Shape, play: bool) -> Result<()> {
    let world = World::start(test_name, NAMES, shape.world()).await?;
    let outcome = async {
        let meeting = meet(&world, NAMES, DISPLAY).await?;
        println!(
            "{}: connected in {:.0} ms",
            shape.name(),
            meeting.connect_ms
        );
        for row in [&meeting.seen_by_first, &meeting.seen_by_second] {
            ensure!(
                row.path.as_deref() == Some(shape.expected_path()),
                "{shape:?}: expected a {} path, the people list says {row:?}",
                shape.expected_path()
            );
        }
        if play {
            let spreads = play_together(&world, NAMES, Duration::from_secs(4)).await?;
            let worst = spreads.iter().copied().fold(0.0, f64::max);
            ensure!(!spreads.is_empty(), "no offsets could be sampled");
            ensure!(
                worst <= IN_SYNC_MS,
                "{shape:?}: viewers drifted {worst:.1} ms apart while playing"
            );
        }
        Ok(())
    }
    .await;
    world.finish(outcome).await
}

/// In one home the path is direct on both sides, once each has the other's host candidate: the
/// first reading may come before it does (see `web::mesh`'s second reading).
#[tokio::test(flavor = "multi_thread")]
async fn in_one_home_both_friends_see_a_direct_path() -> Result<()> {
    let world = World::start("one_home_is_direct", NAMES, Shape::Lan.world()).await?;
    let outcome = async {
        meet(&world, NAMES, DISPLAY).await?;
        let party = &world.party;
        for (viewer, friend) in [(NAMES[0], DISPLAY[1]), (NAMES[1], DISPLAY[0])] {
            wait_for_row(
                party.person(viewer),
                friend,
                Duration::from_secs(5),
                |row| row.path.as_deref() == Some("host") && row.text.contains("direct"),
            )
            .await?;
        }
        Ok(())
    }
    .await;
    world.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_two_ordinary_nats_friends_connect_through_stun_not_the_relay() -> Result<()> {
    connects_over("ordinary_nats_use_stun", Shape::Nat, false).await
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_two_symmetric_nats_friends_connect_through_coturn_in_sync() -> Result<()> {
    connects_over("symmetric_nats_use_coturn", Shape::SymmetricNat, true).await
}

#[tokio::test(flavor = "multi_thread")]
async fn with_relay_only_policy_the_party_works_through_coturn_alone() -> Result<()> {
    connects_over("relay_only_policy", Shape::RelayOnly, true).await
}

#[tokio::test(flavor = "multi_thread")]
async fn where_udp_cannot_leave_friends_connect_over_turn_tcp() -> Result<()> {
    let world = World::start(
        "udp_blocked_uses_turn_tcp",
        NAMES,
        Shape::UdpBlocked.world(),
    )
    .await?;
    let outcome = async {
        let meeting = meet(&world, NAMES, DISPLAY).await?;
        let row = &meeting.seen_by_second;
        ensure!(
            row.path.as_deref() == Some("relay") && row.text.contains("(TCP)"),
            "expected a relay over TCP, the people list says {row:?}"
        );
        Ok(())
    }
    .await;
    world.finish(outcome).await
}

/// Symmetric NATs, and a relay that cannot help: the people list must say plainly that the
/// friend cannot be reached, and why.
async fn unreachable_says_why(test_name: &str, options: WorldOptions, reason: &str) -> Result<()> {
    let world = World::start(test_name, NAMES, options).await?;
    let outcome = async {
        let party = &world.party;
        let (alice, bob) = (party.person(NAMES[0]), party.person(NAMES[1]));
        let link = crate::harness::actions::start_party(alice, &party.server.url).await?;
        alice.join_as(&link, DISPLAY[0]).await?;
        bob.join_as(&link, DISPLAY[1]).await?;
        for (viewer, friend) in [(bob, DISPLAY[0]), (alice, DISPLAY[1])] {
            let row = wait_for_row(viewer, friend, Duration::from_secs(60), |row| {
                row.state.as_deref() == Some("unreachable")
            })
            .await?;
            ensure!(
                row.reason.as_deref() == Some(reason) && row.text.contains("can't connect: "),
                "{}: expected reason {reason} said plainly, got {row:?}",
                viewer.name
            );
            ensure!(
                row.path.is_none(),
                "an unreachable friend has no path: {row:?}"
            );
        }
        Ok(())
    }
    .await;
    world.finish(outcome).await
}

#[tokio::test(flavor = "multi_thread")]
async fn with_coturn_stopped_behind_symmetric_nats_the_list_says_the_relay_did_not_answer(
) -> Result<()> {
    let options = WorldOptions {
        coturn_running: false,
        ..Shape::SymmetricNat.world()
    };
    unreachable_says_why("coturn_stopped", options, "relay-unreachable").await
}

#[tokio::test(flavor = "multi_thread")]
async fn with_no_relay_configured_behind_symmetric_nats_the_list_says_so() -> Result<()> {
    let options = WorldOptions {
        turn_configured: false,
        nat: Nat::Symmetric,
        ..Shape::SymmetricNat.world()
    };
    unreachable_says_why("no_relay_configured", options, "no-relay").await
}
