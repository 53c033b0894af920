//! The linkage of reports with entry records (issue 5) as operations: the exact step when a report arrives, the
//! scheduled scored run with its statistics, and the health centres' review queue.

use std::collections::HashMap;

use crate::audit::Viewer;
use crate::entry::EntryRecord;
use crate::error::{FieldError, Problem, StoreError, ValidationError};
use crate::follow_up::FollowUpRecord;
use crate::graphs::is_small_count;
use crate::linkage::stats::{self, StatEntry, StatReport};
use crate::linkage::{self, Band, EntryFields, LinkEntry, LinkReport, Options, ReportFields, Thresholds};
use crate::links::{DecisionWrite, LinkBand, LinkDecision, LinkageSummary, Review, ReviewCandidate, ReviewStatus};
use crate::prefecture::PrefectureCode;
use crate::report::{CaseReport, ReportId};
use crate::time::Instant;

use super::cpu::off_the_async_workers;
use super::{App, AppError};

/// The method of a decision made by the exact step.
pub const EXACT_METHOD: &str = "exact_passport_hash";

/// Below this many reports, m is not estimated by EM: the stated starting values of `Model::initial` are used.
const MIN_REPORTS_FOR_EM: usize = 500;

/// What a scheduled linkage run did (counts only).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkageRun {
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
    /// The statistics as stored; the linkage function renders the public files from them.
    pub summary: LinkageSummary,
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

