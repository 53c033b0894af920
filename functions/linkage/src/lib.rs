//! The scheduled linkage: joins outbreak reports with quarantine entry records (issue 5), stores the decisions and
//! recomputes the statistics, then publishes them as the public CSV files (`publish::linkage`, small counts
//! hidden) beside the graph export's files.

use domain::app::{App, AppError};
use publish::Audience;
use serde_json::{Value, json};

pub use api::events::ScheduledEvent;

/// Handles one scheduled event. "Now" is the event's `time`. The answer holds counts only.
pub async fn handle(app: &App, event: Value) -> Result<Value, lambda_runtime::Error> {
    let event = ScheduledEvent::from_json(event)?;
    let run = app.run_linkage(event.time).await?;
    let rendered = publish::linkage::files((&run.summary).into(), Audience::Public)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut files = Vec::with_capacity(rendered.len());
    for file in rendered {
        app.export
            .put_object(&file.path, file.content_type, file.bytes)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        files.push(file.path);
    }
    Ok(json!({
        "now": event.time,
        "entries": run.entries,
        "reports": run.reports,
        "candidate_pairs": run.candidate_pairs,
        "links": run.links,
        "reviews": run.reviews,
        "written": run.written,
        "unchanged": run.unchanged,
        "kept_reviewed": run.kept_reviewed,
        "removed": run.removed,
        "files": files,
    }))
}
