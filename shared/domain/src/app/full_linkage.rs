//! A full re-link split into partitions that run at once: Step Functions' Distributed Map in AWS, tasks of one
//! process locally (`hersys relink --partitions N`), both through the linkage function's handler. It decides every
//! candidate report again with the current model, as a single-process full run (`{"mode": "full"}`) does, but each
//! partition holds one page of reports at a time and reads each report's candidates through the stored index, so
//! that no step holds the history in memory.
//!
//! - **start** takes the full re-link's lease (two never overlap; one that died frees it by expiry), and files in
//!   the index what was written since the last run, so that every partition finds every entry as of the start. The
//!   first run (no model, nothing filed) files nothing here: it asks for filing partitions instead;
//! - each **filing partition** (the first run only) files its segment of the entry records and of the reports in
//!   the index, a page at a time: the history is filed in partitions, never held by one process;
//! - **prepare** chooses the model: a new version estimated from a sample through the index when the run asks for
//!   one (the daily run; the first run always), else the current one;
//! - each **partition** reads its segment of the reports (disjoint segments that together hold every report) and
//!   decides each candidate report again through the index with the model prepare chose (the hourly run's
//!   per-report path, which decides as the single-process run does: `tests/src/linkage_product.rs`), settling
//!   each decision against the stored one. A reviewed decision is never replaced; a retried partition decides the
//!   same again and writes nothing new. It then counts its share of the statistics ([`LinkageTally`]: its reports
//!   with their decisions as settled, and its segment of the entry and follow-up records) and saves the tally
//!   privately beside the graph export's (`ExportStateStore`: the S3 state bucket, or the embedded store);
//! - **combine** checks that every partition answered, adds their tallies up (exactly the single pass's counts:
//!   `tests/src/linkage_partitioned.rs`), publishes the statistics, saves the state with the run's start as its
//!   watermark, and frees the lease.
//!
//! While the lease is held, scheduled runs of every mode are refused ([`Linkage::run_linkage`]: `LeaseHeld`), so that
//! two runs never settle the same decision from different data and no statistics are published half-way. What is
//! written meanwhile is not lost: the state the combining step saves says "linked until the start", so the next
//! hourly run reads everything written since. An abandoned run leaves the state as it was (the next hourly run
//! reads from the last one's watermark again); the decisions its partitions wrote are the current model's.
//!
//! The statistics count each decision as its partition settled it: a review a health centre answers while the run is
//! in progress counts as pending until the next daily run. Reports that are no candidates are neither decided nor
//! read for a decision: a report that stops being one loses its scored decision at the hourly run after its
//! correction, and a reviewed decision it keeps is counted by the single-process run and the daily statistics, not
//! by the partitions (a rare case, left for 33 million reads spared).

use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use super::linkage::{LinkageRun, report_link};
use super::linkage_estimate::EstimateSample;
use super::linkage_stats::LinkageTally;
use super::partitioned::{MAX_PARTITIONS, Partials, check_partitions, log_plan};
use super::{AppError, FullRun, Linkage, MissingPort, Pages, Ports, Settings};
use crate::linkage_records::{LinkDecision, LinkageState};
use crate::partition_plan;
use crate::ports::Segment;
use crate::report::{CaseReport, ReportId};
use crate::time::Instant;
use linkage_engine::LinkReport;
use linkage_engine::score::Model;

/// How long a full re-link may hold its lease: far beyond its expected duration, so that only a run that died
/// loses it.
pub const FULL_LINKAGE_LEASE: chrono::Duration = chrono::Duration::hours(2);

/// The first run's lease: its filing writes every record's index rows, hours at national scale.
pub const FIRST_RUN_LEASE: chrono::Duration = chrono::Duration::hours(12);

/// Reports read at a time within a partition.
const PAGE: usize = 1_000;

