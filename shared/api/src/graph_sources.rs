//! Graph-source routes: from which date a prefecture's public graphs come from HER-SYS reports (before it, and
//! without it, from the prefecture's published line list). Roles: operator sets; operator and analyst read.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use chrono::NaiveDate;
use domain::app::App;
use domain::graphs::Sources;
use domain::prefecture::PrefectureCode;
use serde::Serialize;
use serde_json::Value;

use crate::auth::{Caller, Role};
use crate::error::ApiError;
use crate::wire::{self, RawJson};

#[derive(Debug, Serialize)]
pub(crate) struct SourceView {
    prefecture: String,
    name: &'static str,
    source: &'static str,
    hersys_from: Option<String>,
}

fn view(p: PrefectureCode, sources: &Sources, today: NaiveDate) -> SourceView {
    let from = sources.hersys_from(p);
    SourceView {
        prefecture: p.as_jis(),
        name: p.info().name_en,
        source: if from.is_some_and(|f| f <= today) { "hersys" } else { "linelist" },
        hersys_from: from.map(|d| d.to_string()),
    }
}

/// `PUT /v1/graph-sources/{prefecture}` with `{"hersys_from": "2021-04-01"}` (or `null` to clear). Role: operator.
pub(crate) async fn set(
    State(app): State<App>,
    caller: Caller,
    path: Result<Path<String>, PathRejection>,
    RawJson(bytes): RawJson,
) -> Result<Json<SourceView>, ApiError> {
    caller.require(&[Role::Operator])?;
    let prefecture = path
        .ok()
        .and_then(|Path(p)| PrefectureCode::parse("prefecture", &p).ok())
        .ok_or_else(|| ApiError::invalid("prefecture", "must be a JIS X 0401 prefecture code 01-47"))?;
    // A map rather than a struct: `null` (clear) must stay apart from an absent field (refused).
    let body: serde_json::Map<String, Value> = wire::parse_json(&bytes)?;
    if body.keys().any(|k| k != "hersys_from") {
        return Err(ApiError::invalid("body", "has a field other than hersys_from"));
    }
    let from = match body.get("hersys_from").cloned() {
        None => return Err(ApiError::invalid("hersys_from", "is required (a date YYYY-MM-DD, or null to clear)")),
        Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            domain::time::parse_iso_date(&s)
                .ok_or_else(|| ApiError::invalid("hersys_from", "must be a date YYYY-MM-DD or null"))?,
        ),
        Some(_) => return Err(ApiError::invalid("hersys_from", "must be a date YYYY-MM-DD or null")),
    };
    app.graph_sources.set_hersys_from(prefecture, from).await?;
    let sources = app.graph_sources.graph_source_settings().await?;
    Ok(Json(view(prefecture, &sources, domain::time::japan_date(app.now()))))
}

/// `GET /v1/graph-sources`: every prefecture's source. Roles: operator, analyst.
pub(crate) async fn list(State(app): State<App>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Operator, Role::Analyst])?;
    let sources = app.graph_sources.graph_source_settings().await?;
    let today = domain::time::japan_date(app.now());
    let all: Vec<SourceView> = PrefectureCode::all().map(|p| view(p, &sources, today)).collect();
    Ok(Json(serde_json::json!({ "prefectures": all })))
}
