//! The scheduled graph-data export: computes the public series (domain), renders them as the ministry's CSVs and
//! the page's JSON (`publish::graphs`, the edge's one renderer of public files) and writes them, with the dashboard
//! itself (the `dashboard` crate), to the sink (S3 in AWS, `DATA_DIR/export/` locally).

use domain::app::{
    AppError, ExportMode, FULL_EXPORT_STARTED, FULL_EXPORT_STARTED_TODAY, GraphExport, MissingPort, Publisher, Recount,
    Wiring,
};
use domain::time::{Instant, japan_date};
use platform::function_error::{FunctionError, encode_answer};
use serde::Serialize;
use serde_json::Value;

pub use api::events::{ScheduledEvent, StepOrScheduled};

pub mod full;

/// What the function runs on, built once per cold start (both buckets are required: the export and the full
/// export's functions have them).
#[derive(Clone)]
pub struct Services {
    pub export: GraphExport,
    pub publisher: Publisher,
}

impl Services {
    pub fn new(wiring: &Wiring) -> Result<Services, MissingPort> {
        Ok(Services { export: wiring.graph_export()?, publisher: wiring.publisher()? })
    }
}

/// What an export run counted and wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportRun {
    pub recount: Recount,
    pub files: Vec<String>,
}

/// Computes every series as of `now` and writes the files, the manifest last (so a reader that sees a new
/// manifest finds the files it names). Scheduled runs are incremental; `ExportMode::Full` counts everything again.
pub async fn run(services: &Services, now: Instant, mode: ExportMode) -> Result<ExportRun, AppError> {
    let (series, recount) = services.export.graph_series(now, mode).await?;
    let files = publish(services, &series, now).await?;
    Ok(ExportRun { recount, files })
}

/// Writes the files of `series`: the page first and the manifest (last of the data files) last, so that a reader
/// that sees a new manifest finds everything it names, and a page that can read it.
async fn publish(
    services: &Services,
    series: &domain::graphs::GraphSeries,
    now: Instant,
) -> Result<Vec<String>, AppError> {
    // The linkage function writes its statistics' CSVs beside these files; the manifest names them (and the
    // headline share), once a linkage run has computed them.
    let linkage = services.export.linkage_statistics().await?;
    let page = dashboard::files_beside_the_data().into_iter().map(|f| publish::File {
        path: f.path,
        content_type: f.content_type,
        bytes: f.bytes,
    });
    let data = publish::graphs::files(series, now, japan_date(now), linkage.as_ref())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut written = Vec::new();
    for file in page.chain(data) {
        services
            .publisher
            .put(&file.path, file.content_type, file.bytes)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        written.push(file.path);
    }
    // The freshness alarm (template.yaml, GraphsStaleAlarm) fires when no publication was counted for 26 hours.
    services.publisher.count_published("graphs");
    Ok(written)
}

/// The events the function takes: a step of a partitioned full export (what `FullExportStateMachine` sends), or a
/// scheduled event (EventBridge Scheduler; "now" is its `time`).
pub type Event = StepOrScheduled<full::StepEvent, ScheduledEvent>;

/// What the function answers (counts, ids and file names only).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Run(RunAnswer),
    Skipped {
        now: Instant,
        skipped: &'static str,
    },
    /// A step of the full export in partitions (its combining step answers a [`RunAnswer`] too).
    Step(full::StepAnswer),
}

/// What an export run counted, and the files it wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunAnswer {
    pub now: Instant,
    pub full: bool,
    pub reports_read: u64,
    pub recounted: u64,
    pub files: Vec<String>,
    /// The partitions a full run in partitions ran in (the combining step's answer); none for a scheduled run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partitions: Option<u32>,
}

/// Handles one event as Lambda delivers it: decoded into [`Event`], answered as JSON.
pub async fn handle(services: &Services, event: Value) -> Result<Value, FunctionError> {
    let event = Event::decode(event, "a full_export step").map_err(FunctionError::invalid_event)?;
    encode_answer(&handle_event(services, event).await?)
}

/// Handles one typed event: a step of a partitioned full export ([`full`]), or the incremental export.
pub async fn handle_event(services: &Services, event: Event) -> Result<Answer, FunctionError> {
    let event = match event {
        Event::Step(step) => return Ok(Answer::Step(platform::partitioned::handle_step(services, step.0).await?)),
        Event::Scheduled(event) => event,
    };
    let skipped = |skipped| Ok(Answer::Skipped { now: event.time, skipped });
    let outcome = match run(services, event.time, ExportMode::Incremental).await {
        Ok(outcome) => outcome,
        // A full export holds the lease: it publishes; this run's changes are read by the next one.
        Err(AppError::LeaseHeld(_)) => {
            tracing::info!("a full export is in progress: this run publishes nothing");
            return skipped("a full export is in progress");
        }
        // No usable state, in AWS: the full export runs in partitions on the state machine, which publishes.
        Err(AppError::Conflict(FULL_EXPORT_STARTED)) => {
            return skipped("no usable state: the full export in partitions is started");
        }
        Err(AppError::Conflict(FULL_EXPORT_STARTED_TODAY)) => {
            return skipped(
                "no usable state, and today's full export in partitions was started already: see the state \
                 machine's executions (start one by hand to try again today)",
            );
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(files = outcome.files.len(), "export run done");
    Ok(Answer::Run(outcome.answer(event.time)))
}

impl ExportRun {
    /// What the handler answers for a run as of `now`.
    pub fn answer(&self, now: Instant) -> RunAnswer {
        let r = &self.recount;
        RunAnswer {
            now,
            full: r.full,
            reports_read: r.reports_read,
            recounted: r.recounted,
            files: self.files.clone(),
            partitions: None,
        }
    }
}