/// The first bytes of a partition's saved statistics (postcard after them): a tally of another layout is refused,
/// not misread.
const TALLY_FORMAT: &[u8] = b"linkage-tally-1\n";

/// A full re-link in progress, as its steps pass it on (ids and a version: no personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullLinkage {
    /// An id of our making (a UUID v7, simple form).
    pub run: String,
    /// When the run started: the watermark of the state it saves.
    pub started: Instant,
    pub partitions: u32,
    /// The model every partition decides with (a partition refuses another): `None` until the prepare step chose it.
    #[serde(default)]
    pub model_version: Option<String>,
    /// A new model version to estimate from a sample before the partitions decide (the daily run; the first run).
    #[serde(default)]
    pub estimate: Option<EstimateSample>,
    /// Partitions that file the history in the stored index before anything is estimated or decided: the first run
    /// (no model, nothing filed yet) only; 0 otherwise.
    #[serde(default)]
    pub filing: u32,
}

/// What one filing partition did (counts only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionFiled {
    pub index: u32,
    pub entries: u64,
    pub reports: u64,
}

/// What one partition did (counts only); the combining step adds them up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionLinked {
    pub index: u32,
    pub reports_read: u64,
    pub candidates: u64,
    pub candidate_pairs: u64,
    pub links: u64,
    pub reviews: u64,
    pub written: u64,
    pub unchanged: u64,
    pub kept_reviewed: u64,
    pub removed: u64,
}

/// The partitioned full re-link: the linkage and the private store its partitions save their tallies in. Built only
/// where that store is (the full re-link's function; locally, always).
#[derive(Clone)]
pub struct Relink {
    linkage: Linkage,
    partials: Partials,
    /// The memory the partitions run with: how many it plans when none is asked for.
    memory_mb: u32,
}

impl Relink {
    pub fn new(ports: &Ports, settings: &Settings) -> Result<Relink, MissingPort> {
        Ok(Relink {
            linkage: Linkage::new(ports, settings),
            partials: Partials::new(ports.export_state()?),
            memory_mb: settings.memory_mb,
        })
    }

    /// The linkage this re-link runs on (its scheduled runs, its statistics).
    pub fn linkage(&self) -> &Linkage {
        &self.linkage
    }

    /// How many partitions a full re-link takes when none is asked for: as few as keep each partition's work within
    /// [`partition_plan::BUDGET_SECONDS`] at this function's memory, from the stores' approximate counts (and the
    /// last statistics' counts, which a table's item count, refreshed every six hours, may not show yet).
    pub async fn plan_partitions(&self) -> Result<partition_plan::Plan, AppError> {
        let plan = partition_plan::full_linkage(self.linkage_workload().await?, self.memory_mb, MAX_PARTITIONS);
        Ok(log_plan(FullRun::Linkage, plan, self.memory_mb))
    }

    /// What a full re-link will read and decide: the stores' approximate counts, and the last statistics' (which a
    /// table's item count, refreshed every six hours, may not show yet).
    async fn linkage_workload(&self) -> Result<partition_plan::Workload, AppError> {
        let reports = self.linkage.reports.approximate_count().await?;
        let last = self.linkage.links.get_summary().await?;
        Ok(partition_plan::Workload {
            reports: reports.max(last.as_ref().map_or(0, |s| s.reports)),
            // The candidates the last statistics counted; before any, every report may be one.
            candidates: last.as_ref().map_or(reports, |s| s.reports),
            entries: self.linkage.entries.approximate_count().await?.max(last.as_ref().map_or(0, |s| s.entries)),
            follow_ups: self.linkage.follow_ups.approximate_count().await?,
        })
    }

