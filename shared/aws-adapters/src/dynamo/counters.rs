//! The statistics counters (`CounterStore`): `counter#<name>` items in the ProcessingNumbers table, added to
//! atomically and read in batches.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use domain::StoreError;
use domain::ports::CounterStore;
use domain::time::Instant;

use super::{DynamoStores, Item, Table, epoch_ms, epoch_s, n, read_i64, read_string, read_u64, s, unavailable};

const COUNTER: &str = "counter";

fn counter_key(name: &str) -> String {
    format!("counter#{name}")
}

/// Counters share the ProcessingNumbers table (`counter#<name>` items; `counters` rows locally).
#[async_trait]
impl CounterStore for DynamoStores {
    async fn add_to_counter(&self, name: &str, delta: u64, purge_after: Instant) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(self.tables.name(Table::Cycles)?)
            .key("pk", s(counter_key(name)))
            .update_expression("ADD #value :delta SET #purge = :purge, #ttl = :ttl")
            .expression_attribute_names("#value", "value")
            .expression_attribute_names("#purge", "purge_after")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":delta", n(delta))
            .expression_attribute_values(":purge", epoch_ms(purge_after))
            .expression_attribute_values(":ttl", epoch_s(purge_after))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| unavailable("UpdateItem", &e))?;
        let attributes = out.attributes.unwrap_or_default();
        read_u64(COUNTER, &attributes, "value")
    }

    async fn counters(&self, names: &[String], now: Instant) -> Result<Vec<u64>, StoreError> {
        // One BatchGetItem per 100 names (the statistics ask for up to 1,840), which refuses a repeated key.
        let unique: std::collections::BTreeSet<&String> = names.iter().collect();
        let keys = unique.into_iter().map(|name| Item::from([("pk".to_owned(), s(counter_key(name)))])).collect();
        let mut values = std::collections::HashMap::new();
        for item in self.batch_get(self.tables.name(Table::Cycles)?, keys).await? {
            // TTL deletes lazily: a counter past its purge instant counts as gone.
            if read_i64(COUNTER, &item, "purge_after")? > now.timestamp_millis() {
                values.insert(read_string(COUNTER, &item, "pk")?, read_u64(COUNTER, &item, "value")?);
            }
        }
        Ok(names.iter().map(|name| values.get(&counter_key(name)).copied().unwrap_or(0)).collect())
    }
}
