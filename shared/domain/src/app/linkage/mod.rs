//! The linkage of reports with entry records as operations, one file per kind of run: the exact step when a report
//! arrives ([`exact`]), the hourly run through the stored index ([`hourly`]), the full run in one process
//! ([`full`]), and how either stores its decisions against the stored ones ([`settle`]); then the health centres'
//! review queue ([`reviews`]) and the public suppression rule ([`public`]). This file holds what they share: the
//! modes, the run's answer, the engine's decision as a stored one, and the dispatch of a scheduled run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;

use crate::audit::Viewer;
use crate::entry::EntryRecord;
use crate::error::{FieldError, Problem, StoreError, ValidationError};
use crate::graphs::is_small_count;
use crate::linkage_records::{
    DecisionWrite, IndexedRecord, KeyLookup, LinkBand, LinkDecision, LinkageState, LinkageSummary, Review,
    ReviewCandidate, ReviewStatus, StoredModel,
};
use crate::prefecture::PrefectureCode;
use crate::report::{CaseReport, ReportId};
use crate::time::Instant;
use linkage_engine::dates::Day;
use linkage_engine::score::Model;
use linkage_engine::{
    self as linkage, Band, Decision, EntryFields, LinkEntry, LinkReport, Options, ReportFields, Thresholds,
};

use super::audit::Audit;
use super::cpu::off_the_async_workers;
use super::linkage_stats::summarise;
use super::{AppError, FullRun, Ports, Settings};
use crate::keyed_hash::KeyedHasher;
use crate::ports::{EntryStore, FollowUpStore, FullRunLeases, LinkIndex, LinkStore, ReportStore};
use crate::time::Clock;

mod exact;
mod full;
mod hourly;
mod public;
mod reviews;
mod settle;

pub use public::{published, published_share};
pub use reviews::{CandidateEntry, ReviewAnswer, ReviewCase};

/// The method of a decision made by the exact step.
pub const EXACT_METHOD: &str = "exact_passport_hash";

/// Below this many reports, m is not estimated by EM: the stated starting values of `Model::initial` are used.
const MIN_REPORTS_FOR_EM: usize = 500;

/// What a scheduled linkage run is asked to do: the scheduled event's `detail.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkageMode {
    /// The hourly run (no mode, or `incremental`): links what was written since the last run through the stored
    /// index, with the stored model. Without a stored model it runs as `Estimate`.
    Incremental,
    /// `full`: re-links every report with the current model (the same decisions as the incremental runs made).
    Full,
    /// `estimate`: estimates a new model version on everything stored, then re-links in full.
    Estimate,
}

impl LinkageMode {
    /// The mode named in an event's detail (`None` when the name is unknown).
    pub fn parse(name: &str) -> Option<LinkageMode> {
        match name {
            "incremental" => Some(LinkageMode::Incremental),
            "full" => Some(LinkageMode::Full),
            "estimate" => Some(LinkageMode::Estimate),
            _ => None,
        }
    }
}

/// Records filed in the index per store call (about 17 keys each: the embedded store sorts a call's rows by key, so
/// that a large first filing writes its B-tree in order), and ids read per store request.
const INDEX_CHUNK: usize = 5000;
const READ_CHUNK: usize = 100;
/// Reports decided per batch of reads by [`Linkage::relink_all`]: their candidates (about 17 each) are held at once.
pub(super) const RELINK_CHUNK: usize = 500;
/// How far before the last run's start the next run reads writes again: a write stamped just before it may have
/// landed just after it was read (a write is stamped when its request starts and lands within the request's time,
/// under 30 s for the API). Reading twice decides the same.
const WRITE_OVERLAP: chrono::Duration = chrono::Duration::minutes(1);
/// Most bytes of ids of the overlap kept in the state (a DynamoDB item holds 400 KB).
const MAX_RECENT_BYTES: usize = 200_000;

/// What [`Linkage::settle`] did with a report's decision.
enum Settled {
    Written,
    Removed,
    /// Nothing written: the same outcome, a reviewed decision, or nothing to remove.
    Kept,
}

/// What a run read of what was written since the last one: the new records, and the ids read (new or not).
#[derive(Default)]
pub(super) struct Written {
    pub(super) entries: Vec<EntryRecord>,
    pub(super) reports: Vec<CaseReport>,
    entry_ids: Vec<String>,
    report_ids: Vec<String>,
}

