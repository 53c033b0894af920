//! Linkage of outbreak reports with quarantine entry records: the pure engine. Records in, scores and decisions out;
//! it knows nothing of storage, keyed hashing or the product's other subsystems (the statistics on linked records are
//! `domain::linkage_statistics`, the stored decisions `domain::linkage_records`).
//!
//! - [`LinkEntry`] and [`LinkReport`] are the normalised, fixed-size forms of the two sides (no allocation per
//!   record; see [`passport`], [`names`], [`dates`] for the normalisers).
//! - [`BlockIndex`] holds the blocking keys of every entry: the folded passport number and each one-deletion
//!   variant of it, the date of birth, and each of the first two name tokens with two of the three parts of the
//!   date of birth. A report's candidates are the entries sharing a key with it, never all pairs.
//! - [`score`] weighs a candidate pair (Fellegi-Sunter; u from random pairs, then m, u and the prior by EM over
//!   the candidates).
//! - [`link`] runs it all and decides per report: a link above the upper threshold, a review between the two
//!   thresholds (or when another person scores nearly as well), nothing below. When one person entered more than
//!   once, the entry nearest before the diagnosis date is chosen; entries after the diagnosis date are not
//!   candidates.
//!
//! Architecture invariant: a [`Decision`] holds indexes, a score and field levels, never a personal value.

pub mod dates;
pub mod frequency;
pub mod names;
pub mod passport;
pub mod score;

use dates::Day;
use frequency::{NameFrequencies, NameKeyer};
use names::Name;
use passport::Passport;
use rayon::prelude::*;
use score::{Agreement, Model, PATTERNS};

/// One entry record's fields as read (CSV text). Holds personal data: no `Debug`.
#[derive(Clone, Copy, Default)]
pub struct EntryFields<'a> {
    pub passport_number: &'a str,
    pub nationality: &'a str,
    pub family_name: &'a str,
    pub given_names: &'a str,
    pub date_of_birth: &'a str,
    pub sex: &'a str,
    pub entry_date: &'a str,
}

/// One report's fields as read (CSV text). `name` may be Latin or katakana. Holds personal data: no `Debug`.
#[derive(Clone, Copy, Default)]
pub struct ReportFields<'a> {
    pub passport_number: &'a str,
    pub nationality: &'a str,
    pub name: &'a str,
    pub name_kana: &'a str,
    pub date_of_birth: &'a str,
    pub sex: &'a str,
    pub diagnosis_date: &'a str,
}

fn parse_sex(raw: &str) -> u8 {
    match raw.trim() {
        "M" | "m" => b'M',
        "F" | "f" => b'F',
        "X" | "x" => b'X',
        _ => 0,
    }
}

fn parse_nationality(raw: &str) -> [u8; 3] {
    let t = raw.trim().as_bytes();
    if t.len() == 3 && t.iter().all(u8::is_ascii_alphabetic) {
        [t[0].to_ascii_uppercase(), t[1].to_ascii_uppercase(), t[2].to_ascii_uppercase()]
    } else {
        [0; 3]
    }
}

/// An entry record as compared. Fixed size, `Copy`.
#[derive(Clone, Copy)]
pub struct LinkEntry {
    pub passport: Option<Passport>,
    pub date_of_birth: Option<Day>,
    /// `M`, `F`, `X`, or 0 when missing.
    pub sex: u8,
    /// ISO alpha-3, or zeros when missing.
    pub nationality: [u8; 3],
    /// Family name tokens, then given-name tokens.
    pub name: Name,
    pub entry_day: i32,
}

impl LinkEntry {
    /// `None` when the entry date is missing or malformed (such a record cannot be placed in time).
    pub fn new(f: &EntryFields<'_>) -> Option<LinkEntry> {
        let entry_day = Day::parse(f.entry_date)?.number;
        let mut name = Name::latin(f.family_name);
        name.push_latin(f.given_names);
        Some(LinkEntry {
            passport: Passport::parse(f.passport_number),
            date_of_birth: Day::parse(f.date_of_birth),
            sex: parse_sex(f.sex),
            nationality: parse_nationality(f.nationality),
            name,
            entry_day,
        })
    }

