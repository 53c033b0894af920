//! ProcessingNumbers table: cycles (`pk` = `cycle#<id>`) and the numbers they issued (`pk` = `number#<keyed hash>`)
//! share it, so that issuing a number is one transaction over both.
//!
//! Cycle items carry `due_shard`/`due_at` only while the cycle has a `next_due_at`: the `due` index is sparse and a
//! finished cycle drops out of it. Every write puts the whole item, so leaving the attributes out removes them.

use super::Table;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{CancellationReason, Put, TransactWriteItem};
use domain::StoreError;
use domain::cycle::{Cycle, CycleId, DUE_SHARDS, IssuedNumber};
use domain::keyed_hash::KeyedHash;
use domain::ports::{CycleStore, Versioned};
use domain::report::ReportId;
use domain::time::Instant;

use super::{
    DynamoStores, Item, condition_failed_at, decode_doc, encode_doc, epoch_ms, epoch_s, n, query_all, read_i64,
    read_string, read_u64, reason_codes, s, unavailable,
};

const CYCLE: &str = "cycle";
const NUMBER: &str = "number";
fn cycle_key(id: &CycleId) -> String {
    format!("cycle#{}", id.as_str())
}

fn number_key(hash: &KeyedHash) -> String {
    format!("number#{}", hash.as_str())
}

fn cycle_item(cycle: &Cycle, version: u64) -> Result<Item, StoreError> {
    let mut item = Item::from([
        ("pk".to_owned(), s(cycle_key(&cycle.id))),
        ("version".to_owned(), n(version)),
        ("doc".to_owned(), encode_doc(CYCLE, cycle)?),
        ("report_id".to_owned(), s(cycle.report_id.as_str())),
    ]);
    if let Some(due) = cycle.next_due_at {
        item.insert("due_shard".to_owned(), s(cycle.id.due_shard().to_string()));
        item.insert("due_at".to_owned(), epoch_ms(due));
    }
    Ok(item)
}

fn number_item(number: &IssuedNumber) -> Result<Item, StoreError> {
    Ok(Item::from([
        ("pk".to_owned(), s(number_key(&number.hash))),
        ("doc".to_owned(), encode_doc(NUMBER, number)?),
        ("ttl".to_owned(), epoch_s(number.purge_after)),
    ]))
}

/// One conditional put of a transaction.
fn put(table: &str, item: Item, condition: &str, expected: Option<u64>) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .set_expression_attribute_values(expected.map(|v| [(":expected".to_owned(), n(v))].into()))
        .build()
        .map_err(|_| StoreError::Unavailable("TransactWriteItems: request could not be built".to_owned()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn versioned_cycle(mut item: Item) -> Result<Versioned<Cycle>, StoreError> {
    let version = read_u64(CYCLE, &item, "version")?;
    Ok(Versioned { value: decode_doc(CYCLE, &mut item)?, version })
}

impl DynamoStores {
    /// Runs a transaction. The inner `Err` carries the cancellation reasons (one per item, in order) for the caller
    /// to map; every other failure is already a [`StoreError`].
    pub(super) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Result<(), Vec<CancellationReason>>, StoreError> {
        // The token makes the SDK's own retries idempotent: a retry of a transaction that went through but whose
        // answer was lost succeeds again instead of failing its conditions against its own writes.
        let token = uuid::Uuid::new_v4().to_string();
        let request = self.client.transact_write_items().set_transact_items(Some(items)).client_request_token(token);
        match request.send().await {
            Ok(_) => Ok(Ok(())),
            Err(e) => match e.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                    Ok(Err(c.cancellation_reasons().to_vec()))
                }
                _ => Err(unavailable("TransactWriteItems", &e)),
            },
        }
    }

    /// Up to `limit` due cycles of one shard of the `due` index, oldest first, as (due_at, pk).
    async fn due_in_shard(&self, shard: u8, now: Instant, limit: usize) -> Result<Vec<(i64, String)>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(self.tables.name(Table::Cycles)?)
            .index_name("due")
            .key_condition_expression("due_shard = :shard AND due_at <= :now")
            .expression_attribute_values(":shard", s(shard.to_string()))
            .expression_attribute_values(":now", epoch_ms(now))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX).min(1000))
            .into_paginator()
            .items()
            .send();
        let mut found = Vec::new();
        while found.len() < limit {
            let Some(item) = pages.next().await else { break };
            let item = item.map_err(|e| unavailable("Query", &e))?;
            found.push((read_i64(CYCLE, &item, "due_at")?, read_string(CYCLE, &item, "pk")?));
        }
        Ok(found)
    }
}

