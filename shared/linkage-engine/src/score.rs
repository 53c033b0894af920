//! Fellegi-Sunter scoring. Each compared field falls into a level (or is missing on one side, which adds no
//! evidence); a pair's levels form its pattern. The m value of a level is its probability among true matches, the
//! u value among non-matches; a level's match weight is log2(m/u), and a pair's score is the prior log-odds plus
//! the weights of its levels (bits of evidence).
//!
//! Where the values come from: u first from comparing random pairs (almost all non-matches); then
//! expectation-maximisation over the blocked candidate pairs estimates m, the share of matches, and the u of the
//! candidates' non-matches, which agree on a blocking key far more often than random pairs do (every non-match in
//! a date-of-birth block shares the date of birth), starting from the values in [`Model::initial`]. Katakana
//! agreement is capped at half the weight of the matching Latin level: katakana cannot tell ZHANG from CHANG.

use serde::{Deserialize, Serialize};

use super::dates::DobLevel;
use super::frequency::NameFrequencies;
use super::names::NameLevel;
use super::passport::PassportLevel;

/// The compared fields, in pattern order.
pub const FIELDS: [&str; 5] = ["passport", "date_of_birth", "sex", "nationality", "name"];
/// Levels per field (missing excluded).
pub const LEVELS: [usize; 5] = [4, 4, 2, 2, 8];
/// Number of distinct patterns (each field: its levels + missing).
pub const PATTERNS: usize = 5 * 5 * 3 * 3 * 9;

/// How one report and one entry compare, field by field; `None` where either side lacks the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Agreement {
    pub passport: Option<PassportLevel>,
    pub date_of_birth: Option<DobLevel>,
    pub sex: Option<bool>,
    pub nationality: Option<bool>,
    pub name: Option<NameLevel>,
}

fn passport_index(l: PassportLevel) -> usize {
    match l {
        PassportLevel::Exact => 0,
        PassportLevel::Folded => 1,
        PassportLevel::OneEdit => 2,
        PassportLevel::Different => 3,
    }
}

fn dob_index(l: DobLevel) -> usize {
    match l {
        DobLevel::Exact => 0,
        DobLevel::Swapped => 1,
        DobLevel::OneDigit => 2,
        DobLevel::Different => 3,
    }
}

fn name_index(l: NameLevel) -> usize {
    match l {
        NameLevel::Exact => 0,
        NameLevel::Subset => 1,
        NameLevel::Fuzzy => 2,
        NameLevel::Partial => 3,
        NameLevel::KanaAgree => 4,
        NameLevel::KanaPartial => 5,
        NameLevel::Different => 6,
        NameLevel::KanaDifferent => 7,
    }
}

const NAME_LABELS: [&str; 8] =
    ["exact", "subset", "fuzzy", "partial", "kana", "kana_partial", "different", "kana_different"];
const PASSPORT_LABELS: [&str; 4] = ["exact", "folded", "one_edit", "different"];
const DOB_LABELS: [&str; 4] = ["exact", "swapped", "one_digit", "different"];
const BOOL_LABELS: [&str; 2] = ["agree", "different"];

impl Agreement {
    /// Per field: 0 for missing, else 1 + the level's index.
    pub fn codes(&self) -> [usize; 5] {
        [
            self.passport.map_or(0, |l| 1 + passport_index(l)),
            self.date_of_birth.map_or(0, |l| 1 + dob_index(l)),
            self.sex.map_or(0, |a| if a { 1 } else { 2 }),
            self.nationality.map_or(0, |a| if a { 1 } else { 2 }),
            self.name.map_or(0, |l| 1 + name_index(l)),
        ]
    }

    pub fn pattern(&self) -> u16 {
        pattern_of(self.codes())
    }

    /// The fields that agreed, with their level where there are several, e.g.
    /// `passport_one_edit+date_of_birth+sex+name_subset`. No values: safe to store and log.
    pub fn agreeing_fields(&self) -> String {
        agreeing_fields(self.pattern())
    }
}

fn pattern_of(codes: [usize; 5]) -> u16 {
    (((codes[0] * 5 + codes[1]) * 3 + codes[2]) * 3 + codes[3]) as u16 * 9 + codes[4] as u16
}

