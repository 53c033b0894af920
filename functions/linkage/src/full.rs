//! The full re-link in partitions: what the linkage function does at each step of the full runs' protocol
//! ([`platform::partitioned`], the key `full_linkage`), the same in AWS (the Step Functions state machine
//! `FullLinkageStateMachine` of `template.yaml` invokes the function with the steps; the tests run it on moto's
//! interpreter) and locally ([`run_partitioned`], behind `hersys relink --partitions N`):
//!
//! ```json
//! {"full_linkage": {"step": "start", "input": {}}}
//! {"full_linkage": {"step": "start", "input": {"partitions": 8, "estimate": {"reports": 10000, "entries": 1000000}}}}
//! ```
//!
//! `start`'s `input` is the execution's input ([`RunInput`]: without `partitions`, as many as the work needs,
//! `domain::partition_plan`). Its filing partitions are the first run's only, when nothing is filed and there is no
//! model: each files a segment of the history in the stored index. `prepare` then chooses the model (estimated from a
//! sample when the run asks, as the daily and the first run do). Each partition answers a [`PartitionLinked`]
//! (counts only); `combine` adds them up, reads the partitions' statistics and publishes them as a scheduled full run
//! does, and answers as it does.

use async_trait::async_trait;
use domain::app::{EstimateSample, FullLinkage, PartitionFiled, PartitionLinked, Publisher, Relink};
use domain::time::Instant;
use platform::function_error::FunctionError;
use platform::partitioned::{FullRunKind, FullRunSteps};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::RunAnswer;

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

/// The full re-link as a kind of full run: `{"full_linkage": {"step": ...}}`.
#[derive(Debug, Clone, PartialEq)]
pub enum FullLinkageRun {}

impl FullRunKind for FullLinkageRun {
    const KEY: &'static str = "full_linkage";
    const NAME: &'static str = "full re-link";
    type Input = RunInput;
    type Run = FullLinkage;
    type Filed = PartitionFiled;
    type Partial = PartitionLinked;

    fn run_id(run: &FullLinkage) -> &str {
        &run.run
    }
}

/// A step of the full re-link, as the function receives it.
pub type StepEvent = platform::partitioned::StepEvent<FullLinkageRun>;
/// What a step of the full re-link answers.
pub type StepAnswer = platform::partitioned::StepAnswer<FullLinkageRun, RunAnswer>;

/// What the steps of a full re-link run on: the partitioned re-link, and the publisher of its statistics.
#[derive(Clone)]
pub struct FullRelink {
    pub relink: Relink,
    pub publisher: Publisher,
}

#[async_trait]
impl FullRunSteps for FullRelink {
    type Kind = FullLinkageRun;
    type Combined = RunAnswer;

    async fn start(&self, input: RunInput) -> Result<FullLinkage, FunctionError> {
        Ok(self.relink.start_full_linkage(input.partitions, input.estimate).await?)
    }

    async fn file(&self, run: &FullLinkage, index: u32) -> Result<PartitionFiled, FunctionError> {
        Ok(self.relink.file_partition(run, index).await?)
    }

    async fn prepare(&self, run: &FullLinkage) -> Result<(FullLinkage, u32), FunctionError> {
        let run = self.relink.prepare_full_linkage(run).await?;
        let partitions = run.partitions;
        Ok((run, partitions))
    }

    async fn partition(&self, run: &FullLinkage, index: u32) -> Result<PartitionLinked, FunctionError> {
        Ok(self.relink.link_partition(run, index).await?)
    }

    async fn combine(
        &self,
        run: &FullLinkage,
        partitions: &[PartitionLinked],
        now: Option<Instant>,
    ) -> Result<RunAnswer, FunctionError> {
        let now = now.unwrap_or_else(|| self.relink.linkage().now());
        let linked = self.relink.finish_full_linkage(run, partitions, now).await?;
        let answer = crate::publish_run(&self.publisher, now, &linked).await?;
        Ok(RunAnswer { partitions: Some(run.partitions), ..answer })
    }

    async fn abandon(&self, run: &FullLinkage) -> Result<(), FunctionError> {
        Ok(self.relink.abandon_full_linkage(run).await?)
    }

    fn filing(run: &FullLinkage) -> u32 {
        run.filing
    }
}

/// Runs a full re-link in partitions in this process, step by step as the state machine does
/// ([`platform::partitioned::run_steps`]): without `partitions`, as many as the work needs; with `estimate`, a new
/// model version from a sample first; each partition tried up to `attempts` times; combined as of `now` (default:
/// the clock). Answers as the combining step does.
pub async fn run_partitioned(
    relink: &Relink,
    publisher: &Publisher,
    input: RunInput,
    attempts: u32,
    now: Option<Instant>,
) -> Result<Value, FunctionError> {
    let steps = FullRelink { relink: relink.clone(), publisher: publisher.clone() };
    let answer = platform::partitioned::run_steps(&steps, input, attempts, now).await?;
    platform::function_error::encode_answer(&answer)
}
