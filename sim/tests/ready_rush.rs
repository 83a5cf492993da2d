//! The ready check on WAN links: one start for the room whoever decides, whatever is lost,
//! whoever leaves or stalls, and across a partition that heals.

use insieme::programme::ready::{GRACE, WAIT};
use insieme_sim::fixture::Partition;
use insieme_sim::ready_rush::{ready_rush, run, ReadyRush};

#[test]
fn same_seed_same_rush() {
    assert_eq!(run(ready_rush(3)), run(ready_rush(3)));
}

#[test]
fn the_last_ready_starts_the_film_once_for_everyone() {
    for seed in 1..=20 {
        let o = run(ready_rush(seed));
        eprintln!("seed {seed}: {o:?}");
        assert!(o.agree && o.playing && o.check_over, "seed {seed}: {o:?}");
        // The last to press starts; a page that heard the mark before the start may start
        // too (the state goes first on one link, the mark may overtake it on another), and
        // the register makes one of them.
        assert!(o.starts >= 1 && o.restarts == 0, "seed {seed}: {o:?}");
        // The start is the lead after the last Ready, not the countdown.
        assert!(
            o.start_after_last_ready_ms > 0.0 && o.start_after_last_ready_ms < 1_000.0,
            "seed {seed}: {o:?}"
        );
    }
}

#[test]
fn a_stalled_person_and_a_leaver_do_not_block_it() {
    let wait_ms = WAIT.as_millis_f64();
    for seed in 1..=10 {
        let o = run(ReadyRush {
            never_ready: vec![5],
            leave: vec![(6, 3.0)],
            ..ready_rush(seed)
        });
        eprintln!("seed {seed}: {o:?}");
        assert!(o.agree && o.playing && o.check_over, "seed {seed}: {o:?}");
        // Started by the countdown: the opener at the deadline, the others later if at all.
        assert!(
            o.start_after_load_ms >= wait_ms
                && o.start_after_load_ms < wait_ms + GRACE.as_millis_f64(),
            "seed {seed}: {o:?}"
        );
        assert_eq!((o.starts, o.restarts), (1, 0), "seed {seed}: {o:?}");
    }
    // Someone who is not ready and leaves stops counting: the others start without waiting.
    let o = run(ReadyRush {
        never_ready: vec![5],
        leave: vec![(5, 8.0)],
        ..ready_rush(1)
    });
    assert!(o.agree && o.playing, "{o:?}");
    assert!(o.start_after_load_ms < 9_000.0, "{o:?}");
}

#[test]
fn a_partition_that_heals_ends_on_one_start() {
    for seed in 1..=10 {
        let o = run(ReadyRush {
            partition: Some(Partition {
                split: 4,
                from_s: 0.5,
                to_s: 12.0,
            }),
            ..ready_rush(seed)
        });
        eprintln!("seed {seed}: {o:?}");
        // Each side saw all its present people ready and started; once the links reopen,
        // every page converges on one of the two starts.
        assert!(o.agree && o.playing && o.check_over, "seed {seed}: {o:?}");
        assert!(o.starts >= 2, "seed {seed}: {o:?}");
    }
}
