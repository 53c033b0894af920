//! The steps of a partitioned full re-link as events of the linkage function, the same in AWS (the Step Functions
//! state machine `FullLinkageStateMachine` of `template.yaml` invokes the function with them; the tests run it on
//! moto's interpreter) and locally ([`run_partitioned`], behind `hersys relink --partitions N`):
//!
//! ```json
//! {"full_linkage": {"step": "start", "input": {}}}
//! {"full_linkage": {"step": "start", "input": {"partitions": 8, "estimate": {"reports": 10000, "entries": 1000000}}}}
//! {"full_linkage": {"step": "partition", "run": {...}, "index": 3}}
//! {"full_linkage": {"step": "combine", "run": {...}, "partitions": [<the partitions' answers>], "now": "..."}}
//! {"full_linkage": {"step": "abandon", "run": {...}}}
//! ```
//!
//! `start`'s `input` is the execution's input ([`RunInput`]: without `partitions`, as many as the work needs,
//! `domain::partition_plan`). It answers [`Started`]: the run, and the partition events that are the Distributed
//! Map's items. Each partition answers a [`PartitionLinked`] (counts only); the Map's result, the array of those
//! answers in item order, is the combining step's `partitions`. `combine` ("now" optional: the clock) publishes the
//! statistics as a scheduled full run does and answers as it does.

use domain::app::{App, EstimateSample, FullLinkage, PartitionLinked};
use platform::function_error::FunctionError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Answer;

/// What a full re-link is asked for: the state machine's execution input, as the start step receives it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    /// Partitions (1 to 1000); absent: as many as keep each within the work budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<u32>,
    /// A new model version estimated from a sample first (the daily run); absent: the current model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<EstimateSample>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    Start {
        input: RunInput,
    },
    Partition {
        run: FullLinkage,
        index: u32,
    },
    Combine {
        run: FullLinkage,
        partitions: Vec<PartitionLinked>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        now: Option<domain::time::Instant>,
    },
    Abandon {
        run: FullLinkage,
    },
}

/// A step as the function receives it: `{"full_linkage": {"step": ..., ...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepEvent {
    pub full_linkage: Step,
}

/// What `start` answers: the run, and one partition event per partition (the Distributed Map's items).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Started {
    pub run: FullLinkage,
    pub partitions: Vec<StepEvent>,
}

/// Handles one step of a partitioned full re-link.
pub async fn handle_step(app: &App, step: Step) -> Result<Answer, FunctionError> {
    match step {
        Step::Start { input } => Ok(Answer::Started(start(app, input).await?)),
        Step::Partition { run, index } => Ok(Answer::Partition(app.link_partition(&run, index).await?)),
        Step::Combine { run, partitions, now } => {
            let now = now.unwrap_or_else(|| app.clock.now());
            let linked = app.finish_full_linkage(&run, &partitions, now).await?;
            let answer = crate::publish_run(app, now, &linked).await?;
            Ok(Answer::Run(crate::RunAnswer { partitions: Some(run.partitions), ..answer }))
        }
        Step::Abandon { run } => {
            app.abandon_full_linkage(&run).await?;
            Ok(Answer::Abandoned { abandoned: run.run })
        }
    }
}

async fn start(app: &App, input: RunInput) -> Result<Started, FunctionError> {
    let run = app.start_full_linkage(input.partitions, input.estimate).await?;
    let items = (0..run.partitions)
        .map(|index| StepEvent { full_linkage: Step::Partition { run: run.clone(), index } })
        .collect();
    Ok(Started { run, partitions: items })
}

/// Runs a partitioned full re-link in this process, step by step as the state machine does
/// ([`platform::partitioned`]): start (with `estimate`, a new model version from a sample first; without
/// `partitions`, as many as the work needs), every partition at once (each tried up to `attempts` times), then
/// combine as of `now` (default: the clock); if a partition still fails, abandon and fail. Answers as the combining
/// step does.
pub async fn run_partitioned(
    app: &App,
    input: RunInput,
    attempts: u32,
    now: Option<domain::time::Instant>,
) -> Result<Value, FunctionError> {
    let Started { run, partitions: items } = start(app, input).await?;
    let worker = app.clone();
    let partition = move |item: StepEvent| {
        let app = worker.clone();
        async move {
            match handle_step(&app, item.full_linkage).await? {
                Answer::Partition(linked) => Ok(linked),
                _ => Err(FunctionError::failed("a partition answered as another step")),
            }
        }
    };
    match platform::partitioned::run_partitions(items, attempts, partition).await {
        Ok(answers) => {
            let combined = handle_step(app, Step::Combine { run, partitions: answers, now }).await?;
            platform::function_error::encode_answer(&combined)
        }
        Err(e) => {
            handle_step(app, Step::Abandon { run }).await?;
            Err(FunctionError::new(e.name, format!("a partition of the full re-link failed: {e}")))
        }
    }
}
