//! The scheduled linkage function (EventBridge Scheduler): the handler in lib.rs, run by the shared scheduled main.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::run_scheduled(
        linkage::Services::new,
        |services, event| async move { linkage::handle(&services, event).await },
    )
    .await
}
