//! The linkage of reports with entry records as operations: the exact step when a report arrives, the
//! scheduled scored run with its statistics, and the health centres' review queue.

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

use super::cpu::off_the_async_workers;
use super::linkage_stats::summarise;
use super::{App, AppError};

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
/// Reports decided per batch of reads by [`App::relink_all`]: their candidates (about 17 each) are held at once.
pub(super) const RELINK_CHUNK: usize = 500;
/// How far before the last run's start the next run reads writes again: a write stamped just before it may have
/// landed just after it was read (a write is stamped when its request starts and lands within the request's time,
/// under 30 s for the API). Reading twice decides the same.
const WRITE_OVERLAP: chrono::Duration = chrono::Duration::minutes(1);
/// Most bytes of ids of the overlap kept in the state (a DynamoDB item holds 400 KB).
const MAX_RECENT_BYTES: usize = 200_000;

/// What [`App::settle`] did with a report's decision.
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

/// A pending review as its health centre reads it: the decision, the report, and its candidates.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewCase {
    pub decision: LinkDecision,
    pub report: CaseReport,
    /// Best first; a candidate whose entry record is missing is left out.
    pub candidates: Vec<CandidateEntry>,
}

/// One candidate entry of a review, its record, and the level of each compared field (field, level).
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateEntry {
    pub candidate: ReviewCandidate,
    pub entry: EntryRecord,
    pub levels: [(&'static str, &'static str); 5],
}

/// A health centre's answer to a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewAnswer {
    /// The report is this candidate entry's person.
    Confirm { entry_id: String },
    /// None of the candidates is.
    Reject,
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

