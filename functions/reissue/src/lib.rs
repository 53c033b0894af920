//! The re-issuer: every minute, finds processing-number cycles that are due (a number expired unused, a reminder
//! to send) and hands them to the domain.

use domain::app::App;
use serde_json::{json, Value};

pub use api::events::ScheduledEvent;

/// Handles one scheduled event. "Now" is the event's `time`.
pub async fn handle(app: &App, event: Value) -> Result<Value, lambda_runtime::Error> {
    let event = ScheduledEvent::from_json(event)?;
    let outcome = app.run_due_cycles(event.time).await?;
    tracing::info!(due = outcome.due, "re-issue run done");
    Ok(json!({ "now": event.time, "due": outcome.due }))
}
