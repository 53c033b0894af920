//! The DynamoDB tables, each defined once by a variant of [`Table`]: its environment variable, its name for
//! `hersys serve --aws` and tests, and its keys and indexes (layout in `docs/storage-layout.md`).
//!
//! [`create_tables`] creates them for DynamoDB Local in tests and for `hersys serve --aws`. In AWS the SAM template
//! owns the tables (with point-in-time recovery and a customer-managed KMS key, which this does not set up); its
//! environment variables and `infra/check_template.py` use the names of [`Table::env_var`].

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use domain::StoreError;

use crate::dynamo::unavailable;

/// Which table. Adding a table is a variant, its place in [`Table::ALL`] and its [`Table::spec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Reports,
    Entries,
    /// Follow-up records of the entrants' follow-up system.
    FollowUps,
    /// Processing-number cycles, issued numbers and counters.
    Cycles,
    Idempotency,
    /// Line-list cases and switch dates of the graph export.
    GraphSources,
    /// Linkage decisions, the review queue and the summary.
    Links,
    /// The audit of views of personal data: append-only (the functions may only put to it).
    Audit,
    /// The incremental linkage's index (keyed blocking keys of entries and reports), its model and watermark.
    LinkIndex,
}

/// A global secondary index.
struct Index {
    name: &'static str,
    hash: &'static str,
    range: Option<&'static str>,
    projection: ProjectionType,
}

/// Everything about one table.
struct Spec {
    /// The environment variable that names the table for a function (set by `template.yaml`).
    env_var: &'static str,
    /// Its name after a prefix, for `hersys serve --aws` (`HersysLocalReports`, ...) and tests.
    base_name: &'static str,
    /// The table's sort key, if any (besides the hash key `pk`).
    sort_key: Option<&'static str>,
    /// Every key attribute of the table and its indexes, with its type.
    attributes: &'static [(&'static str, ScalarAttributeType)],
    indexes: &'static [Index],
    /// Whether DynamoDB deletes expired items by their `ttl` attribute (never trusted for correctness).
    ttl: bool,
}

impl Table {
    pub const ALL: [Table; 9] = [
        Table::Reports,
        Table::Entries,
        Table::FollowUps,
        Table::Cycles,
        Table::Idempotency,
        Table::GraphSources,
        Table::Links,
        Table::Audit,
        Table::LinkIndex,
    ];

