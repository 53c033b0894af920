//! The steps of a partitioned full re-link as events of the linkage function, the same in AWS (the Step Functions
//! state machine `FullLinkageStateMachine` of `template.yaml` invokes the function with them; the tests run it on
//! moto's interpreter) and locally ([`run_partitioned`], behind `hersys relink --partitions N`):
//!
//! ```json
//! {"full_linkage": {"step": "start", "input": {}}}
//! {"full_linkage": {"step": "start", "input": {"partitions": 8, "estimate": {"reports": 10000, "entries": 1000000}}}}
//! {"full_linkage": {"step": "file", "run": {...}, "index": 3}}
//! {"full_linkage": {"step": "prepare", "run": {...}}}
//! {"full_linkage": {"step": "partition", "run": {...}, "index": 3}}
//! {"full_linkage": {"step": "combine", "run": {...}, "partitions": [<the partitions' answers>], "now": "..."}}
//! {"full_linkage": {"step": "abandon", "run": {...}}}
//! ```
//!
//! `start`'s `input` is the execution's input ([`RunInput`]: without `partitions`, as many as the work needs,
//! `domain::partition_plan`). It answers [`Started`]: the run, and the filing events, which are the first Map's items
//! (the first run only, when nothing is filed and there is no model: each files a segment of the history in the
//! stored index; otherwise none). `prepare` then chooses the model (estimated from a sample when the run asks, as the
//! daily and the first run do) and answers [`Prepared`]: the run and the partition events, the second Map's items.
//! Each partition answers a [`PartitionLinked`] (counts only); the Map's result, the array of those answers in item
//! order, is the combining step's `partitions`. `combine` ("now" optional: the clock) publishes the statistics as a
//! scheduled full run does and answers as it does.

use domain::app::{EstimateSample, FullLinkage, PartitionLinked, Publisher, Relink};
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
    File {
        run: FullLinkage,
        index: u32,
    },
    Prepare {
        run: FullLinkage,
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

/// What `start` answers: the run, and the filing events (the first Map's items: the first run only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Started {
    pub run: FullLinkage,
    pub filing: Vec<StepEvent>,
}

/// What `prepare` answers: the run with its model, and one partition event per partition (the second Map's items).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prepared {
    pub run: FullLinkage,
    pub partitions: Vec<StepEvent>,
}

/// Handles one step of a partitioned full re-link.
pub async fn handle_step(relink: &Relink, publisher: &Publisher, step: Step) -> Result<Answer, FunctionError> {
    match step {
        Step::Start { input } => Ok(Answer::Started(start(relink, input).await?)),
        Step::File { run, index } => Ok(Answer::Filed(relink.file_partition(&run, index).await?)),
        Step::Prepare { run } => {
            let run = relink.prepare_full_linkage(&run).await?;
            let partitions = (0..run.partitions)
                .map(|index| StepEvent { full_linkage: Step::Partition { run: run.clone(), index } })
                .collect();
            Ok(Answer::Prepared(Prepared { run, partitions }))
        }
        Step::Partition { run, index } => Ok(Answer::Partition(relink.link_partition(&run, index).await?)),
        Step::Combine { run, partitions, now } => {
            let now = now.unwrap_or_else(|| relink.linkage().now());
            let linked = relink.finish_full_linkage(&run, &partitions, now).await?;
            let answer = crate::publish_run(publisher, now, &linked).await?;
            Ok(Answer::Run(crate::RunAnswer { partitions: Some(run.partitions), ..answer }))
        }
        Step::Abandon { run } => {
            relink.abandon_full_linkage(&run).await?;
            Ok(Answer::Abandoned { abandoned: run.run })
        }
    }
}

async fn start(relink: &Relink, input: RunInput) -> Result<Started, FunctionError> {
    let run = relink.start_full_linkage(input.partitions, input.estimate).await?;
    let filing =
        (0..run.filing).map(|index| StepEvent { full_linkage: Step::File { run: run.clone(), index } }).collect();
    Ok(Started { run, filing })
}

/// Runs a partitioned full re-link in this process, step by step as the state machine does
/// ([`platform::partitioned`]): start (without `partitions`, as many as the work needs), the filing partitions at once
/// (the first run), prepare (with `estimate`, a new model version from a sample), every partition at once (each
/// partition of either kind tried up to `attempts` times), then combine as of `now` (default: the clock); if a step
/// after the start fails, abandon and fail. Answers as the combining step does.
pub async fn run_partitioned(
    relink: &Relink,
    publisher: &Publisher,
    input: RunInput,
    attempts: u32,
    now: Option<domain::time::Instant>,
) -> Result<Value, FunctionError> {
    let Started { run, filing } = start(relink, input).await?;
    match after_start(relink, publisher, run.clone(), filing, attempts, now).await {
        Ok(answer) => platform::function_error::encode_answer(&answer),
        Err(e) => {
            handle_step(relink, publisher, Step::Abandon { run }).await?;
            Err(FunctionError::new(e.name, format!("the full re-link failed: {e}")))
        }
    }
}

/// The steps after the start, as the state machine runs them: filing, prepare, the partitions, combine.
async fn after_start(
    relink: &Relink,
    publisher: &Publisher,
    run: FullLinkage,
    filing: Vec<StepEvent>,
    attempts: u32,
    now: Option<domain::time::Instant>,
) -> Result<Answer, FunctionError> {
    let (worker, published) = (relink.clone(), publisher.clone());
    let step = move |item: StepEvent| {
        let (relink, publisher) = (worker.clone(), published.clone());
        async move { handle_step(&relink, &publisher, item.full_linkage).await }
    };
    platform::partitioned::run_partitions(filing, attempts, step.clone()).await?;
    let Answer::Prepared(Prepared { run: prepared, partitions }) =
        handle_step(relink, publisher, Step::Prepare { run }).await?
    else {
        return Err(FunctionError::failed("prepare answered as another step"));
    };
    let answers = platform::partitioned::run_partitions(partitions, attempts, step).await?;
    let answers = answers
        .into_iter()
        .map(|answer| match answer {
            Answer::Partition(linked) => Ok(linked),
            _ => Err(FunctionError::failed("a partition answered as another step")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    handle_step(relink, publisher, Step::Combine { run: prepared, partitions: answers, now }).await
}
