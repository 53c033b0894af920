//! The scheduled graph-data export: computes the public series (domain), renders them as the ministry's CSVs and
//! the page's JSON (`publish::graphs`, the edge's one renderer of public files) and writes them, with the dashboard
//! itself (the `dashboard` crate), to the sink (S3 in AWS, `DATA_DIR/export/` locally).

use domain::app::{App, AppError, ExportMode, Recount};
use domain::time::{Instant, japan_date};
use serde_json::{Value, json};

pub use api::events::ScheduledEvent;

/// What an export run counted and wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportRun {
    pub recount: Recount,
    pub files: Vec<String>,
}

/// Computes every series as of `now` and writes the files, the manifest last (so a reader that sees a new
/// manifest finds the files it names). Scheduled runs are incremental; `ExportMode::Full` counts everything again.
pub async fn run(app: &App, now: Instant, mode: ExportMode) -> Result<ExportRun, AppError> {
    let (series, recount) = app.graph_series(now, mode).await?;
    // The linkage function writes its statistics' CSVs beside these files; the manifest names them (and the
    // headline share), once a linkage run has computed them.
    let linkage = app.links.get_summary().await?.filter(|s| s.computed_at.is_some());
    let mut run = ExportRun { recount, files: Vec::new() };
    // The page first and the manifest (last of the data files) last: a reader that sees a new manifest finds
    // everything it names, and a page that can read it.
    let page = dashboard::files_beside_the_data().into_iter().map(|f| publish::File {
        path: f.path,
        content_type: f.content_type,
        bytes: f.bytes,
    });
    let data = publish::graphs::files(&series, now, japan_date(now), linkage.as_ref())
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let files = page.chain(data);
    for file in files {
        app.export
            .put_object(&file.path, file.content_type, file.bytes)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        run.files.push(file.path);
    }
    Ok(run)
}

/// Handles one scheduled event. "Now" is the event's `time`.
pub async fn handle(app: &App, event: Value) -> Result<Value, lambda_runtime::Error> {
    let event = ScheduledEvent::from_json(event)?;
    let outcome = run(app, event.time, ExportMode::Incremental).await?;
    tracing::info!(files = outcome.files.len(), "export run done");
    let r = &outcome.recount;
    Ok(json!({
        "now": event.time,
        "full": r.full, "reports_read": r.reports_read, "recounted": r.recounted,
        "files": outcome.files,
    }))
}
