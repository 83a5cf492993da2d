//! How long the player takes to do what it is told: to load, to seek (each player with its own
//! typical latency, each seek varying around it, a nearby seek far quicker), and to start
//! moving once `play()` is called.

use super::Player;

/// A seek this close to where the player stands (seconds) finds its data decoded already...
pub const NEARBY_SEEK_S: f64 = 0.5;
/// ...and takes this share of a seek's latency: a seek far off waits for the network, one
/// nearby does not (the end-to-end runs' figures: `docs/measurements/player.md`).
pub const NEARBY_SEEK_FACTOR: f64 = 0.1;

impl Player {
    /// How long a load takes, µs.
    pub(super) fn sample_load_us(&mut self) -> f64 {
        self.spec.load_latency_us * self.rng.range(0.7, 1.3)
    }

    /// How long a seek to `target_s` takes, from where the player stands, µs.
    pub(super) fn sample_seek_us(&mut self, target_s: f64) -> f64 {
        let v = self.spec.seek_variation;
        let mut lat = self.spec.seek_latency_us * self.rng.range(1.0 - v, 1.0 + v);
        if (target_s - self.pos).abs() < NEARBY_SEEK_S {
            lat *= NEARBY_SEEK_FACTOR;
        }
        lat
    }

    /// How long from `play()` (with the data there) to motion, µs.
    pub(super) fn sample_start_us(&mut self) -> i64 {
        let v = self.spec.start_variation_us;
        (self.spec.start_latency_us + self.rng.range(-v, v)).max(0.0) as i64
    }
}