    /// Starts a full re-link of `partitions` partitions (`None`: as many as [`Relink::plan_partitions`] says) with the
    /// current model, or, with `estimate`, with a new model version estimated first from a sample of the records
    /// ([`Linkage::estimate_from_sample`]: the daily run at national scale). `LeaseHeld` if another holds the lease;
    /// `Conflict("linkage_not_started")` before the first scheduled run (no model and no index yet: the first run
    /// estimates and files everything).
    // Long: the lease is taken only after everything that can fail without one (the plan), and given back
    // on every failure after it; one function keeps that order visible.
    pub async fn start_full_linkage(
        &self,
        partitions: Option<u32>,
        estimate: Option<EstimateSample>,
    ) -> Result<FullLinkage, AppError> {
        let asked = partitions;
        let partitions = match partitions {
            Some(n) => n,
            None => self.plan_partitions().await?.partitions,
        };
        check_partitions(partitions)?;
        let (model, state) =
            (self.linkage.link_index.current_model().await?, self.linkage.link_index.linkage_state().await?);
        let started = self.linkage.clock.now();
        let run = uuid::Uuid::now_v7().simple().to_string();
        // The first national filing is bound by the index table's writes for hours (docs/operations.md): its lease
        // lasts as long as such a run may.
        let first = model.is_none() || state.is_none();
        // Its filing partitions: as many as asked, else as the index's writes need (planned before the lease is
        // taken, so that a failure leaves no lease behind).
        let filing = match (first, asked) {
            (false, _) => 0,
            (true, Some(n)) => n,
            (true, None) => {
                let work = self.linkage_workload().await?;
                crate::partition_plan::first_filing(work, self.memory_mb, MAX_PARTITIONS).partitions
            }
        };
        let until = started + if first { FIRST_RUN_LEASE } else { FULL_LINKAGE_LEASE };
        if !self.linkage.leases.claim(FullRun::Linkage, &run, started, until).await? {
            return Err(AppError::LeaseHeld(FullRun::Linkage));
        }
        let mut relink = FullLinkage { run, started, partitions, model_version: None, estimate, filing: 0 };
        match (model, state) {
            // The scheduled runs are refused from here on: what was written since the last one is filed now (the
            // estimate's sample finds its candidates through the index too).
            (Some(_), Some(state)) => {
                let filed = async {
                    let written = self.linkage.written_since(&state, started).await?;
                    self.linkage.index_entries(&written.entries).await?;
                    self.linkage.index_reports(&written.reports).await
                };
                if let Err(e) = filed.await {
                    // Nothing decided yet: the lease goes (else it expires), the next hourly run files what this one
                    // did not. The caller is told why the start failed, not why the release did.
                    if let Err(release) = self.linkage.leases.release(FullRun::Linkage, &relink.run).await {
                        tracing::warn!(run = %relink.run, error = %release, "lease not released after a failed start");
                    }
                    return Err(e);
                }
            }
            // The first run: nothing is filed and there is no model. The filing partitions file the history, then
            // the prepare step estimates the first model from a sample through the index, as every daily run does.
            _ => {
                relink.filing = filing;
                relink.estimate = Some(estimate.unwrap_or_default());
            }
        }
        tracing::info!(run = %relink.run, partitions, filing = relink.filing, estimate = relink.estimate.is_some(),
            "full re-link started");
        Ok(relink)
    }

    /// Files one segment of the entry records and of the reports in the stored index (the first run's filing
    /// partitions). Safe to retry: filing a record again writes the same rows.
    pub async fn file_partition(&self, relink: &FullLinkage, index: u32) -> Result<PartitionFiled, AppError> {
        if index >= relink.filing {
            return Err(AppError::Invalid(crate::ValidationError(vec![crate::FieldError::new(
                "index",
                crate::Problem::Invalid("must be below the run's number of filing partitions"),
            )])));
        }
        self.holding_linkage_lease(relink).await?;
        let segment = Segment { index, of: relink.filing };
        let mut filed = PartitionFiled { index, ..PartitionFiled::default() };
        let (entries, reports) = (&self.linkage.entries, &self.linkage.reports);
        let mut pages = Pages::default();
        while let Some(items) = pages.next(|c| entries.entries_in_segment(segment, c, PAGE)).await? {
            self.linkage.index_entries(&items).await?;
            filed.entries += items.len() as u64;
        }
        let mut pages = Pages::default();
        while let Some(items) = pages.next(|c| reports.reports_in_segment(segment, c, PAGE)).await? {
            self.linkage.index_reports(&items).await?;
            filed.reports += items.len() as u64;
        }
        tracing::info!(run = %relink.run, index, entries = filed.entries, reports = filed.reports,
            "full re-link filing partition done");
        Ok(filed)
    }

