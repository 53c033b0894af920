//! `manifest.json`, typed: what the page (and anyone downloading) reads first to find every other file.
//!
//! Fields are declared in alphabetical order, and maps are `BTreeMap`s, on purpose: the manifest and the series'
//! JSON were first written through `serde_json`'s sorted map, and keeping the order keeps the published bytes
//! identical (`graphs::tests` compares them with the untyped rendering they replaced).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

/// A bilingual label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Label {
    pub en: &'static str,
    pub ja: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    pub discrepancies: Vec<DiscrepancyEntry>,
    /// UTC, to the second (`2021-01-31T15:00:00Z`).
    pub generated_at: String,
    /// Present once a linkage run has computed its statistics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linkage: Option<LinkageEntry>,
    /// In the published order (`graphs::ORDER`, `docs/export-format.md`).
    pub series: Vec<SeriesEntry>,
    /// Per prefecture (English name): where its counts come from.
    pub sources: BTreeMap<&'static str, SourceEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesEntry {
    pub csv: String,
    pub id: &'static str,
    pub json: String,
    pub last_date: Option<NaiveDate>,
    /// Only on the daily new cases: the id of the same series per 100,000 population.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_100k: Option<&'static str>,
    /// `daily` or `sex_age`.
    pub shape: &'static str,
    pub title: Label,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceEntry {
    pub hersys_from: Option<NaiveDate>,
    /// `hersys` from `hersys_from` on (as of the export's day), `linelist` before.
    pub source: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscrepancyEntry {
    pub csv: String,
    pub prefecture: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkageEntry {
    pub computed_at: Option<String>,
    /// The linkage statistics' CSV files (`linkage::PATHS`), written by the linkage function.
    pub csv: Vec<&'static str>,
    pub negative_then_diagnosed_28d: HeadlineShare,
}

/// The headline share (negative-tested entrants diagnosed within 28 days), as published: a count of 1 to 4 and
/// everything computed from it is `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeadlineShare {
    pub ci95_high: Option<f64>,
    pub ci95_low: Option<f64>,
    pub diagnosed_within_28_days: Option<u64>,
    pub negative_entrants: Option<u64>,
    pub share: Option<f64>,
}
