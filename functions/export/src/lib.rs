//! The scheduled graph-data export: computes the public series from HER-SYS reports and writes them to the sink.

use domain::app::App;
use serde_json::{json, Value};

pub use api::events::ScheduledEvent;

/// Handles one scheduled event. "Now" is the event's `time`.
pub async fn handle(app: &App, event: Value) -> Result<Value, lambda_runtime::Error> {
    let event = ScheduledEvent::from_json(event)?;
    let outcome = app.export_graphs(event.time).await?;
    tracing::info!(files = outcome.files.len(), "export run done");
    Ok(json!({ "now": event.time, "files": outcome.files }))
}
