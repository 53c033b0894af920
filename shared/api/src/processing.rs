//! Processing-number routes: the health centre issues, views and cancels; the app backend redeems; operators read
//! statistics. Numbers never appear in an answer: the plaintext goes only into the SMS or e-mail.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use domain::app::{App, AppError, CycleView, RedeemError, Stats};
use domain::cycle::{Channel, CycleId, NumberState, Reminder};
use domain::report::ReportId;
use domain::time::{Instant, japan_date};
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::idempotency;
use crate::reports::report_id;
use crate::wire::{self, RawJson};

pub const BODY_LIMIT: usize = 4 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueRequest {
    channel: Channel,
}

/// No `Debug`: the number is personal data until hashed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedeemRequest {
    processing_number: String,
    /// The end user's device as the app backend names it (opaque); failed attempts are limited per device.
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Serialize)]
struct NumberView {
    generation: u8,
    state: &'static str,
    claimed_at: Instant,
    sent_at: Option<Instant>,
    expires_at: Option<Instant>,
    failed_delivery_attempts: u32,
    failed_redemptions: u64,
}

#[derive(Serialize)]
struct ReminderView {
    state: &'static str,
    at: Option<Instant>,
}

#[derive(Serialize)]
struct CycleWire {
    cycle_id: String,
    report_id: String,
    channel: Channel,
    state: domain::cycle::CycleState,
    created_at: Instant,
    ended_at: Option<Instant>,
    /// 0 for the health centre's issue, 1 to 4 for the automatic re-issues.
    redeemed_generation: Option<u8>,
    next_due_at: Option<Instant>,
    numbers: Vec<NumberView>,
    reminder: Option<ReminderView>,
    version: u64,
}

fn number_state(state: NumberState, expires_at: Option<Instant>, now: Instant) -> &'static str {
    match state {
        // A live number past its hour waits for the re-issuer to notice; for the reader it has expired.
        NumberState::Live if expires_at.is_some_and(|at| at <= now) => "expired",
        NumberState::Live => "live",
        NumberState::Sending => "sending",
        NumberState::Undelivered => "undelivered",
        NumberState::Used => "used",
        NumberState::Expired => "expired",
        NumberState::Superseded => "superseded",
        NumberState::Cancelled => "cancelled",
    }
}

impl CycleWire {
    fn new(v: &CycleView, now: Instant) -> Self {
        let c = &v.cycle;
        CycleWire {
            cycle_id: c.id.to_string(),
            report_id: c.report_id.to_string(),
            channel: c.channel,
            state: c.state,
            created_at: c.created_at,
            ended_at: c.ended_at,
            redeemed_generation: c.redeemed_generation,
            next_due_at: c.next_due_at,
            numbers: c
                .numbers
                .iter()
                .zip(v.failed_redemptions.iter().chain(std::iter::repeat(&0)))
                .map(|(n, tried)| NumberView {
                    generation: n.generation,
                    state: number_state(n.state, n.expires_at, now),
                    claimed_at: n.claimed_at,
                    sent_at: n.sent_at,
                    expires_at: n.expires_at,
                    failed_delivery_attempts: n.failed_attempts,
                    failed_redemptions: *tried,
                })
                .collect(),
            reminder: c.reminder.map(|r| match r {
                Reminder::Sending { claimed_at, .. } => ReminderView { state: "sending", at: Some(claimed_at) },
                Reminder::Failed { retry_at, .. } => ReminderView { state: "retrying", at: Some(retry_at) },
                Reminder::Sent { at } => ReminderView { state: "sent", at: Some(at) },
                Reminder::Skipped { at } => ReminderView { state: "skipped_quiet_hours", at: Some(at) },
            }),
            version: v.version,
        }
    }
}

fn internal(e: serde_json::Error) -> ApiError {
    ApiError::App(AppError::Internal(e.to_string()))
}