    /// Whether two entries are records of the same person (the same identity fields): repeat entries.
    fn same_person(&self, other: &LinkEntry) -> bool {
        let passports = match (&self.passport, &other.passport) {
            (Some(a), Some(b)) => a.folded() == b.folded(),
            (None, None) => true,
            _ => false,
        };
        passports && self.date_of_birth == other.date_of_birth && self.name == other.name && self.sex == other.sex
    }
}

/// A report as compared.
#[derive(Clone, Copy)]
pub struct LinkReport {
    pub passport: Option<Passport>,
    pub date_of_birth: Option<Day>,
    pub sex: u8,
    pub nationality: [u8; 3],
    /// The name when written in Latin letters.
    pub latin: Name,
    /// The katakana reading (from `name` when it is in katakana, else `name_kana`), as passport-Hepburn romaji.
    pub kana: Name,
    /// The sound keys of the reading's tokens (computed once, compared with every candidate).
    pub kana_keys: names::SoundKeys,
    pub diagnosis_day: i32,
}

impl LinkReport {
    /// `None` when the diagnosis date is missing or malformed.
    pub fn new(f: &ReportFields<'_>) -> Option<LinkReport> {
        let diagnosis_day = Day::parse(f.diagnosis_date)?.number;
        let (latin, kana) = if names::has_kana(f.name) {
            (Name::default(), Name::kana(f.name))
        } else {
            (Name::latin(f.name), if f.name_kana.trim().is_empty() { Name::default() } else { Name::kana(f.name_kana) })
        };
        Some(LinkReport {
            kana_keys: names::SoundKeys::of(&kana),
            passport: Passport::parse(f.passport_number),
            date_of_birth: Day::parse(f.date_of_birth),
            sex: parse_sex(f.sex),
            nationality: parse_nationality(f.nationality),
            latin,
            kana,
            diagnosis_day,
        })
    }

    pub fn has_passport(&self) -> bool {
        self.passport.is_some()
    }

    /// Whether the report takes part in the linkage at all: it carries a passport number, or a nationality other
    /// than Japan's (a report of a Japanese national, or with neither, has no entry record to find).
    pub fn is_candidate(&self) -> bool {
        self.passport.is_some() || (self.nationality[0] != 0 && &self.nationality != b"JPN")
    }
}

/// Default of [`Options::window_days`]: an entry may be linked to a report diagnosed at most this many days after it.
/// The reporting rule asks for the passport number of a visitor diagnosed within 28 days of entry, but the
/// nationality is filed for every foreign resident, and long-stay entrants (students, workers) are diagnosed months
/// after entry; 120 days keeps them while bounding what one run reads (docs/linkage.md, "Window").
pub const DEFAULT_WINDOW_DAYS: i32 = 120;

/// Whether an entry on `entry_day` may be linked to a report diagnosed on `diagnosis_day`: on or before it, within
/// the window.
pub fn in_window(entry_day: i32, diagnosis_day: i32, window_days: i32) -> bool {
    entry_day <= diagnosis_day && diagnosis_day - entry_day <= window_days
}

