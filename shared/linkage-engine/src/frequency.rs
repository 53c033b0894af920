//! Name frequencies: the term-frequency adjustment of name agreement, as Splink makes it. The u value of an
//! agreeing name is the chance that a random pair agrees on a name, an average over all names; for one particular
//! name it is that name's own frequency among the entry records. Agreeing on WANG WEI, which some thousands of
//! entrants carry, is weak evidence; agreeing on a name carried by three is strong. The adjustment added to the
//! name level's weight is `log2(u_exact / frequency)`, bounded ([`MAX_DOWN`], [`MAX_UP`]).
//!
//! Frequencies are counted per nationality (WANG WEI of China and of Taiwan are two names) over the entry records
//! when the model is estimated, and kept with the model, so that every run under one model version adjusts alike.
//! Only the most frequent names are kept ([`MAX_PER_NATIONALITY`], [`MAX_NAMES`]): a name left out counts as the
//! most frequent one left out ([`NameFrequencies::rest`]), which is an upper bound of its true frequency, so a rare
//! name is never taken for rarer than the data show.
//!
//! No name is kept, only a key: the engine's hash of the nationality and the name's letters, passed through the
//! caller's [`NameKeyer`] (the product's is an HMAC with its secret: a stored key reveals no name, and no
//! dictionary of names can be hashed without the secret).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::names::Name;

/// Most names kept per nationality.
pub const MAX_PER_NATIONALITY: usize = 1000;
/// Most names kept in all (a stored model is one DynamoDB item of at most 400 KB: 6,000 names are about 180 KB).
pub const MAX_NAMES: usize = 6000;
/// The adjustment is at least this (bits): a very common name is weak evidence, but still some.
pub const MAX_DOWN: f64 = 8.0;
/// The adjustment is at most this (bits): the rarest names are kept from outweighing a disagreeing field.
pub const MAX_UP: f64 = 4.0;

/// Turns the engine's hash of a name into the key its frequency is kept under. The identity by default (nothing
/// kept outside the process: `hersys link`); the product passes its keyed hash.
#[derive(Clone)]
pub struct NameKeyer(Arc<dyn Fn(u64) -> u64 + Send + Sync>);

impl NameKeyer {
    pub fn new(f: impl Fn(u64) -> u64 + Send + Sync + 'static) -> NameKeyer {
        NameKeyer(Arc::new(f))
    }

    pub fn key(&self, engine_key: u64) -> u64 {
        (self.0)(engine_key)
    }
}

impl Default for NameKeyer {
    fn default() -> Self {
        NameKeyer::new(|k| k)
    }
}

impl fmt::Debug for NameKeyer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NameKeyer")
    }
}

/// The engine's (unkeyed) hash of a name of a nationality: its letters sorted, so that token order, joined or
/// split tokens (MIN JUN, MINJUN) and spaces do not matter. `None` without a name or a nationality.
pub fn name_key(nationality: [u8; 3], name: &Name) -> Option<u64> {
    if name.is_empty() || nationality[0] == 0 {
        return None;
    }
    let mut letters = [0u8; super::names::NAME_BYTES];
    let mut n = 0;
    for t in name.tokens() {
        for &b in t {
            if n < letters.len() {
                letters[n] = b;
                n += 1;
            }
        }
    }
    letters[..n].sort_unstable();
    let nat = u64::from(nationality[0]) << 16 | u64::from(nationality[1]) << 8 | u64::from(nationality[2]);
    Some(super::key_hash(super::TAG_NAME_FREQUENCY, nat, &letters[..n]))
}

/// How many entry records carry each of the most frequent names, by keyed name key. Numbers only: what is stored
/// with the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NameFrequencies {
    /// Entry records counted (with a name and a nationality). 0: no frequencies, no adjustment (a model stored
    /// before they were counted).
    pub entries: u64,
    /// (keyed name key, records), ascending by key.
    pub counts: Vec<(u64, u32)>,
    /// The records of the most frequent name left out (at least 1): what a name not in `counts` counts as.
    pub rest: u32,
}