/// What a scheduled linkage run did (counts only).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkageRun {
    /// `incremental`, `full` or `estimate`: what ran (a first incremental run is an estimate).
    pub mode: &'static str,
    /// The model version the decisions were made with.
    pub model_version: String,
    /// Entry records and reports read: all of them in a full run, those written since the last run otherwise.
    pub entries: usize,
    pub reports: usize,
    /// Decisions of this run, in the link and review bands.
    pub links: usize,
    pub reviews: usize,
    /// Decisions written (new or changed), left as stored (same outcome), kept because reviewed, removed.
    pub written: usize,
    pub unchanged: usize,
    pub kept_reviewed: usize,
    pub removed: usize,
    pub candidate_pairs: usize,
    /// The statistics this run recomputed and stored, for the linkage function to publish: the full runs do, the
    /// hourly run leaves them to the daily one (`None`).
    pub summary: Option<LinkageSummary>,
}

impl LinkageRun {
    pub(super) fn new(mode: &'static str, model_version: &str, entries: usize, reports: usize) -> LinkageRun {
        LinkageRun {
            mode,
            model_version: model_version.to_owned(),
            entries,
            reports,
            links: 0,
            reviews: 0,
            written: 0,
            unchanged: 0,
            kept_reviewed: 0,
            removed: 0,
            candidate_pairs: 0,
            summary: None,
        }
    }
}

/// The options of an estimate on `entries` entry records and `candidate_reports` candidate reports (all of them, or
/// a sample): on small data a random pair is too often a true match for u to be learnt from 400,000 samples of it,
/// and m is estimated by EM only on enough reports.
pub(super) fn estimate_options(options: Options, entries: usize, candidate_reports: usize) -> Options {
    let pairs = entries.saturating_mul(candidate_reports);
    Options {
        u_sample: options.u_sample.min(pairs.saturating_mul(20)),
        estimate_m: candidate_reports >= MIN_REPORTS_FOR_EM,
        ..options
    }
}

/// The engine's view of an entry record. `expose()` on purpose: the comparison needs the values; what leaves the
/// engine (a `Decision`) holds indexes, a score and field levels only.
pub(super) fn entry_link(e: &EntryRecord) -> Option<LinkEntry> {
    let (dob, entry_date) = (e.date_of_birth.to_string(), e.entry_date.to_string());
    LinkEntry::new(&EntryFields {
        passport_number: e.passport_number.expose(),
        nationality: &e.nationality,
        family_name: e.family_name.expose(),
        given_names: e.given_names.as_ref().map_or("", |n| n.expose()),
        date_of_birth: &dob,
        sex: e.sex.as_str(),
        entry_date: &entry_date,
    })
}

/// The engine's view of a report (`expose()` on purpose, as for entries).
pub(super) fn report_link(r: &CaseReport) -> Option<LinkReport> {
    let (dob, diagnosis) = (r.date_of_birth.to_string(), r.diagnosis_date.to_string());
    LinkReport::new(&ReportFields {
        passport_number: r.passport_number.as_ref().map_or("", |p| p.expose()),
        nationality: r.nationality.as_deref().unwrap_or(""),
        name: r.name.expose(),
        name_kana: r.name_kana.as_ref().map_or("", |n| n.expose()),
        date_of_birth: &dob,
        sex: r.sex.as_str(),
        diagnosis_date: &diagnosis,
    })
}

/// The stored decision of one of the engine's; `entry` maps the engine's entry numbers to their records. `None`
/// when a record is missing (it cannot be, the engine numbering what it was given).
fn link_decision<'a>(
    report: &CaseReport,
    d: &Decision,
    entry: impl Fn(usize) -> Option<&'a EntryRecord>,
    now: Instant,
    model_version: &str,
) -> Option<LinkDecision> {
    let chosen = entry(d.entry)?;
    // A review offers its best entry and up to two other persons' (a link needs no choice).
    let candidates = if d.band == Band::Review {
        let best = ReviewCandidate {
            entry_id: chosen.entry_id.clone(),
            score: f64::from(d.score),
            method: d.method(),
            agreeing_fields: agreeing(d.pattern),
        };
        let others = d.others.iter().flatten().filter_map(|o| {
            Some(ReviewCandidate {
                entry_id: entry(o.entry)?.entry_id.clone(),
                score: f64::from(o.score),
                method: o.method(),
                agreeing_fields: agreeing(o.pattern),
            })
        });
        std::iter::once(best).chain(others).collect()
    } else {
        Vec::new()
    };
    Some(LinkDecision {
        report_id: report.id.clone(),
        health_center_code: report.health_center_code.clone(),
        entry_id: chosen.entry_id.clone(),
        score: f64::from(d.score),
        band: if d.band == Band::Link { LinkBand::Link } else { LinkBand::Review },
        method: d.method(),
        agreeing_fields: agreeing(d.pattern),
        decided_at: now,
        review: if d.band == Band::Review { pending() } else { None },
        candidates,
        model_version: Some(model_version.to_owned()),
    })
}