/// The field codes of a pattern (inverse of [`Agreement::pattern`]).
pub fn codes_of(pattern: u16) -> [usize; 5] {
    let mut p = pattern as usize;
    let name = p % 9;
    p /= 9;
    let nat = p % 3;
    p /= 3;
    let sex = p % 3;
    p /= 3;
    let dob = p % 5;
    [p / 5, dob, sex, nat, name]
}

/// The level of each compared field in a pattern, as the scorer distinguishes them, in [`FIELDS`] order: passport
/// and date of birth `exact`, `folded` / `swapped`, `one_edit` / `one_digit`, `different`; sex and nationality
/// `agree`, `different`; name `exact`, `subset`, `fuzzy`, `partial`, `kana`, `kana_partial`, `different`,
/// `kana_different`; any of them `missing` where either side lacks the field. Labels only, never values.
pub fn field_levels(pattern: u16) -> [(&'static str, &'static str); 5] {
    let c = codes_of(pattern);
    let label = |labels: &[&'static str], code: usize| if code == 0 { "missing" } else { labels[code - 1] };
    [
        (FIELDS[0], label(&PASSPORT_LABELS, c[0])),
        (FIELDS[1], label(&DOB_LABELS, c[1])),
        (FIELDS[2], label(&BOOL_LABELS, c[2])),
        (FIELDS[3], label(&BOOL_LABELS, c[3])),
        (FIELDS[4], label(&NAME_LABELS, c[4])),
    ]
}

/// See [`Agreement::agreeing_fields`].
pub fn agreeing_fields(pattern: u16) -> String {
    let c = codes_of(pattern);
    let mut parts: Vec<String> = Vec::new();
    if matches!(c[0], 1..=3) {
        parts.push(if c[0] == 1 { "passport".to_owned() } else { format!("passport_{}", PASSPORT_LABELS[c[0] - 1]) });
    }
    if matches!(c[1], 1..=3) {
        parts.push(if c[1] == 1 {
            "date_of_birth".to_owned()
        } else {
            format!("date_of_birth_{}", DOB_LABELS[c[1] - 1])
        });
    }
    if c[2] == 1 {
        parts.push("sex".to_owned());
    }
    if c[3] == 1 {
        parts.push("nationality".to_owned());
    }
    if matches!(c[4], 1..=6) {
        parts.push(format!("name_{}", NAME_LABELS[c[4] - 1]));
    }
    if parts.is_empty() { "none".to_owned() } else { parts.join("+") }
}

/// A model's parameters as stored with its version: m and u per field and level (in [`FIELDS`] order, levels as
/// [`field_levels`] names them), and the prior share of matches among candidate pairs. Numbers only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelParams {
    pub m: [[f64; 8]; 5],
    pub u: [[f64; 8]; 5],
    pub lambda: f64,
    /// The most frequent names' counts, by keyed key (none in a model stored before they were counted: no
    /// adjustment then).
    #[serde(default)]
    pub name_frequencies: NameFrequencies,
}

/// The smallest probability stored ([`Model::params`]).
pub const STORED_FLOOR: f64 = 1e-12;

/// m and u values per field and level, the prior share of matches among candidates, and the weights they give.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub m: [[f64; 8]; 5],
    pub u: [[f64; 8]; 5],
    /// Share of true matches among candidate pairs.
    pub lambda: f64,
    /// For the adjustment of an agreeing name by its frequency ([`super::pair_score`]).
    pub names: NameFrequencies,
    /// Score of each pattern: log2(lambda / (1 - lambda)) + the weights of its levels.
    weights: Vec<f32>,
}

impl Model {
    /// Starting values (and the fallback when the data are too few to estimate): m from the corruption rates
    /// seen in hand-typed identity data (roughly 1 in 10 passport numbers and 1 in 20 dates of birth mistyped),
    /// u as for random pairs among a million people of a few nationalities.
    pub fn initial() -> Model {
        let mut model = Model {
            m: [
                [0.85, 0.04, 0.06, 0.05, 0., 0., 0., 0.],
                [0.92, 0.02, 0.03, 0.03, 0., 0., 0., 0.],
                [0.98, 0.02, 0., 0., 0., 0., 0., 0.],
                [0.97, 0.03, 0., 0., 0., 0., 0., 0.],
                [0.50, 0.10, 0.10, 0.08, 0.10, 0.05, 0.05, 0.02],
            ],
            u: [
                [1e-6, 1e-6, 1e-5, 1.0 - 1.2e-5, 0., 0., 0., 0.],
                [3e-5, 3e-5, 3e-4, 1.0 - 3.6e-4, 0., 0., 0., 0.],
                [0.5, 0.5, 0., 0., 0., 0., 0., 0.],
                [0.2, 0.8, 0., 0., 0., 0., 0., 0.],
                [1e-4, 1e-4, 1e-3, 0.05, 1e-3, 0.05, 0.9, 0.9],
            ],
            lambda: 0.01,
            names: NameFrequencies::default(),
            weights: Vec::new(),
        };
        model.refresh();
        model
    }

