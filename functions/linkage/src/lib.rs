//! The scheduled linkage: joins outbreak reports with quarantine entry records (issue 5) and stores the decisions.
//! The hourly event links what was written since the last run; an event whose `detail` is `{"mode": "full"}`
//! re-links everything with the current model, `{"mode": "estimate"}` estimates a new model version first (the
//! daily schedule). The full runs recompute the statistics and publish them as the public CSV files
//! (`publish::linkage`, small counts hidden) beside the graph export's files.

use domain::app::{App, AppError, LinkageMode};
use domain::error::{FieldError, Problem, ValidationError};
use publish::Audience;
use serde_json::{Value, json};

pub use api::events::ScheduledEvent;

/// Handles one scheduled event. "Now" is the event's `time`. The answer holds counts only.
pub async fn handle(app: &App, event: Value) -> Result<Value, lambda_runtime::Error> {
    let mode = mode_of(&event)?;
    let event = ScheduledEvent::from_json(event)?;
    let run = app.run_linkage(event.time, mode).await?;
    let rendered = match &run.summary {
        Some(summary) => {
            publish::linkage::files(summary.into(), Audience::Public).map_err(|e| AppError::Internal(e.to_string()))?
        }
        None => Vec::new(),
    };
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
        "mode": run.mode,
        "model_version": run.model_version,
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

/// The run an event asks for: `detail.mode` (`incremental`, `full`, `estimate`); none is the hourly run.
fn mode_of(event: &Value) -> Result<LinkageMode, AppError> {
    let refuse = |why| AppError::Invalid(ValidationError(vec![FieldError::new("detail.mode", Problem::Invalid(why))]));
    match event.pointer("/detail/mode") {
        None | Some(Value::Null) => Ok(LinkageMode::Incremental),
        Some(Value::String(name)) => {
            LinkageMode::parse(name).ok_or_else(|| refuse("must be one of: incremental, full, estimate"))
        }
        Some(_) => Err(refuse("must be a string")),
    }
}
