//! A full graph export split into partitions that run at once: Step Functions' Distributed Map in AWS, tasks of one
//! process locally (`hersys export --full --partitions N`), both through the export function's handler.
//!
//! - **start** takes the full-export lease (two full exports never overlap; a dead one frees it by expiry) and marks
//!   the state as being rebuilt (an empty state, as a single-process full run does), so that if the run dies the
//!   next scheduled run counts everything again rather than apply increments to half-rewritten counted facts;
//! - each **partition** reads its segment of the reports (disjoint segments that together hold every report),
//!   records each report's counted fact, and saves its partial tally; a retried partition does the same again;
//! - **combine** adds the partial tallies up (tallies of disjoint sets of reports add up to the tally of their
//!   union: `Tally::merge`), counts the line lists, saves the state with the run's start as its watermark and
//!   gives the series to publish, then frees the lease.
//!
//! While the lease is held the scheduled (incremental) runs publish nothing ([`GraphExport::full_export_holder`]); the
//! reports written meanwhile are not lost: the next scheduled run reads everything written since the full run
//! started (its watermark) and brings each report from the fact the partition counted to its current one.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::graphs::Recount;
use super::partitioned::{MAX_PARTITIONS, check_partitions, log_plan};
use super::{AppError, FullRun, GraphExport, Pages};
use crate::graphs::state::{CountedFact, ExportState};
use crate::graphs::{CaseFact, GraphSeries, Tally};
use crate::partition_plan;
use crate::ports::Segment;
use crate::report::ReportId;
use crate::time::Instant;

/// How long a full export may hold its lease: far beyond its expected duration (minutes at national scale with 50
/// partitions; docs/benchmarks-graphs.md), so that only a run that died loses it.
pub const FULL_EXPORT_LEASE: Duration = Duration::hours(2);

/// Reports read and recorded at a time within a partition (bounded memory, batched writes).
const PAGE: usize = 1_000;

/// Marks a partial count's bytes, so that a count of another format is refused rather than misread.
const PARTIAL_FORMAT: &[u8; 8] = b"HGXP0001";

/// What one partition of a full export did (counts only): its tally is saved, not passed on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionCounted {
    pub index: u32,
    pub reports_read: u64,
    /// Counted facts written: those that differ from the stored ones.
    pub facts_written: u64,
}

/// A full export in progress, as its steps pass it on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullExport {
    /// An id of our making (a UUID v7, simple form): not personal data.
    pub run: String,
    /// When the run started reading: the watermark of the state it saves.
    pub started: Instant,
    pub partitions: u32,
}

/// What a partition counted: its reports' tally, saved for the combining step.
#[derive(Debug, Serialize, Deserialize)]
struct PartialCount {
    tally: Tally,
    reports_read: u64,
}

impl GraphExport {
    /// How many partitions a full export takes when none is asked for: as few as keep each partition's work within
    /// [`partition_plan::BUDGET_SECONDS`] at this function's memory, from the reports' approximate count.
    pub async fn plan_partitions(&self) -> Result<partition_plan::Plan, AppError> {
        let work = partition_plan::Workload { reports: self.reports.approximate_count().await?, ..Default::default() };
        Ok(log_plan(FullRun::Export, partition_plan::full_export(work, self.memory_mb, MAX_PARTITIONS), self.memory_mb))
    }

    /// Starts a full export of `partitions` partitions (`None`: as many as [`GraphExport::plan_partitions`] says):
    /// `LeaseHeld` if another full export holds the lease.
    pub async fn start_full_export(&self, partitions: Option<u32>) -> Result<FullExport, AppError> {
        let partitions = match partitions {
            Some(n) => n,
            None => self.plan_partitions().await?.partitions,
        };
        check_partitions(partitions)?;
        let started = self.clock.now();
        let run = uuid::Uuid::now_v7().simple().to_string();
        if !self.leases.claim(FullRun::Export, &run, started, started + FULL_EXPORT_LEASE).await? {
            return Err(AppError::LeaseHeld(FullRun::Export));
        }
        self.export_state.save_export_state(Vec::new()).await?;
        tracing::info!(run = %run, partitions, "full export started");
        Ok(FullExport { run, started, partitions })
    }

