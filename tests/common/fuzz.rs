//! The proptest configuration every fuzz test shares: a fixed seed and
//! `cases` cases unless `PROPTEST_RNG_SEED` or `PROPTEST_CASES` say
//! otherwise, and failures kept in `regressions` (a file under
//! `tests/fixtures/`), replayed first on every later run.

use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};

pub fn config(cases: u32, regressions: &'static str) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0x6b69_6c6e);
    }
    config.failure_persistence = Some(Box::new(FileFailurePersistence::Direct(regressions)));
    config
}
