//! `GET /v1/audit`: the audit of views of personal data, for operators, one health centre and period at
//! a time, in pages. Events hold ids, roles and routes, never a personal value.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Datelike, NaiveDate};
use domain::app::App;
use domain::audit::{AuditEvent, AuditQuery};
use domain::time::japan_day_start;
use serde::{Deserialize, Serialize};

use crate::auth::{Caller, Role};
use crate::error::ApiError;

/// Events per page unless `limit` says otherwise.
const DEFAULT_LIMIT: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    health_center: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Serialize)]
struct EventView {
    event_id: String,
    at: String,
    subject: String,
    role: String,
    health_center_code: String,
    report_id: String,
    records_shown: Vec<String>,
    route: String,
}

impl EventView {
    fn new(e: &AuditEvent) -> Self {
        EventView {
            event_id: e.event_id.clone(),
            at: e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            subject: e.subject.clone(),
            role: e.role.clone(),
            health_center_code: e.health_center_code.clone(),
            report_id: e.report_id.to_string(),
            records_shown: e.records_shown.clone(),
            route: e.route.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct AuditAnswer {
    events: Vec<EventView>,
    /// The `next` parameter of the following page; null on the last page.
    next: Option<String>,
}

/// A page cursor as the API gives it: the last event's sort key (`<time>#<event id>`, which holds `#` and `:`) in
/// URL-safe base64 without padding, so that it can be pasted into a query string as it is.
fn cursor(sort_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(sort_key)
}

/// The sort key a cursor stands for; anything else is refused as the domain refuses a cursor of another query.
fn sort_key(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ApiError::invalid("next", "is not a page cursor of this query"))
}

/// A required Japan date in the years the audit can hold.
fn date(field: &str, raw: Option<&str>) -> Result<NaiveDate, ApiError> {
    let raw = raw.ok_or(ApiError::invalid(field, "is required (a date YYYY-MM-DD)"))?;
    domain::time::parse_iso_date(raw)
        .filter(|d| (2000..=2100).contains(&d.year()))
        .ok_or(ApiError::invalid(field, "must be a date YYYY-MM-DD between 2000 and 2100"))
}

/// Roles: operator. One health centre's audit events with Japan dates `from` to `to` (both included), oldest
/// first, `limit` a page (1 to 1,000, default 100); `next` from an answer asks for the following page.
pub(crate) async fn list(
    State(app): State<App>,
    caller: Caller,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<AuditAnswer>, ApiError> {
    caller.require(&[Role::Operator])?;
    let Query(p) =
        params.map_err(|_| ApiError::invalid("query", "only health_center, from, to, limit and next are allowed"))?;
    let health_center = p.health_center.ok_or(ApiError::invalid("health_center", "is required"))?;
    if !(4..=6).contains(&health_center.len()) || !health_center.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid("health_center", "must be a health centre code of 4 to 6 digits"));
    }
    let (from, to) = (date("from", p.from.as_deref())?, date("to", p.to.as_deref())?);
    if to < from {
        return Err(ApiError::invalid("to", "must not be before from"));
    }
    let limit = match p.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=domain::app::MAX_AUDIT_PAGE).contains(n))
            .ok_or(ApiError::invalid("limit", "must be a whole number from 1 to 1000"))?,
    };
    let query = AuditQuery {
        health_center_code: health_center,
        from: japan_day_start(from),
        until: japan_day_start(to + chrono::Duration::days(1)),
        after: p.next.as_deref().map(sort_key).transpose()?,
        limit,
    };
    let page = app.audit.audit_events(&query).await?;
    let next = page.next.as_deref().map(cursor);
    Ok(Json(AuditAnswer { events: page.events.iter().map(EventView::new).collect(), next }))
}