    // Long: the one list of the tables' keys and indexes, a table each arm.
    fn spec(self) -> Spec {
        use ProjectionType::{All, KeysOnly};
        use ScalarAttributeType::{N, S};
        match self {
            Table::Reports => Spec {
                env_var: "REPORTS_TABLE",
                base_name: "Reports",
                sort_key: None,
                attributes: &[
                    ("pk", S),
                    ("passport_hash", S),
                    ("prefecture", S),
                    ("changed_day", S),
                    ("changed_at", S),
                ],
                indexes: &[
                    Index { name: "by_passport", hash: "passport_hash", range: None, projection: KeysOnly },
                    Index { name: "by_prefecture", hash: "prefecture", range: Some("pk"), projection: All },
                    Index { name: "by_change", hash: "changed_day", range: Some("changed_at"), projection: KeysOnly },
                ],
                ttl: false,
            },
            Table::Entries => Spec {
                env_var: "ENTRIES_TABLE",
                base_name: "Entries",
                sort_key: None,
                attributes: &[("pk", S), ("passport_hash", S), ("changed_day", S), ("changed_at", S)],
                indexes: &[
                    Index { name: "by_passport", hash: "passport_hash", range: None, projection: All },
                    Index { name: "by_change", hash: "changed_day", range: Some("changed_at"), projection: KeysOnly },
                ],
                ttl: false,
            },
            Table::FollowUps => Spec {
                env_var: "FOLLOW_UPS_TABLE",
                base_name: "FollowUps",
                sort_key: None,
                attributes: &[("pk", S), ("passport_hash", S)],
                indexes: &[Index { name: "by_passport", hash: "passport_hash", range: None, projection: All }],
                ttl: false,
            },
            Table::Cycles => Spec {
                env_var: "CYCLES_TABLE",
                base_name: "ProcessingNumbers",
                sort_key: None,
                attributes: &[("pk", S), ("report_id", S), ("due_shard", S), ("due_at", N)],
                indexes: &[
                    Index { name: "by_report", hash: "report_id", range: Some("pk"), projection: All },
                    Index { name: "due", hash: "due_shard", range: Some("due_at"), projection: KeysOnly },
                ],
                ttl: true,
            },
            Table::Idempotency => Spec {
                env_var: "IDEMPOTENCY_TABLE",
                base_name: "Idempotency",
                sort_key: None,
                attributes: &[("pk", S)],
                indexes: &[],
                ttl: true,
            },
            // pk `linelist#<prefecture>` / sk the list's No; pk `switch` / sk the prefecture; ...
            Table::GraphSources => Spec {
                env_var: "GRAPH_SOURCES_TABLE",
                base_name: "GraphSources",
                sort_key: Some("sk"),
                attributes: &[("pk", S), ("sk", S)],
                indexes: &[],
                ttl: false,
            },
            Table::Links => Spec {
                env_var: "LINKS_TABLE",
                base_name: "Links",
                sort_key: None,
                attributes: &[("pk", S), ("review_hc", S)],
                indexes: &[Index { name: "review_queue", hash: "review_hc", range: Some("pk"), projection: All }],
                ttl: false,
            },
            // pk the health centre / sk the event's time (milliseconds, fixed width) and id: a period is a range.
            Table::Audit => Spec {
                env_var: "AUDIT_TABLE",
                base_name: "Audit",
                sort_key: Some("sk"),
                attributes: &[("pk", S), ("sk", S)],
                indexes: &[],
                ttl: false,
            },
            // pk `e#<key>` / sk `<entry day>#<entry id>`; pk `r#<diagnosis day>` / sk `<key>#<report id>`; pk `meta`.
            Table::LinkIndex => Spec {
                env_var: "LINK_INDEX_TABLE",
                base_name: "LinkIndex",
                sort_key: Some("sk"),
                attributes: &[("pk", S), ("sk", S)],
                indexes: &[],
                ttl: false,
            },
        }
    }

    /// The environment variable that names this table (`REPORTS_TABLE`, ...).
    pub fn env_var(self) -> &'static str {
        self.spec().env_var
    }

    /// The table's name after a prefix (`Reports`, `ProcessingNumbers`, ...).
    pub fn base_name(self) -> &'static str {
        self.spec().base_name
    }

    /// Its position in [`Table::ALL`].
    fn index(self) -> usize {
        self as usize
    }
}

