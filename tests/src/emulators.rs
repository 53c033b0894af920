//! Where the emulators are. `./infra/test` starts DynamoDB Local and moto and exports their endpoints.

use aws_adapters::TableNames;

/// The endpoint in `var`, or a failure that says how to start the emulators.
pub fn endpoint(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{var} is not set: the emulators are not running. Run the tests with ./infra/test \
             (or `source <(./infra/emulators env)` first)."
        ),
    }
}

/// SDK configuration for the emulators: DynamoDB Local for DynamoDB, moto for the rest.
pub async fn sdk_config() -> aws_config::SdkConfig {
    endpoint("AWS_ENDPOINT_URL_DYNAMODB");
    endpoint("AWS_ENDPOINT_URL");
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

/// Table names with a random prefix, so tests on one DynamoDB Local never see each other's items.
pub fn fresh_table_names() -> TableNames {
    TableNames::with_prefix(&format!("t{}", uuid::Uuid::new_v4().simple()))
}

/// Fresh tables (see [`fresh_table_names`]), created.
pub async fn fresh_tables(sdk: &aws_config::SdkConfig) -> TableNames {
    let tables = fresh_table_names();
    aws_adapters::create_tables(&aws_sdk_dynamodb::Client::new(sdk), &tables)
        .await
        .expect("creating tables on DynamoDB Local");
    tables
}

/// Everything moto "sent" (SNS SMS under `sns.SMS`, SES e-mail under `ses.Message`): `/moto-api/data.json`.
///
/// moto checks that each attribute of its models can be written as JSON, then writes them all: an attribute that
/// another test changes in between (an S3 object put meanwhile) makes the answer a 500 ("FakeKey is not JSON
/// serializable"). The tests share one moto, so a failed read is tried again a few times.
pub async fn moto_data() -> serde_json::Value {
    let url = format!("{}/moto-api/data.json", endpoint("AWS_ENDPOINT_URL").trim_end_matches('/'));
    let mut last = String::new();
    for _ in 0..10 {
        match reqwest::get(&url).await {
            Ok(res) if res.status().is_success() => match res.json().await {
                Ok(data) => return data,
                Err(e) => last = e.to_string(),
            },
            Ok(res) => last = format!("status {}", res.status()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("moto's /moto-api/data.json failed ten times; last: {last}")
}

/// [`moto_data`] as one JSON text (non-ASCII unescaped), to search for a sent text.
pub async fn moto_sent() -> String {
    moto_data().await.to_string()
}
