//! Signed intents under loss, partitions, a rogue member and a late newcomer who hears the rogue
//! first: no honest page ever takes a state the rogue made, and all end on one playback state,
//! one host, one mode and one set of controllers.

use insieme_sim::fixture::Partition;
use insieme_sim::host_relay::{host_relay, run, HostRelay};
use insieme_sim::scenarios::wan_link;

fn assert_sound(seed: u64, o: &insieme_sim::host_relay::HostRelayOutcome) {
    eprintln!("seed {seed}: {o:?}");
    assert_eq!(o.rogue_taken, 0, "seed {seed}: {o:?}");
    assert!(
        o.agree_state && o.agree_authority && o.host_mode,
        "seed {seed}: {o:?}"
    );
    // The run did something: writes, role changes, and the rogue's tricks were dropped.
    assert!(o.writes > 20 && o.grants > 0, "seed {seed}: {o:?}");
    assert!(o.rogue_sent > 50 && o.dropped > 50, "seed {seed}: {o:?}");
}

#[test]
fn same_seed_same_run() {
    assert_eq!(run(host_relay(3)), run(host_relay(3)));
    assert_ne!(run(host_relay(3)), run(host_relay(4)));
}

#[test]
fn a_rogue_moves_nothing_and_everyone_agrees_on_wan_links() {
    for seed in 1..=6 {
        let o = run(host_relay(seed));
        assert_sound(seed, &o);
        assert!(
            o.newcomer_waited > 0,
            "the newcomer heard the rogue first: {o:?}"
        );
    }
}

#[test]
fn under_heavy_loss_too() {
    for seed in 1..=4 {
        let mut link = wan_link();
        link.loss = 0.2;
        let o = run(HostRelay {
            link,
            ..host_relay(seed)
        });
        assert_sound(seed, &o);
    }
}

#[test]
fn across_a_partition_that_heals() {
    for seed in 1..=4 {
        let o = run(HostRelay {
            partition: Some(Partition {
                split: 3,
                from_s: 5.0,
                to_s: 10.0,
            }),
            ..host_relay(seed)
        });
        assert_sound(seed, &o);
    }
}
