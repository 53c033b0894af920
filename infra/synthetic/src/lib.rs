//! Made-up data, apart from the product and from the benchmarks: the one seeded source of randomness that every
//! generator draws from ([`rng`]: a seed gives the same data), the synthetic HER-SYS reports ([`reports`]) that
//! `hersys serve --demo` shows and the graph benchmarks count, and the demo's entrants ([`travellers`]). The
//! generators of files (`hersys-bench gen ...`) live in `hersys-bench`; `hersys` depends on this crate, never on the
//! benchmarks.

pub mod reports;
pub mod rng;
pub mod travellers;
