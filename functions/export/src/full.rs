//! The steps of a partitioned full export as events of the export function, the same in AWS (the Step Functions
//! state machine `FullExportStateMachine` of `template.yaml` invokes the function with them; the tests run it on
//! moto's interpreter) and locally ([`run_partitioned`], behind `hersys export --full --partitions N`):
//!
//! ```json
//! {"full_export": {"step": "start", "partitions": 8}}
//! {"full_export": {"step": "partition", "run": {...}, "index": 3}}
//! {"full_export": {"step": "combine", "run": {...}, "now": "2021-10-01T00:00:00Z"}}   ("now" optional)
//! {"full_export": {"step": "abandon", "run": {...}}}
//! ```
//!
//! `start` answers [`Started`]: the run, and the partition events that are the Distributed Map's items. The
//! partitions save their counts privately; `combine` reads them, publishes as a scheduled run does and answers as it
//! does.

use domain::app::{App, FullExport};
use platform::function_error::FunctionError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Answer;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        now: Option<domain::time::Instant>,
    },
    Abandon {
        run: FullExport,
    },
}

/// A step as the function receives it: `{"full_export": {"step": ..., ...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepEvent {
    pub full_export: Step,
}

/// What `start` answers: the run, and one partition event per partition (the Distributed Map's items).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Started {
    pub run: FullExport,
    pub partitions: Vec<StepEvent>,
}

/// What a partition answers: its index and the reports it read (its counts are saved, not passed on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionCounted {
    pub index: u32,
    pub reports_read: u64,
}

/// Handles one step of a partitioned full export.
pub async fn handle_step(app: &App, step: Step) -> Result<Answer, FunctionError> {
    match step {
        Step::Start { partitions } => Ok(Answer::Started(start(app, partitions).await?)),
        Step::Partition { run, index } => {
            let reports_read = app.count_partition(&run, index).await?;
            Ok(Answer::Partition(PartitionCounted { index, reports_read }))
        }
        Step::Combine { run, now } => {
            let now = now.unwrap_or_else(|| app.clock.now());
            let (series, recount) = app.finish_full_export(&run, now).await?;
            let files = crate::publish(app, &series, now).await?;
            tracing::info!(files = files.len(), "full export published");
            Ok(Answer::Run(crate::ExportRun { recount, files }.answer(now)))
        }
        Step::Abandon { run } => {
            app.abandon_full_export(&run).await?;
            Ok(Answer::Abandoned { abandoned: run.run })
        }
    }
}

async fn start(app: &App, partitions: u32) -> Result<Started, FunctionError> {
    let run = app.start_full_export(partitions).await?;
    let items = (0..run.partitions)
        .map(|index| StepEvent { full_export: Step::Partition { run: run.clone(), index } })
        .collect();
    Ok(Started { run, partitions: items })
}

/// Runs a partitioned full export in this process, step by step as the state machine does
/// ([`platform::partitioned`]): start, every partition at once (each tried up to `attempts` times), then combine as
/// of `now` (default: the clock); if a partition still fails, abandon and fail. Answers as the combining step does.
pub async fn run_partitioned(
    app: &App,
    partitions: u32,
    attempts: u32,
    now: Option<domain::time::Instant>,
) -> Result<Value, FunctionError> {
    let Started { run, partitions: items } = start(app, partitions).await?;
    let worker = app.clone();
    let partition = move |item: StepEvent| {
        let app = worker.clone();
        async move { handle_step(&app, item.full_export).await }
    };
    match platform::partitioned::run_partitions(items, attempts, partition).await {
        Ok(_) => platform::function_error::encode_answer(&handle_step(app, Step::Combine { run, now }).await?),
        Err(e) => {
            handle_step(app, Step::Abandon { run }).await?;
            Err(FunctionError::new(e.name, format!("a partition of the full export failed: {e}")))
        }
    }
}
