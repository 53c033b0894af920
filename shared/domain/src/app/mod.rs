//! The application: narrow services (one struct per subsystem, holding exactly the ports it uses) whose operations
//! the handlers call. Handlers translate events to these calls and their results back; nothing here knows which
//! adapter is behind a port. A wiring builds the [`Ports`] once; each function builds the services it runs from them.

use std::sync::Arc;

use crate::cycle::{AppLink, Policy};
use crate::error::{StoreError, ValidationError};
use crate::keyed_hash::KeyedHasher;
use crate::ports::{
    AuditLog, CounterStore, CycleStore, EntryStore, ExportSink, ExportStateStore, FollowUpStore, FullRunLeases,
    FullRunStarter, GraphSourceStore, IdempotencyStore, LinkIndex, LinkStore, Metrics, Notifier, NumberVault,
    ReportStore,
};
use crate::time::Clock;

pub use crate::full_run::FullRun;

mod audit;
mod cases;
mod cpu;
mod entries;
mod follow_ups;
mod full_export;
mod full_linkage;
mod graphs;
mod idempotency;
mod linkage;
mod linkage_estimate;
mod linkage_stats;
mod partitioned;
mod processing;
mod publisher;

pub use audit::{Audit, LinkedEntry, MAX_AUDIT_PAGE, ReportView};
pub use cases::Cases;
pub use full_export::{FULL_EXPORT_LEASE, FullExport, PartitionCounted};
pub use full_linkage::{FULL_LINKAGE_LEASE, FullLinkage, PartitionFiled, PartitionLinked, Relink};
pub use graphs::{ExportMode, FULL_EXPORT_STARTED, FULL_EXPORT_STARTED_TODAY, GraphExport, GraphSources, Recount};
pub use idempotency::{ClaimedKey, Idempotency};
pub use linkage::{
    CandidateEntry, EXACT_METHOD, Linkage, LinkageMode, LinkageRun, ReviewAnswer, ReviewCase, published,
    published_share,
};
pub use linkage_estimate::EstimateSample;
pub use partitioned::MAX_PARTITIONS;
pub use processing::{CycleView, MAX_STATS_DAYS, RedeemError, Stats, SweepRun};
pub use publisher::Publisher;

/// Every adapter a wiring built, by port: the composition root's parts. No operation runs on this: each service
/// takes the ports it uses from it ([`Cases::new`], [`Linkage::new`], ...), so that what a service may touch is
/// written in its fields, and a function given one service cannot reach another's ports. Cheap to clone (`Arc`s).
#[derive(Clone)]
pub struct Ports {
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
    /// Views of personal data (append-only).
    pub audit: Arc<dyn AuditLog>,
    pub notifier: Arc<dyn Notifier>,
    /// Keeps each live processing number encrypted until it expires, for the reminder.
    pub vault: Arc<dyn NumberVault>,
    /// Line lists, switch dates and counted facts of the graph export.
    pub graph_sources: Arc<dyn GraphSourceStore>,
    /// The full runs' leases.
    pub leases: Arc<dyn FullRunLeases>,
    /// The graph export's tallies between runs and the full runs' partial results (AWS: the state bucket, which
    /// only the functions that run them have).
    pub export_state: Option<Arc<dyn ExportStateStore>>,
    /// Where public files go (AWS: the export bucket, which only the functions that publish have).
    pub export: Option<Arc<dyn ExportSink>>,
    /// Starts a full export in partitions when a scheduled export finds no usable state (AWS: the state machine;
    /// `None` locally, where the scheduled run counts everything itself).
    pub full_runs: Option<Arc<dyn FullRunStarter>>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<dyn Metrics>,
}