fn agreeing(pattern: u16) -> Vec<String> {
    linkage::score::agreeing_fields(pattern).split('+').filter(|f| *f != "none").map(str::to_owned).collect()
}

fn pending() -> Option<Review> {
    Some(Review { status: ReviewStatus::Pending, by: None, at: None, entry_id: None })
}

/// The linkage service: the quarantine system's records and the follow-ups coming in, the exact step's neighbours
/// (the hourly and single-process runs, the reviews, the statistics), over the stores they read and the index. The
/// partitioned full re-link is [`super::Relink`], which adds the store of partial results.
#[derive(Clone)]
pub struct Linkage {
    pub(in crate::app) reports: Arc<dyn ReportStore>,
    pub(in crate::app) entries: Arc<dyn EntryStore>,
    pub(in crate::app) follow_ups: Arc<dyn FollowUpStore>,
    pub(in crate::app) links: Arc<dyn LinkStore>,
    /// The stored index, model and watermark.
    pub(in crate::app) link_index: Arc<dyn LinkIndex>,
    /// The full re-link's lease, which scheduled runs give way to.
    pub(in crate::app) leases: Arc<dyn FullRunLeases>,
    /// Where a health centre's look at a review's candidates is recorded.
    pub(in crate::app) audit: Audit,
    pub(in crate::app) hasher: KeyedHasher,
    pub(in crate::app) clock: Arc<dyn Clock>,
    /// Days from entry to diagnosis within which the linkage links (`LINKAGE_WINDOW_DAYS`).
    pub(in crate::app) linkage_window_days: i32,
}

impl Linkage {
    pub fn new(ports: &Ports, settings: &Settings) -> Linkage {
        Linkage {
            reports: ports.reports.clone(),
            entries: ports.entries.clone(),
            follow_ups: ports.follow_ups.clone(),
            links: ports.links.clone(),
            link_index: ports.link_index.clone(),
            leases: ports.leases.clone(),
            audit: Audit::new(ports),
            hasher: settings.hasher.clone(),
            clock: ports.clock.clone(),
            linkage_window_days: settings.linkage_window_days,
        }
    }

    /// The wiring's "now".
    pub fn now(&self) -> Instant {
        self.clock.now()
    }
}

impl Linkage {
    /// Every report, from the 47 prefectures' indexes (a full read).
    pub(super) async fn all_reports(&self) -> Result<Vec<CaseReport>, StoreError> {
        let mut reports = Vec::new();
        for prefecture in PrefectureCode::all() {
            reports.extend(self.reports.reports_by_prefecture(prefecture).await?);
        }
        reports.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(reports)
    }

    pub(super) fn linkage_options(&self) -> Options {
        // Names' frequencies are kept with the model under the keyed hash, never as names.
        let hasher = self.hasher.clone();
        let name_keyer = linkage::frequency::NameKeyer::new(move |k| hasher.name_frequency_key(k));
        Options { window_days: self.linkage_window_days, name_keyer, ..Options::default() }
    }

    /// The scheduled linkage. `Incremental` (the hourly run) links what was written since the last run against the
    /// stored index and model; without a stored model, or with a state of another window, it runs as `Estimate`.
    /// `Full` re-links every report with the current model (`Estimate` when there is none); `Estimate` estimates a
    /// new model version first. A confirmed or rejected review is never replaced; re-running with the same data
    /// writes nothing. The full runs recompute the statistics (stored, and returned for the edge to publish).
    ///
    /// While a partitioned full re-link holds its lease, every mode is refused (`LeaseHeld`): the
    /// full re-link's combining step leaves a state from which the next run reads what was written meanwhile.
    pub async fn run_linkage(&self, now: Instant, mode: LinkageMode) -> Result<LinkageRun, AppError> {
        if self.leases.holder(FullRun::Linkage, self.clock.now()).await?.is_some() {
            return Err(AppError::LeaseHeld(super::FullRun::Linkage));
        }
        let model = self.link_index.current_model().await?;
        let state = self.link_index.linkage_state().await?;
        match (mode, model, &state) {
            (LinkageMode::Incremental, Some(model), Some(s)) if s.window_days == self.linkage_window_days => {
                self.link_incrementally(now, &model, s).await
            }
            (LinkageMode::Full, Some(model), _) => self.link_fully(now, Some(model), state).await,
            _ => self.link_fully(now, None, state).await,
        }
    }

