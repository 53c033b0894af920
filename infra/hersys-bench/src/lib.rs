//! Generators of synthetic data files and the benchmarks that use them, apart from the product: the `hersys-bench`
//! binary (`src/main.rs`, its command line) and the library behind it. Every generator draws from
//! `synthetic::rng`, seeded: a seed gives the same data; the synthetic reports themselves are `synthetic::reports`
//! (shared with `hersys serve --demo`).
//!
//! Nothing here is needed to run the product; figures printed by the benchmarks go in `docs/benchmarks*.md` and
//! `docs/processing-numbers.md`, beside the command that printed them.

pub mod bench;
pub mod bench_graphs;
pub mod bench_linkage_runs;
pub mod bench_sweep;
pub mod emulators;
pub mod evaluate;
pub mod gen_entries;
pub mod gen_linkage;
pub mod gen_reports;

/// SHA-256 of a file, hex: the tests pin generated files with it.
#[cfg(test)]
fn sha256_of(path: &std::path::Path) -> String {
    use sha2::Digest;
    #[allow(clippy::unwrap_used)]
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}
