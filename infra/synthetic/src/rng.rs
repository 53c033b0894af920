//! The one source of randomness of the generators. Every draw is seeded, so a seed gives the same files, run after
//! run and machine after machine. Two shapes, because the generators need two:
//!
//! - [`Rows`]: 64 bits keyed by a row number (SplitMix64 of the row and the seed). A row's values depend on its
//!   number alone, not on the rows before it, so any range of rows can be made alone and in any order (the entry
//!   records of `gen entries`, the reports of `gen reports`, `gen changes` and the graph benchmarks).
//! - [`Sequence`]: a stream of draws (rand's `StdRng` seeded from a `u64`), for generators whose draws depend on
//!   earlier ones (`gen linkage`: people, their travel parties and visits, then reports of them). Kept rather than
//!   rewritten on SplitMix64 so that the linkage benchmark's files, and so its published figures, stay as they were.
//!
//! [`run_tag`] is the one unseeded draw: a name for the fresh tables and buckets of one benchmark run.

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// SplitMix64 (Steele, Lea and Flood, 2014): a good-enough, dependency-free mix of 64 bits into 64 bits.
fn split_mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Draws keyed by row number: the same seed and row always give the same 64 bits.
#[derive(Debug, Clone, Copy)]
pub struct Rows {
    seed: u64,
}

impl Rows {
    pub fn new(seed: u64) -> Self {
        Self { seed }
    }

    /// The row's 64 bits. The seed goes into the high half so that small seeds and small row numbers do not
    /// cancel out; seed 0 draws SplitMix64 of the row number itself.
    pub fn draw(&self, row: u64) -> u64 {
        split_mix64(row ^ self.seed.rotate_left(32))
    }
}

/// A seeded stream of draws. It implements `rand::RngCore`, so `rand::Rng`'s `random_range`, `random_bool`, ...
/// work on it, with the same values as on the `StdRng` inside.
#[derive(Debug, Clone)]
pub struct Sequence(StdRng);

impl Sequence {
    pub fn new(seed: u64) -> Self {
        Self(StdRng::seed_from_u64(seed))
    }
}

impl RngCore for Sequence {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.0.fill_bytes(dst)
    }
}

/// A fresh name for one run's tables and buckets on the emulators, so runs never share state. Not seeded on
/// purpose: two runs must not collide.
pub fn run_tag() -> String {
    format!("{:x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::*;

    #[test]
    fn split_mix64_gives_the_reference_values() {
        // The first outputs of the reference SplitMix64 generator seeded with 0 (its state advances by the golden
        // gamma before each mix, so the n-th output is the mix of n - 1 here).
        assert_eq!(split_mix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(split_mix64(0x9E37_79B9_7F4A_7C15), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn rows_depend_on_the_row_and_the_seed_only() {
        let (a, b) = (Rows::new(1), Rows::new(2));
        assert_eq!(a.draw(42), Rows::new(1).draw(42));
        assert_ne!(a.draw(42), a.draw(43));
        assert_ne!(a.draw(42), b.draw(42));
        assert_eq!(Rows::new(0).draw(7), split_mix64(7));
    }

    #[test]
    fn a_sequence_repeats_for_its_seed_and_draws_as_std_rng_does() {
        let draws = |seed| {
            let mut rng = Sequence::new(seed);
            (0..5).map(|_| rng.random_range(0..1000u32)).collect::<Vec<_>>()
        };
        assert_eq!(draws(3), draws(3));
        assert_ne!(draws(3), draws(4));
        let mut std = StdRng::seed_from_u64(3);
        assert_eq!(draws(3), (0..5).map(|_| std.random_range(0..1000u32)).collect::<Vec<_>>());
    }
}