    /// What is stored of the model (the weights follow from it). A probability below [`STORED_FLOOR`] is stored as
    /// that floor: EM drives the m of a level no match shows (a different date of birth) geometrically towards 0,
    /// to 1e-250 and below on a large store, which a DynamoDB number cannot hold (its range ends at 1e-130: the
    /// model's PutItem was refused). No score changes: scoring floors every probability at 1e-9, EM at 1e-12.
    pub fn params(&self) -> ModelParams {
        let floor = |levels: [[f64; 8]; 5]| levels.map(|l| l.map(|p| if p > 0.0 { p.max(STORED_FLOOR) } else { p }));
        ModelParams { m: floor(self.m), u: floor(self.u), lambda: self.lambda, name_frequencies: self.names.clone() }
    }

    /// The model of stored parameters.
    pub fn from_params(p: &ModelParams) -> Model {
        let mut model =
            Model { m: p.m, u: p.u, lambda: p.lambda, names: p.name_frequencies.clone(), weights: Vec::new() };
        model.refresh();
        model
    }

    /// The weight (log2 m/u) of one field's level; 0 for a missing field.
    pub fn level_weight(&self, field: usize, code: usize) -> f64 {
        if code == 0 {
            return 0.0;
        }
        let (m, u) = (self.m[field][code - 1].max(1e-9), self.u[field][code - 1].max(1e-9));
        let w = (m / u).log2();
        if field == 4 && (code == 5 || code == 6) {
            // katakana: at most half of the matching Latin level (see the module documentation)
            let latin = self.level_weight(4, if code == 5 { 1 } else { 4 });
            return w.min(latin / 2.0);
        }
        w
    }

    pub fn prior_weight(&self) -> f64 {
        let l = self.lambda.clamp(1e-9, 1.0 - 1e-9);
        (l / (1.0 - l)).log2()
    }

    fn refresh(&mut self) {
        let prior = self.prior_weight();
        self.weights = (0..PATTERNS as u16)
            .map(|p| {
                let c = codes_of(p);
                (prior + (0..5).map(|f| self.level_weight(f, c[f])).sum::<f64>()) as f32
            })
            .collect();
    }

    /// The score of a pattern.
    pub fn score(&self, pattern: u16) -> f32 {
        self.weights.get(pattern as usize).copied().unwrap_or(f32::NEG_INFINITY)
    }

    /// Sets u from per-field level counts over random pairs (with half-count smoothing).
    pub fn set_u(&mut self, counts: &[[u64; 8]; 5]) {
        for f in 0..5 {
            let total: f64 = counts[f][..LEVELS[f]].iter().map(|&c| c as f64 + 0.5).sum();
            for (u, &c) in self.u[f].iter_mut().zip(&counts[f]).take(LEVELS[f]) {
                *u = (c as f64 + 0.5) / total;
            }
        }
        self.refresh();
    }

    /// Estimates m and lambda by expectation-maximisation over pattern counts, u fixed, every field taking part.
    /// Returns the number of iterations run.
    pub fn estimate_m(&mut self, pattern_counts: &[u64], max_iterations: usize) -> usize {
        let (iterations, lambda) = self.em(pattern_counts, max_iterations, [true; 5], [true; 5], self.lambda);
        self.lambda = lambda;
        self.refresh();
        iterations
    }

