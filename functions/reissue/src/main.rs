//! The scheduled reissue function (EventBridge Scheduler).

use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    platform::logging::init();
    // Built once per cold start; every invocation borrows it.
    let app = platform::aws_app().await?;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        reissue::handle(app, event.payload).await
    }))
    .await
}
