//! The graph export's operations: counting both sources into tallies (incrementally: see
//! [`crate::graphs::state`]), building every series from them, importing line lists, and the per-prefecture switch
//! to HER-SYS. Rendering and writing the files is the export function's job.

use chrono::NaiveDate;

use super::cpu::off_the_async_workers;
use std::sync::Arc;

use super::partitioned::Partials;
use super::{AppError, FullRun, MissingPort, Ports, Settings};
use crate::graphs::linelist::LineListCase;
use crate::graphs::state::{CountedFact, ExportState};
use crate::graphs::{CaseFact, GraphSeries, Tally, build_series};
use crate::linkage_records::LinkageSummary;
use crate::ports::{ExportStateStore, FullRunLeases, FullRunStarter, GraphSourceStore, LinkStore, ReportStore};
use crate::prefecture::PrefectureCode;
use crate::report::ReportId;
use crate::time::Clock;
use crate::time::{Instant, japan_date};

/// Changed reports are read, compared and recorded this many at a time (bounded memory, batched store calls).
const CHUNK: usize = 1_000;

/// What a scheduled run that found no usable state answers (`Conflict`): it started the full export in partitions,
/// or today's was started already (it runs, or it failed: see the state machine's executions).
pub const FULL_EXPORT_STARTED: &str = "full_export_started";
pub const FULL_EXPORT_STARTED_TODAY: &str = "full_export_started_today";

/// Whether an export starts from the state the last one left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportMode {
    /// Count only the reports written since the last run (everything when there is no usable state).
    Incremental,
    /// Count every report again: after a change of the counting rules, or to check the increments.
    Full,
}

/// What a run counted (logged, and printed by the benchmarks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recount {
    /// Every report was read.
    pub full: bool,
    /// Reports read: all of them in a full run, else those written since the last run (and its overlap).
    pub reports_read: u64,
    /// Reports whose counted fact changed (new, corrected, published, status changed).
    pub recounted: u64,
    /// The line lists were read (first run, or imported since).
    pub linelists_read: bool,
    pub hersys_cases: u64,
    pub linelist_cases: u64,
}

/// The graph export: counting both sources into tallies and building the public series, incrementally on the
/// schedule or in full (in partitions: [`super::full_export`]). Rendering and writing the files is the export
/// function's. Built only where the export state store is.
#[derive(Clone)]
pub struct GraphExport {
    pub(super) reports: Arc<dyn ReportStore>,
    pub(super) graph_sources: Arc<dyn GraphSourceStore>,
    /// The full export's lease.
    pub(super) leases: Arc<dyn FullRunLeases>,
    pub(super) export_state: Arc<dyn ExportStateStore>,
    /// The full runs' partial results (in the same private store).
    pub(super) partials: Partials,
    pub(super) full_runs: Option<Arc<dyn FullRunStarter>>,
    /// The linkage's last statistics, which the export publishes beside the graphs.
    links: Arc<dyn LinkStore>,
    pub(super) clock: Arc<dyn Clock>,
    /// The memory a full export's partitions run with: how many partitions it plans when none is asked for.
    pub(super) memory_mb: u32,
}

impl GraphExport {
    pub fn new(ports: &Ports, settings: &Settings) -> Result<GraphExport, MissingPort> {
        let export_state = ports.export_state()?;
        Ok(GraphExport {
            reports: ports.reports.clone(),
            graph_sources: ports.graph_sources.clone(),
            leases: ports.leases.clone(),
            partials: Partials::new(export_state.clone()),
            export_state,
            full_runs: ports.full_runs.clone(),
            links: ports.links.clone(),
            clock: ports.clock.clone(),
            memory_mb: settings.memory_mb,
        })
    }

    /// The wiring's "now".
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The linkage's last statistics, once a full run has computed them: the export publishes them too.
    pub async fn linkage_statistics(&self) -> Result<Option<LinkageSummary>, AppError> {
        Ok(self.links.get_summary().await?.filter(|s| s.computed_at.is_some()))
    }