/// The table names, from configuration; empty for a table this function was not given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    names: [String; Table::ALL.len()],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {0} is not set")]
pub struct MissingTableName(pub &'static str);

impl TableNames {
    /// Each table's name from `f`; an empty name leaves the table out.
    pub fn from_fn(mut f: impl FnMut(Table) -> String) -> Self {
        Self { names: Table::ALL.map(&mut f) }
    }

    /// Reads each table's variable ([`Table::env_var`]). Each function is granted only the tables it uses, so absent
    /// ones are allowed and refused on use ([`TableNames::name`]); at least one must be set.
    pub fn from_env() -> Result<Self, MissingTableName> {
        let names = Self::from_fn(|table| {
            std::env::var(table.env_var()).ok().filter(|v| !v.trim().is_empty()).unwrap_or_default()
        });
        if names.configured().next().is_none() {
            return Err(MissingTableName(Table::Reports.env_var()));
        }
        Ok(names)
    }

    /// `{prefix}Reports`, `{prefix}Entries`, `{prefix}ProcessingNumbers`, ... ([`Table::base_name`]): a random prefix
    /// per test keeps tests apart on one DynamoDB Local.
    pub fn with_prefix(prefix: &str) -> Self {
        Self::from_fn(|table| format!("{prefix}{}", table.base_name()))
    }

    /// The name of one table, or an error naming its variable if this function was not given it.
    pub fn name(&self, table: Table) -> Result<&str, StoreError> {
        match self.get(table) {
            "" => Err(StoreError::Unavailable(format!("{} is not configured for this function", table.env_var()))),
            name => Ok(name),
        }
    }

    /// The name of one table, empty if this function was not given it.
    pub fn get(&self, table: Table) -> &str {
        &self.names[table.index()]
    }

    /// The tables given, with their names.
    pub fn configured(&self) -> impl Iterator<Item = (Table, &str)> {
        Table::ALL.into_iter().map(|table| (table, self.get(table))).filter(|(_, name)| !name.is_empty())
    }

    /// The environment a process needs to use these tables: each given table's variable and name.
    pub fn env_vars(&self) -> Vec<(&'static str, &str)> {
        self.configured().map(|(table, name)| (table.env_var(), name)).collect()
    }
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
async fn create(client: &Client, name: &str, table: &Spec) -> Result<bool, StoreError> {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema("pk", table.sort_key)?));
    for (name, kind) in table.attributes {
        let definition = AttributeDefinition::builder().attribute_name(*name).attribute_type(kind.clone()).build();
        request = request.attribute_definitions(definition.map_err(not_built)?);
    }
    for index in table.indexes {
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
    let tables: Vec<(&str, Spec)> = names.configured().map(|(table, name)| (name, table.spec())).collect();
    let mut created = Vec::new();
    for (name, spec) in &tables {
        created.push(create(client, name, spec).await?);
    }
    for ((name, spec), created) in tables.iter().zip(created) {
        client
            .wait_until_table_exists()
            .table_name(*name)
            .wait(Duration::from_secs(120))
            .await
            .map_err(|_| StoreError::Unavailable("DescribeTable: a table did not become active".to_owned()))?;
        // Only for tables created here: enabling TTL twice is an error, and existing tables were set up already.
        if spec.ttl && created {
            let spec =
                TimeToLiveSpecification::builder().attribute_name("ttl").enabled(true).build().map_err(not_built)?;
            client
                .update_time_to_live()
                .table_name(*name)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| unavailable("UpdateTimeToLive", &e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_holds_each_table_once_at_its_own_index() {
        for (i, table) in Table::ALL.into_iter().enumerate() {
            assert_eq!(table.index(), i, "{table:?}");
        }
        let vars: std::collections::HashSet<_> = Table::ALL.iter().map(|t| t.env_var()).collect();
        let bases: std::collections::HashSet<_> = Table::ALL.iter().map(|t| t.base_name()).collect();
        assert_eq!((vars.len(), bases.len()), (Table::ALL.len(), Table::ALL.len()));
    }

    /// `template.yaml` and `infra/check_template.py` name the tables by these variables.
    #[test]
    fn variables_and_names_are_those_of_the_template() {
        let pairs: Vec<_> = Table::ALL.iter().map(|t| (t.env_var(), t.base_name())).collect();
        assert_eq!(
            pairs,
            [
                ("REPORTS_TABLE", "Reports"),
                ("ENTRIES_TABLE", "Entries"),
                ("FOLLOW_UPS_TABLE", "FollowUps"),
                ("CYCLES_TABLE", "ProcessingNumbers"),
                ("IDEMPOTENCY_TABLE", "Idempotency"),
                ("GRAPH_SOURCES_TABLE", "GraphSources"),
                ("LINKS_TABLE", "Links"),
                ("AUDIT_TABLE", "Audit"),
                ("LINK_INDEX_TABLE", "LinkIndex"),
            ]
        );
    }

    #[test]
    fn a_table_not_given_to_this_function_is_refused_naming_its_variable() {
        let names = TableNames::from_fn(|table| match table {
            Table::Reports => "R".into(),
            Table::Cycles => "C".into(),
            _ => String::new(),
        });
        assert_eq!(names.name(Table::Reports).unwrap(), "R");
        let err = names.name(Table::Entries).unwrap_err().to_string();
        assert!(err.contains("ENTRIES_TABLE"), "{err}");
        assert_eq!(names.env_vars(), [("REPORTS_TABLE", "R"), ("CYCLES_TABLE", "C")]);
    }
}