/// A service asked of a wiring that lacks one of its ports (a function deployed without the bucket it needs):
/// refused when the function starts, naming the port.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("this function is wired without {0}")]
pub struct MissingPort(pub &'static str);

impl Ports {
    /// The export state store, or which port is missing.
    pub fn export_state(&self) -> Result<Arc<dyn ExportStateStore>, MissingPort> {
        self.export_state.clone().ok_or(MissingPort("the export state store (EXPORT_STATE_BUCKET)"))
    }

    /// The public export's sink, or which port is missing.
    pub fn export_sink(&self) -> Result<Arc<dyn ExportSink>, MissingPort> {
        self.export.clone().ok_or(MissingPort("the export sink (EXPORT_BUCKET)"))
    }
}

/// What a wiring builds (the platform's for AWS, the embedded one's locally): the ports and the settings, from
/// which each function builds the services it runs. A test may replace a port before it builds them.
#[derive(Clone)]
pub struct Wiring {
    pub ports: Ports,
    pub settings: Settings,
}

impl Wiring {
    /// The HTTP API's services.
    pub fn app(&self) -> App {
        App::new(&self.ports, &self.settings)
    }

    pub fn cases(&self) -> Cases {
        Cases::new(&self.ports, &self.settings)
    }

    pub fn linkage(&self) -> Linkage {
        Linkage::new(&self.ports, &self.settings)
    }

    pub fn relink(&self) -> Result<Relink, MissingPort> {
        Relink::new(&self.ports, &self.settings)
    }

    pub fn graph_export(&self) -> Result<GraphExport, MissingPort> {
        GraphExport::new(&self.ports, &self.settings)
    }

    pub fn graph_sources(&self) -> GraphSources {
        GraphSources::new(&self.ports)
    }

    pub fn publisher(&self) -> Result<Publisher, MissingPort> {
        Publisher::new(&self.ports)
    }
}

/// What the HTTP API serves: one of each service its routes call. The scheduled functions build only the service
/// they run ([`Cases`] for the re-issuer, [`Linkage`] and [`Relink`] for the linkage, [`GraphExport`] for the
/// export).
#[derive(Clone)]
pub struct App {
    pub cases: Cases,
    pub linkage: Linkage,
    pub audit: Audit,
    pub graph_sources: GraphSources,
    pub idempotency: Idempotency,
    clock: Arc<dyn Clock>,
}

impl App {
    pub fn new(ports: &Ports, settings: &Settings) -> App {
        App {
            cases: Cases::new(ports, settings),
            linkage: Linkage::new(ports, settings),
            audit: Audit::new(ports),
            graph_sources: GraphSources::new(ports),
            idempotency: Idempotency::new(ports, settings),
            clock: ports.clock.clone(),
        }
    }

    /// The wiring's "now" (answers state times relative to it).
    pub fn now(&self) -> crate::time::Instant {
        self.clock.now()
    }
}

/// The settings every wiring gives the services beside their ports (the platform reads them from the environment,
/// the local tools from their flags and data dir).
#[derive(Clone)]
pub struct Settings {
    pub hasher: KeyedHasher,
    /// The processing-number rules (validity, re-issues, reminder delay, quiet hours).
    pub policy: Policy,
    /// The link prefix that opens the app with a number filled in (`APP_LINK_BASE`).
    pub app_link: AppLink,
    /// Days from entry to diagnosis within which the linkage links (`LINKAGE_WINDOW_DAYS`).
    pub linkage_window_days: i32,
    /// The memory a full run's partitions run with (Lambda's setting; locally one vCPU's worth): how many partitions
    /// a start step plans when none is asked for ([`crate::partition_plan`]).
    pub memory_mb: u32,
}

/// One segment of a store read a page at a time: the loop every paged read shares. Each call of [`Pages::next`]
/// asks `read` for the page after the cursor it is given (none: the first) and gives its records, `None` once the
/// last page was read.
#[derive(Default)]
pub(crate) struct Pages {
    cursor: Option<String>,
    done: bool,
}

impl Pages {
    pub(crate) async fn next<T, Fut>(
        &mut self,
        read: impl FnOnce(Option<String>) -> Fut,
    ) -> Result<Option<Vec<T>>, StoreError>
    where
        Fut: std::future::Future<Output = Result<crate::ports::Page<T>, StoreError>>,
    {
        if self.done {
            return Ok(None);
        }
        let page = read(self.cursor.take()).await?;
        self.done = page.next.is_none();
        self.cursor = page.next;
        Ok(Some(page.items))
    }
}

/// Reads one segment of a store whole, a page at a time ([`Pages`]), handing each page's records to `each`.
pub(crate) async fn each_page<T, Fut>(
    mut read: impl FnMut(Option<String>) -> Fut,
    mut each: impl FnMut(Vec<T>),
) -> Result<(), StoreError>
where
    Fut: std::future::Future<Output = Result<crate::ports::Page<T>, StoreError>>,
{
    let mut pages = Pages::default();
    while let Some(items) = pages.next(&mut read).await? {
        each(items);
    }
    Ok(())
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

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::VersionConflict { expected } => AppError::Stale { expected },
            other => AppError::Store(other),
        }
    }
}
