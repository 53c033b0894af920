//! The scheduled reissue function (EventBridge Scheduler): the handler in lib.rs, run by the shared scheduled main.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::run_scheduled(
        |wiring| Ok(wiring.cases()),
        |cases, event| async move { reissue::handle(&cases, event).await },
    )
    .await
}
