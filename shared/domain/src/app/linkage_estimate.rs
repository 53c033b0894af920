//! The linkage model estimated from a sample, for the daily run at national scale: the single-process
//! estimate reads every entry, report and candidate pair at once (9.3 GiB at ten million entries), this reads a
//! bounded sample through the stored index, as Splink trains on a sample:
//!
//! - **reports**: whole segments of the report store (a report's segment is random: its id's last digits) until
//!   [`EstimateSample::reports`] candidate reports are held; their candidate pairs come from the stored index, as the
//!   hourly run finds them, and their comparison patterns are EM's input and the prior's ratio;
//! - **entries**: whole segments of the entry store until [`EstimateSample::entries`] are held: u from random
//!   pairs of them with the sampled reports, and the names' frequencies counted over them (a share of a sample
//!   estimates a name's share of all; [`linkage_engine::frequency`] weighs by shares).
//!
//! With a sample as large as the data, every input is the single-process run's (the same records in the same order),
//! so the model is the same: `tests/src/linkage_partitioned.rs` checks it on both stores. The model is stored as a
//! new version, which a partitioned full re-link then decides with ([`Linkage::start_full_linkage`]).

use serde::{Deserialize, Serialize};

use super::cpu::off_the_async_workers;
use super::linkage::{RELINK_CHUNK, entry_link, estimate_options, report_link};
use super::{AppError, Linkage, each_page};
use crate::entry::EntryRecord;
use crate::linkage_records::StoredModel;
use crate::ports::Segment;
use crate::report::CaseReport;
use crate::time::Instant;
use linkage_engine::frequency::NameFrequencies;
use linkage_engine::{self as linkage, LinkEntry, LinkReport, PairPatterns};

/// Segments the stores are read in: the sample is whole segments, each about 1/64 of the records. (The embedded
/// store scans its table once per segment read: 256 segments took 80 s for a million entries, 64 take a quarter.
/// Nationally a segment of reports holds about 15,000 candidates, more than the default sample.)
const SEGMENTS: u32 = 64;
/// Records read at a time.
const PAGE: usize = 1_000;

/// How large a sample the model is estimated from. The defaults hold about 100 MB: at one million entries and
/// 50,000 reports every entry and about two fifths of the candidate reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EstimateSample {
    /// Candidate reports (a passport number, or a nationality other than Japan's) at least.
    pub reports: usize,
    /// Entry records at least.
    pub entries: usize,
}

impl Default for EstimateSample {
    fn default() -> Self {
        EstimateSample { reports: 10_000, entries: 1_000_000 }
    }
}

impl Linkage {
    /// Estimates a new model version from a sample of the stored records through the stored index (which must hold
    /// what was written until now: the caller files it first), stores it and answers it as stored.
    pub async fn estimate_from_sample(&self, now: Instant, sample: EstimateSample) -> Result<StoredModel, AppError> {
        let options = self.linkage_options();
        let reports = self.sample_candidate_reports(sample.reports).await?;
        let links: Vec<Option<LinkReport>> = reports.iter().map(report_link).collect();
        let mut patterns = PairPatterns::default();
        for (chunk, views) in reports.chunks(RELINK_CHUNK).zip(links.chunks(RELINK_CHUNK)) {
            let chunk: Vec<&CaseReport> = chunk.iter().collect();
            let candidate_ids = self.candidate_ids(&chunk, views, options.window_days).await?;
            let entries = self.entries_of(&candidate_ids).await?;
            for (view, ids) in views.iter().zip(&candidate_ids) {
                let Some(r) = view else { continue };
                let candidates: Vec<LinkEntry> = ids.iter().filter_map(|id| entry_link(entries.get(id)?)).collect();
                patterns.add_report(linkage::candidate_patterns(r, &candidates, options.window_days));
            }
        }
        drop(reports);
        let links: Vec<LinkReport> = links.into_iter().flatten().collect();
        let entries = self.sample_entries(sample.entries).await?;
        tracing::info!(
            reports = patterns.reports,
            candidate_pairs = patterns.pairs,
            entries = entries.len(),
            "linkage model sample read"
        );
        let options = estimate_options(options, entries.len(), patterns.reports);
        let entry_count = entries.len();
        let (model, patterns) = off_the_async_workers("the linkage estimate", move || {
            let u = linkage::random_pair_counts(&entries, &links, options.u_sample, options.seed);
            let names = NameFrequencies::count(entries.iter().map(|e| (e.nationality, &e.name)), &options.name_keyer);
            (linkage::estimate(&patterns, &u, names, &options).0, patterns)
        })
        .await?;
        let counts = (entry_count, patterns.reports, patterns.pairs);
        let stored = self.store_new_model(now, counts, model.params()).await?;
        tracing::info!(version = %stored.version, "linkage model estimated from a sample");
        Ok(stored)
    }

    /// Whole report segments until `at_least` candidate reports are held (every one if there are fewer), in report
    /// id order (the single-process run's).
    async fn sample_candidate_reports(&self, at_least: usize) -> Result<Vec<CaseReport>, AppError> {
        let mut sample = Vec::new();
        for index in 0..SEGMENTS {
            if sample.len() >= at_least.max(1) {
                break;
            }
            let read = |cursor| self.reports.reports_in_segment(Segment { index, of: SEGMENTS }, cursor, PAGE);
            let candidate = |r: &CaseReport| report_link(r).is_some_and(|l| LinkReport::is_candidate(&l));
            each_page(read, |page| sample.extend(page.into_iter().filter(candidate))).await?;
        }
        sample.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(sample)
    }

    /// Whole entry segments until `at_least` entries the engine can read are held (every one if there are fewer),
    /// in entry id order (the single-process run's).
    async fn sample_entries(&self, at_least: usize) -> Result<Vec<LinkEntry>, AppError> {
        let mut sample: Vec<(String, LinkEntry)> = Vec::new();
        for index in 0..SEGMENTS {
            if sample.len() >= at_least.max(1) {
                break;
            }
            let read = |cursor| self.entries.entries_in_segment(Segment { index, of: SEGMENTS }, cursor, PAGE);
            let view = |e: EntryRecord| entry_link(&e).map(|view| (e.entry_id, view));
            each_page(read, |page| sample.extend(page.into_iter().filter_map(view))).await?;
        }
        sample.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(sample.into_iter().map(|(_, view)| view).collect())
    }
}
