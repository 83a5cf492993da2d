//! How the engine's property tests run under proptest: the same cases on every machine and
//! every run (a fixed seed), so a failure shows again on the next run, shrunk by proptest to the
//! smallest input that still fails. No regression files are written.

use proptest::test_runner::{Config, RngAlgorithm, RngSeed};

/// `cases` generated inputs, the same ones each run.
pub(crate) fn deterministic(cases: u32) -> Config {
    Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0),
        failure_persistence: None,
        ..Config::default()
    }
}