/// Compares a report with an entry, field by field.
pub fn compare(r: &LinkReport, e: &LinkEntry) -> Agreement {
    let both = |a: u8, b: u8| (a != 0 && b != 0).then_some(a == b);
    Agreement {
        passport: match (&r.passport, &e.passport) {
            (Some(a), Some(b)) => Some(passport::compare(a, b)),
            _ => None,
        },
        date_of_birth: match (r.date_of_birth, e.date_of_birth) {
            (Some(a), Some(b)) => Some(dates::compare(a, b)),
            _ => None,
        },
        sex: both(r.sex, e.sex),
        nationality: (r.nationality[0] != 0 && e.nationality[0] != 0).then_some(r.nationality == e.nationality),
        name: if e.name.is_empty() {
            None
        } else if !r.latin.is_empty() {
            Some(names::compare_latin(&r.latin, &e.name))
        } else if !r.kana.is_empty() {
            Some(names::compare_kana_keys(&r.kana_keys, &e.name, e.nationality))
        } else {
            None
        },
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Blocking

const TAG_PASSPORT: u64 = 1;
const TAG_DOB: u64 = 2;
const TAG_NAME_YM: u64 = 3;
const TAG_NAME_MD: u64 = 4;
const TAG_NAME_YD: u64 = 5;
/// Not a blocking key: the key of a name's frequency ([`frequency::name_key`]).
const TAG_NAME_FREQUENCY: u64 = 6;

/// Shortest folded passport number whose one-deletion variants are used as keys.
const MIN_PASSPORT_FOR_DELETIONS: usize = 5;
/// A key shared by more entries than this is too unspecific to block on (e.g. a date of birth of 1 January).
pub const MAX_BLOCK: usize = 3000;
/// Entries are numbered in the low bits of a key.
const INDEX_BITS: u32 = 24;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
/// Most entries one index can hold.
pub const MAX_ENTRIES: usize = (1 << INDEX_BITS) - 1;

/// A fast, dependency-free hash of a tag and some bytes (multiply-xorshift over 8-byte words).
fn key_hash(tag: u64, extra: u64, bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (tag.wrapping_mul(K) ^ extra).wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ bytes.len() as u64;
    for chunk in bytes.chunks(8) {
        let mut w = 0u64;
        for (i, &b) in chunk.iter().enumerate() {
            w |= u64::from(b) << (8 * i);
        }
        h = (h ^ w).wrapping_mul(K);
        h ^= h >> 29;
    }
    h = (h ^ (h >> 32)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^ (h >> 31)
}

fn name_date_keys(token: &[u8], dob: Day, mut f: impl FnMut(u64)) {
    f(key_hash(TAG_NAME_YM, u64::from(dob.year() * 100 + dob.month()), token));
    f(key_hash(TAG_NAME_MD, u64::from(dob.month() * 100 + dob.day()), token));
    f(key_hash(TAG_NAME_YD, u64::from(dob.year() * 100 + dob.day()), token));
}

/// The blocking keys of an entry.
fn entry_keys(e: &LinkEntry, mut f: impl FnMut(u64)) {
    if let Some(p) = &e.passport {
        if p.folded().len() >= MIN_PASSPORT_FOR_DELETIONS {
            passport::deletion_keys(p, |k| f(key_hash(TAG_PASSPORT, 0, k)));
        } else {
            f(key_hash(TAG_PASSPORT, 0, p.folded()));
        }
    }
    if let Some(d) = e.date_of_birth {
        f(key_hash(TAG_DOB, u64::from(d.digits), &[]));
        // the first two name tokens (the family name and the first given name, in the entry's order)
        for t in e.name.tokens().take(2) {
            name_date_keys(t, d, &mut f);
        }
    }
}

/// The keys a report looks up.
fn report_keys(r: &LinkReport, mut f: impl FnMut(u64)) {
    if let Some(p) = &r.passport {
        if p.folded().len() >= MIN_PASSPORT_FOR_DELETIONS {
            passport::deletion_keys(p, |k| f(key_hash(TAG_PASSPORT, 0, k)));
        } else {
            f(key_hash(TAG_PASSPORT, 0, p.folded()));
        }
    }
    if let Some(d) = r.date_of_birth {
        f(key_hash(TAG_DOB, u64::from(d.digits), &[]));
        if d.month() != d.day() && d.day() <= 12 {
            f(key_hash(TAG_DOB, u64::from(d.year() * 10_000 + d.day() * 100 + d.month()), &[]));
        }
        for t in r.latin.tokens().take(4) {
            name_date_keys(t, d, &mut f);
        }
    }
}

/// The blocking keys an entry is filed under (distinct, ascending): what the stored index of the incremental run
/// holds for it, after keyed hashing (`domain::KeyedHasher::block_key`).
pub fn entry_block_keys(e: &LinkEntry) -> Vec<u64> {
    let mut keys = Vec::with_capacity(24);
    entry_keys(e, |k| keys.push(k));
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The blocking keys a report looks up (distinct, ascending).
pub fn report_block_keys(r: &LinkReport) -> Vec<u64> {
    let mut keys = Vec::with_capacity(32);
    report_keys(r, |k| keys.push(k));
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Blocking index over entries: every (key, entry) pair packed in a `u64` (hash in the high 40 bits, entry number
/// in the low 24), grouped by the key's top bits into buckets with a directory of offsets (a counting sort: two
/// linear passes, no comparison sort). Built in parallel, one slice of the bucket space per thread.
pub struct BlockIndex {
    bucket_bits: u32,
    parts: Vec<IndexPart>,
    part_bits: u32,
}

struct IndexPart {
    /// Offsets into `keys` per bucket of this part (len = buckets + 1).
    dir: Vec<u32>,
    keys: Vec<u64>,
}

impl BlockIndex {
    pub fn build(entries: &[LinkEntry]) -> BlockIndex {
        const CHUNK: usize = 1 << 15;
        // 1. every entry's keys, computed once, in parallel chunks
        let chunks: Vec<Vec<u64>> = entries
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let mut keys = Vec::with_capacity(chunk.len() * 18);
                for (j, e) in chunk.iter().enumerate() {
                    let i = (c * CHUNK + j) as u64;
                    entry_keys(e, |k| keys.push((k & !INDEX_MASK) | i));
                }
                keys
            })
            .collect();
        let total: usize = chunks.iter().map(Vec::len).sum();
        let bucket_bits = (usize::BITS - (total / 4).max(1).leading_zeros()).clamp(8, 26);
        let part_bits = 1u32;
        let per_part_bits = bucket_bits - part_bits;
        // 2. a counting sort by bucket, one half of the bucket space per thread
        let parts = (0..1u64 << part_bits)
            .into_par_iter()
            .map(|part| {
                let buckets = 1usize << per_part_bits;
                let mut dir = vec![0u32; buckets + 1];
                let bucket_of = |k: u64| (k >> (64 - bucket_bits)) as usize;
                for &k in chunks.iter().flatten() {
                    let b = bucket_of(k);
                    if (b >> per_part_bits) as u64 == part {
                        dir[(b & (buckets - 1)) + 1] += 1;
                    }
                }
                for i in 1..=buckets {
                    dir[i] += dir[i - 1];
                }
                let mut cursor = dir.clone();
                let mut keys = vec![0u64; dir[buckets] as usize];
                for &k in chunks.iter().flatten() {
                    let b = bucket_of(k);
                    if (b >> per_part_bits) as u64 == part {
                        let slot = &mut cursor[b & (buckets - 1)];
                        keys[*slot as usize] = k;
                        *slot += 1;
                    }
                }
                IndexPart { dir, keys }
            })
            .collect();
        BlockIndex { bucket_bits, parts, part_bits }
    }

    /// Number of (key, entry) pairs held.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.keys.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with each entry filed under `key` that `keep` accepts, unless more than [`MAX_BLOCK`] are (the
    /// same rule as the stored index's: [`MAX_BLOCK`] counts the entries within the report's window only).
    fn lookup(&self, key: u64, keep: impl Fn(u32) -> bool, mut f: impl FnMut(u32)) {
        let b = (key >> (64 - self.bucket_bits)) as usize;
        let per_part_bits = self.bucket_bits - self.part_bits;
        let Some(part) = self.parts.get(b >> per_part_bits) else { return };
        let local = b & ((1 << per_part_bits) - 1);
        let (Some(&start), Some(&end)) = (part.dir.get(local), part.dir.get(local + 1)) else { return };
        let hash = key >> INDEX_BITS;
        let slice = &part.keys[start as usize..end as usize];
        let entry_of = |k: u64| (k & INDEX_MASK) as u32;
        let matching = || slice.iter().filter(|&&k| k >> INDEX_BITS == hash && keep(entry_of(k)));
        if matching().count() > MAX_BLOCK {
            return;
        }
        matching().for_each(|&k| f(entry_of(k)));
    }

    /// The candidate entries of a report that `keep` accepts (deduplicated, ascending), into `out`.
    pub fn candidates(&self, r: &LinkReport, keep: impl Fn(u32) -> bool, out: &mut Vec<u32>) {
        out.clear();
        report_keys(r, |k| self.lookup(k, &keep, |e| out.push(e)));
        out.sort_unstable();
        out.dedup();
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Decisions

/// Scores that split link / review / nothing, in bits (log2 of the odds of a match).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// At or above: linked (unless another person scores within `margin`).
    pub link: f32,
    /// At or above (and below `link`): the review queue.
    pub review: f32,
    /// A best candidate whose runner-up (another person) is within this many bits goes to review, not link.
    pub margin: f32,
}

/// Chosen on `gen linkage --hard --seed 1` (1M entries x 50k reports) with the name frequency adjustment: the lowest
/// link threshold whose precision stays at or above 0.999 with the runner-up margin that keeps most recall, checked
/// on seeds 2 and 3 and on the default files (docs/benchmarks-linkage.md). Without a passport number, a name must
/// be uncommon, or the date of birth exact, to link: a common name and a near date of birth go to review.
impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { link: 16.0, review: 2.0, margin: 2.0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    Link,
    Review,
}

/// What was decided for one report. Indexes into the inputs; no personal values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub report: usize,
    pub entry: usize,
    pub score: f32,
    pub band: Band,
    /// The comparison pattern: [`score::agreeing_fields`] names the fields that agreed.
    pub pattern: u16,
    /// Another person's best score when it came within the margin (why a high score went to review).
    pub runner_up: Option<f32>,
    /// For a review: the best entries of up to two other persons that reached the review threshold, best first, so
    /// that the reviewer can pick among them. Empty for links.
    pub others: [Option<Alternative>; 2],
}

/// Another person's candidate entry beside a review's best one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alternative {
    pub entry: usize,
    pub score: f32,
    pub pattern: u16,
}

impl Alternative {
    /// The method label, as [`Decision::method`].
    pub fn method(&self) -> String {
        format!("fellegi_sunter:{}", score::agreeing_fields(self.pattern))
    }
}

impl Decision {
    /// The method label kept with the decision: the scorer and the fields that agreed.
    pub fn method(&self) -> String {
        format!("fellegi_sunter:{}", score::agreeing_fields(self.pattern))
    }
}

/// Counters of a run, for logs and benchmarks (no personal data).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    pub entries: usize,
    pub reports: usize,
    pub index_keys: usize,
    pub candidate_pairs: usize,
    pub em_iterations: usize,
    pub links: usize,
    pub reviews: usize,
    /// Wall time of the phases: index and u sample, candidates and comparisons, EM, decisions.
    pub phase_ms: [u128; 4],
}

/// Options of a run.
#[derive(Debug, Clone)]
pub struct Options {
    pub thresholds: Thresholds,
    /// Random pairs compared to estimate u.
    pub u_sample: usize,
    pub em_iterations: usize,
    /// Estimate m by EM (else keep [`Model::initial`]'s m).
    pub estimate_m: bool,
    /// Expected share of reports that have an entry record: with the number of candidate pairs, it sets the prior
    /// (lambda = reports × share / candidate pairs).
    pub expected_match_share: f64,
    pub seed: u64,
    /// An entry is a candidate of a report diagnosed at most this many days after it ([`in_window`]).
    pub window_days: i32,
    /// The key names' frequencies are kept under ([`frequency`]): the product's keyed hash, so that a stored model
    /// holds no name.
    pub name_keyer: NameKeyer,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            thresholds: Thresholds::default(),
            u_sample: 400_000,
            em_iterations: 100,
            estimate_m: true,
            expected_match_share: 0.8,
            seed: 0x5EED,
            window_days: DEFAULT_WINDOW_DAYS,
            name_keyer: NameKeyer::default(),
        }
    }
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Per-field level counts over random (report, entry) pairs: the u values.
pub fn random_pair_counts(entries: &[LinkEntry], reports: &[LinkReport], samples: usize, seed: u64) -> [[u64; 8]; 5] {
    let mut counts = [[0u64; 8]; 5];
    if entries.is_empty() || reports.is_empty() {
        return counts;
    }
    let mut state = seed;
    for _ in 0..samples {
        let r = &reports[(splitmix(&mut state) % reports.len() as u64) as usize];
        let e = &entries[(splitmix(&mut state) % entries.len() as u64) as usize];
        let codes = compare(r, e).codes();
        for f in 0..5 {
            if codes[f] > 0 {
                counts[f][codes[f] - 1] += 1;
            }
        }
    }
    counts
}

/// The candidates of one report that may be linked (entered within the window before the diagnosis date), with
/// their comparison patterns; none for a report that is no candidate itself ([`LinkReport::is_candidate`]).
fn report_candidates(
    index: &BlockIndex,
    entries: &[LinkEntry],
    r: &LinkReport,
    window_days: i32,
    scratch: &mut Vec<u32>,
) -> Vec<(u32, u16)> {
    if !r.is_candidate() {
        return Vec::new();
    }
    let keep = |i: u32| entries.get(i as usize).is_some_and(|e| in_window(e.entry_day, r.diagnosis_day, window_days));
    index.candidates(r, keep, scratch);
    scratch.iter().filter_map(|&i| Some((i, compare(r, entries.get(i as usize)?).pattern()))).collect()
}

/// Decides one report against its candidate entries (those sharing a blocking key with it, in the order of their
/// entry ids, as the full run numbers them): the incremental run's unit. Entries outside the window are ignored.
/// The decision's `entry` indexes `entries`.
pub fn decide_one(r: &LinkReport, entries: &[LinkEntry], model: &Model, options: &Options) -> Option<Decision> {
    if !r.is_candidate() {
        return None;
    }
    let compared: Vec<(u32, u16)> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| in_window(e.entry_day, r.diagnosis_day, options.window_days))
        .map(|(i, e)| (i as u32, compare(r, e).pattern()))
        .collect();
    decide(0, r, entries, &compared, model, options)
}

