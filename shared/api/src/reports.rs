//! Report routes. Roles: health centre, own reports only.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::app::{App, LinkedEntry};
use domain::audit::Viewer;
use domain::report::{CaseReport, ReportId, ReportInput};
use serde::Serialize;

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::idempotency;
use crate::wire::{self, Created, RawJson, ReportView};

/// The report id of the path; anything that is not one (not a UUID, not even UTF-8) names no report.
pub(crate) fn report_id(path: Result<Path<String>, PathRejection>) -> Result<ReportId, ApiError> {
    path.ok().and_then(|Path(id)| ReportId::parse(&id)).ok_or(ApiError::NotFound)
}

/// A version as an HTTP entity tag.
fn etag(version: u64) -> [(header::HeaderName, HeaderValue); 1] {
    let tag = HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""));
    [(header::ETAG, tag)]
}

/// `If-Match: "3"` (or `3`, or a weak `W/"3"`): the version the caller last read.
fn if_match(headers: &HeaderMap) -> Result<u64, ApiError> {
    let raw = headers.get(header::IF_MATCH).ok_or(ApiError::PreconditionRequired("If-Match"))?;
    raw.to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| ApiError::invalid("If-Match", "must be the report's version, as its ETag gave it"))
}

/// Roles: health centre. The report is filed for the caller's own health centre (the default when the body names
/// none); naming another is refused. With an `Idempotency-Key`, a retry gets the first answer again and never
/// creates a second report.
pub(crate) async fn create(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    RawJson(bytes): RawJson,
) -> Result<Response, ApiError> {
    caller.require(&[Role::HealthCenter])?;
    // The body is the raw report itself: every field optional, so that validation can list all problems at once.
    let mut input: ReportInput = wire::parse_json(&bytes)?;
    match input.health_center_code.as_deref().map(str::trim) {
        None | Some("") => input.health_center_code = caller.health_center.clone(),
        Some(code) if caller.owns(code) => {}
        Some(_) => {
            return Err(ApiError::ForbiddenValue {
                field: "health_center_code",
                problem: "must be your own health centre's code (or left out)",
            });
        }
    }
    let (status, body, replayed) =
        idempotency::once(&app, "report", &caller, &headers, &bytes, create_now(&app, &input)).await?;
    Ok(idempotency::marked(answer(status, body), replayed))
}

/// Creates the report; the answer as status and JSON text, so that it can be stored and replayed verbatim.
async fn create_now(app: &App, input: &ReportInput) -> Result<(StatusCode, String), ApiError> {
    let created = app.cases.create_report(input).await?;
    let body = serde_json::to_string(&Created { report_id: created.value.id.to_string(), version: created.version })
        .map_err(|e| ApiError::App(domain::app::AppError::Internal(e.to_string())))?;
    Ok((StatusCode::CREATED, body))
}

/// A create answer from its JSON text: `ETag` and `Location` are derived from it, so a replay carries them too.
fn answer(status: StatusCode, body: String) -> Response {
    let parsed: Option<serde_json::Value> = serde_json::from_str(&body).ok();
    let mut response =
        (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    if let Some(v) = parsed {
        if let Some(version) = v["version"].as_u64() {
            response.headers_mut().extend(etag(version));
        }
        if let Some(location) =
            v["report_id"].as_str().and_then(|id| HeaderValue::from_str(&format!("/v1/reports/{id}")).ok())
        {
            response.headers_mut().insert(header::LOCATION, location);
        }
    }
    response
}

/// Roles: health centre, own reports only. Another tenant's report is answered as absent, so that ids cannot be
/// probed across health centres. With the entry record it is linked to (`linked_entry`): showing it appends an audit
/// event first, and the answer fails if that cannot be written.
pub(crate) async fn get(
    State(app): State<App>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::HealthCenter])?;
    let id = report_id(id)?;
    let viewer = viewer(&caller, "GET /v1/reports/{id}")?;
    let view = app.audit.view_report(&id, &viewer).await?;
    let report = &view.report;
    let body = ReportWithLinks {
        report: ReportView::new(&report.value, report.version),
        linked_entry: view.linked_entry.as_ref().map(|l| LinkedEntryView::new(l, &report.value)),
        linked_follow_up: view
            .linked_follow_up
            .as_ref()
            .map(|f| LinkedFollowUpView::new(f, &report.value, view.linked_entry.is_some())),
    };
    Ok((etag(report.version), Json(body)).into_response())
}

/// The audit's view of a health-centre caller, for `route` (as declared in the router).
pub(crate) fn viewer(caller: &Caller, route: &str) -> Result<Viewer, ApiError> {
    Ok(Viewer {
        subject: caller.subject.clone(),
        role: caller.role.as_str().to_owned(),
        health_center_code: caller.health_center.clone().ok_or(ApiError::Forbidden)?,
        route: route.to_owned(),
    })
}