    /// Chooses the model the partitions decide with, once the index holds everything they need: a new version
    /// estimated from a sample when the run asks for one ([`Linkage::estimate_from_sample`]), else the current one.
    pub async fn prepare_full_linkage(&self, relink: &FullLinkage) -> Result<FullLinkage, AppError> {
        self.holding_linkage_lease(relink).await?;
        let model = match relink.estimate {
            Some(sample) => self.linkage.estimate_from_sample(relink.started, sample).await?,
            None => self.linkage.link_index.current_model().await?.ok_or(AppError::Conflict("linkage_not_started"))?,
        };
        tracing::info!(run = %relink.run, model = %model.version, estimated = relink.estimate.is_some(),
            "full re-link prepared");
        Ok(FullLinkage { model_version: Some(model.version), ..relink.clone() })
    }

    /// Decides again every candidate report of one partition. Safe to retry.
    pub async fn link_partition(&self, relink: &FullLinkage, index: u32) -> Result<PartitionLinked, AppError> {
        if index >= relink.partitions {
            return Err(AppError::Invalid(crate::ValidationError(vec![crate::FieldError::new(
                "index",
                crate::Problem::Invalid("must be below the run's number of partitions"),
            )])));
        }
        self.holding_linkage_lease(relink).await?;
        let version = model_version_of(relink)?;
        let model = self.linkage.link_index.current_model().await?.filter(|m| m.version == version);
        let Some(model) = model else {
            return Err(AppError::Internal(format!("model {version} is no longer the current one")));
        };
        let (scorer, options) = (Model::from_params(&model.params), self.linkage.linkage_options());
        let mut run = LinkageRun::new("full", &model.version, 0, 0);
        let mut done = PartitionLinked { index, ..PartitionLinked::default() };
        let mut tally = LinkageTally::default();
        let segment = Segment { index, of: relink.partitions };
        let reports = &self.linkage.reports;
        let mut pages = Pages::default();
        while let Some(items) = pages.next(|c| reports.reports_in_segment(segment, c, PAGE)).await? {
            done.reports_read += items.len() as u64;
            // Only candidates have decisions to settle: most reports (no passport number, Japanese) are not read
            // again (33 million decision reads spared nationally).
            let candidates: Vec<&CaseReport> =
                items.iter().filter(|r| report_link(r).is_some_and(|l| LinkReport::is_candidate(&l))).collect();
            done.candidates += candidates.len() as u64;
            let decided = self
                .linkage
                .relink_all(&candidates, &scorer, &model.version, &options, relink.started, &mut run)
                .await?;
            let mut decided: HashMap<&ReportId, Option<LinkDecision>> =
                candidates.iter().map(|r| &r.id).zip(decided).collect();
            let current: Vec<Option<LinkDecision>> = items.iter().map(|r| decided.remove(&r.id).flatten()).collect();
            self.linkage.tally_reports(&items, &current, &mut tally).await?;
        }
        self.linkage.tally_entries_and_follow_ups(segment, &mut tally).await?;
        self.partials.save(&relink.run, index, TALLY_FORMAT, &tally).await?;
        (done.candidate_pairs, done.links, done.reviews) =
            (run.candidate_pairs as u64, run.links as u64, run.reviews as u64);
        (done.written, done.unchanged, done.kept_reviewed, done.removed) =
            (run.written as u64, run.unchanged as u64, run.kept_reviewed as u64, run.removed as u64);
        tracing::info!(run = %relink.run, index, reports_read = done.reports_read, written = done.written,
            "full re-link partition done");
        Ok(done)
    }

