//! The one place where errors become HTTP answers: `{"error": CODE, "fields": [{"field": ..., "problem": ...}]}`.
//! Internal failures are logged with the request id and answered without detail.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::app::AppError;
use domain::{FieldError, ValidationError};
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
    /// The body is not JSON (or not the array or object the route reads); `field` is where it broke off.
    #[error("{field}: {problem}")]
    BadJson { field: String, problem: &'static str },
    /// A field of the body (by its JSON path), a query parameter or a header breaks a rule: a wrong type, a value
    /// not among the allowed ones (listed), a missing or unknown field. Answered as the domain's field rules are.
    #[error("{field}: {problem}")]
    InvalidField { field: String, problem: String },
    #[error("not found")]
    NotFound,
    /// The route exists, but not with this method (the answer's `Allow` header lists those it has).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// No verified identity came with the request.
    #[error("authentication required")]
    Unauthenticated,
    /// A review answer the review does not allow (no candidate picked to confirm, one named to reject, an entry that
    /// is not among the candidates): 422 with its own code, apart from a report's impossible status change.
    #[error("the review answer is not allowed")]
    InvalidReviewAnswer(ValidationError),
    /// The caller's role may not use this route.
    #[error("forbidden")]
    Forbidden,
    /// The caller may use the route, but not with this value of `field` (filing for another health centre).
    #[error("forbidden: {field} {problem}")]
    ForbiddenValue { field: &'static str, problem: &'static str },
    /// A conditional request without its condition (`If-Match`).
    #[error("{0} is required")]
    PreconditionRequired(&'static str),
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the content type must be {expected}")]
    UnsupportedMediaType { expected: &'static str },
    /// An `Idempotency-Key` reused with another body, or still being processed.
    #[error("idempotency key conflict: {0}")]
    IdempotencyConflict(&'static str),
    /// A processing number that cannot be redeemed, whatever the reason (unknown, expired, superseded, used).
    #[error("the processing number is not valid")]
    InvalidProcessingNumber,
    #[error("too many failed attempts")]
    TooManyAttempts { retry_after_seconds: i64 },
}

impl ApiError {
    /// A field, query parameter or header that breaks a rule ([`ApiError::InvalidField`]).
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ApiError {
        ApiError::InvalidField { field: field.into(), problem: problem.into() }
    }
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
    // Long: the one mapping of every error to its status and body, an error each arm.
    fn into_response(self) -> Response {
        let (status, error, fields) = match self {
            ApiError::BadJson { field, problem } => {
                (StatusCode::BAD_REQUEST, "invalid_json", vec![FieldProblem { field, problem: problem.to_owned() }])
            }
            ApiError::InvalidField { field, problem } => {
                (StatusCode::BAD_REQUEST, "invalid_request", vec![FieldProblem { field, problem }])
            }
            ApiError::InvalidReviewAnswer(v) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_review_answer", problems(&v.0))
            }
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", vec![]),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", vec![]),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated", vec![]),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden", vec![]),
            ApiError::ForbiddenValue { field, problem } => (
                StatusCode::FORBIDDEN,
                "forbidden",
                vec![FieldProblem { field: field.to_owned(), problem: problem.to_owned() }],
            ),
            ApiError::PreconditionRequired(header) => (
                StatusCode::PRECONDITION_REQUIRED,
                "precondition_required",
                vec![FieldProblem { field: header.to_owned(), problem: "is required".to_owned() }],
            ),
            ApiError::TooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                vec![FieldProblem { field: "body".to_owned(), problem: format!("must be at most {limit} bytes") }],
            ),
            ApiError::UnsupportedMediaType { expected } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                vec![FieldProblem { field: "Content-Type".to_owned(), problem: format!("must be {expected}") }],
            ),
            ApiError::IdempotencyConflict("payload") => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                vec![FieldProblem {
                    field: "Idempotency-Key".to_owned(),
                    problem: "was used with another body".to_owned(),
                }],
            ),
            ApiError::IdempotencyConflict(_) => (
                StatusCode::CONFLICT,
                "request_in_progress",
                vec![FieldProblem {
                    field: "Idempotency-Key".to_owned(),
                    problem: "a request with this key is still being processed".to_owned(),
                }],
            ),
            ApiError::InvalidProcessingNumber => (
                StatusCode::BAD_REQUEST,
                "invalid_processing_number",
                vec![FieldProblem {
                    field: "processing_number".to_owned(),
                    problem: "is not valid: it may be mistyped, expired, replaced by a newer one or already used"
                        .to_owned(),
                }],
            ),
            ApiError::TooManyAttempts { retry_after_seconds } => {
                let body = ErrorBody { error: "too_many_attempts", fields: vec![] };
                let retry = axum::http::HeaderValue::from(retry_after_seconds.max(1));
                return (StatusCode::TOO_MANY_REQUESTS, [(axum::http::header::RETRY_AFTER, retry)], Json(body))
                    .into_response();
            }
            ApiError::App(e) => match e {
                AppError::Invalid(v) => (StatusCode::BAD_REQUEST, "invalid_request", problems(&v.0)),
                AppError::NotFound => (StatusCode::NOT_FOUND, "not_found", vec![]),
                AppError::Impossible(v) => (StatusCode::UNPROCESSABLE_ENTITY, "impossible_change", problems(&v.0)),
                AppError::Stale { .. } => (
                    StatusCode::PRECONDITION_FAILED,
                    "version_mismatch",
                    vec![FieldProblem {
                        field: "If-Match".to_owned(),
                        problem: "is not the report's current version".to_owned(),
                    }],
                ),
                AppError::Conflict(what) => {
                    let problem = match what {
                        "state" => "does not allow this: the cycle has ended",
                        "cycle" => "was changed concurrently; retry",
                        "review" => "is not pending: answered already, or linked without review",
                        _ => "is already taken",
                    };
                    (
                        StatusCode::CONFLICT,
                        "conflict",
                        vec![FieldProblem { field: what.to_owned(), problem: problem.to_owned() }],
                    )
                }
                // No route runs a full run; named for completeness.
                AppError::LeaseHeld(run) => (
                    StatusCode::CONFLICT,
                    "conflict",
                    vec![FieldProblem { field: run.name().to_owned(), problem: "holds the lease".to_owned() }],
                ),
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

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use domain::Problem;
    use domain::full_run::FullRun;

    use super::*;

    /// One error of every kind the API answers with ([`every_variant_is_listed`] keeps the list whole).
    fn every_error() -> Vec<ApiError> {
        let rules = || ValidationError(vec![FieldError::new("field", Problem::Invalid("breaks a rule"))]);
        vec![
            ApiError::BadJson { field: "body".into(), problem: "is not valid JSON" },
            ApiError::invalid("field", "breaks a rule"),
            ApiError::InvalidReviewAnswer(rules()),
            ApiError::NotFound,
            ApiError::MethodNotAllowed,
            ApiError::Unauthenticated,
            ApiError::Forbidden,
            ApiError::ForbiddenValue { field: "health_center_code", problem: "is another" },
            ApiError::PreconditionRequired("If-Match"),
            ApiError::TooLarge { limit: 1 },
            ApiError::UnsupportedMediaType { expected: "application/json" },
            ApiError::IdempotencyConflict("payload"),
            ApiError::IdempotencyConflict("in progress"),
            ApiError::InvalidProcessingNumber,
            ApiError::TooManyAttempts { retry_after_seconds: 60 },
            ApiError::App(AppError::Invalid(rules())),
            ApiError::App(AppError::NotFound),
            ApiError::App(AppError::Impossible(rules())),
            ApiError::App(AppError::Stale { expected: 1 }),
            ApiError::App(AppError::Conflict("case_number")),
            ApiError::App(AppError::LeaseHeld(FullRun::Export)),
            ApiError::App(AppError::Store(domain::StoreError::Unavailable("down".into()))),
            ApiError::App(AppError::Internal("bug".into())),
        ]
    }

    /// Does not compile when a variant is added: add it to [`every_error`] too.
    #[allow(dead_code)]
    fn every_variant_is_listed(e: &ApiError) {
        match e {
            ApiError::App(
                AppError::Invalid(_)
                | AppError::NotFound
                | AppError::Impossible(_)
                | AppError::Stale { .. }
                | AppError::Conflict(_)
                | AppError::LeaseHeld(_)
                | AppError::Store(_)
                | AppError::Internal(_),
            )
            | ApiError::BadJson { .. }
            | ApiError::InvalidField { .. }
            | ApiError::InvalidReviewAnswer(_)
            | ApiError::NotFound
            | ApiError::MethodNotAllowed
            | ApiError::Unauthenticated
            | ApiError::Forbidden
            | ApiError::ForbiddenValue { .. }
            | ApiError::PreconditionRequired(_)
            | ApiError::TooLarge { .. }
            | ApiError::UnsupportedMediaType { .. }
            | ApiError::IdempotencyConflict(_)
            | ApiError::InvalidProcessingNumber
            | ApiError::TooManyAttempts { .. } => {}
        }
    }

    /// The (status, code) pairs the API answers with, read from the answers themselves.
    async fn answered() -> BTreeSet<(u16, String)> {
        let mut pairs = BTreeSet::new();
        for e in every_error() {
            let response = e.into_response();
            let status = response.status().as_u16();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            pairs.insert((status, body["error"].as_str().unwrap().to_owned()));
        }
        pairs
    }

    /// api.md's list of error codes: the lines `- 400 `code`: ...`.
    fn documented_in_api_md() -> BTreeSet<(u16, String)> {
        include_str!("../../../docs/api.md")
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix("- ")?;
                let (status, rest) = rest.split_once(" `")?;
                let (code, _) = rest.split_once('`')?;
                Some((status.parse().ok()?, code.to_owned()))
            })
            .collect()
    }

    #[tokio::test]
    async fn api_md_documents_every_code_the_api_answers_with_and_no_other() {
        assert_eq!(answered().await, documented_in_api_md());
    }

    #[tokio::test]
    async fn the_openapi_error_schema_names_every_code_and_no_other() {
        let document: serde_json::Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
        let text = document["components"]["schemas"]["Error"]["description"].as_str().unwrap();
        let (_, codes) = text.split_once("is a stable code:").unwrap();
        let (codes, _) = codes.split_once(". Error answers").unwrap();
        // The codes are the backticked words outside parentheses (inside them are field names and examples).
        let mut named = BTreeSet::new();
        let mut depth = 0;
        for (i, part) in codes.split('`').enumerate() {
            if i % 2 == 1 && depth == 0 {
                named.insert(part.to_owned());
            } else if i % 2 == 0 {
                depth += part.matches('(').count();
                depth -= part.matches(')').count().min(depth);
            }
        }
        let answered: BTreeSet<String> = answered().await.into_iter().map(|(_, code)| code).collect();
        assert_eq!(answered, named);
    }
}