    /// Every public series as of `now` (its Japan date is the last day shown at most), and what was counted.
    ///
    /// Incrementally, the cost follows the reports written since the last run: the last state is loaded, its
    /// journal recorded, the changed reports read through the write-time index, each one's counted fact replaced
    /// by its current one, and the new state saved (then its journal recorded). See [`crate::graphs::state`].
    ///
    /// `Conflict` while a full export (partitioned, or another single-process one) holds the full-export lease: it
    /// will publish, and the reports written meanwhile are read by the next run. A full run here takes the lease
    /// itself for its duration.
    pub async fn graph_series(&self, now: Instant, mode: ExportMode) -> Result<(GraphSeries, Recount), AppError> {
        // Read before any report: writes stamped from here on are read again by the next run.
        let started = self.clock.now();
        let lease = match mode {
            ExportMode::Incremental => {
                if self.leases.holder(FullRun::Export, started).await?.is_some() {
                    return Err(AppError::LeaseHeld(super::FullRun::Export));
                }
                None
            }
            ExportMode::Full => {
                let run = uuid::Uuid::now_v7().simple().to_string();
                let until = started + super::FULL_EXPORT_LEASE;
                if !self.leases.claim(FullRun::Export, &run, started, until).await? {
                    return Err(AppError::LeaseHeld(super::FullRun::Export));
                }
                Some(run)
            }
        };
        let result = self.count_and_build(now, mode, started).await;
        if let Some(run) = lease {
            // Also after a failure: the next run finds the state marked as being rebuilt and counts everything.
            self.leases.release(FullRun::Export, &run).await?;
        }
        result
    }

    async fn count_and_build(
        &self,
        now: Instant,
        mode: ExportMode,
        started: Instant,
    ) -> Result<(GraphSeries, Recount), AppError> {
        let previous = match mode {
            ExportMode::Incremental => self.load_export_state().await?,
            ExportMode::Full => None,
        };
        if let (None, ExportMode::Incremental, Some(starter)) = (&previous, mode, &self.full_runs) {
            // No usable state where a distributed engine runs the full export: start it rather than count everything
            // here (a national count does not fit one invocation). One automatic start a day at most (the name is
            // the Japan date): a full export that fails is not restarted every hour, the operators see it fail.
            let name = format!("graph-export-auto-{}", japan_date(started).format("%Y%m%d"));
            let started_now = starter.start_full_export(&name).await?;
            tracing::warn!(execution = %name, started_now, "no usable export state: the full export in partitions");
            return Err(AppError::Conflict(if started_now { FULL_EXPORT_STARTED } else { FULL_EXPORT_STARTED_TODAY }));
        }
        let (state, recount) = match previous {
            Some(state) => self.count_changed_reports(state, started).await?,
            None => self.count_all_reports(started).await?,
        };

        self.series_from_state(state, recount, now).await
    }

    /// The line lists counted (again if imported since), the state saved and its journal recorded, and every series
    /// built from it as of `now`: the end of every export, incremental, full or partitioned.
    pub(super) async fn series_from_state(
        &self,
        mut state: ExportState,
        mut recount: Recount,
        now: Instant,
    ) -> Result<(GraphSeries, Recount), AppError> {
        // The generation is read before the cases: an import during this run shows as a new generation next time.
        let generation = self.graph_sources.linelist_generation().await?;
        if recount.full || generation != state.linelist_generation {
            let mut linelist = Tally::new();
            for prefecture in PrefectureCode::all() {
                for case in self.graph_sources.linelist_cases(prefecture).await? {
                    linelist.add(&case.fact());
                }
            }
            state.linelist = linelist;
            state.linelist_generation = generation;
            recount.linelists_read = true;
        }
        recount.hersys_cases = state.hersys.facts();
        recount.linelist_cases = state.linelist.facts();

        self.export_state.save_export_state(state.to_bytes()).await?;
        if !state.pending.is_empty() {
            self.record_counted_facts(&state.pending).await?;
            state.pending.clear();
            // Saves the next run from recording the journal again; losing this write costs only that.
            self.export_state.save_export_state(state.to_bytes()).await?;
        }
        tracing::info!(
            full = recount.full,
            reports_read = recount.reports_read,
            recounted = recount.recounted,
            linelists_read = recount.linelists_read,
            hersys_cases = recount.hersys_cases,
            linelist_cases = recount.linelist_cases,
            "graph sources counted"
        );
        let sources = self.graph_sources.hersys_from().await?;
        // A fifth of a second of CPU whatever the number of reports (docs/benchmarks-graphs.md): off the async
        // worker too, as the linkage's scoring.
        let as_of = japan_date(now);
        let series = off_the_async_workers("building the graph series", move || {
            build_series(&state.hersys, &state.linelist, &sources, as_of)
        })
        .await?;
        Ok((series, recount))
    }