/// The score of a report against one candidate entry: the weight of its comparison pattern, plus the adjustment
/// for the frequency of an agreeing name ([`frequency`]): of the entry's name, and for an inexact Latin agreement of
/// the report's too (the more frequent counts). Through a katakana reading only a common name's lowering counts,
/// halved as katakana weights are: the reading of a rare Latin spelling is not rare (ZHANG, CHANG: チャン).
pub fn pair_score(r: &LinkReport, e: &LinkEntry, pattern: u16, model: &Model, keyer: &NameKeyer) -> f32 {
    let base = model.score(pattern);
    let name_level = score::codes_of(pattern)[4];
    if !matches!(name_level, 1 | 2 | 3 | 5) || model.names.entries == 0 {
        return base;
    }
    let Some(entry_key) = frequency::name_key(e.nationality, &e.name).map(|k| keyer.key(k)) else { return base };
    let adjustment = match name_level {
        1 => model.name_adjustment([entry_key]),
        2 | 3 => {
            let report_key = frequency::name_key(e.nationality, &r.latin).map(|k| keyer.key(k));
            model.name_adjustment(std::iter::once(entry_key).chain(report_key))
        }
        _ => model.name_adjustment([entry_key]).min(0.0) / 2.0,
    };
    base + adjustment as f32
}