/// `GET /v1/reports/{id}`: the report, and what it is linked to.
#[derive(Debug, Serialize)]
struct ReportWithLinks {
    #[serde(flatten)]
    report: ReportView,
    linked_entry: Option<LinkedEntryView>,
    linked_follow_up: Option<LinkedFollowUpView>,
}

/// The entrant follow-up record a report reaches, as its health centre sees it: the follow-up's course, no
/// identity (the report has that).
#[derive(Debug, Serialize)]
struct LinkedFollowUpView {
    follow_up_id: String,
    follow_up_from: chrono::NaiveDate,
    follow_up_until: chrono::NaiveDate,
    status: &'static str,
    last_check_in_date: Option<chrono::NaiveDate>,
    symptoms_reported_on: Option<chrono::NaiveDate>,
    stay_prefecture_code: Option<String>,
    /// Days from the first day of follow-up to the diagnosis (negative: diagnosed before the follow-up began).
    days_from_follow_up_start_to_diagnosis: i64,
    /// `entry` (through the linked entry record) or `passport_number` (the report's own, without a linked entry).
    reached_through: &'static str,
}

impl LinkedFollowUpView {
    fn new(f: &domain::follow_up::FollowUpRecord, report: &CaseReport, through_entry: bool) -> Self {
        LinkedFollowUpView {
            follow_up_id: f.follow_up_id.clone(),
            follow_up_from: f.follow_up_from,
            follow_up_until: f.follow_up_until,
            status: f.status.as_str(),
            last_check_in_date: f.last_check_in_date,
            symptoms_reported_on: f.symptoms_reported_on,
            stay_prefecture_code: f.stay_prefecture.map(|p| p.as_jis()),
            days_from_follow_up_start_to_diagnosis: (report.diagnosis_date - f.follow_up_from).num_days(),
            reached_through: if through_entry { "entry" } else { "passport_number" },
        }
    }
}

/// The linked entry record as its report's health centre sees it.
#[derive(Debug, Serialize)]
struct LinkedEntryView {
    entry_id: String,
    entry_date: chrono::NaiveDate,
    port_of_entry: String,
    entry_test_result: &'static str,
    nationality: String,
    days_from_entry_to_diagnosis: i64,
    #[serde(rename = "match")]
    matched: MatchView,
}

#[derive(Debug, Serialize)]
struct MatchView {
    method: String,
    score: f64,
    /// What the decision stands for (`LinkDecision::standing`): `link`, a review a person confirmed included.
    band: &'static str,
    /// The linkage model's version the scheduled run scored with; null for the exact step's links.
    model_version: Option<String>,
    /// When the linkage decided (for a review, when it put the report in review).
    decided_at: domain::time::Instant,
    /// The reviewer's token subject (an id, not a name) and when, for a review a health centre confirmed.
    confirmed_by: Option<String>,
    confirmed_at: Option<domain::time::Instant>,
}

impl LinkedEntryView {
    fn new(linked: &LinkedEntry, report: &CaseReport) -> Self {
        let (e, d) = (&linked.entry, &linked.decision);
        let confirmation = d.confirmation();
        LinkedEntryView {
            entry_id: e.entry_id.clone(),
            entry_date: e.entry_date,
            port_of_entry: e.port_of_entry.clone(),
            entry_test_result: e.entry_test_result.as_str(),
            nationality: e.nationality.clone(),
            days_from_entry_to_diagnosis: linked.days_from_entry_to_diagnosis(report),
            matched: MatchView {
                method: d.method.clone(),
                score: (d.score * 100.0).round() / 100.0,
                // Shown only for a decision that stands as a link (`counts_as_link`).
                band: d.standing().unwrap_or(domain::linkage_records::LinkBand::Link).as_str(),
                model_version: d.model_version.clone(),
                decided_at: d.decided_at,
                confirmed_by: confirmation.map(|(by, _)| by.to_owned()),
                confirmed_at: confirmation.map(|(_, at)| at),
            },
        }
    }
}

/// Roles: health centre, own reports only. `If-Match` is required: a stale version gets 412 and changes nothing.
pub(crate) async fn patch(
    State(app): State<App>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    RawJson(bytes): RawJson,
) -> Result<Response, ApiError> {
    caller.require(&[Role::HealthCenter])?;
    let id = report_id(id)?;
    let expected = if_match(&headers)?;
    let patch = wire::parse_patch(&bytes)?;
    let health_center = caller.health_center.as_deref().ok_or(ApiError::Forbidden)?;
    let updated = app.cases.patch_report(&id, health_center, expected, &patch).await?;
    Ok((etag(updated.version), Json(ReportView::new(&updated.value, updated.version))).into_response())
}
