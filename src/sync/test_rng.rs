//! A tiny deterministic generator for the engine's property tests: no dependency, and the same
//! sequence on every machine.

/// Knuth's MMIX linear congruential generator; its high bits are the random ones.
pub(crate) struct Lcg(pub u64);

impl Lcg {
    /// The next 53 high bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }
}