    /// One EM session, as Splink trains: over the pairs of one blocking rule, with the fields of that rule left
    /// out (`evidence[f] == false`: they agree by construction there, so their m cannot be learnt from those
    /// pairs and they are no evidence). Updates the m of the fields in `learn`; the others and u stay fixed.
    /// Returns the iterations run (0 when there are fewer than 200 pairs) and the session's share of matches.
    pub fn em(
        &mut self,
        pattern_counts: &[u64],
        max_iterations: usize,
        evidence: [bool; 5],
        learn: [bool; 5],
        start_lambda: f64,
    ) -> (usize, f64) {
        let total: f64 = pattern_counts.iter().map(|&c| c as f64).sum();
        let mut lambda = start_lambda.clamp(1e-6, 0.99);
        if total < 200.0 {
            return (0, lambda);
        }
        let used: Vec<(u16, f64)> =
            pattern_counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(p, &c)| (p as u16, c as f64)).collect();
        for iteration in 1..=max_iterations {
            let mut m_acc = [[0.0f64; 8]; 5];
            let mut matched = 0.0;
            for &(p, count) in &used {
                let c = codes_of(p);
                let (mut lm, mut lu) = (lambda.ln(), (1.0 - lambda).ln());
                for f in (0..5).filter(|&f| evidence[f] && c[f] > 0) {
                    lm += self.m[f][c[f] - 1].max(1e-12).ln();
                    lu += self.u[f][c[f] - 1].max(1e-12).ln();
                }
                let posterior = 1.0 / (1.0 + (lu - lm).exp());
                let weight = posterior * count;
                matched += weight;
                for f in (0..5).filter(|&f| learn[f] && evidence[f] && c[f] > 0) {
                    m_acc[f][c[f] - 1] += weight;
                }
            }
            let old = self.m;
            for f in (0..5).filter(|&f| learn[f] && evidence[f]) {
                let sum: f64 = m_acc[f][..LEVELS[f]].iter().sum::<f64>() + 0.01 * LEVELS[f] as f64;
                for (m, acc) in self.m[f].iter_mut().zip(&m_acc[f]).take(LEVELS[f]) {
                    *m = (acc + 0.01) / sum;
                }
            }
            lambda = (matched / total).clamp(1e-6, 0.99);
            let change = (0..5)
                .flat_map(|f| (0..LEVELS[f]).map(move |l| (f, l)))
                .map(|(f, l)| (self.m[f][l] - old[f][l]).abs())
                .fold(0.0, f64::max);
            if change < 1e-5 {
                self.refresh();
                return (iteration, lambda);
            }
        }
        self.refresh();
        (max_iterations, lambda)
    }

    /// Sets the name frequencies the scores of agreeing names are adjusted by.
    pub fn set_name_frequencies(&mut self, names: NameFrequencies) {
        self.names = names;
    }

    /// The adjustment (bits) of an agreement on names of these keyed keys ([`NameFrequencies::adjustment`]),
    /// against the u of an exact agreement.
    pub fn name_adjustment(&self, keyed: impl IntoIterator<Item = u64>) -> f64 {
        self.names.adjustment(keyed, self.u[4][0])
    }

    /// Sets the prior share of matches among candidate pairs.
    pub fn set_lambda(&mut self, lambda: f64) {
        self.lambda = lambda.clamp(1e-9, 1.0 - 1e-9);
        self.refresh();
    }

    /// One line per field and level: m, u, weight (for the docs and `--verbose`).
    pub fn describe(&self) -> String {
        let labels: [&[&str]; 5] = [&PASSPORT_LABELS, &DOB_LABELS, &BOOL_LABELS, &BOOL_LABELS, &NAME_LABELS];
        let mut out = format!("lambda {:.5} (prior {:+.2} bits)\n", self.lambda, self.prior_weight());
        out.push_str(&format!(
            "name frequencies: {} names kept of {} entries, the rest counting as {}\n",
            self.names.counts.len(),
            self.names.entries,
            self.names.rest
        ));
        for f in 0..5 {
            for (l, label) in labels[f].iter().enumerate().take(LEVELS[f]) {
                out.push_str(&format!(
                    "{:<14} {:<15} m {:.5}  u {:.7}  weight {:+.2}\n",
                    FIELDS[f],
                    label,
                    self.m[f][l],
                    self.u[f][l],
                    self.level_weight(f, l + 1)
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_agreement() -> Agreement {
        Agreement {
            passport: Some(PassportLevel::Exact),
            date_of_birth: Some(DobLevel::Exact),
            sex: Some(true),
            nationality: Some(true),
            name: Some(NameLevel::Exact),
        }
    }

    #[test]
    fn stored_probabilities_are_floored_without_changing_a_score() {
        let mut model = Model::initial();
        model.m[1][3] = 1e-250; // a different date of birth among matches, after many EM rounds
        model.refresh();
        let stored = Model::from_params(&model.params());
        assert_eq!(stored.m[1][3], STORED_FLOOR);
        assert_eq!(stored.m[2][2], 0.0, "an unused level stays 0");
        for pattern in 0..PATTERNS as u16 {
            assert_eq!(stored.score(pattern), model.score(pattern), "pattern {pattern}");
        }
    }

    #[test]
    fn patterns_round_trip_through_codes() {
        for p in 0..PATTERNS as u16 {
            assert_eq!(pattern_of(codes_of(p)), p);
        }
        assert_eq!(full_agreement().codes(), [1, 1, 1, 1, 1]);
        assert_eq!(Agreement::default().codes(), [0, 0, 0, 0, 0]);
    }

    #[test]
    fn agreeing_fields_name_levels_but_no_values() {
        let mut a = full_agreement();
        a.passport = Some(PassportLevel::OneEdit);
        a.sex = Some(false);
        a.nationality = None;
        assert_eq!(a.agreeing_fields(), "passport_one_edit+date_of_birth+name_exact");
        assert_eq!(Agreement::default().agreeing_fields(), "none");
    }

    #[test]
    fn field_levels_are_the_scorers_own_with_missing() {
        let mut a = full_agreement();
        a.passport = Some(PassportLevel::Folded);
        a.date_of_birth = Some(DobLevel::Swapped);
        a.sex = Some(false);
        a.nationality = None;
        a.name = Some(NameLevel::KanaPartial);
        assert_eq!(
            field_levels(a.pattern()),
            [
                ("passport", "folded"),
                ("date_of_birth", "swapped"),
                ("sex", "different"),
                ("nationality", "missing"),
                ("name", "kana_partial")
            ]
        );
        assert!(field_levels(Agreement::default().pattern()).iter().all(|(_, l)| *l == "missing"));
    }

    #[test]
    fn more_agreement_scores_higher_and_missing_is_neutral() {
        let model = Model::initial();
        let full = full_agreement();
        let mut weaker = full;
        weaker.passport = Some(PassportLevel::OneEdit);
        let mut missing = full;
        missing.passport = None;
        let mut against = full;
        against.passport = Some(PassportLevel::Different);
        let s = |a: Agreement| model.score(a.pattern());
        assert!(s(full) > s(weaker) && s(weaker) > s(missing) && s(missing) > s(against));
        let mut none = Agreement::default();
        assert!((s(none) as f64 - model.prior_weight()).abs() < 1e-4);
        none.sex = Some(true);
        assert!(s(none) > model.score(Agreement::default().pattern()));
    }

    #[test]
    fn katakana_agreement_is_weaker_than_latin() {
        let model = Model::initial();
        assert!(model.level_weight(4, 5) <= model.level_weight(4, 1) / 2.0 + 1e-9);
        assert!(model.level_weight(4, 6) <= model.level_weight(4, 4) / 2.0 + 1e-9);
    }

    #[test]
    fn em_recovers_m_values_of_a_known_mixture() {
        // 1,000 matches: passport exact 90%, one edit 10%, date of birth always equal. 99,000 non-matches:
        // passport always different, date of birth equal 1% of the time (its u). EM with that u must find the
        // matches' m values and their share.
        let mut counts = vec![0u64; PATTERNS];
        let mut add = |pp: PassportLevel, dob: DobLevel, n: u64| {
            let a = Agreement { passport: Some(pp), date_of_birth: Some(dob), ..Agreement::default() };
            counts[a.pattern() as usize] += n;
        };
        add(PassportLevel::Exact, DobLevel::Exact, 900);
        add(PassportLevel::OneEdit, DobLevel::Exact, 100);
        add(PassportLevel::Different, DobLevel::Different, 98_010);
        add(PassportLevel::Different, DobLevel::Exact, 990);
        let mut model = Model::initial();
        let mut u = [[0u64; 8]; 5];
        u[0] = [0, 0, 0, 1_000_000, 0, 0, 0, 0];
        u[1] = [10_000, 0, 0, 990_000, 0, 0, 0, 0];
        model.set_u(&u);
        let iterations = model.estimate_m(&counts, 500);
        assert!(iterations > 0);
        assert!((model.m[0][0] - 0.9).abs() < 0.03, "{}", model.describe());
        assert!((model.m[1][0] - 1.0).abs() < 0.03, "{}", model.describe());
        assert!((model.lambda - 0.01).abs() < 0.002, "{}", model.lambda);
    }
}