#[async_trait]
impl CycleStore for DynamoStores {
    async fn create_cycle(&self, cycle: &Cycle, first: &IssuedNumber) -> Result<(), StoreError> {
        let table = self.tables.name(Table::Cycles)?;
        let items = vec![
            put(table, cycle_item(cycle, 1)?, "attribute_not_exists(pk)", None)?,
            put(table, number_item(first)?, "attribute_not_exists(pk)", None)?,
        ];
        match self.transact(items).await? {
            Ok(()) => Ok(()),
            Err(reasons) if condition_failed_at(&reasons, 0) || condition_failed_at(&reasons, 1) => {
                Err(StoreError::AlreadyExists)
            }
            Err(reasons) => Err(StoreError::TransactionCancelled(reason_codes(&reasons))),
        }
    }

    async fn get_cycle(&self, id: &CycleId) -> Result<Option<Versioned<Cycle>>, StoreError> {
        let item = self.get_by_pk(self.tables.name(Table::Cycles)?, cycle_key(id)).await?;
        item.map(versioned_cycle).transpose()
    }

    async fn advance_cycle(
        &self,
        cycle: &Cycle,
        expected_version: u64,
        changed: &[IssuedNumber],
        new_number: Option<&IssuedNumber>,
    ) -> Result<u64, StoreError> {
        let table = self.tables.name(Table::Cycles)?;
        let version = expected_version + 1;
        // Order matters for reading the cancellation reasons: the cycle, the changed numbers, then the new number.
        let mut items = vec![put(table, cycle_item(cycle, version)?, "version = :expected", Some(expected_version))?];
        for number in changed {
            items.push(put(table, number_item(number)?, "attribute_exists(pk)", None)?);
        }
        if let Some(number) = new_number {
            items.push(put(table, number_item(number)?, "attribute_not_exists(pk)", None)?);
        }
        let new_index = 1 + changed.len();
        match self.transact(items).await? {
            Ok(()) => Ok(version),
            Err(reasons) if condition_failed_at(&reasons, 0) => {
                Err(StoreError::VersionConflict { expected: expected_version })
            }
            Err(reasons) if new_number.is_some() && condition_failed_at(&reasons, new_index) => {
                Err(StoreError::AlreadyExists)
            }
            Err(reasons) => Err(StoreError::TransactionCancelled(reason_codes(&reasons))),
        }
    }

    async fn get_number(&self, hash: &KeyedHash, now: Instant) -> Result<Option<IssuedNumber>, StoreError> {
        let item = self.get_by_pk(self.tables.name(Table::Cycles)?, number_key(hash)).await?;
        let Some(mut item) = item else { return Ok(None) };
        let number: IssuedNumber = decode_doc(NUMBER, &mut item)?;
        // TTL deletes lazily (up to days late): a record past its purge instant is gone as far as readers go.
        Ok((number.purge_after > now).then_some(number))
    }

    async fn due_cycles(&self, now: Instant, limit: usize) -> Result<Vec<CycleId>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let shards = (0..DUE_SHARDS).map(|shard| self.due_in_shard(shard, now, limit));
        let mut due: Vec<(i64, String)> = futures::future::try_join_all(shards).await?.into_iter().flatten().collect();
        due.sort();
        due.truncate(limit);
        due.into_iter()
            .map(|(_, pk)| match pk.strip_prefix("cycle#") {
                Some(id) => Ok(CycleId::from_stored(id.to_owned())),
                None => Err(StoreError::Corrupt("a due-index key is not a cycle key".to_owned())),
            })
            .collect()
    }

    async fn cycles_of_report(&self, report: &ReportId) -> Result<Vec<Versioned<Cycle>>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(self.tables.name(Table::Cycles)?)
            .index_name("by_report")
            .key_condition_expression("report_id = :r")
            .expression_attribute_values(":r", s(report.as_str()));
        query_all(query).await?.into_iter().map(versioned_cycle).collect()
    }
}
