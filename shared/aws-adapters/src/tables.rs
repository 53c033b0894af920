//! Creates the tables of `docs/storage-layout.md` with their keys and indexes, for DynamoDB Local in tests and
//! for `hersys serve --aws`. In AWS the SAM template owns the tables (with point-in-time recovery and a
//! customer-managed KMS key, which this does not set up).

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use domain::StoreError;

use crate::dynamo::{TableNames, unavailable};

struct Index {
    name: &'static str,
    hash: &'static str,
    range: Option<&'static str>,
    projection: ProjectionType,
}

struct Table<'a> {
    name: &'a str,
    /// The table's sort key, if any (besides the hash key `pk`).
    sort_key: Option<&'static str>,
    /// Every key attribute of the table and its indexes, with its type.
    attributes: &'static [(&'static str, ScalarAttributeType)],
    indexes: Vec<Index>,
    ttl: bool,
}

fn specs(names: &TableNames) -> [Table<'_>; 6] {
    use ScalarAttributeType::{N, S};
    let index = |name, hash, range, projection| Index { name, hash, range, projection };
    [
        Table {
            name: &names.reports,
            sort_key: None,
            attributes: &[("pk", S), ("passport_hash", S), ("prefecture", S), ("changed_day", S), ("changed_at", S)],
            indexes: vec![
                index("by_passport", "passport_hash", None, ProjectionType::KeysOnly),
                index("by_prefecture", "prefecture", Some("pk"), ProjectionType::All),
                index("by_change", "changed_day", Some("changed_at"), ProjectionType::KeysOnly),
            ],
            ttl: false,
        },
        Table {
            name: &names.entries,
            sort_key: None,
            attributes: &[("pk", S), ("passport_hash", S)],
            indexes: vec![index("by_passport", "passport_hash", None, ProjectionType::All)],
            ttl: false,
        },
        Table {
            name: &names.cycles,
            sort_key: None,
            attributes: &[("pk", S), ("report_id", S), ("due_shard", S), ("due_at", N)],
            indexes: vec![
                index("by_report", "report_id", Some("pk"), ProjectionType::All),
                index("due", "due_shard", Some("due_at"), ProjectionType::KeysOnly),
            ],
            ttl: true,
        },
        Table { name: &names.idempotency, sort_key: None, attributes: &[("pk", S)], indexes: Vec::new(), ttl: true },
        // Graph export sources: pk `linelist#<prefecture>` / sk the list's No; pk `switch` / sk the prefecture.
        Table {
            name: &names.graph_sources,
            sort_key: Some("sk"),
            attributes: &[("pk", S), ("sk", S)],
            indexes: Vec::new(),
            ttl: false,
        },
        Table {
            name: &names.links,
            sort_key: None,
            attributes: &[("pk", S), ("review_hc", S)],
            indexes: vec![index("review_queue", "review_hc", Some("pk"), ProjectionType::All)],
            ttl: false,
        },
    ]
}

/// Only reachable through a bug in the specs above (a required field left out).
fn not_built<E>(_: E) -> StoreError {
    StoreError::Unavailable("CreateTable: request could not be built".to_owned())
}

fn key_schema(hash: &str, range: Option<&str>) -> Result<Vec<KeySchemaElement>, StoreError> {
    let element = |name: &str, key_type| KeySchemaElement::builder().attribute_name(name).key_type(key_type).build();
    let mut schema = vec![element(hash, KeyType::Hash).map_err(not_built)?];
    if let Some(range) = range {
        schema.push(element(range, KeyType::Range).map_err(not_built)?);
    }
    Ok(schema)
}

/// Creates a table unless it exists; tells whether this call created it.
async fn create(client: &Client, table: &Table<'_>) -> Result<bool, StoreError> {
    let mut request = client
        .create_table()
        .table_name(table.name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema("pk", table.sort_key)?));
    for (name, kind) in table.attributes {
        let definition = AttributeDefinition::builder().attribute_name(*name).attribute_type(kind.clone()).build();
        request = request.attribute_definitions(definition.map_err(not_built)?);
    }
    for index in &table.indexes {
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(index.name)
            .set_key_schema(Some(key_schema(index.hash, index.range)?))
            .projection(Projection::builder().projection_type(index.projection.clone()).build())
            .build()
            .map_err(not_built)?;
        request = request.global_secondary_indexes(gsi);
    }
    match request.send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(CreateTableError::is_resource_in_use_exception) => Ok(false),
        Err(e) => Err(unavailable("CreateTable", &e)),
    }
}

/// Creates the tables (on-demand billing) and waits until they are ACTIVE. Tables that exist already are left as
/// they are, so running it twice is harmless.
/// Tables left unnamed (a configuration that does not use them) are skipped.
pub async fn create_tables(client: &Client, names: &TableNames) -> Result<(), StoreError> {
    // A table this caller was not given a name for (an empty name) is not created.
    let tables: Vec<Table<'_>> = specs(names).into_iter().filter(|t| !t.name.is_empty()).collect();
    let mut created = Vec::new();
    for table in &tables {
        created.push(create(client, table).await?);
    }
    for (table, created) in tables.iter().zip(created) {
        client
            .wait_until_table_exists()
            .table_name(table.name)
            .wait(Duration::from_secs(120))
            .await
            .map_err(|_| StoreError::Unavailable("DescribeTable: a table did not become active".to_owned()))?;
        // Only for tables created here: enabling TTL twice is an error, and existing tables were set up already.
        if table.ttl && created {
            let spec =
                TimeToLiveSpecification::builder().attribute_name("ttl").enabled(true).build().map_err(not_built)?;
            client
                .update_time_to_live()
                .table_name(table.name)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| unavailable("UpdateTimeToLive", &e))?;
        }
    }
    Ok(())
}
