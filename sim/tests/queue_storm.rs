//! The shared queue under a storm of concurrent edits on WAN links: every page ends on the
//! same queue, no edit is lost, and it settles soon after the last edit.

use insieme_sim::queue_storm::{queue_storm, run, QueueStorm};
use insieme_sim::scenarios::wan_link;

#[test]
fn same_seed_same_storm() {
    assert_eq!(run(queue_storm(3)), run(queue_storm(3)));
    assert_ne!(run(queue_storm(3)), run(queue_storm(4)));
}

#[test]
fn eight_pages_editing_at_once_converge_with_no_edit_lost() {
    for seed in 1..=5 {
        let o = run(queue_storm(seed));
        eprintln!("seed {seed}: {o:?}");
        assert!(
            o.agree && o.lost_edits == 0 && o.refused == 0,
            "seed {seed}: {o:?}"
        );
        assert!(o.edits > 160 && o.final_entries > 10, "seed {seed}: {o:?}");
        // One WAN delivery, a retransmission or two on the unluckiest link.
        assert!(o.converge_ms <= 1_500.0, "seed {seed}: {o:?}");
    }
}

#[test]
fn a_lossy_storm_converges_too() {
    for seed in 1..=3 {
        let mut link = wan_link();
        link.loss = 0.2;
        let o = run(QueueStorm {
            link,
            ..queue_storm(seed)
        });
        eprintln!("seed {seed}, 20 % loss: {o:?}");
        assert!(
            o.agree && o.lost_edits == 0 && o.refused == 0,
            "seed {seed}: {o:?}"
        );
    }
}
