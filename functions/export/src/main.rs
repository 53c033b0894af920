//! The scheduled export function (EventBridge Scheduler): the handler in lib.rs, run by the shared scheduled main.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::run_scheduled(
        export::Services::new,
        |services, event| async move { export::handle(&services, event).await },
    )
    .await
}
