//! Linkage routes (issue 5): the statistics for analysts, and the review queue that a health centre confirms or
//! rejects. Answers hold ids, scores and field names, never a personal value.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use domain::app::{App, ReviewAnswer};
use domain::links::{LinkDecision, LinkageSummary};
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::wire::{self, RawJson};

/// `{"decision": "confirm"}` is a few bytes.
pub(crate) const BODY_LIMIT: usize = 1024;

/// A decision as a health centre sees it: ids, score, band, method, the names of the fields that agreed.
#[derive(Debug, Serialize)]
pub(crate) struct DecisionView {
    report_id: String,
    entry_id: String,
    score: f64,
    band: &'static str,
    method: String,
    agreeing_fields: Vec<String>,
    decided_at: String,
    review_status: Option<&'static str>,
    reviewed_at: Option<String>,
}

impl DecisionView {
    fn new(d: &LinkDecision) -> Self {
        let rfc3339 = |t: &domain::time::Instant| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        DecisionView {
            report_id: d.report_id.to_string(),
            entry_id: d.entry_id.clone(),
            score: (d.score * 100.0).round() / 100.0,
            band: match d.band {
                domain::links::LinkBand::Link => "link",
                domain::links::LinkBand::Review => "review",
            },
            method: d.method.clone(),
            agreeing_fields: d.agreeing_fields.clone(),
            decided_at: rfc3339(&d.decided_at),
            review_status: d.review.as_ref().map(|r| r.status.as_str()),
            reviewed_at: d.review.as_ref().and_then(|r| r.at.as_ref()).map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct ReviewQueue {
    reviews: Vec<DecisionView>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Confirm,
    Reject,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    decision: Answer,
}

/// Roles: analyst. The statistics of the last scheduled run (all zero, `computed_at` null, before the first).
pub(crate) async fn summary(State(app): State<App>, caller: Caller) -> Result<Json<LinkageSummary>, ApiError> {
    caller.require(&[Role::Analyst])?;
    Ok(Json(app.linkage_summary().await?))
}

/// Roles: health centre. The pending review-band decisions of the caller's own reports.
pub(crate) async fn review_queue(State(app): State<App>, caller: Caller) -> Result<Json<ReviewQueue>, ApiError> {
    caller.require(&[Role::HealthCenter])?;
    let health_center = caller.health_center.as_deref().ok_or(ApiError::Forbidden)?;
    let reviews = app.review_queue(health_center).await?;
    Ok(Json(ReviewQueue { reviews: reviews.iter().map(DecisionView::new).collect() }))
}

/// Roles: health centre, own reports only. Confirms or rejects a pending review; a later run never overturns it.
pub(crate) async fn answer(
    State(app): State<App>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    RawJson(bytes): RawJson,
) -> Result<Json<DecisionView>, ApiError> {
    caller.require(&[Role::HealthCenter])?;
    let body: AnswerBody = wire::parse_json(&bytes)?;
    let id = crate::reports::report_id(id)?;
    let health_center = caller.health_center.as_deref().ok_or(ApiError::Forbidden)?;
    let answer = match body.decision {
        Answer::Confirm => ReviewAnswer::Confirm,
        Answer::Reject => ReviewAnswer::Reject,
    };
    let stored = app.answer_review(&id, health_center, &caller.subject, answer).await?;
    Ok(Json(DecisionView::new(&stored)))
}
