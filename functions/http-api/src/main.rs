//! The HTTP API function (API Gateway HTTP API, payload 2.0): every `/v1` route, through the shared router.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::logging::init();
    // Clients and configuration are built once per cold start and shared by every invocation.
    let app = platform::aws_wiring().await?.app();
    lambda_http::run(http_api::service(app)).await
}
