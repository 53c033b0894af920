//! The scheduled export function (EventBridge Scheduler): the handler in lib.rs, run by the shared scheduled main.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::run_scheduled(|app, event| async move { export::handle(&app, event).await }).await
}
