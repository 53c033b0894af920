//! LinkIndex table (the incremental linkage's index): pk `e#<key>` / sk `<entry day>#<entry id>` files an entry
//! under a keyed blocking key (a report's candidates: one Query per key, a range of days); pk `r#<diagnosis day>` /
//! sk `<key>#<report id>` files a report by its diagnosis day (a new entry's reports: one Query per day of the
//! window); pk `meta` / sk `model` or `state` holds the model and the watermark as documents. Keys are 16 hex digits
//! of a keyed hash, days ISO dates, ids opaque: no personal value in any key.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::WriteRequest;
use chrono::NaiveDate;
use domain::StoreError;
use domain::linkage_records::{IndexedRecord, KeyLookup, LinkageState, StoredModel};
use domain::ports::LinkIndex;
use domain::report::ReportId;
use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{CONCURRENT_QUERIES, DynamoStores, Item, Table, decode_doc, encode_doc, query_all, read_string, s};

const WHAT: &str = "linkage index";
fn put(pk: String, sk: String) -> Result<WriteRequest, StoreError> {
    super::put_request(Item::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))]))
}

impl DynamoStores {
    async fn get_meta<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(self.tables.name(Table::LinkIndex)?)
            .key("pk", s("meta"))
            .key("sk", s(name))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| super::unavailable("GetItem", &e))?;
        match out.item {
            Some(mut item) => decode_doc(name, &mut item).map(Some),
            None => Ok(None),
        }
    }

    async fn put_meta<T: Serialize>(&self, name: &str, value: &T) -> Result<(), StoreError> {
        let item = Item::from([
            ("pk".to_owned(), s("meta")),
            ("sk".to_owned(), s(name)),
            ("doc".to_owned(), encode_doc(name, value)?),
        ]);
        self.client
            .put_item()
            .table_name(self.tables.name(Table::LinkIndex)?)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| super::unavailable("PutItem", &e))?;
        Ok(())
    }
}

#[async_trait]
impl LinkIndex for DynamoStores {
    async fn put_entry_keys(&self, records: &[IndexedRecord]) -> Result<(), StoreError> {
        let writes = records
            .iter()
            .flat_map(|r| r.keys.iter().map(move |k| put(format!("e#{k}"), format!("{}#{}", r.day, r.id))))
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_write(self.tables.name(Table::LinkIndex)?, writes).await
    }

    async fn put_report_keys(&self, records: &[IndexedRecord]) -> Result<(), StoreError> {
        let writes = records
            .iter()
            .flat_map(|r| r.keys.iter().map(move |k| put(format!("r#{}", r.day), format!("{k}#{}", r.id))))
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_write(self.tables.name(Table::LinkIndex)?, writes).await
    }

    async fn entries_by_keys(&self, lookups: &[KeyLookup], limit: usize) -> Result<Vec<Vec<String>>, StoreError> {
        let table = self.tables.name(Table::LinkIndex)?;
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        // One Query per lookup, several in flight; `buffered` keeps the answers in the order of the lookups.
        stream::iter(lookups.to_vec())
            .map(|KeyLookup { key, from, to }| async move {
                // `$` sorts after `#`: the upper bound takes every id of the last day. One page: a caller asks one
                // more than it accepts, so a fuller block is refused, not read.
                let out = self
                    .client
                    .query()
                    .table_name(table)
                    .key_condition_expression("pk = :k AND sk BETWEEN :from AND :to")
                    .expression_attribute_values(":k", s(format!("e#{key}")))
                    .expression_attribute_values(":from", s(from.to_string()))
                    .expression_attribute_values(":to", s(format!("{to}$")))
                    .limit(limit)
                    .send()
                    .await
                    .map_err(|e| super::unavailable("Query", &e))?;
                out.items
                    .unwrap_or_default()
                    .iter()
                    .map(|item| {
                        let sk = read_string(WHAT, item, "sk")?;
                        sk.split_once('#')
                            .map(|(_, id)| id.to_owned())
                            .ok_or_else(|| StoreError::Corrupt("a linkage index entry row has no id".to_owned()))
                    })
                    .collect::<Result<Vec<String>, StoreError>>()
            })
            .buffered(CONCURRENT_QUERIES)
            .try_collect()
            .await
    }

    async fn report_keys_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, NaiveDate, ReportId)>, StoreError> {
        let table = self.tables.name(Table::LinkIndex)?;
        let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
        let pages: Vec<(NaiveDate, Vec<Item>)> = stream::iter(days)
            .map(|day| async move {
                let query = self
                    .client
                    .query()
                    .table_name(table)
                    .key_condition_expression("pk = :d")
                    .expression_attribute_values(":d", s(format!("r#{day}")));
                Ok::<_, StoreError>((day, query_all(query).await?))
            })
            .buffer_unordered(CONCURRENT_QUERIES)
            .try_collect()
            .await?;
        let mut rows = Vec::new();
        for (day, items) in pages {
            for item in items {
                let sk = read_string(WHAT, &item, "sk")?;
                let corrupt = || StoreError::Corrupt("a linkage index report row is malformed".to_owned());
                let (key, id) = sk.split_once('#').ok_or_else(corrupt)?;
                rows.push((key.to_owned(), day, ReportId::parse(id).ok_or_else(corrupt)?));
            }
        }
        Ok(rows)
    }

    async fn current_model(&self) -> Result<Option<StoredModel>, StoreError> {
        self.get_meta("model").await
    }

    async fn put_model(&self, model: &StoredModel) -> Result<(), StoreError> {
        self.put_meta("model", model).await
    }

    async fn linkage_state(&self) -> Result<Option<LinkageState>, StoreError> {
        self.get_meta("state").await
    }

    async fn put_linkage_state(&self, state: &LinkageState) -> Result<(), StoreError> {
        self.put_meta("state", state).await
    }
}