impl NameFrequencies {
    /// Counts the names of `entries` (nationality, name), keeps the most frequent, keyed by `keyer`.
    pub fn count<'a>(entries: impl Iterator<Item = ([u8; 3], &'a Name)>, keyer: &NameKeyer) -> NameFrequencies {
        let mut by_name: HashMap<u64, ([u8; 3], u32)> = HashMap::new();
        let mut total = 0u64;
        for (nat, name) in entries {
            if let Some(k) = name_key(nat, name) {
                by_name.entry(k).or_insert((nat, 0)).1 += 1;
                total += 1;
            }
        }
        // per nationality, most frequent first (then by key: the same choice on every run)
        let mut by_nationality: HashMap<[u8; 3], Vec<(u32, u64)>> = HashMap::new();
        for (k, (nat, c)) in by_name {
            by_nationality.entry(nat).or_default().push((c, k));
        }
        let (mut kept, mut rest) = (Vec::new(), 1u32);
        for names in by_nationality.values_mut() {
            names.sort_unstable_by(|a, b| b.cmp(a));
            for (i, &(c, k)) in names.iter().enumerate() {
                if i < MAX_PER_NATIONALITY {
                    kept.push((c, k));
                } else {
                    rest = rest.max(c);
                }
            }
        }
        kept.sort_unstable_by(|a, b| b.cmp(a));
        for &(c, _) in kept.iter().skip(MAX_NAMES) {
            rest = rest.max(c);
        }
        kept.truncate(MAX_NAMES);
        let mut counts: Vec<(u64, u32)> = kept.into_iter().map(|(c, k)| (keyer.key(k), c)).collect();
        counts.sort_unstable();
        NameFrequencies { entries: total, counts, rest }
    }

    /// The records carrying the name of `keyed` key.
    pub fn records(&self, keyed: u64) -> u32 {
        match self.counts.binary_search_by_key(&keyed, |&(k, _)| k) {
            Ok(i) => self.counts[i].1,
            Err(_) => self.rest,
        }
    }

    /// The adjustment (bits) of an agreement on names of these keyed keys (the more frequent counts, as Splink's
    /// rule for inexact agreement), against `u_exact`, the average chance of agreeing; 0 without frequencies, and 0
    /// on too few entries to tell a rare name from the average one (a name carried once must be rarer than
    /// `u_exact` by a factor of two: a store of a few hundred entries would make every name look common).
    pub fn adjustment(&self, keyed: impl IntoIterator<Item = u64>, u_exact: f64) -> f64 {
        if (self.entries as f64) * u_exact < 2.0 {
            return 0.0;
        }
        let Some(most) = keyed.into_iter().map(|k| self.records(k)).max() else { return 0.0 };
        let frequency = f64::from(most.max(1)) / self.entries as f64;
        (u_exact.max(1e-12) / frequency).log2().clamp(-MAX_DOWN, MAX_UP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::latin(s)
    }

    #[test]
    fn the_key_ignores_order_and_joins_but_not_nationality() {
        let k = |nat: &[u8; 3], s: &str| name_key(*nat, &n(s));
        assert_eq!(k(b"KOR", "KIM MIN JUN"), k(b"KOR", "MINJUN KIM"));
        assert_ne!(k(b"KOR", "KIM MIN JUN"), k(b"CHN", "KIM MIN JUN"));
        assert_ne!(k(b"CHN", "WANG WEI"), k(b"CHN", "WANG WEN"));
        assert_eq!(name_key([0; 3], &n("WANG WEI")), None);
        assert_eq!(name_key(*b"CHN", &Name::default()), None);
    }

    #[test]
    fn common_names_adjust_down_rare_ones_up_and_keys_are_the_keyers() {
        let (wang, rare) = (n("WANG WEI"), n("OUYANG XIAOFENG"));
        let mut names = vec![wang; 500];
        names.push(rare);
        // 9,499 other names, each carried once: four letters in ascending order, so that no two are anagrams (the
        // key sorts a name's letters)
        let letter = |i: usize| char::from(b'A' + i as u8);
        let four = (0..26)
            .flat_map(|a| (a..26).flat_map(move |b| (b..26).flat_map(move |c| (c..26).map(move |d| [a, b, c, d]))));
        names.extend(four.take(9_499).map(|t| n(&format!("LI {}", t.map(letter).iter().collect::<String>()))));
        let keyer = NameKeyer::new(|k| k ^ 0xABCD);
        let f = NameFrequencies::count(names.iter().map(|name| (*b"CHN", name)), &keyer);
        assert_eq!(f.entries, 10_000);
        assert!(f.counts.len() <= MAX_PER_NATIONALITY && f.rest == 1, "{} {}", f.counts.len(), f.rest);
        let key = |name: &Name| keyer.key(name_key(*b"CHN", name).unwrap());
        assert_eq!(f.records(key(&wang)), 500);
        assert_eq!(f.records(name_key(*b"CHN", &wang).unwrap()), 1, "stored under the keyed key only");
        let u = 1e-3;
        let (common, uncommon) = (f.adjustment([key(&wang)], u), f.adjustment([key(&rare)], u));
        assert!(common < -5.0 && uncommon > 3.0, "{common} {uncommon}");
        // the more frequent of two names counts
        assert_eq!(f.adjustment([key(&rare), key(&wang)], u), common);
        assert_eq!(NameFrequencies::default().adjustment([key(&wang)], u), 0.0);
        // too few entries to resolve a frequency below the average: no adjustment
        let few = NameFrequencies { entries: 1_000, ..f.clone() };
        assert_eq!(few.adjustment([key(&wang)], u), 0.0);
    }
}
