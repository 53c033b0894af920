//! The steps of a partitioned full export as events of the export function, the same in AWS (the Step Functions
//! state machine of `template.yaml` invokes the function with them) and locally ([`run_partitioned`], behind
//! `hersys export --full --partitions N`):
//!
//! ```json
//! {"full_export": {"step": "start", "partitions": 8}}
//! {"full_export": {"step": "partition", "run": {...}, "index": 3}}
//! {"full_export": {"step": "combine", "run": {...}, "now": "2021-10-01T00:00:00Z"}}   ("now" optional)
//! {"full_export": {"step": "abandon", "run": {...}}}
//! ```
//!
//! `start` answers `{"run": {...}, "partitions": [<the partition events>]}`: the Distributed Map's items are the
//! partition events themselves. `combine` publishes as a scheduled run does and answers as it does.

use domain::app::{App, FullExport};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ExportRun;

#[derive(Debug, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
enum Step {
    Start {
        partitions: u32,
    },
    Partition {
        run: FullExport,
        index: u32,
    },
    /// `now`: the day the series end on (default: the clock, as a scheduled run's event time).
    Combine {
        run: FullExport,
        #[serde(default)]
        now: Option<domain::time::Instant>,
    },
    Abandon {
        run: FullExport,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepEvent {
    full_export: Step,
}

/// Handles one step of a partitioned full export.
pub async fn handle_step(app: &App, event: Value) -> Result<Value, lambda_runtime::Error> {
    // serde's message can quote the event; only the shape is named (the event holds ids and counts anyway).
    let step = serde_json::from_value::<StepEvent>(event)
        .map_err(|_| "the full_export event must be one of the steps start, partition, combine, abandon")?
        .full_export;
    match step {
        Step::Start { partitions } => {
            let export = app.start_full_export(partitions).await?;
            let items: Vec<Value> = (0..export.partitions)
                .map(|index| json!({ "full_export": { "step": "partition", "run": export, "index": index } }))
                .collect();
            Ok(json!({ "run": export, "partitions": items }))
        }
        Step::Partition { run, index } => {
            let reports_read = app.count_partition(&run, index).await?;
            Ok(json!({ "index": index, "reports_read": reports_read }))
        }
        Step::Combine { run, now } => {
            let now = now.unwrap_or_else(|| app.clock.now());
            let (series, recount) = app.finish_full_export(&run, now).await?;
            let files = crate::publish(app, &series, now).await?;
            tracing::info!(files = files.len(), "full export published");
            Ok(ExportRun { recount, files }.answer(now))
        }
        Step::Abandon { run } => {
            app.abandon_full_export(&run).await?;
            Ok(json!({ "abandoned": run.run }))
        }
    }
}

/// Runs a partitioned full export in this process, through [`handle_step`] as the state machine would
/// ([`platform::partitioned`]): start, every partition at once (each tried up to `attempts` times), then combine as
/// of `now` (default: the clock); if a partition still fails, abandon and fail.
pub async fn run_partitioned(
    app: &App,
    partitions: u32,
    attempts: u32,
    now: Option<domain::time::Instant>,
) -> Result<Value, lambda_runtime::Error> {
    let app = app.clone();
    let handle = move |event: Value| {
        let app = app.clone();
        async move { handle_step(&app, event).await }
    };
    let start = json!({ "partitions": partitions });
    platform::partitioned::run_partitioned(handle, "full_export", start, attempts, |_| json!({ "now": now })).await
}
