//! `hersys invoke FUNCTION --event FILE`: runs one handler once on an event of the kind AWS delivers and prints
//! its response, exactly as the Lambda would return it.

use std::path::Path;

use anyhow::Context;
use domain::app::{App, Wiring};
use lambda_http::request::LambdaRequest;
use lambda_http::{Context as LambdaContext, LambdaEvent, Service};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Function {
    HttpApi,
    Reissue,
    Linkage,
    Export,
}

/// Runs a scheduled function's handler.
/// The function's services are built from `wiring` as its cold start builds them.
pub async fn scheduled(
    wiring: &Wiring,
    function: Function,
    event: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let result = match function {
        Function::Reissue => reissue::handle(&wiring.cases(), event).await,
        Function::Linkage => linkage::handle(&linkage::Services::new(wiring)?, event).await.map_err(Into::into),
        Function::Export => export::handle(&export::Services::new(wiring)?, event).await.map_err(Into::into),
        Function::HttpApi => anyhow::bail!("http-api is an HTTP function"),
    };
    result.map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs the HTTP function on an API Gateway (HTTP API v2) event through the same adapter `lambda_http::run` uses.
pub async fn http(app: &App, text: &str) -> anyhow::Result<serde_json::Value> {
    let request: LambdaRequest = serde_json::from_str(text).context("the event is not an API Gateway request")?;
    let mut adapter = lambda_http::Adapter::from(http_api::service(app.clone()));
    let response =
        adapter.call(LambdaEvent::new(request, LambdaContext::default())).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(serde_json::to_value(&response)?)
}

pub async fn run(backend: &crate::Backend, function: Function, event: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(event).with_context(|| format!("reading {}", event.display()))?;
    let built = crate::setup::build(backend).await?;
    let output = match function {
        Function::HttpApi => http(&built.wiring().app(), &text).await?,
        other => {
            let value: serde_json::Value = serde_json::from_str(&text).context("the event is not JSON")?;
            scheduled(built.wiring(), other, value).await?
        }
    };
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}
