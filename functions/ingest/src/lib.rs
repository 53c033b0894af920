//! The report ingestion function: the shared HTTP router behind API Gateway.

use domain::app::App;

/// The service `lambda_http` runs; `hersys invoke ingest` runs the same one on an event file.
pub fn service(app: App) -> axum::Router {
    api::router(app)
}
