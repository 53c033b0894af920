//! The error a scheduled function's handler returns. Lambda reports its `name` as the invocation's `errorType`, which
//! is what a Step Functions `Retry` or `Catch` matches (`ErrorEquals`): the state machines of `template.yaml` retry
//! `StepFailed` and never `LeaseHeld` or `InvalidEvent`, which another try cannot change. The message names fields
//! and runs, never a value (the events hold ids and counts anyway).

use domain::app::AppError;

/// What went wrong, as Step Functions matches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorName {
    /// The event is not one this function takes. Not retried.
    InvalidEvent,
    /// Another run holds the full run's lease, or this run lost it. Not retried.
    LeaseHeld,
    /// Anything else (a store failing, a step that did not finish): worth another try.
    StepFailed,
}

impl ErrorName {
    /// The `errorType` Lambda reports, and `ErrorEquals` matches.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorName::InvalidEvent => "InvalidEvent",
            ErrorName::LeaseHeld => "LeaseHeld",
            ErrorName::StepFailed => "StepFailed",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct FunctionError {
    pub name: ErrorName,
    pub message: String,
}

impl FunctionError {
    pub fn new(name: ErrorName, message: impl Into<String>) -> Self {
        FunctionError { name, message: message.into() }
    }

    pub fn invalid_event(message: impl Into<String>) -> Self {
        FunctionError::new(ErrorName::InvalidEvent, message)
    }

    pub fn failed(message: impl Into<String>) -> Self {
        FunctionError::new(ErrorName::StepFailed, message)
    }

    /// Another try may succeed (the local driver retries as the state machines do).
    pub fn is_retryable(&self) -> bool {
        self.name == ErrorName::StepFailed
    }
}

impl From<AppError> for FunctionError {
    fn from(e: AppError) -> Self {
        let name = match e {
            AppError::LeaseHeld(_) => ErrorName::LeaseHeld,
            AppError::Invalid(_) => ErrorName::InvalidEvent,
            _ => ErrorName::StepFailed,
        };
        FunctionError::new(name, e.to_string())
    }
}

impl From<FunctionError> for lambda_runtime::Diagnostic {
    fn from(e: FunctionError) -> Self {
        lambda_runtime::Diagnostic { error_type: e.name.as_str().to_owned(), error_message: e.message }
    }
}

/// Encodes a function's typed answer as the JSON Lambda returns.
pub fn encode_answer<T: serde::Serialize>(answer: &T) -> Result<serde_json::Value, FunctionError> {
    serde_json::to_value(answer).map_err(|e| FunctionError::failed(format!("the answer does not encode: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_functions_sees_the_name_and_a_message_without_values() {
        let e: lambda_runtime::Diagnostic =
            FunctionError::from(AppError::LeaseHeld(domain::app::FullRun::Linkage)).into();
        assert_eq!(e.error_type, "LeaseHeld");
        assert!(e.error_message.contains("full re-link"), "{}", e.error_message);
        let e: lambda_runtime::Diagnostic = FunctionError::from(AppError::Internal("x".into())).into();
        assert_eq!(e.error_type, "StepFailed");
    }
}
