//! The full export in partitions: what the export function does at each step of the full runs' protocol
//! ([`platform::partitioned`], the key `full_export`), the same in AWS (the Step Functions state machine
//! `FullExportStateMachine` of `template.yaml` invokes the function with the steps; the tests run it on moto's
//! interpreter) and locally ([`run_partitioned`], behind `hersys export --full --partitions N`).
//!
//! `start`'s `input` is the execution's input ([`RunInput`]). A full export files nothing (no filing partitions), and
//! `prepare` gives the partition events. Each partition counts its reports' facts and saves its tally privately, so
//! `combine` is given no answers: it reads the tallies, publishes as a scheduled run does and answers as it does.

use async_trait::async_trait;
use domain::app::{FullExport, PartitionCounted};
use domain::time::Instant;
use platform::function_error::FunctionError;
use platform::partitioned::{FullRunKind, FullRunSteps};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{RunAnswer, Services};

/// What a full export is asked for: the state machine's execution input, as the start step receives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInput {
    /// Partitions (1 to 1000); absent: as many as keep each within the work budget (`domain::partition_plan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<u32>,
}

/// The full export as a kind of full run: `{"full_export": {"step": ...}}`.
#[derive(Debug, Clone, PartialEq)]
pub enum FullExportRun {}

impl FullRunKind for FullExportRun {
    const KEY: &'static str = "full_export";
    const NAME: &'static str = "full export";
    type Input = RunInput;
    type Run = FullExport;
    /// A full export has no filing partitions; this is never answered.
    type Filed = ();
    type Partial = PartitionCounted;

    fn run_id(run: &FullExport) -> &str {
        &run.run
    }
}

/// A step of the full export, as the function receives it.
pub type StepEvent = platform::partitioned::StepEvent<FullExportRun>;
/// What a step of the full export answers.
pub type StepAnswer = platform::partitioned::StepAnswer<FullExportRun, RunAnswer>;

#[async_trait]
impl FullRunSteps for Services {
    type Kind = FullExportRun;
    type Combined = RunAnswer;

    async fn start(&self, input: RunInput) -> Result<FullExport, FunctionError> {
        Ok(self.export.start_full_export(input.partitions).await?)
    }

    async fn file(&self, _run: &FullExport, _index: u32) -> Result<(), FunctionError> {
        Err(FunctionError::invalid_event("a full export has no file step"))
    }

    async fn prepare(&self, run: &FullExport) -> Result<(FullExport, u32), FunctionError> {
        Ok((run.clone(), run.partitions))
    }

    async fn partition(&self, run: &FullExport, index: u32) -> Result<PartitionCounted, FunctionError> {
        Ok(self.export.count_partition(run, index).await?)
    }

    /// The partitions' answers are not needed: each saved its tally, which `finish_full_export` reads.
    async fn combine(
        &self,
        run: &FullExport,
        _partitions: &[PartitionCounted],
        now: Option<Instant>,
    ) -> Result<RunAnswer, FunctionError> {
        let now = now.unwrap_or_else(|| self.export.now());
        let (series, recount) = self.export.finish_full_export(run, now).await?;
        let files = crate::publish(self, &series, now).await?;
        tracing::info!(files = files.len(), "full export published");
        let answer = crate::ExportRun { recount, files }.answer(now);
        Ok(RunAnswer { partitions: Some(run.partitions), ..answer })
    }

    async fn abandon(&self, run: &FullExport) -> Result<(), FunctionError> {
        Ok(self.export.abandon_full_export(run).await?)
    }

    fn filing(_run: &FullExport) -> u32 {
        0
    }
}

/// Runs a full export in partitions in this process, step by step as the state machine does
/// ([`platform::partitioned::run_steps`]): `partitions` absent, as many as the work needs; each partition tried up to
/// `attempts` times; combined as of `now` (default: the clock). Answers as the combining step does.
pub async fn run_partitioned(
    services: &Services,
    partitions: Option<u32>,
    attempts: u32,
    now: Option<Instant>,
) -> Result<Value, FunctionError> {
    let answer = platform::partitioned::run_steps(services, RunInput { partitions }, attempts, now).await?;
    platform::function_error::encode_answer(&answer)
}
