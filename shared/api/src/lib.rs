//! The HTTP API, one axum router served two ways: by the `ingest` Lambda (through `lambda_http`) and by
//! `hersys serve` on 127.0.0.1. Translates HTTP to application calls and back.
//!
//! Architecture invariant: this is the only crate that knows the JSON wire format and HTTP status codes; it holds no
//! business rules (those live in `domain`) and no AWS code (that lives in `aws-adapters`).

mod error;
pub mod events;
mod reports;
mod request_id;
mod wire;

use axum::routing::{get, post};
use axum::Router;
use domain::app::App;

pub use error::ApiError;

/// Every route of the product's HTTP API.
pub fn router(app: App) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/reports", post(reports::create))
        .route("/v1/reports/{id}", get(reports::get))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(request_id::span_per_request))
        .with_state(app)
}

async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