impl App {
    /// The exact step, when a report with a passport number is created (or its passport number or diagnosis date is
    /// corrected): the entry with the same keyed hash nearest before (or on) the diagnosis date, within the window,
    /// is linked at once (the next hourly run scores the report as any other). A
    /// decision a health centre reviewed is kept. Never fails the caller: problems are logged.
    pub(super) async fn link_exactly(&self, report: &CaseReport, now: Instant) {
        let Some(hash) = &report.passport_hash else { return };
        let entries = match self.entries.entries_by_passport(hash).await {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!(report_id = %report.id, error = %e, "exact linkage skipped: entry lookup failed");
                return;
            }
        };
        let diagnosis = Day::from_date(report.diagnosis_date).number;
        let Some(entry) = entries
            .iter()
            .filter(|e| linkage::in_window(Day::from_date(e.entry_date).number, diagnosis, self.linkage_window_days))
            .max_by(|a, b| a.entry_date.cmp(&b.entry_date).then_with(|| b.entry_id.cmp(&a.entry_id)))
        else {
            return;
        };
        let decision = LinkDecision {
            report_id: report.id.clone(),
            health_center_code: report.health_center_code.clone(),
            entry_id: entry.entry_id.clone(),
            score: f64::from(Thresholds::default().link),
            band: LinkBand::Link,
            method: EXACT_METHOD.to_owned(),
            agreeing_fields: vec!["passport".to_owned()],
            decided_at: now,
            review: None,
            candidates: Vec::new(),
            model_version: None,
        };
        match self.links.put_decision(&decision).await {
            Ok(_) => {
                let (report_id, entry_id) = (&report.id, &entry.entry_id);
                tracing::info!(%report_id, %entry_id, "report linked by exact passport hash")
            }
            Err(e) => tracing::warn!(report_id = %report.id, error = %e, "exact linkage not stored"),
        }
    }

    /// Every report, from the 47 prefectures' indexes (a full read).
    async fn all_reports(&self) -> Result<Vec<CaseReport>, StoreError> {
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
        if self.link_index.full_linkage_holder(self.clock.now()).await?.is_some() {
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
    fn state_after(&self, until: Instant, written: Written) -> LinkageState {
        let bytes: usize = written.entry_ids.iter().chain(&written.report_ids).map(|id| id.len() + 3).sum();
        let few = bytes <= MAX_RECENT_BYTES;
        LinkageState {
            linked_until: until,
            window_days: self.linkage_window_days,
            recent_entries: if few { written.entry_ids } else { Vec::new() },
            recent_reports: if few { written.report_ids } else { Vec::new() },
        }
    }

    /// The hourly run: the reports written since the last run, and the reports within the window after each entry
    /// written since then, are decided again against their candidates read through the index. Nothing else is read.
    async fn link_incrementally(
        &self,
        now: Instant,
        model: &StoredModel,
        state: &LinkageState,
    ) -> Result<LinkageRun, AppError> {
        let until = self.clock.now();
        let started = std::time::Instant::now();
        let options = self.linkage_options();
        let window = options.window_days;
        let mut written = self.written_since(state, until).await?;
        let (new_entries, new_reports) = (std::mem::take(&mut written.entries), std::mem::take(&mut written.reports));
        let read_ms = started.elapsed().as_millis();
        let mut indexed = Vec::with_capacity(new_entries.len());
        self.index_entries_keeping(&new_entries, |day, keys| indexed.push((day, keys.to_vec()))).await?;
        self.index_reports(&new_reports).await?;
        let index_ms = started.elapsed().as_millis();

        // The reports a new entry may change: those filed under one of its keys within the window after it.
        let mut affected: BTreeMap<ReportId, Option<CaseReport>> =
            new_reports.iter().map(|r| (r.id.clone(), Some(r.clone()))).collect();
        if let (Some(first), Some(last)) =
            (new_entries.iter().map(|e| e.entry_date).min(), new_entries.iter().map(|e| e.entry_date).max())
        {
            let to = last + chrono::Days::new(window.max(0) as u64);
            let mut filed: HashMap<String, Vec<(NaiveDate, ReportId)>> = HashMap::new();
            for (key, day, id) in self.link_index.report_keys_between(first, to).await? {
                filed.entry(key).or_default().push((day, id));
            }
            for (entry_day, keys) in &indexed {
                for key in keys {
                    for (day, id) in filed.get(key).into_iter().flatten() {
                        if linkage::in_window(*entry_day, Day::from_date(*day).number, window) {
                            affected.entry(id.clone()).or_insert(None);
                        }
                    }
                }
            }
        }
        let missing: Vec<ReportId> = affected.iter().filter(|(_, r)| r.is_none()).map(|(id, _)| id.clone()).collect();
        for chunk in missing.chunks(READ_CHUNK) {
            for r in self.reports.get_reports(chunk).await? {
                affected.insert(r.id.clone(), Some(r));
            }
        }

        let affected_ms = started.elapsed().as_millis();
        let scorer = Model::from_params(&model.params);
        let mut run = LinkageRun::new("incremental", &model.version, new_entries.len(), new_reports.len());
        let affected_reports = affected.len();
        let affected: Vec<CaseReport> = affected.into_values().flatten().collect();
        for chunk in affected.chunks(RELINK_CHUNK) {
            let chunk: Vec<&CaseReport> = chunk.iter().collect();
            self.relink_all(&chunk, &scorer, &model.version, &options, now, &mut run).await?;
        }
        self.link_index.put_linkage_state(&self.state_after(until, written)).await?;
        // Cumulative milliseconds at the end of each phase: read, filed in the index, affected reports found, decided.
        let decided_ms = started.elapsed().as_millis();
        tracing::info!(
            new_entries = run.entries,
            new_reports = run.reports,
            affected_reports,
            read_ms,
            index_ms,
            affected_ms,
            decided_ms,
            candidate_pairs = run.candidate_pairs,
            written = run.written,
            unchanged = run.unchanged,
            kept_reviewed = run.kept_reviewed,
            removed = run.removed,
            "incremental linkage run done"
        );
        Ok(run)
    }

    /// Decides reports again against their candidates read through the index (none for a report that is no
    /// candidate) and settles each decision against the stored one, counting them in `run`. Reads in batches: the
    /// reports' stored decisions at once, each report's candidate ids through the index, then the candidates' entry
    /// records at once. Answers the decisions stored once settled (`None`: none), in the order of `reports`.
    pub(super) async fn relink_all(
        &self,
        reports: &[&CaseReport],
        scorer: &Model,
        model_version: &str,
        options: &Options,
        now: Instant,
        run: &mut LinkageRun,
    ) -> Result<Vec<Option<LinkDecision>>, AppError> {
        let ids: Vec<ReportId> = reports.iter().map(|r| r.id.clone()).collect();
        let mut stored: HashMap<ReportId, LinkDecision> = HashMap::with_capacity(reports.len());
        for chunk in ids.chunks(READ_CHUNK) {
            stored.extend(self.links.decisions_of(chunk).await?.into_iter().map(|d| (d.report_id.clone(), d)));
        }
        let links: Vec<Option<LinkReport>> =
            reports.iter().map(|r| report_link(r).filter(LinkReport::is_candidate)).collect();
        let candidate_ids = self.candidate_ids(reports, &links, options.window_days).await?;
        let entries = self.entries_of(&candidate_ids).await?;
        let wanted = links.into_iter().zip(candidate_ids);
        let mut decided: Vec<(Option<LinkDecision>, Option<LinkDecision>)> = Vec::with_capacity(reports.len());
        for (report, (link, candidate_ids)) in reports.iter().zip(wanted) {
            // In entry-id order, as the full run numbers them; only entries the engine can read.
            let (candidates, views): (Vec<&EntryRecord>, Vec<LinkEntry>) = candidate_ids
                .iter()
                .filter_map(|id| entries.get(id))
                .filter_map(|e| entry_link(e).map(|view| (e, view)))
                .unzip();
            let decision = link.and_then(|r| {
                run.candidate_pairs += candidates.len();
                linkage::decide_one(&r, &views, scorer, options)
                    .and_then(|d| link_decision(report, &d, |i| candidates.get(i).copied(), now, model_version))
            });
            decided.push((stored.remove(&report.id), decision));
        }
        let items: Vec<_> =
            reports.iter().zip(&decided).map(|(r, (old, new))| (&r.id, old.as_ref(), new.as_ref())).collect();
        let outcomes = self.settle_all(&items, run).await?;
        // The decision stored once settled.
        let mut settled = Vec::with_capacity(reports.len());
        for ((report, (stored, decision)), outcome) in reports.iter().zip(decided).zip(outcomes) {
            settled.push(match outcome {
                Settled::Removed => None,
                Settled::Written => decision,
                Settled::Kept => match (&decision, &stored) {
                    (None, _) => stored,
                    (Some(new), Some(old)) if old.is_reviewed() || old.same_outcome(new) => stored,
                    // The write met a decision a health centre answered in between: the store has it.
                    _ => self.links.get_decision(&report.id).await?,
                },
            });
        }
        Ok(settled)
    }

    /// The entry records of these ids (each read once, in batches), by id.
    pub(super) async fn entries_of(&self, ids: &[Vec<String>]) -> Result<HashMap<String, EntryRecord>, AppError> {
        let mut all: Vec<&String> = ids.iter().flatten().collect();
        all.sort_unstable();
        all.dedup();
        let mut entries = HashMap::with_capacity(all.len());
        for chunk in all.chunks(READ_CHUNK) {
            let chunk: Vec<String> = chunk.iter().map(|id| (*id).clone()).collect();
            entries.extend(self.entries.get_entries(&chunk).await?.into_iter().map(|e| (e.entry_id.clone(), e)));
        }
        Ok(entries)
    }

    /// Stores a newly estimated model as the next version, with what it was estimated on (entries, candidate
    /// reports, candidate pairs), and answers it as read back: every run decides with the stored numbers.
    pub(super) async fn store_new_model(
        &self,
        now: Instant,
        (entries, reports, candidate_pairs): (usize, usize, usize),
        params: linkage::score::ModelParams,
    ) -> Result<StoredModel, AppError> {
        let estimated = StoredModel {
            version: StoredModel::next_version(self.link_index.current_model().await?.as_ref()),
            estimated_at: now,
            entries: entries as u64,
            reports: reports as u64,
            candidate_pairs: candidate_pairs as u64,
            params,
        };
        self.link_index.put_model(&estimated).await?;
        Ok(self.link_index.current_model().await?.unwrap_or(estimated))
    }

    /// Each report's candidate entry ids through the stored index (none where `links` has no candidate view): the
    /// entries filed under one of its keys within the window before its diagnosis, leaving out a key that files more
    /// than [`linkage::MAX_BLOCK`] of them (the full run's rule); sorted, each once. One index read for all.
    pub(super) async fn candidate_ids(
        &self,
        reports: &[&CaseReport],
        links: &[Option<LinkReport>],
        window: i32,
    ) -> Result<Vec<Vec<String>>, AppError> {
        let mut lookups: Vec<KeyLookup> = Vec::new();
        let mut counts: Vec<usize> = Vec::with_capacity(reports.len());
        for (report, link) in reports.iter().zip(links) {
            let before = lookups.len();
            if let Some(r) = link {
                let to = report.diagnosis_date;
                let from = to - chrono::Days::new(window.max(0) as u64);
                lookups.extend(linkage::report_block_keys(r).iter().map(|&k| KeyLookup {
                    key: self.hasher.block_key(k),
                    from,
                    to,
                }));
            }
            counts.push(lookups.len() - before);
        }
        let found = self.link_index.entries_by_keys(&lookups, linkage::MAX_BLOCK + 1).await?;
        if found.len() != lookups.len() {
            return Err(
                StoreError::Unavailable("the linkage index answered another number of lookups".to_owned()).into()
            );
        }
        let mut found = found.into_iter();
        Ok(counts
            .into_iter()
            .map(|n| {
                let mut ids: Vec<String> =
                    found.by_ref().take(n).filter(|block| block.len() <= linkage::MAX_BLOCK).flatten().collect();
                ids.sort_unstable();
                ids.dedup();
                ids
            })
            .collect())
    }

    /// Stores each report's new decision (or its absence) against the stored one: a reviewed decision stays, the
    /// same outcome is not rewritten, no decision removes an unreviewed scored one (the exact step's links stay).
    /// The writes go to the store together (`LinkStore::put_decisions`). Counts them in `run` and says, in order,
    /// what it did with each.
    async fn settle_all(
        &self,
        items: &[(&ReportId, Option<&LinkDecision>, Option<&LinkDecision>)],
        run: &mut LinkageRun,
    ) -> Result<Vec<Settled>, AppError> {
        let mut settled = Vec::with_capacity(items.len());
        // The decisions to write, and where each stands in `items`.
        let (mut writes, mut write_at): (Vec<LinkDecision>, Vec<usize>) = (Vec::new(), Vec::new());
        for (i, &(id, stored, decision)) in items.iter().enumerate() {
            let Some(decision) = decision else {
                let removable = stored.is_some_and(|old| !old.is_reviewed() && old.method != EXACT_METHOD);
                settled.push(if removable && self.links.remove_decision(id).await? {
                    run.removed += 1;
                    Settled::Removed
                } else {
                    Settled::Kept
                });
                continue;
            };
            if decision.band == LinkBand::Link {
                run.links += 1;
            } else {
                run.reviews += 1;
            }
            match stored {
                Some(old) if old.is_reviewed() => run.kept_reviewed += 1,
                Some(old) if old.same_outcome(decision) => run.unchanged += 1,
                _ => {
                    writes.push(decision.clone());
                    write_at.push(i);
                }
            }
            settled.push(Settled::Kept);
        }
        let outcomes = self.links.put_decisions(&writes).await?;
        if outcomes.len() != writes.len() {
            return Err(StoreError::Unavailable("the link store answered another number of writes".to_owned()).into());
        }
        for (i, outcome) in write_at.into_iter().zip(outcomes) {
            match outcome {
                DecisionWrite::Written => {
                    run.written += 1;
                    settled[i] = Settled::Written;
                }
                DecisionWrite::KeptReviewed => run.kept_reviewed += 1,
            }
        }
        Ok(settled)
    }

    /// The full run: reads every entry, report and decision, files what was written since the last run in the
    /// index (everything on a first run), estimates a new model when `model` is `None`, decides every report, and
    /// recomputes the statistics.
    async fn link_fully(
        &self,
        now: Instant,
        model: Option<StoredModel>,
        state: Option<LinkageState>,
    ) -> Result<LinkageRun, AppError> {
        let until = self.clock.now();
        let options = self.linkage_options();
        // The index: what was written since the last run (read before everything else, so that all of it is among
        // what this run decides), or everything when the index has no state yet.
        let written = match &state {
            Some(s) => {
                let mut written = self.written_since(s, until).await?;
                self.index_entries(&written.entries).await?;
                self.index_reports(&written.reports).await?;
                (written.entries, written.reports) = (Vec::new(), Vec::new());
                Some(written)
            }
            None => None,
        };
        let mut entries = self.entries.all_entries().await?;
        entries.sort_by(|a, b| a.entry_id.cmp(&b.entry_id));
        let reports = self.all_reports().await?;
        let follow_ups = self.follow_ups.all_follow_ups().await?;
        let stored: HashMap<ReportId, LinkDecision> =
            self.links.all_decisions().await?.into_iter().map(|d| (d.report_id.clone(), d)).collect();
        let written = match written {
            Some(written) => written,
            None => {
                self.index_entries(&entries).await?;
                self.index_reports(&reports).await?;
                // The overlap's ids, of those this run read (one written after its read is the next run's).
                let read: HashSet<&str> = entries.iter().map(|e| e.entry_id.as_str()).collect();
                let recent = self.entries.entry_ids_written_since(until - WRITE_OVERLAP, until).await?;
                Written {
                    entry_ids: recent.into_iter().filter(|id| read.contains(id.as_str())).collect(),
                    report_ids: reports
                        .iter()
                        .filter(|r| r.updated_at >= until - WRITE_OVERLAP)
                        .map(|r| r.id.as_str().to_owned())
                        .collect(),
                    ..Written::default()
                }
            }
        };

        let (mut link_entries, mut entry_of) = (Vec::with_capacity(entries.len()), Vec::with_capacity(entries.len()));
        for (i, e) in entries.iter().enumerate() {
            if let Some(l) = entry_link(e) {
                link_entries.push(l);
                entry_of.push(i);
            }
        }
        let (mut link_reports, mut report_of) = (Vec::with_capacity(reports.len()), Vec::with_capacity(reports.len()));
        for (i, r) in reports.iter().enumerate() {
            if let Some(l) = report_link(r) {
                link_reports.push(l);
                report_of.push(i);
            }
        }
        let candidate_reports = link_reports.iter().filter(|r| r.is_candidate()).count();
        let options = estimate_options(options, link_entries.len(), candidate_reports);
        // Seconds of CPU at national scale: computed on rayon's pool, never on the async worker polling this run
        // (which, under `hersys serve`, also answers the API).
        tracing::info!(entries = link_entries.len(), reports = link_reports.len(), "linkage scoring started");
        let given = model.as_ref().map(|m| Model::from_params(&m.params));
        // Shared with the pool's closure (and a second scoring, rarely): not copied.
        let (link_entries, link_reports) = (Arc::new(link_entries), Arc::new(link_reports));
        let (mut decisions, mut scorer, mut engine) = {
            let (e, r, o, g) = (link_entries.clone(), link_reports.clone(), options.clone(), given.clone());
            off_the_async_workers("the linkage scoring", move || linkage::link_with(&e, &r, g.as_ref(), &o)).await?
        };
        let model = match model {
            Some(model) => model,
            None => {
                let counts = (link_entries.len(), candidate_reports, engine.candidate_pairs);
                // Decide with the model as stored (its numbers as read back), as every later run will.
                let stored_model = self.store_new_model(now, counts, scorer.params()).await?;
                if stored_model.params != scorer.params() {
                    let (e, r, o) = (link_entries.clone(), link_reports.clone(), options.clone());
                    let m = Model::from_params(&stored_model.params);
                    (decisions, scorer, engine) =
                        off_the_async_workers("the linkage scoring", move || linkage::link_with(&e, &r, Some(&m), &o))
                            .await?;
                }
                tracing::info!(version = %stored_model.version, "linkage model estimated");
                stored_model
            }
        };
        drop(scorer);
        tracing::info!(candidate_pairs = engine.candidate_pairs, "linkage scoring done");

        let mode = if given.is_some() { "full" } else { "estimate" };
        let mut run = LinkageRun::new(mode, &model.version, entries.len(), reports.len());
        run.candidate_pairs = engine.candidate_pairs;
        let mut decided: HashMap<ReportId, Option<LinkDecision>> = HashMap::new();
        for d in &decisions {
            let Some(report) = report_of.get(d.report).and_then(|&i| reports.get(i)) else { continue };
            let entry = |i: usize| entry_of.get(i).and_then(|&j| entries.get(j));
            if let Some(decision) = link_decision(report, d, entry, now, &model.version) {
                decided.insert(report.id.clone(), Some(decision));
            }
        }
        // Reports this run did not link: their earlier unreviewed scored decision goes.
        for id in stored.keys() {
            decided.entry(id.clone()).or_insert(None);
        }
        let mut current = stored.clone();
        let mut decided: Vec<(ReportId, Option<LinkDecision>)> = decided.into_iter().collect();
        decided.sort_by(|a, b| a.0.cmp(&b.0));
        for chunk in decided.chunks(RELINK_CHUNK) {
            let items: Vec<_> = chunk.iter().map(|(id, d)| (id, stored.get(id), d.as_ref())).collect();
            for ((id, decision), outcome) in chunk.iter().zip(self.settle_all(&items, &mut run).await?) {
                match (outcome, decision) {
                    (Settled::Written, Some(d)) => {
                        current.insert(id.clone(), d.clone());
                    }
                    (Settled::Removed, _) => {
                        current.remove(id);
                    }
                    _ => {}
                }
            }
        }
        self.link_index.put_linkage_state(&self.state_after(until, written)).await?;

        // A pass over every entry and report: CPU too, so off the async worker as the scoring.
        let summary = off_the_async_workers("the linkage statistics", move || {
            summarise(now, &entries, &reports, &current, &follow_ups)
        })
        .await?;
        self.links.put_summary(&summary).await?;
        run.summary = Some(summary);
        tracing::info!(
            mode = run.mode,
            model = %run.model_version,
            entries = run.entries,
            reports = run.reports,
            candidate_pairs = run.candidate_pairs,
            links = run.links,
            reviews = run.reviews,
            written = run.written,
            unchanged = run.unchanged,
            kept_reviewed = run.kept_reviewed,
            removed = run.removed,
            "linkage run done"
        );
        Ok(run)
    }

    /// The statistics of the last scheduled run ([`LinkageSummary::empty`] before the first).
    pub async fn linkage_summary(&self) -> Result<LinkageSummary, AppError> {
        Ok(self.links.get_summary().await?.unwrap_or_else(LinkageSummary::empty))
    }

    /// The pending reviews of a health centre's reports.
    pub async fn review_queue(&self, health_center: &str) -> Result<Vec<LinkDecision>, AppError> {
        Ok(self.links.review_queue(health_center).await?)
    }

    /// The pending reviews of `viewer`'s health centre, each with the report and its candidate entries, best first,
    /// and how each compared field agreed (the scorer's own comparison, [`linkage::compare`]). Reports and entries
    /// are read by their keys. Each review shown appends an audit event first: no unaudited view.
    pub async fn review_cases(&self, viewer: &Viewer) -> Result<Vec<ReviewCase>, AppError> {
        let mut cases = Vec::new();
        for decision in self.links.review_queue(&viewer.health_center_code).await? {
            let Some(report) = self.reports.get_report(&decision.report_id).await? else {
                tracing::warn!(report_id = %decision.report_id, "a pending review's report is missing");
                continue;
            };
            let report = report.value;
            let report_fields = report_link(&report);
            let mut candidates = Vec::new();
            for candidate in decision.review_candidates() {
                let Some(entry) = self.entries.get_entry(&candidate.entry_id).await? else {
                    tracing::warn!(report_id = %decision.report_id, entry_id = %candidate.entry_id,
                        "a review candidate's entry record is missing");
                    continue;
                };
                let pattern = match (&report_fields, entry_link(&entry)) {
                    (Some(r), Some(e)) => linkage::compare(r, &e).pattern(),
                    // A side the engine cannot read compares as missing throughout.
                    _ => 0,
                };
                candidates.push(CandidateEntry { candidate, entry, levels: linkage::score::field_levels(pattern) });
            }
            let shown = candidates.iter().map(|c| c.entry.entry_id.clone()).collect();
            self.audit_view(viewer, &decision.report_id, shown).await?;
            cases.push(ReviewCase { decision, report, candidates });
        }
        Ok(cases)
    }

    /// Confirms or rejects a pending review of a report of `health_center` (another tenant's report, or a report
    /// without a decision, is "not found"; a decision that is not pending is a conflict).
    pub async fn answer_review(
        &self,
        report: &ReportId,
        health_center: &str,
        reviewer: &str,
        answer: ReviewAnswer,
    ) -> Result<LinkDecision, AppError> {
        let decision = self.links.get_decision(report).await?.ok_or(AppError::NotFound)?;
        if decision.health_center_code != health_center {
            return Err(AppError::NotFound);
        }
        if !decision.is_pending() {
            return Err(AppError::Conflict("review"));
        }
        let (status, entry_id) = match answer {
            ReviewAnswer::Confirm { entry_id } => {
                if !decision.review_candidates().iter().any(|c| c.entry_id == entry_id) {
                    return Err(AppError::Impossible(ValidationError(vec![FieldError::new(
                        "entry_id",
                        Problem::Invalid("must be the entry id of one of the review's candidates"),
                    )])));
                }
                (ReviewStatus::Confirmed, Some(entry_id))
            }
            ReviewAnswer::Reject => (ReviewStatus::Rejected, None),
        };
        let review = Review { status, by: Some(reviewer.to_owned()), at: Some(self.clock.now()), entry_id };
        let stored = self.links.record_review(report, &review).await.map_err(|e| match e {
            StoreError::VersionConflict { .. } => AppError::Conflict("review"),
            other => other.into(),
        })?;
        tracing::info!(report_id = %report, status = status.as_str(), "linkage review answered");
        Ok(stored)
    }
}

/// Whether a count is published: `None` (hidden) for 1 to 4 persons, the graph files' rule.
pub fn published(n: u64) -> Option<u64> {
    (!is_small_count(n)).then_some(n)
}

/// Whether a share (or an interval bound) is published: `None` when its count or its base is hidden.
pub fn published_share(share: f64, count: u64, base: u64) -> Option<f64> {
    (published(count).is_some() && published(base).is_some()).then_some(share)
}