/// Decides one report from its compared candidates (entry, pattern).
fn decide(
    report: usize,
    r: &LinkReport,
    entries: &[LinkEntry],
    compared: &[(u32, u16)],
    model: &Model,
    options: &Options,
) -> Option<Decision> {
    let t = &options.thresholds;
    let scored: Vec<(u32, u16, f32)> = compared
        .iter()
        .filter_map(|&(i, p)| Some((i, p, pair_score(r, entries.get(i as usize)?, p, model, &options.name_keyer))))
        .collect();
    let (best_i, best_p, best_score) = scored.iter().copied().max_by(|a, b| a.2.total_cmp(&b.2))?;
    if best_score < t.review {
        return None;
    }
    let best = entries.get(best_i as usize)?;
    // The same person's entries: the one nearest before the diagnosis (all candidates are on or before it).
    let mut chosen = best_i;
    let mut runner_up: Option<f32> = None;
    for &(i, _, s) in &scored {
        let Some(e) = entries.get(i as usize) else { continue };
        if e.same_person(best) {
            let current = entries.get(chosen as usize).map_or(i32::MIN, |c| c.entry_day);
            if e.entry_day > current || (e.entry_day == current && i < chosen) {
                chosen = i;
            }
        } else if s > best_score - t.margin && runner_up.is_none_or(|r| s > r) {
            runner_up = Some(s);
        }
    }
    let band = if best_score >= t.link && runner_up.is_none() { Band::Link } else { Band::Review };
    let others = if band == Band::Review { other_persons(entries, &scored, best, t) } else { [None; 2] };
    Some(Decision { report, entry: chosen as usize, score: best_score, band, pattern: best_p, runner_up, others })
}

