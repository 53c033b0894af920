//! The application: the operations the handlers call, over the ports. Handlers translate events to these calls
//! and their results back; nothing here knows which adapter is behind a port.

use std::sync::Arc;

use crate::cycle::{AppLink, Policy};
use crate::error::{StoreError, ValidationError};
use crate::keyed_hash::KeyedHasher;
use crate::ports::{
    AuditLog, CounterStore, CycleStore, EntryStore, ExportSink, ExportStateStore, FollowUpStore, FullRunStarter,
    GraphSourceStore, IdempotencyStore, LinkIndex, LinkStore, Metrics, Notifier, NumberVault, ReportStore, Versioned,
};
use crate::report::{CaseReport, PatchError, ReportId, ReportInput, ReportPatch};
use crate::time::{Clock, japan_date};

mod audit;
mod cpu;
mod entries;
mod follow_ups;
mod full_export;
mod full_linkage;
mod graphs;
mod linkage;
mod linkage_estimate;
mod linkage_stats;
mod processing;

pub use audit::{LinkedEntry, MAX_AUDIT_PAGE, ReportView};
pub use full_export::{FULL_EXPORT_LEASE, FullExport, MAX_PARTITIONS, PartitionCounted};
pub use full_linkage::{FULL_LINKAGE_LEASE, FullLinkage, PartitionFiled, PartitionLinked};
pub use graphs::{ExportMode, FULL_EXPORT_STARTED, FULL_EXPORT_STARTED_TODAY, Recount};
pub use linkage::{
    CandidateEntry, EXACT_METHOD, LinkageMode, LinkageRun, ReviewAnswer, ReviewCase, published, published_share,
};
pub use linkage_estimate::EstimateSample;
pub use processing::{CycleView, MAX_STATS_DAYS, RedeemError, Stats, SweepRun};

/// Everything an operation may need, cheap to clone (`Arc`s), so that one value built at cold start serves every
/// invocation, also under `run_concurrent`.
#[derive(Clone)]
pub struct App {
    pub reports: Arc<dyn ReportStore>,
    pub entries: Arc<dyn EntryStore>,
    /// Follow-up records of the entrants' follow-up system.
    pub follow_ups: Arc<dyn FollowUpStore>,
    pub cycles: Arc<dyn CycleStore>,
    /// Operator statistics and redemption-attempt limits.
    pub counters: Arc<dyn CounterStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub links: Arc<dyn LinkStore>,
    /// The incremental linkage's stored index, model and watermark.
    pub link_index: Arc<dyn LinkIndex>,
    /// Days from entry to diagnosis within which the linkage links (`LINKAGE_WINDOW_DAYS`).
    pub linkage_window_days: i32,
    /// The memory a full run's partitions run with (Lambda's setting; locally one vCPU's worth): how many partitions
    /// a start step plans when none is asked for ([`crate::partition_plan`]).
    pub memory_mb: u32,
    /// Views of personal data (append-only).
    pub audit: Arc<dyn AuditLog>,
    pub notifier: Arc<dyn Notifier>,
    /// Keeps each live processing number encrypted until it expires, for the reminder.
    pub vault: Arc<dyn NumberVault>,
    /// The link prefix that opens the app with a number filled in (`APP_LINK_BASE`).
    pub app_link: AppLink,
    pub export: Arc<dyn ExportSink>,
    /// Line lists, switch dates and counted facts of the graph export.
    pub graph_sources: Arc<dyn GraphSourceStore>,
    /// The graph export's tallies between runs.
    pub export_state: Arc<dyn ExportStateStore>,
    /// Starts a full export in partitions when a scheduled export finds no usable state (AWS: the state machine;
    /// `None` locally, where the scheduled run counts everything itself).
    pub full_runs: Option<Arc<dyn FullRunStarter>>,
    pub hasher: KeyedHasher,
    pub clock: Arc<dyn Clock>,
    /// The processing-number rules (validity, re-issues, reminder delay, quiet hours).
    pub policy: Policy,
    pub metrics: Arc<dyn Metrics>,
}

/// The settings every wiring gives an [`App`] beside its ports (the platform reads them from the environment, the
/// local tools from their flags and data dir).
#[derive(Clone)]
pub struct Settings {
    pub hasher: KeyedHasher,
    pub policy: Policy,
    pub app_link: AppLink,
    pub linkage_window_days: i32,
    pub memory_mb: u32,
}

