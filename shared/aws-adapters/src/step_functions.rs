//! The full runs' distributed engine: starts an execution of the full export's state machine (template.yaml,
//! `FullExportStateMachine`) with `{"partitions": N}`. The execution's name makes a start unique (Step Functions
//! refuses a name used by the machine in the last 90 days).

use async_trait::async_trait;
use domain::StoreError;
use domain::ports::FullRunStarter;

use crate::sdk_error::describe;

pub struct StepFunctionsStarter {
    client: aws_sdk_sfn::Client,
    /// `FULL_EXPORT_STATE_MACHINE_ARN`.
    full_export: String,
}

impl StepFunctionsStarter {
    pub fn new(client: aws_sdk_sfn::Client, full_export_state_machine_arn: String) -> StepFunctionsStarter {
        StepFunctionsStarter { client, full_export: full_export_state_machine_arn }
    }
}

#[async_trait]
impl FullRunStarter for StepFunctionsStarter {
    async fn start_full_export(&self, name: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .start_execution()
            .state_machine_arn(&self.full_export)
            .name(name)
            // No partition count: the start step sizes the run by the work it sees.
            .input("{}")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_execution_already_exists()) => Ok(false),
            Err(e) => Err(StoreError::Unavailable(describe("StartExecution", &e).text)),
        }
    }
}