    /// Combines the partitions' answers (every partition must have answered), recomputes the statistics as of
    /// `now`, saves the state and frees the lease. The run's counts are the partitions' sums.
    pub async fn finish_full_linkage(
        &self,
        relink: &FullLinkage,
        answers: &[PartitionLinked],
        now: Instant,
    ) -> Result<LinkageRun, AppError> {
        self.holding_linkage_lease(relink).await?;
        for index in 0..relink.partitions {
            if !answers.iter().any(|a| a.index == index) {
                return Err(AppError::Internal(format!("partition {index} of the full re-link has not answered")));
            }
        }
        let mut run = LinkageRun::new("full", model_version_of(relink)?, 0, 0);
        for a in answers {
            run.reports += a.reports_read as usize;
            run.candidate_pairs += a.candidate_pairs as usize;
            (run.links, run.reviews) = (run.links + a.links as usize, run.reviews + a.reviews as usize);
            (run.written, run.unchanged) = (run.written + a.written as usize, run.unchanged + a.unchanged as usize);
            run.kept_reviewed += a.kept_reviewed as usize;
            run.removed += a.removed as usize;
        }
        let mut tally = LinkageTally::default();
        let partials: Vec<LinkageTally> =
            self.partials.load(&relink.run, relink.partitions, TALLY_FORMAT, "full re-link").await?;
        partials.into_iter().for_each(|partial| tally.add(partial));
        let summary = tally.summary(now);
        run.entries = summary.entries as usize;
        self.linkage.links.put_summary(&summary).await?;
        run.summary = Some(summary);
        let state = LinkageState {
            linked_until: relink.started,
            window_days: self.linkage.linkage_window_days,
            recent_entries: Vec::new(),
            recent_reports: Vec::new(),
        };
        self.linkage.link_index.put_linkage_state(&state).await?;
        self.linkage.leases.release(FullRun::Linkage, &relink.run).await?;
        self.partials.delete(&relink.run, relink.partitions).await?;
        tracing::info!(run = %relink.run, reports = run.reports, written = run.written, "full re-link combined");
        Ok(run)
    }

    /// Gives a failed full re-link up: frees the lease; the state stays as it was, so the next hourly run reads
    /// from the last one's watermark.
    pub async fn abandon_full_linkage(&self, relink: &FullLinkage) -> Result<(), AppError> {
        self.linkage.leases.release(FullRun::Linkage, &relink.run).await?;
        self.partials.delete(&relink.run, relink.partitions).await?;
        tracing::warn!(run = %relink.run, "full re-link abandoned");
        Ok(())
    }

    /// The full re-link in progress, if any.
    pub async fn full_linkage_holder(&self) -> Result<Option<String>, AppError> {
        Ok(self.linkage.leases.holder(FullRun::Linkage, self.linkage.clock.now()).await?)
    }

    async fn holding_linkage_lease(&self, relink: &FullLinkage) -> Result<(), AppError> {
        match self.linkage.leases.holder(FullRun::Linkage, self.linkage.clock.now()).await? {
            Some(run) if run == relink.run => Ok(()),
            // Expired or taken over: this run must not settle anything more.
            _ => Err(AppError::LeaseHeld(FullRun::Linkage)),
        }
    }
}

/// The model a prepared run decides with; a run that was not prepared has none, and its partitions refuse it.
fn model_version_of(relink: &FullLinkage) -> Result<&str, AppError> {
    relink.model_version.as_deref().ok_or_else(|| {
        AppError::Invalid(crate::ValidationError(vec![crate::FieldError::new(
            "run.model_version",
            crate::Problem::Invalid("is chosen by the prepare step, which has not run"),
        )]))
    })
}