    /// The last run's state, if there is a usable one.
    async fn load_export_state(&self) -> Result<Option<ExportState>, AppError> {
        let Some(bytes) = self.export_state.load_export_state().await? else { return Ok(None) };
        if bytes.is_empty() {
            tracing::warn!("a full graph export was interrupted: counting every report again");
            return Ok(None);
        }
        match ExportState::from_bytes(&bytes) {
            Ok(state) => Ok(Some(state)),
            Err(e) => {
                tracing::warn!(reason = %e, "counting every report again");
                Ok(None)
            }
        }
    }

    /// Every report of every prefecture (switched or not: a switch date may be set later), one prefecture at a
    /// time so that memory is bounded by the largest prefecture. Each report's counted fact is recorded as it goes.
    async fn count_all_reports(&self, started: Instant) -> Result<(ExportState, Recount), AppError> {
        // An empty state marks the counted facts as being rewritten: if this run dies half-way, the next one must
        // not apply increments to the old tally with half of the counted facts new.
        self.export_state.save_export_state(Vec::new()).await?;
        let mut state = ExportState::empty(started);
        let mut recount = Recount { full: true, ..Recount::default() };
        for prefecture in PrefectureCode::all() {
            let reports = self.reports.reports_by_prefecture(prefecture).await?;
            for chunk in reports.chunks(CHUNK) {
                let mut counted = Vec::with_capacity(chunk.len());
                for report in chunk {
                    // Nothing counted before in a full run: each report's fact simply goes in.
                    let fact = CaseFact::from_report(report);
                    state.hersys.replace(None, fact.as_ref());
                    counted.push(CountedFact { report: report.id.clone(), fact });
                }
                self.graph_sources.put_counted_facts(&counted).await?;
            }
            recount.reports_read += reports.len() as u64;
        }
        recount.recounted = recount.reports_read;
        Ok((state, recount))
    }

    /// The reports written since the last run, each brought from its counted fact to its current one.
    async fn count_changed_reports(
        &self,
        mut state: ExportState,
        started: Instant,
    ) -> Result<(ExportState, Recount), AppError> {
        // The last run's journal first: the counted facts must match its tally before any is compared.
        if !state.pending.is_empty() {
            self.record_counted_facts(&state.pending).await?;
            state.pending.clear();
        }
        let mut ids: Vec<ReportId> = self.reports.report_ids_changed_since(state.read_from(), started).await?;
        ids.sort_unstable();
        ids.dedup();
        let mut recount = Recount::default();
        for chunk in ids.chunks(CHUNK) {
            let reports = self.reports.get_reports(chunk).await?;
            let read: Vec<ReportId> = reports.iter().map(|r| r.id.clone()).collect();
            let counted = self.graph_sources.counted_facts(&read).await?;
            for (report, old) in reports.iter().zip(counted) {
                let new = CaseFact::from_report(report);
                if state.hersys.replace(old.as_ref(), new.as_ref()) {
                    state.pending.push(CountedFact { report: report.id.clone(), fact: new });
                }
            }
            recount.reports_read += reports.len() as u64;
        }
        recount.recounted = state.pending.len() as u64;
        state.watermark = started;
        Ok((state, recount))
    }

    async fn record_counted_facts(&self, facts: &[CountedFact]) -> Result<(), AppError> {
        for chunk in facts.chunks(CHUNK) {
            self.graph_sources.put_counted_facts(chunk).await?;
        }
        Ok(())
    }
}

/// The graph export's sources as the health centres' and operators' side sets them: line lists imported, and the
/// date from which each prefecture's series come from HER-SYS.
#[derive(Clone)]
pub struct GraphSources {
    graph_sources: Arc<dyn GraphSourceStore>,
}

impl GraphSources {
    pub fn new(ports: &Ports) -> GraphSources {
        GraphSources { graph_sources: ports.graph_sources.clone() }
    }

    /// Stores line-list cases (created or replaced by prefecture and number).
    pub async fn import_linelist(&self, cases: &[LineListCase]) -> Result<(), AppError> {
        Ok(self.graph_sources.put_linelist_cases(cases).await?)
    }

    /// From `from` on (or, with `None`, never), the prefecture's series come from HER-SYS reports.
    pub async fn set_hersys_from(&self, prefecture: PrefectureCode, from: Option<NaiveDate>) -> Result<(), AppError> {
        self.graph_sources.set_hersys_from(prefecture, from).await?;
        tracing::info!(prefecture = prefecture.number(), switched = from.is_some(), "graph source set");
        Ok(())
    }

    pub async fn graph_source_settings(&self) -> Result<crate::graphs::Sources, AppError> {
        Ok(self.graph_sources.hersys_from().await?)
    }
}
