//! The one place where errors become HTTP answers: `{"error": CODE, "fields": [{"field": ..., "problem": ...}]}`.
//! Internal failures are logged with the request id and answered without detail.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::app::AppError;
use domain::FieldError;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

#[derive(Debug, Serialize)]
struct ErrorBody {
    error: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldProblem>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    App(AppError),
    /// The body is not JSON of the expected shape; `field` is the JSON path where it went wrong.
    #[error("{field}: {problem}")]
    BadJson { field: String, problem: &'static str },
    #[error("not found")]
    NotFound,
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError::App(e)
    }
}

fn problems(errors: &[FieldError]) -> Vec<FieldProblem> {
    errors.iter().map(|e| FieldProblem { field: e.field.clone(), problem: e.problem.to_string() }).collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error, fields) = match self {
            ApiError::BadJson { field, problem } => {
                (StatusCode::BAD_REQUEST, "invalid_json", vec![FieldProblem { field, problem: problem.to_owned() }])
            }
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", vec![]),
            ApiError::App(e) => match e {
                AppError::Invalid(v) => (StatusCode::BAD_REQUEST, "invalid_request", problems(&v.0)),
                AppError::NotFound => (StatusCode::NOT_FOUND, "not_found", vec![]),
                AppError::Stale { .. } => (StatusCode::PRECONDITION_FAILED, "version_mismatch", vec![]),
                AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict", vec![]),
                AppError::Store(e) => {
                    tracing::error!(error = %e, "storage failure");
                    (StatusCode::SERVICE_UNAVAILABLE, "unavailable", vec![])
                }
                AppError::Internal(e) => {
                    tracing::error!(error = %e, "internal failure");
                    (StatusCode::INTERNAL_SERVER_ERROR, "internal", vec![])
                }
            },
        };
        (status, Json(ErrorBody { error, fields })).into_response()
    }
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound
}
