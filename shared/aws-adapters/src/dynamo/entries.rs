//! Entries table: `pk` = the quarantine system's entry id, `doc`, `passport_hash` (index `by_passport`, ALL),
//! `changed_day` / `changed_at` (the write time; index `by_change`, keys only, for the incremental linkage).

use super::Table;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use domain::StoreError;
use domain::entry::EntryRecord;
use domain::keyed_hash::KeyedHash;
use domain::ports::{EntryStore, Page, PutOutcome, Segment};
use futures::{StreamExt, TryStreamExt, stream};

use domain::time::{Instant, sortable_text};

use super::{
    CHANGE_SHARDS, CONCURRENT_PUTS, DynamoStores, Item, change_partition, decode_doc, encode_doc, query_all,
    read_string, s, unavailable,
};

/// The `by_change` shard of an entry: its id's bytes summed (ids are the quarantine system's, of any form).
fn shard_of(entry_id: &str) -> u32 {
    entry_id.bytes().fold(0u32, |acc, b| acc.wrapping_add(u32::from(b))) % CHANGE_SHARDS
}

const WHAT: &str = "entry";

impl DynamoStores {
    async fn put_entry(&self, entry: &EntryRecord, written_at: Instant) -> Result<PutOutcome, StoreError> {
        let item = Item::from([
            ("pk".to_owned(), s(&entry.entry_id)),
            ("doc".to_owned(), encode_doc(WHAT, entry)?),
            ("passport_hash".to_owned(), s(entry.passport_hash.as_str())),
            ("changed_day".to_owned(), s(change_partition(written_at.date_naive(), shard_of(&entry.entry_id)))),
            ("changed_at".to_owned(), s(sortable_text(written_at))),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(self.tables.name(Table::Entries)?)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let old = match result {
            Ok(_) => return Ok(PutOutcome::Created),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => failed.item().cloned(),
                _ => return Err(unavailable("PutItem", &e)),
            },
        };
        // The old item normally comes with the refusal; read it if the service did not send it.
        let mut old = match old {
            Some(old) => old,
            None => match self.get_entry_item(&entry.entry_id).await? {
                Some(old) => old,
                // Deleted in between (TTL, operator): retrying the batch creates it.
                None => {
                    return Err(StoreError::Unavailable(
                        "PutItem: an entry vanished during the write; retry".to_owned(),
                    ));
                }
            },
        };
        let stored: EntryRecord = decode_doc(WHAT, &mut old)?;
        Ok(if stored == *entry { PutOutcome::Unchanged } else { PutOutcome::Conflict })
    }

    async fn get_entry_item(&self, entry_id: &str) -> Result<Option<Item>, StoreError> {
        self.get_by_pk(self.tables.name(Table::Entries)?, entry_id).await
    }
}

#[async_trait]
impl EntryStore for DynamoStores {
    async fn approximate_count(&self) -> Result<u64, StoreError> {
        self.item_count(Table::Entries).await
    }

    async fn put_entries(&self, entries: &[EntryRecord], written_at: Instant) -> Result<Vec<PutOutcome>, StoreError> {
        // Collected first: a lazy `map` closure here trips the compiler's Send check of async_trait's boxed future.
        let puts: Vec<_> = entries.iter().map(|entry| self.put_entry(entry, written_at)).collect();
        // `buffered` (not `buffer_unordered`) keeps the outcomes in input order.
        stream::iter(puts).buffered(CONCURRENT_PUTS).try_collect().await
    }

    async fn get_entry(&self, entry_id: &str) -> Result<Option<EntryRecord>, StoreError> {
        match self.get_entry_item(entry_id).await? {
            Some(mut item) => decode_doc(WHAT, &mut item).map(Some),
            None => Ok(None),
        }
    }

    async fn entries_by_passport(&self, passport: &KeyedHash) -> Result<Vec<EntryRecord>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(self.tables.name(Table::Entries)?)
            .index_name("by_passport")
            .key_condition_expression("passport_hash = :h")
            .expression_attribute_values(":h", s(passport.as_str()));
        query_all(query).await?.into_iter().map(|mut item| decode_doc(WHAT, &mut item)).collect()
    }

    async fn entry_ids_written_since(&self, since: Instant, until: Instant) -> Result<Vec<String>, StoreError> {
        let items = self.changed_since(Table::Entries, since, until).await?;
        items.iter().map(|item| read_string(WHAT, item, "pk")).collect()
    }

    async fn get_entries(&self, ids: &[String]) -> Result<Vec<EntryRecord>, StoreError> {
        let keys = ids.iter().map(|id| Item::from([("pk".to_owned(), s(id))])).collect();
        let items = self.batch_get(self.tables.name(Table::Entries)?, keys).await?;
        items.into_iter().map(|mut item| decode_doc(WHAT, &mut item)).collect()
    }

    async fn all_entries(&self) -> Result<Vec<EntryRecord>, StoreError> {
        let items = super::scan_all(self.client.scan().table_name(self.tables.name(Table::Entries)?)).await?;
        let mut entries: Vec<EntryRecord> =
            items.into_iter().map(|mut item| decode_doc(WHAT, &mut item)).collect::<Result<_, _>>()?;
        entries.sort_by(|a, b| a.entry_id.cmp(&b.entry_id));
        Ok(entries)
    }

    async fn entries_in_segment(
        &self,
        segment: Segment,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<EntryRecord>, StoreError> {
        let (items, next) = self.scan_segment(self.tables.name(Table::Entries)?, segment, cursor, limit, None).await?;
        let items = items.into_iter().map(|mut item| decode_doc(WHAT, &mut item)).collect::<Result<_, _>>()?;
        Ok(Page { items, next })
    }
}
