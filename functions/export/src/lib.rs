//! The scheduled graph-data export: computes the public series (domain), renders them as the ministry's CSVs and
//! the page's JSON ([`render`], here at the edge) and writes them to the sink (S3 in AWS, `DATA_DIR/export/`
//! locally).

pub mod render;

use domain::app::{App, AppError};
use domain::time::{japan_date, Instant};
use serde_json::{json, Value};

pub use api::events::ScheduledEvent;

/// What an export run wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportRun {
    pub files: Vec<String>,
}

/// Computes every series as of `now` and writes the files, the manifest last (so a reader that sees a new
/// manifest finds the files it names).
pub async fn run(app: &App, now: Instant) -> Result<ExportRun, AppError> {
    let series = app.graph_series(now).await?;
    let mut run = ExportRun::default();
    for file in render::files(&series, now, japan_date(now)) {
        app.export.put_object(&file.path, file.content_type, file.bytes).await.map_err(|e| AppError::Internal(e.to_string()))?;
        run.files.push(file.path);
    }
    Ok(run)
}

/// Handles one scheduled event. "Now" is the event's `time`.
pub async fn handle(app: &App, event: Value) -> Result<Value, lambda_runtime::Error> {
    let event = ScheduledEvent::from_json(event)?;
    let outcome = run(app, event.time).await?;
    tracing::info!(files = outcome.files.len(), "export run done");
    Ok(json!({ "now": event.time, "files": outcome.files }))
}
