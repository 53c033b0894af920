//! The steps of a partitioned full export as events of the export function, the same in AWS (the Step Functions
//! state machine `FullExportStateMachine` of `template.yaml` invokes the function with them; the tests run it on
//! moto's interpreter) and locally ([`run_partitioned`], behind `hersys export --full --partitions N`):
//!
//! ```json
//! {"full_export": {"step": "start", "input": {"partitions": 8}}}      ("input": {} sizes by the work)
//! {"full_export": {"step": "partition", "run": {...}, "index": 3}}
//! {"full_export": {"step": "combine", "run": {...}, "now": "2021-10-01T00:00:00Z"}}   ("now" optional)
//! {"full_export": {"step": "abandon", "run": {...}}}
//! ```
//!
//! `start` answers [`Started`]: the run, and the partition events that are the Distributed Map's items. The
//! partitions save their counts privately; `combine` reads them, publishes as a scheduled run does and answers as it
//! does.

use domain::app::FullExport;

use crate::Services;
use platform::function_error::FunctionError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Answer;

/// What a full export is asked for: the state machine's execution input, as the start step receives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    /// Partitions (1 to 1000); absent: as many as keep each within the work budget (`domain::partition_plan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    Start {
        input: RunInput,
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

/// Handles one step of a partitioned full export.
pub async fn handle_step(services: &Services, step: Step) -> Result<Answer, FunctionError> {
    match step {
        Step::Start { input } => Ok(Answer::Started(start(services, input.partitions).await?)),
        Step::Partition { run, index } => Ok(Answer::Partition(services.export.count_partition(&run, index).await?)),
        Step::Combine { run, now } => {
            let now = now.unwrap_or_else(|| services.export.now());
            let (series, recount) = services.export.finish_full_export(&run, now).await?;
            let files = crate::publish(services, &series, now).await?;
            tracing::info!(files = files.len(), "full export published");
            let answer = crate::ExportRun { recount, files }.answer(now);
            Ok(Answer::Run(crate::RunAnswer { partitions: Some(run.partitions), ..answer }))
        }
        Step::Abandon { run } => {
            services.export.abandon_full_export(&run).await?;
            Ok(Answer::Abandoned { abandoned: run.run })
        }
    }
}

async fn start(services: &Services, partitions: Option<u32>) -> Result<Started, FunctionError> {
    let run = services.export.start_full_export(partitions).await?;
    let items = (0..run.partitions)
        .map(|index| StepEvent { full_export: Step::Partition { run: run.clone(), index } })
        .collect();
    Ok(Started { run, partitions: items })
}

/// Runs a partitioned full export in this process, step by step as the state machine does
/// ([`platform::partitioned`]): start (`partitions` absent: as many as the work needs), every partition at once (each
/// tried up to `attempts` times), then combine as of `now` (default: the clock); if a partition still fails, abandon
/// and fail. Answers as the combining step does.
pub async fn run_partitioned(
    services: &Services,
    partitions: Option<u32>,
    attempts: u32,
    now: Option<domain::time::Instant>,
) -> Result<Value, FunctionError> {
    let Started { run, partitions: items } = start(services, partitions).await?;
    let worker = services.clone();
    let partition = move |item: StepEvent| {
        let services = worker.clone();
        async move { handle_step(&services, item.full_export).await }
    };
    match platform::partitioned::run_partitions(items, attempts, partition).await {
        Ok(_) => platform::function_error::encode_answer(&handle_step(services, Step::Combine { run, now }).await?),
        Err(e) => {
            handle_step(services, Step::Abandon { run }).await?;
            Err(FunctionError::new(e.name, format!("a partition of the full export failed: {e}")))
        }
    }
}
