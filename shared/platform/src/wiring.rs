//! Builds the [`Wiring`] once per cold start on the AWS adapters (Lambda, `hersys serve --aws`): one SDK
//! configuration shared by every client, and the ports each function builds its services from. A function deployed
//! without a bucket its service needs fails at its cold start, naming the setting ([`domain::app::MissingPort`]).
//! The embedded default's wiring is `embedded::embedded_wiring`: the Lambdas do not link SQLite.

use std::sync::Arc;

use aws_adapters::{AwsNotifier, DynamoStores, KmsVault, S3ExportSink, S3ExportState, TableNames};
use aws_config::{BehaviorVersion, SdkConfig};
use domain::KeyedHasher;
use domain::app::{MissingPort, Ports, Settings, Wiring};
use domain::ports::{ExportSink, ExportStateStore};
use domain::time::SystemClock;

use crate::config::{Config, ConfigError};

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("environment variable {0} is not set")]
    MissingTable(&'static str),
    #[error("the HMAC secret is too short")]
    WeakSecret,
    #[error("storage: {0}")]
    Store(#[from] domain::StoreError),
    #[error("setting up the emulator: {0}")]
    Setup(String),
    #[error("reading the HMAC secret: {0}")]
    Secret(String),
    #[error(transparent)]
    MissingPort(#[from] MissingPort),
}

/// The names of the AWS resources a function uses, from its environment.
#[derive(Debug, Clone)]
pub struct AwsResources {
    pub tables: TableNames,
    /// `EXPORT_BUCKET`; functions that export nothing run without it.
    pub export_bucket: Option<String>,
    /// `EXPORT_STATE_BUCKET`: the graph export's private state between runs; only the export function has it.
    pub export_state_bucket: Option<String>,
    /// `FULL_EXPORT_STATE_MACHINE_ARN`: the export function starts it when it finds no usable state.
    pub full_export_state_machine: Option<String>,
}

impl AwsResources {
    pub fn from_env() -> Result<Self, WiringError> {
        let tables = TableNames::from_env().map_err(|e| WiringError::MissingTable(e.0))?;
        let export_bucket = std::env::var("EXPORT_BUCKET").ok().filter(|b| !b.is_empty());
        let export_state_bucket = std::env::var("EXPORT_STATE_BUCKET").ok().filter(|b| !b.is_empty());
        let full_export_state_machine = std::env::var("FULL_EXPORT_STATE_MACHINE_ARN").ok().filter(|b| !b.is_empty());
        Ok(Self { tables, export_bucket, export_state_bucket, full_export_state_machine })
    }
}

/// Loads the SDK configuration. `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_DYNAMODB` point it at emulators.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// Emulators serve S3 at one host, so buckets go in the path; real S3 uses virtual-hosted buckets.
fn using_emulator() -> bool {
    ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"].iter().any(|v| std::env::var(v).is_ok_and(|s| !s.is_empty()))
}

/// The Lambda wiring: everything from the environment. The HMAC key comes from Secrets Manager (`HMAC_SECRET_ARN`,
/// as deployed) or, for local runs against emulators, from `HMAC_SECRET`.
pub async fn aws_wiring() -> Result<Wiring, WiringError> {
    let resources = AwsResources::from_env()?;
    let sdk = sdk_config().await;
    let secret = match std::env::var("HMAC_SECRET_ARN").ok().filter(|v| !v.trim().is_empty()) {
        Some(arn) => aws_adapters::fetch_secret(&aws_sdk_secretsmanager::Client::new(&sdk), &arn)
            .await
            .map_err(WiringError::Secret)?,
        None => std::env::var("HMAC_SECRET")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .ok_or(crate::config::ConfigError::Missing("HMAC_SECRET_ARN (or HMAC_SECRET)"))?
            .into_bytes(),
    };
    let config = Config::from_env_with_secret(secret)?;
    aws_wiring_with(&config, &sdk, resources)
}

/// Against emulators, creates what SAM creates in AWS: the tables, the processing numbers' KMS key (the alias
/// `NUMBER_KEY_ID` names), the export buckets (in the SDK's region) and the
/// SES sender identity (SES refuses a sender until then). Every step accepts what already exists, so a second call
/// is harmless. Used by `hersys serve --aws` on emulators, the benchmarks and the tests.
pub async fn create_emulated_resources(
    sdk: &SdkConfig,
    config: &Config,
    resources: &AwsResources,
) -> Result<(), WiringError> {
    aws_adapters::create_tables(&aws_sdk_dynamodb::Client::new(sdk), &resources.tables).await?;
    aws_adapters::create_number_key(&aws_sdk_kms::Client::new(sdk), &config.number_key_id)
        .await
        .map_err(WiringError::Setup)?;
    aws_adapters::verify_sender(&aws_sdk_sesv2::Client::new(sdk), &config.ses_from_address)
        .await
        .map_err(|e| WiringError::Setup(e.to_string()))?;
    let s3 = aws_adapters::s3_client(sdk, true);
    let region = sdk.region().map_or_else(|| "ap-northeast-1".to_owned(), |r| r.to_string());
    for bucket in [&resources.export_bucket, &resources.export_state_bucket].into_iter().flatten() {
        aws_adapters::create_bucket(&s3, bucket, &region).await.map_err(|e| WiringError::Setup(e.to_string()))?;
    }
    Ok(())
}

/// The AWS wiring with explicit parts (tests, `hersys serve --aws`).
pub fn aws_wiring_with(config: &Config, sdk: &SdkConfig, resources: AwsResources) -> Result<Wiring, WiringError> {
    let stores = Arc::new(DynamoStores::new(aws_sdk_dynamodb::Client::new(sdk), resources.tables));
    let notifier = Arc::new(AwsNotifier::new(
        aws_sdk_sns::Client::new(sdk),
        aws_sdk_sesv2::Client::new(sdk),
        config.ses_from_address.clone(),
    ));
    let s3 = aws_adapters::s3_client(sdk, using_emulator());
    let export = resources
        .export_bucket
        .map(|bucket| Arc::new(S3ExportSink::new(s3.clone(), bucket, "")) as Arc<dyn ExportSink>);
    let export_state = resources
        .export_state_bucket
        .map(|bucket| Arc::new(S3ExportState::new(s3, bucket)) as Arc<dyn ExportStateStore>);
    let full_runs = resources.full_export_state_machine.map(|arn| {
        Arc::new(aws_adapters::StepFunctionsStarter::new(aws_sdk_sfn::Client::new(sdk), arn))
            as Arc<dyn domain::ports::FullRunStarter>
    });
    let ports = Ports {
        reports: stores.clone(),
        entries: stores.clone(),
        follow_ups: stores.clone(),
        cycles: stores.clone(),
        counters: stores.clone(),
        idempotency: stores.clone(),
        graph_sources: stores.clone(),
        leases: stores.clone(),
        audit: stores.clone(),
        link_index: stores.clone(),
        links: stores,
        notifier,
        // Built for every function (a client, no call), but KMS is only called when a number is sealed or opened
        // (http-api, reissue).
        vault: Arc::new(KmsVault::new(aws_sdk_kms::Client::new(sdk), config.number_key_id.clone())),
        export_state,
        export,
        full_runs,
        clock: Arc::new(SystemClock),
        metrics: Arc::new(crate::emf::EmfMetrics::stdout()),
    };
    Ok(Wiring { ports, settings: settings(config)? })
}

/// The settings the application takes beside its ports, from the configuration (both wirings: the embedded one is
/// `embedded::embedded_wiring`).
pub fn settings(config: &Config) -> Result<Settings, WiringError> {
    Ok(Settings {
        hasher: KeyedHasher::new(&config.hmac_secret).map_err(|_| WiringError::WeakSecret)?,
        policy: config.policy,
        app_link: config.app_link.clone(),
        linkage_window_days: config.linkage_window_days,
        memory_mb: config.memory_mb,
    })
}

/// The whole `main` of a scheduled function: JSON logs, the function's services built once per cold start by
/// `build` (a missing bucket fails here, naming its setting), then every invocation's event handed to `handler` with
/// a (cheap) clone of them. The handler's error becomes the invocation's `errorType` and `errorMessage` (a
/// [`crate::function_error::FunctionError`] names itself for Step Functions).
pub async fn run_scheduled<S, B, F, Fut, E>(build: B, handler: F) -> Result<(), lambda_runtime::Error>
where
    S: Clone,
    B: FnOnce(&Wiring) -> Result<S, MissingPort>,
    F: Fn(S, serde_json::Value) -> Fut,
    Fut: std::future::Future<Output = Result<serde_json::Value, E>>,
    E: Into<lambda_runtime::Diagnostic> + std::fmt::Debug,
{
    crate::logging::init();
    let services = build(&aws_wiring().await?).map_err(WiringError::from)?;
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
        handler(services.clone(), event.payload)
    }))
    .await
}
