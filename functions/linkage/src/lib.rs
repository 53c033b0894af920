//! The scheduled linkage: joins outbreak reports with quarantine entry records (issue 5) and stores the decisions.
//! The hourly event links what was written since the last run; an event whose `detail` is `{"mode": "full"}`
//! re-links everything with the current model, `{"mode": "estimate"}` estimates a new model version from every record
//! first (the first run does; the daily schedule estimates from a sample and re-links in partitions instead: [`full`]).
//! The full runs recompute the statistics and publish them as the public CSV files
//! (`publish::linkage`, small counts hidden) beside the graph export's files.

use domain::app::{App, AppError, LinkageMode, LinkageRun};
use domain::error::{FieldError, Problem, ValidationError};
use domain::time::Instant;
use publish::Audience;
use serde_json::{Value, json};

pub use api::events::ScheduledEvent;

pub mod full;

/// Handles one event: a scheduled event ("now" is its `time`; the answer holds counts only), a step of a
/// partitioned full re-link (`{"full_linkage": {...}}`, see [`full`]), or a batch of them (`{"Items": [...]}`).
pub async fn handle(app: &App, event: Value) -> Result<Value, lambda_runtime::Error> {
    if let Some(answer) =
        platform::partitioned::step_or_batch(&event, "full_linkage", |step| full::handle_step(app, step)).await
    {
        return answer;
    }
    let mode = mode_of(&event)?;
    let event = ScheduledEvent::from_json(event)?;
    match app.run_linkage(event.time, mode).await {
        Ok(run) => answer(app, event.time, &run).await,
        // A full re-link holds the lease: it decides and publishes; what was written meanwhile is the next run's.
        Err(AppError::Conflict("full_linkage")) => {
            tracing::info!("a full re-link is in progress: this run does nothing");
            Ok(json!({ "now": event.time, "skipped": "a full re-link is in progress" }))
        }
        Err(e) => Err(e.into()),
    }
}

/// Publishes the statistics a run recomputed (the full runs) and gives the run's answer: counts and file names.
async fn answer(app: &App, now: Instant, run: &LinkageRun) -> Result<Value, lambda_runtime::Error> {
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
        "now": now,
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