fn json_answer(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// Roles: health centre, own reports only. Sends a new number now (quiet hours do not hold back a person's
/// decision) and supersedes any active cycle of the report. With an `Idempotency-Key`, a retried request gets the
/// first answer and never sends a second message.
pub(crate) async fn issue(
    State(app): State<App>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    RawJson(bytes): RawJson,
) -> Result<Response, ApiError> {
    caller.require(&[Role::HealthCenter])?;
    let id = report_id(id)?;
    let body: IssueRequest = wire::parse_json(&bytes)?;
    let health_center = caller.health_center.clone().ok_or(ApiError::Forbidden)?;
    let operation = async {
        let view = app.cases.issue_number(&id, &health_center, body.channel).await?;
        let text = serde_json::to_string(&CycleWire::new(&view, app.now())).map_err(internal)?;
        Ok((StatusCode::CREATED, text))
    };
    let scope = format!("pn-issue-{id}");
    let (status, text, replayed) = idempotency::once(&app, &scope, &caller, &headers, &bytes, operation).await?;
    Ok(idempotency::marked(json_answer(status, text), replayed))
}

/// Roles: health centre, own reports only. Every cycle of the report, newest first, with each number's times,
/// delivery and redemption state (never its value).
pub(crate) async fn list(
    State(app): State<App>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::HealthCenter])?;
    let id = report_id(id)?;
    let health_center = caller.health_center.as_deref().ok_or(ApiError::Forbidden)?;
    let views = app.cases.cycles_of_report(&id, health_center).await?;
    let now = app.now();
    let cycles: Vec<CycleWire> = views.iter().map(|v| CycleWire::new(v, now)).collect();
    Ok(Json(serde_json::json!({ "cycles": cycles })).into_response())
}

/// Roles: health centre, own reports only. Ends an active cycle: its number stops working, nothing more is sent.
pub(crate) async fn cancel(
    State(app): State<App>,
    caller: Caller,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::HealthCenter])?;
    let Ok(Path((report, cycle))) = path else { return Err(ApiError::NotFound) };
    let report = ReportId::parse(&report).ok_or(ApiError::NotFound)?;
    let cycle = uuid::Uuid::parse_str(&cycle)
        .map(|u| CycleId::from_stored(u.hyphenated().to_string()))
        .map_err(|_| ApiError::NotFound)?;
    let health_center = caller.health_center.as_deref().ok_or(ApiError::Forbidden)?;
    let view = app.cases.cancel_cycle(&report, health_center, &cycle).await?;
    Ok(Json(CycleWire::new(&view, app.now())).into_response())
}

/// Roles: app backend. One answer for every number that cannot be redeemed (unknown, expired, superseded, used):
/// nothing in it tells a guesser which numbers exist. Failed attempts are limited per device and per caller.
pub(crate) async fn redeem(
    State(app): State<App>,
    caller: Caller,
    RawJson(bytes): RawJson,
) -> Result<Response, ApiError> {
    caller.require(&[Role::AppBackend])?;
    let body: RedeemRequest = wire::parse_json(&bytes)?;
    match app.cases.redeem_number(&caller.subject, body.client_id.as_deref(), &body.processing_number).await {
        Ok(()) => Ok(Json(serde_json::json!({ "status": "redeemed" })).into_response()),
        Err(RedeemError::Invalid) => Err(ApiError::InvalidProcessingNumber),
        Err(RedeemError::Locked { retry_after_seconds }) => Err(ApiError::TooManyAttempts { retry_after_seconds }),
        Err(RedeemError::App(e)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
}

fn query_date(field: &'static str, raw: Option<&str>, default: NaiveDate) -> Result<NaiveDate, ApiError> {
    match raw {
        None => Ok(default),
        Some(s) => domain::time::parse_iso_date(s).ok_or_else(|| ApiError::invalid(field, "must be a date YYYY-MM-DD")),
    }
}

/// Roles: operator. Counters per Japan date (default: the last 7 days), and their totals.
pub(crate) async fn stats(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Operator])?;
    let Query(q) = query.map_err(|_| ApiError::invalid("query", "only from and to are allowed"))?;
    let today = japan_date(app.now());
    let to = query_date("to", q.to.as_deref(), today)?;
    let from = query_date("from", q.from.as_deref(), to - Duration::days(6))?;
    // The range rule is the domain's; its refusal is invalid_request, as the other query problems are.
    let stats: Stats = app.cases.processing_stats(from, to).await?;
    let days: Vec<serde_json::Value> = stats
        .days
        .iter()
        .map(|(day, counts)| serde_json::json!({ "date": day.to_string(), "counts": counts }))
        .collect();
    Ok(Json(serde_json::json!({
        "from": stats.from.to_string(),
        "to": stats.to.to_string(),
        "totals": stats.totals,
        "days": days,
    }))
    .into_response())
}
