//! `GET /v1/openapi.json`: the API's contract, `shared/api/openapi.json`, compiled into the binary so that what a
//! server answers is the document it was built with. No authentication (in AWS the route needs `Authorizer: NONE`,
//! like `/v1/health`).

use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;

/// The OpenAPI 3.1 document, as committed. `tests/src/openapi.rs` checks that it parses, that every operation it
/// names is routed, and that real answers validate against its schemas.
const DOCUMENT: &str = include_str!("../openapi.json");

pub(crate) async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], DOCUMENT)
}