/// Reads one segment of a store whole, a page at a time (`read` asks for the page after the cursor), handing each
/// page's records to `each`.
pub(crate) async fn each_page<T, Fut>(
    mut read: impl FnMut(Option<String>) -> Fut,
    mut each: impl FnMut(Vec<T>),
) -> Result<(), StoreError>
where
    Fut: std::future::Future<Output = Result<crate::ports::Page<T>, StoreError>>,
{
    let mut cursor = None;
    loop {
        let page = read(cursor).await?;
        each(page.items);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

/// Errors of application operations, converted to HTTP answers in one place (the `api` crate).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Well-formed but impossible (422): a status after death, before the diagnosis.
    #[error("impossible change: {0}")]
    Impossible(ValidationError),
    #[error("not found")]
    NotFound,
    #[error("precondition failed: the item changed since version {expected}")]
    Stale { expected: u64 },
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A full run's lease is held by another run (or this run lost it): nothing is done, and trying the same again
    /// cannot help until that run ends. The state machines do not retry it (`template.yaml`: `LeaseHeld`).
    #[error("conflict: {0} holds the lease")]
    LeaseHeld(FullRun),
    #[error(transparent)]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// The two runs that take a lease: one of each at a time, and none beside a scheduled run of its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullRun {
    Export,
    Linkage,
}

impl FullRun {
    /// The run's name in messages and errors (`full_export`, `full_linkage`).
    pub fn name(self) -> &'static str {
        match self {
            FullRun::Export => "full_export",
            FullRun::Linkage => "full_linkage",
        }
    }
}

impl std::fmt::Display for FullRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FullRun::Export => "a full export",
            FullRun::Linkage => "a full re-link",
        })
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::VersionConflict { expected } => AppError::Stale { expected },
            other => AppError::Store(other),
        }
    }
}

impl App {
    /// Validates and stores a new report at version 1.
    pub async fn create_report(&self, input: &ReportInput) -> Result<Versioned<CaseReport>, AppError> {
        let now = self.clock.now();
        let report = CaseReport::from_input(input, ReportId::generate(), &self.hasher, now, japan_date(now))?;
        self.reports.create_report(&report).await.map_err(|e| match e {
            // Report ids are fresh UUIDs: a clash is the (health centre, case number) pair already taken.
            StoreError::AlreadyExists => AppError::Conflict("case_number"),
            other => other.into(),
        })?;
        tracing::info!(
            report_id = %report.id,
            prefecture = report.prefecture.number(),
            has_passport = report.passport_number.is_some(),
            "report created"
        );
        self.link_exactly(&report, now).await;
        Ok(Versioned { value: report, version: 1 })
    }

    pub async fn get_report(&self, id: &ReportId) -> Result<Versioned<CaseReport>, AppError> {
        self.reports.get_report(id).await?.ok_or(AppError::NotFound)
    }

    /// Corrects fields and/or records a status change of a report of `health_center` (another tenant's report
    /// is "not found"), if the stored version is still `expected_version`.
    pub async fn patch_report(
        &self,
        id: &ReportId,
        health_center: &str,
        expected_version: u64,
        patch: &ReportPatch,
    ) -> Result<Versioned<CaseReport>, AppError> {
        let current = self.get_report(id).await?;
        if current.value.health_center_code != health_center {
            return Err(AppError::NotFound);
        }
        if current.version != expected_version {
            return Err(AppError::Stale { expected: expected_version });
        }
        let now = self.clock.now();
        let next = current.value.apply_patch(patch, &self.hasher, now, japan_date(now)).map_err(|e| match e {
            PatchError::Invalid(v) => AppError::Invalid(v),
            PatchError::Impossible(v) => AppError::Impossible(v),
        })?;
        let version = self.reports.update_report(&next, expected_version).await?;
        tracing::info!(
            report_id = %next.id,
            version,
            status_change = patch.status.is_some(),
            corrections = patch.corrections.len(),
            "report updated"
        );
        // A passport number added or corrected later (or a corrected diagnosis date) gets the exact step at once,
        // as on creation, rather than waiting for the hourly run.
        let old = &current.value;
        if next.passport_hash.is_some()
            && (next.passport_hash != old.passport_hash || next.diagnosis_date != old.diagnosis_date)
        {
            self.link_exactly(&next, now).await;
        }
        Ok(Versioned { value: next, version })
    }
}