    /// Counts one partition of a full export and saves its partial tally. Safe to retry. A report's counted fact is
    /// written only when it differs from the stored one (an absent one reads as none): a national full export would
    /// otherwise write 33 million items every time, at the table's write limit (docs/operations.md, "Capacity").
    pub async fn count_partition(&self, export: &FullExport, index: u32) -> Result<PartitionCounted, AppError> {
        if index >= export.partitions {
            return Err(AppError::Invalid(crate::ValidationError(vec![crate::FieldError::new(
                "index",
                crate::Problem::Invalid("must be below the run's number of partitions"),
            )])));
        }
        self.holding_lease(export).await?;
        let segment = Segment { index, of: export.partitions };
        let mut partial = PartialCount { tally: Tally::new(), reports_read: 0 };
        let mut facts_written = 0;
        let mut pages = Pages::default();
        while let Some(items) = pages.next(|c| self.reports.reports_in_segment(segment, c, PAGE)).await? {
            let ids: Vec<ReportId> = items.iter().map(|r| r.id.clone()).collect();
            let stored = self.graph_sources.counted_facts(&ids).await?;
            let mut changed = Vec::new();
            for (report, stored) in items.iter().zip(stored) {
                let fact = CaseFact::from_report(report);
                if let Some(f) = &fact {
                    partial.tally.add(f);
                }
                if fact != stored {
                    changed.push(CountedFact { report: report.id.clone(), fact });
                }
            }
            if !changed.is_empty() {
                self.graph_sources.put_counted_facts(&changed).await?;
            }
            facts_written += changed.len() as u64;
            partial.reports_read += items.len() as u64;
        }
        self.partials.save(&export.run, index, PARTIAL_FORMAT, &partial).await?;
        tracing::info!(run = %export.run, index, reports_read = partial.reports_read, facts_written,
            "full export partition counted");
        Ok(PartitionCounted { index, reports_read: partial.reports_read, facts_written })
    }

    /// Adds the partitions' counts up and gives every series as of `now`, with the state saved; frees the lease.
    /// Fails (the lease kept) if a partition has not saved its count.
    pub async fn finish_full_export(
        &self,
        export: &FullExport,
        now: Instant,
    ) -> Result<(GraphSeries, Recount), AppError> {
        self.holding_lease(export).await?;
        let mut state = ExportState::empty(export.started);
        let mut recount = Recount { full: true, ..Recount::default() };
        let partials: Vec<PartialCount> =
            self.partials.load(&export.run, export.partitions, PARTIAL_FORMAT, "full export").await?;
        for partial in partials {
            state.hersys.merge(&partial.tally);
            recount.reports_read += partial.reports_read;
        }
        recount.recounted = recount.reports_read;
        let result = self.series_from_state(state, recount, now).await?;
        self.partials.delete(&export.run, export.partitions).await?;
        self.leases.release(FullRun::Export, &export.run).await?;
        tracing::info!(run = %export.run, reports_read = result.1.reports_read, "full export combined");
        Ok(result)
    }

    /// Gives a failed full export up: frees the lease and removes its partial counts. The state stays marked as
    /// being rebuilt, so the next scheduled run counts everything again.
    pub async fn abandon_full_export(&self, export: &FullExport) -> Result<(), AppError> {
        self.partials.delete(&export.run, export.partitions).await?;
        self.leases.release(FullRun::Export, &export.run).await?;
        tracing::warn!(run = %export.run, "full export abandoned");
        Ok(())
    }

    /// The full export in progress, if any: scheduled runs leave the publishing to it.
    pub async fn full_export_holder(&self) -> Result<Option<String>, AppError> {
        Ok(self.leases.holder(FullRun::Export, self.clock.now()).await?)
    }

    async fn holding_lease(&self, export: &FullExport) -> Result<(), AppError> {
        match self.leases.holder(FullRun::Export, self.clock.now()).await? {
            Some(run) if run == export.run => Ok(()),
            // Expired or taken over: this run's counts must not be published.
            _ => Err(AppError::LeaseHeld(FullRun::Export)),
        }
    }
}
