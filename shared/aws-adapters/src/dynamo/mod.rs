//! The domain's stores on DynamoDB, with the table layout of `docs/storage-layout.md`: one table per aggregate, the
//! domain struct as a `doc` map (serde_dynamo), and beside it only opaque ids and keyed hashes as key and index
//! attributes.
//!
//! Creates are conditional on absence, updates on the stored `version`, multi-item writes are transactions. Error
//! texts carry SDK error codes only, never keys or values.

mod audit;
mod counters;
mod cycles;
mod entries;
mod follow_ups;
mod graph_sources;
mod idempotency;
mod lease;
mod link_index;
mod links;
mod reports;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason};
use domain::StoreError;
use domain::time::Instant;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::sdk_error::describe;
pub use crate::tables::{MissingTableName, Table, TableNames};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// Implements every store port of the domain. Cheap to clone (the SDK client is an `Arc` inside).
#[derive(Debug, Clone)]
pub struct DynamoStores {
    pub client: Client,
    pub tables: TableNames,
}

/// Attributes that are keys of a table or of an index: the only places an unencrypted-by-design value could leak.
const KEY_ATTRIBUTES: [&str; 8] =
    ["pk", "sk", "passport_hash", "prefecture", "report_id", "due_shard", "review_hc", "changed_day"];

impl DynamoStores {
    pub fn new(client: Client, tables: TableNames) -> Self {
        Self { client, tables }
    }

    /// Every string value of a key or index attribute in every table, by Scan. For tests and diagnostics only (the
    /// contract check "no raw personal identifier in any key"); never call it on a production path.
    pub async fn all_key_values(&self) -> Result<Vec<String>, StoreError> {
        let mut values = Vec::new();
        for (_, table) in self.tables.configured() {
            let items: Vec<Item> = self
                .client
                .scan()
                .table_name(table)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| unavailable("Scan", &e))?;
            for item in items {
                values.extend(KEY_ATTRIBUTES.iter().filter_map(|a| item.get(*a)?.as_s().ok().cloned()));
            }
        }
        Ok(values)
    }
}

// ---- helpers shared by the stores ----

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A BatchWriteItem put of `item` ([`DynamoStores::batch_write`]).
pub(crate) fn put_request(item: Item) -> Result<aws_sdk_dynamodb::types::WriteRequest, StoreError> {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let put = PutRequest::builder().set_item(Some(item)).build().map_err(|_| unbuilt_write())?;
    Ok(WriteRequest::builder().put_request(put).build())
}

/// A BatchWriteItem delete of the item of `key` ([`DynamoStores::batch_write`]).
pub(crate) fn delete_request(key: Item) -> Result<aws_sdk_dynamodb::types::WriteRequest, StoreError> {
    use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
    let delete = DeleteRequest::builder().set_key(Some(key)).build().map_err(|_| unbuilt_write())?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

fn unbuilt_write() -> StoreError {
    StoreError::Unavailable("BatchWriteItem: request could not be built".to_owned())
}

pub(crate) fn epoch_ms(at: Instant) -> AttributeValue {
    n(at.timestamp_millis())
}

/// DynamoDB's TTL wants epoch seconds.
pub(crate) fn epoch_s(at: Instant) -> AttributeValue {
    n(at.timestamp())
}

pub(crate) fn unavailable<E: ProvideErrorMetadata>(operation: &str, error: &SdkError<E, HttpResponse>) -> StoreError {
    StoreError::Unavailable(describe(operation, error).text)
}

/// The `doc` attribute of a domain value. `what` names the kind of item for the error text.
pub(crate) fn encode_doc<T: Serialize>(what: &str, value: &T) -> Result<AttributeValue, StoreError> {
    // serde_dynamo's messages may quote values, so only the kind of item is reported.
    serde_dynamo::to_attribute_value(value).map_err(|_| StoreError::Corrupt(format!("a {what} does not encode")))
}

pub(crate) fn decode_doc<T: DeserializeOwned>(what: &str, item: &mut Item) -> Result<T, StoreError> {
    let doc = item.remove("doc").ok_or_else(|| StoreError::Corrupt(format!("a {what} item has no doc")))?;
    serde_dynamo::from_attribute_value(doc)
        .map_err(|_| StoreError::Corrupt(format!("the doc of a {what} item does not decode")))
}

pub(crate) fn read_string(what: &str, item: &Item, attribute: &str) -> Result<String, StoreError> {
    item.get(attribute)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| StoreError::Corrupt(format!("a {what} item lacks the string {attribute}")))
}

pub(crate) fn read_u64(what: &str, item: &Item, attribute: &str) -> Result<u64, StoreError> {
    item.get(attribute)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("a {what} item lacks the number {attribute}")))
}

