//! Scheduled events (EventBridge Scheduler / EventBridge rules). A scheduled handler's "now" is the event's `time`,
//! never the clock, so a late run computes what was due then and a test can run any moment.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

#[derive(Debug, Clone, Deserialize)]
pub struct ScheduledEvent {
    pub time: DateTime<Utc>,
}

impl ScheduledEvent {
    /// Parses a scheduled event; a missing or malformed `time` is named in the error.
    pub fn from_json(value: serde_json::Value) -> Result<Self, ApiError> {
        let bytes = serde_json::to_vec(&value)
            .map_err(|_| ApiError::BadJson { field: "body".into(), problem: "is not valid JSON" })?;
        crate::wire::parse_json(&bytes)
    }
}

/// What a scheduled function with a partitioned run takes: a step of that run (`S`, as its state machine sends it),
/// or a scheduled event (`E`, from EventBridge Scheduler).
#[derive(Debug)]
pub enum StepOrScheduled<S, E> {
    Step(S),
    Scheduled(E),
}

impl<S: DeserializeOwned, E: DeserializeOwned> StepOrScheduled<S, E> {
    /// The event as Lambda delivers it, decoded ([`step_or_scheduled`]); `step` names the step's kind in a refusal.
    pub fn decode(value: serde_json::Value, step: &str) -> Result<Self, String> {
        Ok(match step_or_scheduled(value, step)? {
            Ok(s) => StepOrScheduled::Step(s),
            Err(e) => StepOrScheduled::Scheduled(e),
        })
    }
}

/// A function's event that is either a step of a partitioned run (`{"full_export": {...}}`, as a state machine sends
/// it; `S` denies unknown fields) or a scheduled event `E`. Each is tried in turn; when neither decodes, both reasons
/// are named (fields and paths, never values), so that a step a state machine shaped wrongly says where.
pub fn step_or_scheduled<S: DeserializeOwned, E: DeserializeOwned>(
    value: serde_json::Value,
    step: &str,
) -> Result<Result<S, E>, String> {
    let bytes = serde_json::to_vec(&value).map_err(|_| "the event is not valid JSON".to_owned())?;
    let as_step = match crate::wire::parse_json::<S>(&bytes) {
        Ok(step) => return Ok(Ok(step)),
        Err(e) => e,
    };
    match crate::wire::parse_json::<E>(&bytes) {
        Ok(event) => Ok(Err(event)),
        Err(as_event) => Err(format!("the event is neither {step} ({as_step}) nor a scheduled event ({as_event})")),
    }
}