/// The engine's view of an entry record. `expose()` on purpose: the comparison needs the values; what leaves the
/// engine (a `Decision`) holds indexes, a score and field levels only.
fn entry_link(e: &EntryRecord) -> Option<LinkEntry> {
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
fn report_link(r: &CaseReport) -> Option<LinkReport> {
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

fn agreeing(pattern: u16) -> Vec<String> {
    linkage::score::agreeing_fields(pattern).split('+').filter(|f| *f != "none").map(str::to_owned).collect()
}

fn pending() -> Option<Review> {
    Some(Review { status: ReviewStatus::Pending, by: None, at: None, entry_id: None })
}

impl App {
    /// The exact step, when a report with a passport number is created (or its passport number or diagnosis date is
    /// corrected): the entry with the same keyed hash nearest before (or on) the diagnosis date is linked at once. A
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
        let Some(entry) = entries
            .iter()
            .filter(|e| e.entry_date <= report.diagnosis_date)
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

    /// The scheduled linkage: reads every report and entry record, runs the scored linkage, stores its decisions
    /// (never replacing a confirmed or rejected review; re-running with the same data writes nothing), and
    /// recomputes the statistics (stored, and returned in the run for the edge to publish: this writes no file).
    pub async fn run_linkage(&self, now: Instant) -> Result<LinkageRun, AppError> {
        let entries = self.entries.all_entries().await?;
        let reports = self.all_reports().await?;
        let follow_ups = self.follow_ups.all_follow_ups().await?;
        let stored: HashMap<ReportId, LinkDecision> =
            self.links.all_decisions().await?.into_iter().map(|d| (d.report_id.clone(), d)).collect();

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
        let pairs = link_entries.len().saturating_mul(link_reports.len());
        let options = Options {
            // On small data a random pair is too often a true match for u to be learnt from 400,000 samples of it.
            u_sample: Options::default().u_sample.min(pairs.saturating_mul(20)),
            estimate_m: link_reports.len() >= MIN_REPORTS_FOR_EM,
            ..Options::default()
        };
        // Seconds of CPU at national scale: computed on rayon's pool, never on the async worker polling this run
        // (which, under `hersys serve`, also answers the API).
        tracing::info!(entries = link_entries.len(), reports = link_reports.len(), "linkage scoring started");
        let (decisions, _model, engine) =
            off_the_async_workers("the linkage scoring", move || linkage::link(&link_entries, &link_reports, &options))
                .await?;
        tracing::info!(candidate_pairs = engine.candidate_pairs, "linkage scoring done");

        let mut run = LinkageRun {
            entries: entries.len(),
            reports: reports.len(),
            links: engine.links,
            reviews: engine.reviews,
            written: 0,
            unchanged: 0,
            kept_reviewed: 0,
            removed: 0,
            candidate_pairs: engine.candidate_pairs,
            summary: LinkageSummary::empty(),
        };
        let mut current = stored.clone();
        let mut decided: std::collections::HashSet<ReportId> = std::collections::HashSet::new();
        for d in &decisions {
            let (Some(report), Some(entry)) = (
                report_of.get(d.report).and_then(|&i| reports.get(i)),
                entry_of.get(d.entry).and_then(|&i| entries.get(i)),
            ) else {
                continue;
            };
            decided.insert(report.id.clone());
            // A review offers its best entry and up to two other persons' (a link needs no choice).
            let candidates = if d.band == Band::Review {
                let best = ReviewCandidate {
                    entry_id: entry.entry_id.clone(),
                    score: f64::from(d.score),
                    method: d.method(),
                    agreeing_fields: agreeing(d.pattern),
                };
                let others = d.others.iter().flatten().filter_map(|o| {
                    let other = entry_of.get(o.entry).and_then(|&i| entries.get(i))?;
                    Some(ReviewCandidate {
                        entry_id: other.entry_id.clone(),
                        score: f64::from(o.score),
                        method: o.method(),
                        agreeing_fields: agreeing(o.pattern),
                    })
                });
                std::iter::once(best).chain(others).collect()
            } else {
                Vec::new()
            };
            let decision = LinkDecision {
                report_id: report.id.clone(),
                health_center_code: report.health_center_code.clone(),
                entry_id: entry.entry_id.clone(),
                score: f64::from(d.score),
                band: if d.band == Band::Link { LinkBand::Link } else { LinkBand::Review },
                method: d.method(),
                agreeing_fields: agreeing(d.pattern),
                decided_at: now,
                review: if d.band == Band::Review { pending() } else { None },
                candidates,
            };
            match stored.get(&report.id) {
                Some(old) if old.is_reviewed() => run.kept_reviewed += 1,
                Some(old) if old.same_outcome(&decision) => run.unchanged += 1,
                _ => match self.links.put_decision(&decision).await? {
                    DecisionWrite::Written => {
                        run.written += 1;
                        current.insert(report.id.clone(), decision);
                    }
                    DecisionWrite::KeptReviewed => run.kept_reviewed += 1,
                },
            }
        }
        // Reports this run did not link: an earlier unreviewed scored decision goes; the exact step's links stay.
        for (id, old) in &stored {
            if !decided.contains(id)
                && !old.is_reviewed()
                && old.method != EXACT_METHOD
                && self.links.remove_decision(id).await?
            {
                run.removed += 1;
                current.remove(id);
            }
        }

        // A pass over every entry and report: CPU too, so off the async worker as the scoring.
        run.summary = off_the_async_workers("the linkage statistics", move || {
            summarise(now, &entries, &reports, &current, &follow_ups)
        })
        .await?;
        self.links.put_summary(&run.summary).await?;
        tracing::info!(
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

/// The statistics over every entry and report, counting as links the link-band decisions and confirmed reviews, and
/// over every follow-up record with the reports that reach it ([`super::follow_ups::follow_up_diagnoses`]).
fn summarise(
    now: Instant,
    entries: &[EntryRecord],
    reports: &[CaseReport],
    decisions: &HashMap<ReportId, LinkDecision>,
    follow_ups: &[FollowUpRecord],
) -> LinkageSummary {
    let stat_entries: Vec<StatEntry<'_>> = entries
        .iter()
        .map(|e| StatEntry {
            entry_date: e.entry_date,
            port_of_entry: &e.port_of_entry,
            nationality: &e.nationality,
            test_result: e.entry_test_result,
        })
        .collect();
    let codes: Vec<String> = reports.iter().map(|r| r.prefecture.as_jis()).collect();
    let stat_reports: Vec<StatReport<'_>> = reports
        .iter()
        .zip(&codes)
        .map(|(r, code)| StatReport {
            diagnosis_date: r.diagnosis_date,
            prefecture_code: code,
            has_passport: r.passport_hash.is_some(),
        })
        .collect();
    let entry_at: HashMap<&str, usize> = entries.iter().enumerate().map(|(i, e)| (e.entry_id.as_str(), i)).collect();
    let report_at: HashMap<&ReportId, usize> = reports.iter().enumerate().map(|(i, r)| (&r.id, i)).collect();
    let mut links: Vec<(usize, usize)> = decisions
        .values()
        .filter(|d| d.counts_as_link())
        .filter_map(|d| Some((*report_at.get(&d.report_id)?, *entry_at.get(d.entry_id.as_str())?)))
        .collect();
    links.sort_unstable();
    let s = stats::summarise(&stat_entries, &stat_reports, &links);
    let status_count = |status: ReviewStatus| {
        decisions.values().filter(|d| d.review.as_ref().is_some_and(|r| r.status == status)).count() as u64
    };
    LinkageSummary {
        computed_at: Some(now),
        entries: entries.len() as u64,
        reports: reports.len() as u64,
        links: links.len() as u64,
        reviews_pending: status_count(ReviewStatus::Pending),
        reviews_confirmed: status_count(ReviewStatus::Confirmed),
        reviews_rejected: status_count(ReviewStatus::Rejected),
        entrants: s.entrants,
        negative_then_diagnosed_28d: s.negative_then_diagnosed,
        days_entry_to_diagnosis: s.days_to_diagnosis,
        prefectures: s.prefectures,
        follow_up: super::follow_ups::follow_up_summary(follow_ups, entries, reports, decisions),
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
