//! The scheduled linkage: joins outbreak reports with quarantine entry records.

use domain::app::App;
use serde_json::{json, Value};

pub use api::events::ScheduledEvent;

/// Handles one scheduled event. "Now" is the event's `time`.
pub async fn handle(app: &App, event: Value) -> Result<Value, lambda_runtime::Error> {
    let event = ScheduledEvent::from_json(event)?;
    let outcome = app.link_exact(event.time).await?;
    tracing::info!(reports = outcome.reports_with_passport, linked = outcome.linked, "linkage run done");
    Ok(json!({ "now": event.time, "reports_with_passport": outcome.reports_with_passport, "linked": outcome.linked }))
}