    /// Files records in the stored index: entries under their keys at their entry day (here), candidate reports at
    /// their diagnosis day ([`Self::index_reports`]).
    pub(super) async fn index_entries(&self, entries: &[EntryRecord]) -> Result<(), AppError> {
        self.index_entries_keeping(entries, |_, _| {}).await
    }

    /// [`Self::index_entries`], handing each entry's day and keys as stored to `keep`: the hourly run matches its
    /// new entries by them. A full run keeps none (ten million entries' keys as text would be gigabytes).
    pub(super) async fn index_entries_keeping(
        &self,
        entries: &[EntryRecord],
        mut keep: impl FnMut(i32, &[String]) + Send,
    ) -> Result<(), AppError> {
        let mut rows = Vec::with_capacity(entries.len().min(INDEX_CHUNK));
        for e in entries {
            let Some(l) = entry_link(e) else { continue };
            let keys: Vec<String> = linkage::entry_block_keys(&l).iter().map(|&k| self.hasher.block_key(k)).collect();
            keep(l.entry_day, &keys);
            rows.push(IndexedRecord { id: e.entry_id.clone(), day: e.entry_date, keys });
            if rows.len() == INDEX_CHUNK {
                self.link_index.put_entry_keys(&std::mem::take(&mut rows)).await?;
            }
        }
        if !rows.is_empty() {
            self.link_index.put_entry_keys(&rows).await?;
        }
        Ok(())
    }

    pub(super) async fn index_reports(&self, reports: &[CaseReport]) -> Result<(), AppError> {
        // a chunk's rows at a time: a full run files every report
        for chunk in reports.chunks(INDEX_CHUNK) {
            let rows: Vec<IndexedRecord> = chunk
                .iter()
                .filter_map(|r| {
                    let l = report_link(r).filter(LinkReport::is_candidate)?;
                    let keys = linkage::report_block_keys(&l).iter().map(|&k| self.hasher.block_key(k)).collect();
                    Some(IndexedRecord { id: r.id.as_str().to_owned(), day: r.diagnosis_date, keys })
                })
                .collect();
            if !rows.is_empty() {
                self.link_index.put_report_keys(&rows).await?;
            }
        }
        Ok(())
    }

    /// The records written since the last run (with an overlap: a write in flight at its end), as of the clock,
    /// leaving out those the last run linked in the overlap (an entry never changes; a report only if it was not
    /// written again since).
    pub(super) async fn written_since(&self, state: &LinkageState, until: Instant) -> Result<Written, AppError> {
        let since = state.linked_until - WRITE_OVERLAP;
        let seen_entries: HashSet<&str> = state.recent_entries.iter().map(String::as_str).collect();
        let entry_ids = self.entries.entry_ids_written_since(since, until).await?;
        let fresh: Vec<String> = entry_ids.iter().filter(|id| !seen_entries.contains(id.as_str())).cloned().collect();
        let mut entries = Vec::with_capacity(fresh.len());
        for chunk in fresh.chunks(READ_CHUNK) {
            entries.extend(self.entries.get_entries(chunk).await?);
        }
        let seen_reports: HashSet<&str> = state.recent_reports.iter().map(String::as_str).collect();
        let report_ids = self.reports.report_ids_changed_since(since, until).await?;
        let mut reports = Vec::with_capacity(report_ids.len());
        for chunk in report_ids.chunks(READ_CHUNK) {
            reports.extend(
                self.reports
                    .get_reports(chunk)
                    .await?
                    .into_iter()
                    .filter(|r| !(seen_reports.contains(r.id.as_str()) && r.updated_at <= state.linked_until)),
            );
        }
        let report_ids = report_ids.iter().map(|id| id.as_str().to_owned()).collect();
        Ok(Written { entries, reports, entry_ids, report_ids })
    }

    /// The state after a run that read (and linked) what `written` holds, as of `until`: the ids it read are the
    /// next run's to leave out, unless there are too many to keep (then the next run links the overlap again).
    pub(super) fn state_after(&self, until: Instant, written: Written) -> LinkageState {
        let bytes: usize = written.entry_ids.iter().chain(&written.report_ids).map(|id| id.len() + 3).sum();
        let few = bytes <= MAX_RECENT_BYTES;
        LinkageState {
            linked_until: until,
            window_days: self.linkage_window_days,
            recent_entries: if few { written.entry_ids } else { Vec::new() },
            recent_reports: if few { written.report_ids } else { Vec::new() },
        }
    }
}
