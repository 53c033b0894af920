//! Report routes.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::app::App;
use domain::report::{ReportId, ReportInput};

use crate::error::ApiError;
use crate::wire::{Created, CreateReport, JsonBody, ReportView};

fn etag(version: u64) -> [(header::HeaderName, HeaderValue); 1] {
    [(header::ETAG, HeaderValue::from(version))]
}

pub(crate) async fn create(State(app): State<App>, JsonBody(body): JsonBody<CreateReport>) -> Result<Response, ApiError> {
    let created = app.create_report(&ReportInput::from(body)).await?;
    let location = format!("/v1/reports/{}", created.value.id);
    let mut response = (
        StatusCode::CREATED,
        etag(created.version),
        Json(Created { report_id: created.value.id.to_string(), version: created.version }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

pub(crate) async fn get(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = ReportId::parse(&id).ok_or(ApiError::NotFound)?;
    let found = app.get_report(&id).await?;
    Ok((etag(found.version), Json(ReportView::new(&found.value, found.version))).into_response())
}
