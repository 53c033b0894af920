//! Linkage routes: the statistics for analysts, and the review queue that a health centre confirms or
//! rejects. The statistics and the answers to reviews hold ids, scores and field names only; the review queue shows
//! the report's and the candidate entries' values side by side, and each review it shows is audited.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use std::collections::BTreeMap;

use domain::app::{App, AppError, ReviewAnswer, ReviewCase};
use domain::linkage_records::{LinkDecision, LinkageSummary};
use domain::{FieldError, Problem, ValidationError};
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::wire::{self, RawJson};

/// `{"decision": "confirm", "entry_id": ...}` is a few hundred bytes at most.
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
                domain::linkage_records::LinkBand::Link => "link",
                domain::linkage_records::LinkBand::Review => "review",
            },
            method: d.method.clone(),
            agreeing_fields: d.agreeing_fields.clone(),
            decided_at: rfc3339(&d.decided_at),
            review_status: d.review.as_ref().map(|r| r.status.as_str()),
            reviewed_at: d.review.as_ref().and_then(|r| r.at.as_ref()).map(rfc3339),
        }
    }
}

/// The report's own values, as filed: what the reviewer compares with each candidate.
#[derive(Debug, Serialize)]
struct ReportValues {
    name: String,
    name_kana: Option<String>,
    date_of_birth: chrono::NaiveDate,
    sex: &'static str,
    nationality: Option<String>,
    passport_number: Option<String>,
}

/// One candidate entry: its values, how it scored, and the level of each compared field.
#[derive(Debug, Serialize)]
struct CandidateView {
    entry_id: String,
    score: f64,
    method: String,
    family_name: String,
    given_names: Option<String>,
    date_of_birth: chrono::NaiveDate,
    sex: &'static str,
    nationality: String,
    passport_number: String,
    entry_date: chrono::NaiveDate,
    port_of_entry: String,
    /// Field name to the scorer's level (`exact`, `folded`, `one_edit`, `swapped`, `different`, `missing`, ...).
    agreement: BTreeMap<&'static str, &'static str>,
}

/// A pending review with both sides of it.
#[derive(Debug, Serialize)]
struct ReviewView {
    #[serde(flatten)]
    decision: DecisionView,
    report: ReportValues,
    candidates: Vec<CandidateView>,
}

impl ReviewView {
    /// `expose()` on purpose: the owning health centre reads its report and the candidates to decide, and the
    /// answer is audited before it is sent.
    fn new(case: &ReviewCase) -> Self {
        let r = &case.report;
        ReviewView {
            decision: DecisionView::new(&case.decision),
            report: ReportValues {
                name: r.name.expose().to_owned(),
                name_kana: r.name_kana.as_ref().map(|n| n.expose().to_owned()),
                date_of_birth: r.date_of_birth,
                sex: r.sex.as_str(),
                nationality: r.nationality.clone(),
                passport_number: r.passport_number.as_ref().map(|p| p.expose().to_owned()),
            },
            candidates: case
                .candidates
                .iter()
                .map(|c| {
                    let e = &c.entry;
                    CandidateView {
                        entry_id: e.entry_id.clone(),
                        score: (c.candidate.score * 100.0).round() / 100.0,
                        method: c.candidate.method.clone(),
                        family_name: e.family_name.expose().to_owned(),
                        given_names: e.given_names.as_ref().map(|n| n.expose().to_owned()),
                        date_of_birth: e.date_of_birth,
                        sex: e.sex.as_str(),
                        nationality: e.nationality.clone(),
                        passport_number: e.passport_number.expose().to_owned(),
                        entry_date: e.entry_date,
                        port_of_entry: e.port_of_entry.clone(),
                        agreement: c.levels.iter().copied().collect(),
                    }
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct ReviewQueue {
    reviews: Vec<ReviewView>,
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
    /// The candidate confirmed: required to confirm, absent to reject.
    entry_id: Option<String>,
}

/// A 422 naming `entry_id`.
fn entry_id_problem(problem: &'static str) -> ApiError {
    ApiError::InvalidReviewAnswer(ValidationError(vec![FieldError::new("entry_id", Problem::Invalid(problem))]))
}

/// Roles: analyst. The statistics of the last scheduled run (all zero, `computed_at` null, before the first).
pub(crate) async fn summary(State(app): State<App>, caller: Caller) -> Result<Json<LinkageSummary>, ApiError> {
    caller.require(&[Role::Analyst])?;
    Ok(Json(app.linkage.linkage_summary().await?))
}

/// Roles: health centre. The pending review-band decisions of the caller's own reports, each with the report's
/// values and up to three candidate entries' values side by side. Each review shown is audited first.
pub(crate) async fn review_queue(State(app): State<App>, caller: Caller) -> Result<Json<ReviewQueue>, ApiError> {
    caller.require(&[Role::HealthCenter])?;
    let viewer = crate::reports::viewer(&caller, "GET /v1/linkage/review")?;
    let cases = app.linkage.review_cases(&viewer).await?;
    Ok(Json(ReviewQueue { reviews: cases.iter().map(ReviewView::new).collect() }))
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
    let answer = match (body.decision, body.entry_id) {
        (Answer::Confirm, Some(entry_id)) => ReviewAnswer::Confirm { entry_id },
        (Answer::Confirm, None) => return Err(entry_id_problem("is required to confirm: one candidate's entry id")),
        (Answer::Reject, None) => ReviewAnswer::Reject,
        (Answer::Reject, Some(_)) => return Err(entry_id_problem("must be absent when rejecting every candidate")),
    };
    let stored = app.linkage.answer_review(&id, health_center, &caller.subject, answer).await.map_err(|e| match e {
        // The domain's refusal of an entry that is not a candidate: a review answer's mistake, answered as one.
        AppError::Impossible(v) => ApiError::InvalidReviewAnswer(v),
        e => ApiError::App(e),
    })?;
    Ok(Json(DecisionView::new(&stored)))
}