pub(crate) fn read_i64(what: &str, item: &Item, attribute: &str) -> Result<i64, StoreError> {
    item.get(attribute)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("a {what} item lacks the number {attribute}")))
}

/// The cancellation codes of a transaction, e.g. `None,ConditionalCheckFailed`: safe to show, they hold no values.
pub(crate) fn reason_codes(reasons: &[CancellationReason]) -> String {
    reasons.iter().map(|r| r.code().unwrap_or("None")).collect::<Vec<_>>().join(",")
}

pub(crate) fn condition_failed_at(reasons: &[CancellationReason], index: usize) -> bool {
    reasons.get(index).and_then(CancellationReason::code) == Some("ConditionalCheckFailed")
}

impl DynamoStores {
    /// The table's item count as DynamoDB keeps it (DescribeTable: refreshed about every six hours, no read units).
    /// The reports table also holds the case-number claims, so its count is up to twice the reports: an estimate
    /// that errs towards more partitions.
    pub(crate) async fn item_count(&self, table: Table) -> Result<u64, StoreError> {
        let described = self
            .client
            .describe_table()
            .table_name(self.tables.name(table)?)
            .send()
            .await
            .map_err(|e| unavailable("DescribeTable", &e))?;
        let count = described.table.and_then(|t| t.item_count).unwrap_or(0);
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// The item with this partition key, read consistently (every store reads its own writes).
    pub(crate) async fn get_by_pk(&self, table: &str, pk: impl Into<String>) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", &e))?;
        Ok(out.item)
    }
}

/// How often the unprocessed part of a batch request (throttling) is sent again, after 25 ms, 50 ms, ... 3.2 s.
const BATCH_RETRIES: u32 = 8;

/// Sends one batch request's items with `send` (which answers what it read and what it left unprocessed) until
/// nothing is left, pausing longer before each retry; `Unavailable` after [`BATCH_RETRIES`] retries.
async fn send_until_processed<T, R, F, Fut>(operation: &str, mut pending: Vec<T>, send: F) -> Result<Vec<R>, StoreError>
where
    F: Fn(Vec<T>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<R>, Vec<T>), StoreError>>,
{
    let mut done = Vec::new();
    for attempt in 0..=BATCH_RETRIES {
        let (read, unprocessed) = send(pending).await?;
        done.extend(read);
        if unprocessed.is_empty() {
            return Ok(done);
        }
        pending = unprocessed;
        if attempt < BATCH_RETRIES {
            tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
        }
    }
    Err(StoreError::Unavailable(format!("{operation}: items still unprocessed after {BATCH_RETRIES} retries")))
}

impl DynamoStores {
    /// The items with these keys, read consistently, by BatchGetItem: 100 keys a request, 8 requests in flight,
    /// unprocessed keys asked again. Items that do not exist are not in the answer.
    pub(crate) async fn batch_get(&self, table: &str, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        use futures::{StreamExt, TryStreamExt, stream};
        let send = |keys: Vec<Item>| async move {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|_| StoreError::Unavailable("BatchGetItem: request could not be built".to_owned()))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(|e| unavailable("BatchGetItem", &e))?;
            let read = out.responses.and_then(|mut r| r.remove(table)).unwrap_or_default();
            let unprocessed =
                out.unprocessed_keys.and_then(|mut u| u.remove(table)).map(|k| k.keys).unwrap_or_default();
            Ok((read, unprocessed))
        };
        let pages: Vec<Vec<Item>> = stream::iter(keys.chunks(100).map(<[Item]>::to_vec).collect::<Vec<_>>())
            .map(|chunk| send_until_processed("BatchGetItem", chunk, send))
            .buffer_unordered(8)
            .try_collect()
            .await?;
        Ok(pages.into_iter().flatten().collect())
    }

    /// One page of the items of a segment of a table (a parallel Scan, strongly consistent), for the partitions of
    /// a full run: up to `limit` items from `cursor` (the last page's last `pk`), with those `filter` keeps.
    pub(crate) async fn scan_segment(
        &self,
        table: &str,
        segment: domain::ports::Segment,
        cursor: Option<String>,
        limit: usize,
        filter: Option<&str>,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        let mut items = Vec::new();
        let mut start = cursor;
        loop {
            let want = i32::try_from(limit.saturating_sub(items.len()).max(1)).unwrap_or(i32::MAX);
            let out = self
                .client
                .scan()
                .table_name(table)
                .segment(i32::try_from(segment.index).unwrap_or(0))
                .total_segments(i32::try_from(segment.of.max(1)).unwrap_or(1))
                .consistent_read(true)
                .limit(want)
                .set_filter_expression(filter.map(str::to_owned))
                .set_exclusive_start_key(start.take().map(|pk| [("pk".to_owned(), s(pk))].into()))
                .send()
                .await
                .map_err(|e| unavailable("Scan", &e))?;
            items.extend(out.items.unwrap_or_default());
            let next = out.last_evaluated_key.and_then(|key| key.get("pk").and_then(|v| v.as_s().ok()).cloned());
            match next {
                Some(pk) if items.len() < limit => start = Some(pk),
                next => return Ok((items, next)),
            }
        }
    }

    /// Puts and deletes by BatchWriteItem: 25 a request, 8 requests in flight, unprocessed items sent again. Each
    /// item is written on its own (no transaction); every request is idempotent.
    pub(crate) async fn batch_write(
        &self,
        table: &str,
        writes: Vec<aws_sdk_dynamodb::types::WriteRequest>,
    ) -> Result<(), StoreError> {
        use futures::{StreamExt, TryStreamExt, stream};
        let send = |writes: Vec<aws_sdk_dynamodb::types::WriteRequest>| async move {
            let out = self
                .client
                .batch_write_item()
                .request_items(table, writes)
                .send()
                .await
                .map_err(|e| unavailable("BatchWriteItem", &e))?;
            Ok((Vec::<()>::new(), out.unprocessed_items.and_then(|mut u| u.remove(table)).unwrap_or_default()))
        };
        stream::iter(writes.chunks(25).map(<[_]>::to_vec).collect::<Vec<_>>())
            .map(|chunk| send_until_processed("BatchWriteItem", chunk, send))
            .buffer_unordered(8)
            .try_collect::<Vec<Vec<()>>>()
            .await
            .map(|_| ())
    }
}

