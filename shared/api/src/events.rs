//! Scheduled events (EventBridge Scheduler / EventBridge rules). A scheduled handler's "now" is the event's `time`,
//! never the clock, so a late run computes what was due then and a test can run any moment.

use chrono::{DateTime, Utc};
use serde::Deserialize;

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
