//! The wiring on the AWS adapters for a benchmark run against the emulators (DynamoDB Local and moto, under
//! `source <(infra/emulators env)`): fresh tables and buckets named for the run, so that a run starts empty and
//! never meets another's data. Only the emulators: a benchmark has no business writing to a real AWS account.

use aws_adapters::TableNames;
use domain::app::Wiring;
use platform::{AwsResources, Config};

/// What the benchmarks print as their backend.
pub const DESCRIPTION: &str = "AWS adapters (DynamoDB, SES v2, SNS, S3)";

/// Creates the run's tables, buckets and SES sender on the emulators and wires them. The HMAC secret is
/// a constant: the benchmarks compare nothing across runs by hash.
pub async fn fresh_wiring() -> anyhow::Result<Wiring> {
    Ok(fresh_wiring_and_tables().await?.0)
}

/// [`fresh_wiring`], with the names of its tables.
pub async fn fresh_wiring_and_tables() -> anyhow::Result<(Wiring, TableNames)> {
    anyhow::ensure!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty()),
        "run under `source <(./infra/emulators env)`"
    );
    let sdk = platform::sdk_config().await;
    let tag = synthetic::rng::run_tag();
    let tables = TableNames::with_prefix(&format!("bx{tag}"));
    let resources = AwsResources {
        tables: tables.clone(),
        export_bucket: Some(format!("bx{tag}-export")),
        export_state_bucket: Some(format!("bx{tag}-state")),
        full_export_state_machine: None,
    };
    let config = Config::from_env_with_secret(vec![7; 32])?;
    platform::create_emulated_resources(&sdk, &config, &resources).await?;
    let mut wiring = platform::aws_wiring_with(&config, &sdk, resources)?;
    // EMF metrics are for CloudWatch; stdout belongs to the benchmark's figures.
    wiring.ports.metrics = std::sync::Arc::new(domain::ports::NoMetrics);
    Ok((wiring, tables))
}