/// Partitions of a `by_change` index (reports, entries) per day.
pub(crate) const CHANGE_SHARDS: u32 = 16;
/// Queries in flight at once (a `by_change` index's shards and days, the linkage index's lookups).
pub(super) const CONCURRENT_QUERIES: usize = 8;
/// Writes in flight at once for a batch: enough to hide latency, few enough not to spike consumed capacity.
pub(super) const CONCURRENT_PUTS: usize = 16;

/// `2021-02-03#a`: the write day and the shard of an item.
pub(crate) fn change_partition(day: chrono::NaiveDate, shard: u32) -> String {
    format!("{day}#{shard:x}")
}

impl DynamoStores {
    /// The keys of the items of a table's `by_change` index written in `since..` (every shard of every UTC day from
    /// `since` to `until`).
    pub(crate) async fn changed_since(
        &self,
        table: crate::Table,
        since: Instant,
        until: Instant,
    ) -> Result<Vec<Item>, StoreError> {
        use futures::{StreamExt, TryStreamExt, stream};
        let name = self.tables.name(table)?;
        let from = domain::time::sortable_text(since);
        let last = until.date_naive();
        let partitions: Vec<String> = since
            .date_naive()
            .iter_days()
            .take_while(|day| *day <= last)
            .flat_map(|day| (0..CHANGE_SHARDS).map(move |shard| change_partition(day, shard)))
            .collect();
        let pages: Vec<Vec<Item>> = stream::iter(partitions)
            .map(|partition| {
                let query = self
                    .client
                    .query()
                    .table_name(name)
                    .index_name("by_change")
                    .key_condition_expression("changed_day = :d AND changed_at >= :from")
                    .expression_attribute_values(":d", s(partition))
                    .expression_attribute_values(":from", s(from.clone()));
                query_all(query)
            })
            .buffer_unordered(CONCURRENT_QUERIES)
            .try_collect()
            .await?;
        Ok(pages.into_iter().flatten().collect())
    }
}

/// Segments of a parallel Scan.
const SCAN_SEGMENTS: i32 = 8;

/// Every item a Scan returns, read as parallel segments (DynamoDB's parallel scan): the hourly linkage's full reads
/// take about the time of one segment rather than of the whole table.
pub(crate) async fn scan_all(
    scan: aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder,
) -> Result<Vec<Item>, StoreError> {
    let segments = (0..SCAN_SEGMENTS).map(|segment| {
        scan.clone().segment(segment).total_segments(SCAN_SEGMENTS).into_paginator().items().send().try_collect()
    });
    let pages = futures::future::try_join_all(segments).await.map_err(|e| unavailable("Scan", &e))?;
    Ok(pages.into_iter().flatten().collect())
}

/// Runs a query to its last page.
pub(crate) async fn query_all(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
) -> Result<Vec<Item>, StoreError> {
    query.into_paginator().items().send().try_collect().await.map_err(|e| unavailable("Query", &e))
}