/// The best entries of up to two persons other than `best`'s that reached the review threshold, best first (one
/// entry per person: its best-scoring, the later on a tie).
fn other_persons(
    entries: &[LinkEntry],
    scored: &[(u32, u16, f32)],
    best: &LinkEntry,
    t: &Thresholds,
) -> [Option<Alternative>; 2] {
    let mut ranked: Vec<(f32, i32, u32, u16)> = scored
        .iter()
        .filter_map(|&(i, p, s)| {
            let e = entries.get(i as usize)?;
            (s >= t.review && !e.same_person(best)).then_some((s, e.entry_day, i, p))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let mut out = [None; 2];
    let mut taken: Vec<&LinkEntry> = Vec::new();
    for (s, _, i, p) in ranked {
        let Some(e) = entries.get(i as usize) else { continue };
        if taken.iter().any(|t| t.same_person(e)) {
            continue;
        }
        let Some(slot) = out.iter_mut().find(|o| o.is_none()) else { break };
        *slot = Some(Alternative { entry: i as usize, score: s, pattern: p });
        taken.push(e);
    }
    out
}

/// Links reports with entries. Returns one decision per report that reached the review threshold (links and
/// reviews), in report order, the model used, and counters. At most [`MAX_ENTRIES`] entries take part (callers
/// refuse more: `hersys link` does). `RunStats::phase_ms` is measured with the monotonic clock, for benchmarks only.
pub fn link(entries: &[LinkEntry], reports: &[LinkReport], options: &Options) -> (Vec<Decision>, Model, RunStats) {
    link_with(entries, reports, None, options)
}

/// As [`link`]; with `model` given, scores with it instead of estimating one (the full re-link under a stored
/// model version, which must decide as the incremental runs under that version did).
pub fn link_with(
    entries: &[LinkEntry],
    reports: &[LinkReport],
    model: Option<&Model>,
    options: &Options,
) -> (Vec<Decision>, Model, RunStats) {
    let mut stats = RunStats { entries: entries.len(), reports: reports.len(), ..RunStats::default() };
    let entries = &entries[..entries.len().min(MAX_ENTRIES)];
    let clock = std::time::Instant::now();
    let candidate_reports: Vec<LinkReport> = reports.iter().filter(|r| r.is_candidate()).copied().collect();
    let (index, u_counts) = rayon::join(
        || BlockIndex::build(entries),
        || match model {
            Some(_) => [[0; 8]; 5],
            None => random_pair_counts(entries, &candidate_reports, options.u_sample, options.seed),
        },
    );
    drop(candidate_reports);
    stats.index_keys = index.len();
    stats.phase_ms[0] = clock.elapsed().as_millis();
    let candidates: Vec<Vec<(u32, u16)>> = reports
        .par_iter()
        .map_init(Vec::new, |scratch, r| report_candidates(&index, entries, r, options.window_days, scratch))
        .collect();
    drop(index);
    stats.phase_ms[1] = clock.elapsed().as_millis();
    stats.candidate_pairs = candidates.iter().map(Vec::len).sum();

    let model = match model {
        Some(m) => m.clone(),
        None => {
            let mut patterns = PairPatterns::default();
            for (r, c) in reports.iter().zip(&candidates) {
                if r.is_candidate() {
                    patterns.add_report(c.iter().map(|&(_, p)| p));
                }
            }
            let names = NameFrequencies::count(entries.iter().map(|e| (e.nationality, &e.name)), &options.name_keyer);
            let (model, iterations) = estimate(&patterns, &u_counts, names, options);
            stats.em_iterations = iterations;
            model
        }
    };
    stats.phase_ms[2] = clock.elapsed().as_millis();
    let decisions: Vec<Decision> = candidates
        .par_iter()
        .enumerate()
        .filter_map(|(i, c)| decide(i, reports.get(i)?, entries, c, &model, options))
        .collect();
    stats.links = decisions.iter().filter(|d| d.band == Band::Link).count();
    stats.reviews = decisions.len() - stats.links;
    stats.phase_ms[3] = clock.elapsed().as_millis();
    (decisions, model, stats)
}

/// The comparison patterns of candidate pairs as the estimate reads them (counts only): of every pair of every
/// candidate report, or of a sample of the reports ([`PairPatterns::add_report`] once per report).
#[derive(Debug, Clone)]
pub struct PairPatterns {
    /// Pairs whose passport numbers agree (exactly or folded): EM's first session.
    by_passport: Vec<u64>,
    /// Pairs whose dates of birth agree: its second.
    by_dob: Vec<u64>,
    /// Candidate reports and their candidate pairs: the prior's ratio.
    pub reports: usize,
    pub pairs: usize,
}

impl Default for PairPatterns {
    fn default() -> Self {
        PairPatterns { by_passport: vec![0; PATTERNS], by_dob: vec![0; PATTERNS], reports: 0, pairs: 0 }
    }
}

impl PairPatterns {
    /// Counts one candidate report and the patterns of its candidate pairs (none: a report without candidates,
    /// which still counts for the prior).
    pub fn add_report(&mut self, patterns: impl IntoIterator<Item = u16>) {
        self.reports += 1;
        for p in patterns {
            self.pairs += 1;
            let codes = score::codes_of(p);
            if matches!(codes[0], 1 | 2) {
                self.by_passport[p as usize] += 1;
            }
            if codes[1] == 1 {
                self.by_dob[p as usize] += 1;
            }
        }
    }
}

/// The patterns of a candidate report against its candidate entries within the window (as [`decide_one`] compares
/// them); none for a report that is no candidate.
pub fn candidate_patterns(r: &LinkReport, entries: &[LinkEntry], window_days: i32) -> Vec<u16> {
    if !r.is_candidate() {
        return Vec::new();
    }
    entries
        .iter()
        .filter(|e| in_window(e.entry_day, r.diagnosis_day, window_days))
        .map(|e| compare(r, e).pattern())
        .collect()
}

/// The model from u over random pairs (`u_counts`, [`random_pair_counts`]) and, when `options.estimate_m`, m by EM
/// over the candidate pairs' patterns; the prior from the share of candidate reports expected to have an entry among
/// the candidate pairs; the names' frequencies as given. The same whether the patterns and the random pairs are of
/// every record (the single-process run) or of a sample (the daily estimate at national scale). Answers the model
/// and EM's iterations.
pub fn estimate(
    patterns: &PairPatterns,
    u_counts: &[[u64; 8]; 5],
    names: NameFrequencies,
    options: &Options,
) -> (Model, usize) {
    let mut model = Model::initial();
    model.set_u(u_counts);
    let mut iterations = 0;
    if options.estimate_m {
        // Two EM sessions, as Splink trains: on the pairs whose passport numbers agree (folded), learning every
        // field but the passport; on the pairs whose dates of birth agree, learning the passport's m.
        let (a, _) = model.em(
            &patterns.by_passport,
            options.em_iterations,
            [false, true, true, true, true],
            [false, true, true, true, true],
            0.5,
        );
        let (b, _) = model.em(
            &patterns.by_dob,
            options.em_iterations,
            [true, false, true, true, true],
            [true, false, false, false, false],
            0.05,
        );
        iterations = a + b;
    }
    // The prior: one true entry for most reports among its candidates.
    let pairs = patterns.pairs.max(1) as f64;
    model.set_lambda((patterns.reports as f64 * options.expected_match_share / pairs).min(0.5));
    model.set_name_frequencies(names);
    (model, iterations)
}

#[cfg(test)]
mod tests;
