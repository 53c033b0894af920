//! The HTTP API, one axum router served two ways: by the `http-api` Lambda (through `lambda_http`) and by
//! `hersys serve` on 127.0.0.1. Translates HTTP to application calls and back.
//!
//! Architecture invariant: this is the only crate that knows the JSON wire format and HTTP status codes; it holds no
//! business rules (those live in `domain`) and no AWS code (that lives in `aws-adapters`).

mod audit;
pub mod auth;
mod batch;
mod entries;
mod error;
pub mod events;
mod follow_ups;
mod graph_sources;
mod idempotency;
mod linkage;
mod openapi;
mod processing;
mod reports;
mod request_id;
mod wire;

use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post, put};
use axum::{Extension, Router};
use domain::app::App;

pub use auth::{Caller, ClaimsError, Role};
pub use error::ApiError;

/// Every route of the product's HTTP API, every answer with its request id ([`with_request_id`]).
pub fn router(app: App) -> Router {
    with_request_id(routes(app))
}

/// Gives every answer of `router` its `x-request-id` and its log line (`request done`), and every log line of the
/// request the id. Outermost, so that an answer of a layer a server adds (the local token check's 401) has them too.
pub fn with_request_id(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(request_id::span_per_request))
}

/// The routes alone, for a server that adds its own layers inside [`with_request_id`].
pub fn routes(app: App) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/openapi.json", get(openapi::document))
        .route("/v1/reports", limited(post(reports::create), wire::REPORT_BODY_LIMIT))
        .route("/v1/reports/{id}", limited(get(reports::get).patch(reports::patch), wire::REPORT_BODY_LIMIT))
        .route("/v1/entries", limited(post(entries::create), batch::BODY_LIMIT))
        .route("/v1/follow-ups", limited(post(follow_ups::create), batch::BODY_LIMIT))
        .route(
            "/v1/reports/{id}/processing-numbers",
            limited(post(processing::issue).get(processing::list), processing::BODY_LIMIT),
        )
        .route(
            "/v1/reports/{id}/processing-numbers/{cycle_id}/cancel",
            limited(post(processing::cancel), processing::BODY_LIMIT),
        )
        .route("/v1/processing-numbers/redeem", limited(post(processing::redeem), processing::BODY_LIMIT))
        .route("/v1/processing-numbers/stats", get(processing::stats))
        .route("/v1/graph-sources", get(graph_sources::list))
        .route("/v1/graph-sources/{prefecture}", limited(put(graph_sources::set), 4096))
        .route("/v1/linkage/summary", get(linkage::summary))
        .route("/v1/linkage/review", get(linkage::review_queue))
        .route("/v1/linkage/review/{id}", limited(post(linkage::answer), linkage::BODY_LIMIT))
        .route("/v1/audit", get(audit::list))
        // After every route: it applies to the routes registered before it. The answer keeps axum's `Allow` header.
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found)
        .with_state(app)
}

/// A route with a body limit that its 413 answer can state.
fn limited(route: MethodRouter<App>, limit: usize) -> MethodRouter<App> {
    route
        .layer::<_, std::convert::Infallible>(DefaultBodyLimit::max(limit))
        .layer::<_, std::convert::Infallible>(Extension(wire::BodyLimit(limit)))
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
