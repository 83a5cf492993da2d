//! Room time on a busy host: three pages whose event loops are held most of the time (as three
//! browsers on two cores are), one of them a slow device for 20 s
//! (`scenarios::busy_host_slow_guest`).
//!
//! Every exchange of clock pings waits on one page or the other, so no exchange is clean both
//! ways, and the minimum-delay filter of the clock estimator keeps exchanges that waited on one
//! side only: each puts the peer's clock off by half the wait. The viewers' room times then
//! spread by milliseconds, and a viewer that follows a wrong room time steers its film to it:
//! in Chromium a slow guest's estimate of the reference's clock slid 10 ms while it was slow
//! (`docs/measurements/slow.md`).

use insieme::stats;
use insieme_sim::run;
use insieme_sim::scenarios::busy_host_slow_guest;

/// Room times, once everyone has measured the others (10 s), within this at p95, ms...
const SPREAD_P95_MS: f64 = 2.0;
/// ...and at worst.
const SPREAD_MAX_MS: f64 = 3.0;

/// Each time bucket's offset comes from the intersection of its exchanges' bounds
/// (`t3 - t4 ..= t2 - t1`), not from its least-delayed exchange: a busy page stamps its pongs'
/// arrival late, and every exchange then puts the reference half its wait behind. With the
/// intersection, room times spread p95 0.39–1.72 ms and up to 2.65 ms (seeds 1–8); with only
/// the least-delayed exchange (and the skew's prior) p95 0.5–4.7 ms and up to 5.2 ms; without
/// the prior too, p95 2.7–5.0 ms and up to 11.8 ms.
#[test]
fn on_a_busy_host_the_viewers_room_times_stay_within_two_milliseconds() {
    for seed in 1..=8 {
        let o = run(busy_host_slow_guest(seed, 60.0));
        let spreads: Vec<f64> = o
            .room
            .iter()
            .filter(|r| r.at_s > 10.0)
            .map(|r| r.spread_ms)
            .collect();
        let p95 = stats::percentile(&spreads, 95.0).expect("room samples after 10 s");
        let max = spreads.iter().copied().fold(0.0, f64::max);
        println!("seed {seed}: room times spread p95 {p95:.2} ms, max {max:.2} ms");
        assert!(
            p95 <= SPREAD_P95_MS && max <= SPREAD_MAX_MS,
            "seed {seed}: room times spread p95 {p95:.2} ms, max {max:.2} ms"
        );
    }
}
