//! The linkage model estimated from a sample, for the daily run at national scale (issue 11): the single-process
//! estimate reads every entry, report and candidate pair at once (9.3 GiB at ten million entries), this reads a
//! bounded sample through the stored index, as Splink trains on a sample:
//!
//! - **reports**: whole segments of the report store (a report's segment is random: its id's last digits) until
//!   [`EstimateSample::reports`] candidate reports are held; their candidate pairs come from the stored index, as the
//!   hourly run finds them, and their comparison patterns are EM's input and the prior's ratio;
//! - **entries**: whole segments of the entry store until [`EstimateSample::entries`] are held: u from random
//!   pairs of them with the sampled reports, and the names' frequencies counted over them (a share of a sample
//!   estimates a name's share of all; [`crate::linkage::frequency`] weighs by shares).
//!
//! With a sample as large as the data, every input is the single-process run's (the same records in the same order),
//! so the model is the same: `tests/src/linkage_partitioned.rs` checks it on both stores. The model is stored as a
//! new version, which a partitioned full re-link then decides with ([`App::start_full_linkage`]).

use serde::{Deserialize, Serialize};

use super::cpu::off_the_async_workers;
use super::linkage::{MIN_REPORTS_FOR_EM, READ_CHUNK, RELINK_CHUNK, entry_link, report_link};
use super::{App, AppError};
use crate::linkage::frequency::NameFrequencies;
use crate::linkage::{self, LinkEntry, LinkReport, PairPatterns};
use crate::links::StoredModel;
use crate::ports::Segment;
use crate::report::CaseReport;
use crate::time::Instant;

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

impl App {
    /// Estimates a new model version from a sample of the stored records through the stored index (which must hold
    /// what was written until now: the caller files it first), stores it and answers it as stored.
    pub async fn estimate_from_sample(&self, now: Instant, sample: EstimateSample) -> Result<StoredModel, AppError> {
        let options = self.linkage_options();
        let reports = self.sample_candidate_reports(sample.reports).await?;
        let links: Vec<LinkReport> = reports.iter().filter_map(report_link).collect();
        let mut patterns = PairPatterns::default();
        for chunk in reports.chunks(RELINK_CHUNK) {
            let chunk: Vec<&CaseReport> = chunk.iter().collect();
            let views: Vec<Option<LinkReport>> = chunk.iter().map(|r| report_link(r)).collect();
            let candidate_ids = self.candidate_ids(&chunk, &views, options.window_days).await?;
            let mut wanted: Vec<String> = candidate_ids.iter().flatten().cloned().collect();
            wanted.sort_unstable();
            wanted.dedup();
            let mut entries = std::collections::HashMap::with_capacity(wanted.len());
            for ids in wanted.chunks(READ_CHUNK) {
                for e in self.entries.get_entries(ids).await? {
                    if let Some(view) = entry_link(&e) {
                        entries.insert(e.entry_id, view);
                    }
                }
            }
            for (view, ids) in views.iter().zip(&candidate_ids) {
                let Some(r) = view else { continue };
                let candidates: Vec<LinkEntry> = ids.iter().filter_map(|id| entries.get(id).copied()).collect();
                patterns.add_report(linkage::candidate_patterns(r, &candidates, options.window_days));
            }
        }
        drop(reports);
        let entries = self.sample_entries(sample.entries).await?;
        tracing::info!(
            reports = patterns.reports,
            candidate_pairs = patterns.pairs,
            entries = entries.len(),
            "linkage model sample read"
        );
        let pairs = entries.len().saturating_mul(links.len());
        let options = linkage::Options {
            // As the single-process run: on small data a random pair is too often a true match.
            u_sample: options.u_sample.min(pairs.saturating_mul(20)),
            estimate_m: patterns.reports >= MIN_REPORTS_FOR_EM,
            ..options
        };
        let entry_count = entries.len();
        let (model, patterns) = off_the_async_workers("the linkage estimate", move || {
            let u = linkage::random_pair_counts(&entries, &links, options.u_sample, options.seed);
            let names = NameFrequencies::count(entries.iter().map(|e| (e.nationality, &e.name)), &options.name_keyer);
            (linkage::estimate(&patterns, &u, names, &options).0, patterns)
        })
        .await?;
        let estimated = StoredModel {
            version: StoredModel::next_version(self.link_index.current_model().await?.as_ref()),
            estimated_at: now,
            entries: entry_count as u64,
            reports: patterns.reports as u64,
            candidate_pairs: patterns.pairs as u64,
            params: model.params(),
        };
        self.link_index.put_model(&estimated).await?;
        let stored = self.link_index.current_model().await?.unwrap_or(estimated);
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
            let mut cursor = None;
            loop {
                let page = self.reports.reports_in_segment(Segment { index, of: SEGMENTS }, cursor, PAGE).await?;
                sample.extend(
                    page.items.into_iter().filter(|r| report_link(r).is_some_and(|l| LinkReport::is_candidate(&l))),
                );
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
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
            let mut cursor = None;
            loop {
                let page = self.entries.entries_in_segment(Segment { index, of: SEGMENTS }, cursor, PAGE).await?;
                sample.extend(page.items.into_iter().filter_map(|e| entry_link(&e).map(|view| (e.entry_id, view))));
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        sample.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(sample.into_iter().map(|(_, view)| view).collect())
    }
}
