//! FollowUps table: `pk` = the follow-up system's id, `doc`, `rev` (a write counter for optimistic concurrency),
//! `passport_hash` (index `by_passport`, ALL).
//!
//! A re-send is judged by the domain's rule ([`FollowUpRecord::resend`]) against the stored record, then written
//! only if the stored record is still the one judged (`rev` unchanged): of two concurrent re-sends, the second is
//! judged again against the first, so the older never replaces the newer.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use domain::StoreError;
use domain::follow_up::{FollowUpRecord, FollowUpWrite};
use domain::keyed_hash::KeyedHash;
use domain::ports::{FollowUpStore, Page, Segment};
use futures::{StreamExt, TryStreamExt, stream};

use super::{
    CONCURRENT_PUTS, DynamoStores, Item, Table, decode_doc, encode_doc, n, query_all, read_u64, s, unavailable,
};

const WHAT: &str = "follow-up";

/// How often a record is judged again after another writer changed it in between; more means a hot loop of
/// writers on one id, which a retry of the batch settles.
const ATTEMPTS: usize = 5;

impl DynamoStores {
    async fn put_follow_up(&self, record: &FollowUpRecord) -> Result<FollowUpWrite, StoreError> {
        let table = self.tables.name(Table::FollowUps)?;
        let doc = encode_doc(WHAT, record)?;
        let item = |rev: u64| {
            Item::from([
                ("pk".to_owned(), s(&record.follow_up_id)),
                ("doc".to_owned(), doc.clone()),
                ("rev".to_owned(), n(rev)),
                ("passport_hash".to_owned(), s(record.person.passport_hash.as_str())),
            ])
        };
        // First as a new record; a refusal brings the stored one back.
        let mut stored = match self.put_if(table, item(1), "attribute_not_exists(pk)", None).await? {
            None => return Ok(FollowUpWrite::Created),
            Some(old) => Some(old),
        };
        for _ in 0..ATTEMPTS {
            let mut old = match stored.take().filter(|old| !old.is_empty()) {
                Some(old) => old,
                None => match self.get_by_pk(table, &record.follow_up_id).await? {
                    Some(old) => old,
                    // Deleted in between (by an operator): retrying the batch creates it.
                    None => return Err(StoreError::Unavailable("PutItem: a follow-up vanished; retry".to_owned())),
                },
            };
            let rev = read_u64(WHAT, &old, "rev")?;
            let judged = record.resend(&decode_doc(WHAT, &mut old)?);
            if judged != FollowUpWrite::Replaced {
                return Ok(judged);
            }
            match self.put_if(table, item(rev + 1), "rev = :rev", Some(rev)).await? {
                None => return Ok(FollowUpWrite::Replaced),
                // Changed since it was read: judge again against what is stored now.
                Some(newer) => stored = Some(newer),
            }
        }
        Err(StoreError::Unavailable("PutItem: a follow-up kept changing during the write; retry".to_owned()))
    }

    /// Puts `item` if `condition` holds; `None` when written, else the stored item (`Some(empty)` if the service
    /// did not send it back, which the caller then reads).
    async fn put_if(
        &self,
        table: &str,
        item: Item,
        condition: &str,
        rev: Option<u64>,
    ) -> Result<Option<Item>, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(rev.map(|rev| [(":rev".to_owned(), n(rev))].into()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    Ok(Some(failed.item().cloned().unwrap_or_default()))
                }
                _ => Err(unavailable("PutItem", &e)),
            },
        }
    }
}

#[async_trait]
impl FollowUpStore for DynamoStores {
    async fn approximate_count(&self) -> Result<u64, StoreError> {
        self.item_count(Table::FollowUps).await
    }

    async fn put_follow_ups(&self, records: &[FollowUpRecord]) -> Result<Vec<FollowUpWrite>, StoreError> {
        // Collected first: a lazy `map` closure here trips the compiler's Send check of async_trait's boxed future.
        let puts: Vec<_> = records.iter().map(|record| self.put_follow_up(record)).collect();
        // `buffered` (not `buffer_unordered`) keeps the outcomes in input order.
        stream::iter(puts).buffered(CONCURRENT_PUTS).try_collect().await
    }

    async fn get_follow_up(&self, follow_up_id: &str) -> Result<Option<FollowUpRecord>, StoreError> {
        match self.get_by_pk(self.tables.name(Table::FollowUps)?, follow_up_id).await? {
            Some(mut item) => decode_doc(WHAT, &mut item).map(Some),
            None => Ok(None),
        }
    }

    async fn follow_ups_by_passport(&self, passport: &KeyedHash) -> Result<Vec<FollowUpRecord>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(self.tables.name(Table::FollowUps)?)
            .index_name("by_passport")
            .key_condition_expression("passport_hash = :h")
            .expression_attribute_values(":h", s(passport.as_str()));
        let mut records: Vec<FollowUpRecord> = query_all(query)
            .await?
            .into_iter()
            .map(|mut item| decode_doc(WHAT, &mut item))
            .collect::<Result<_, _>>()?;
        records.sort_by(|a, b| a.follow_up_id.cmp(&b.follow_up_id));
        Ok(records)
    }

    async fn all_follow_ups(&self) -> Result<Vec<FollowUpRecord>, StoreError> {
        let items = super::scan_all(self.client.scan().table_name(self.tables.name(Table::FollowUps)?)).await?;
        let mut records: Vec<FollowUpRecord> =
            items.into_iter().map(|mut item| decode_doc(WHAT, &mut item)).collect::<Result<_, _>>()?;
        records.sort_by(|a, b| a.follow_up_id.cmp(&b.follow_up_id));
        Ok(records)
    }

    async fn follow_ups_in_segment(
        &self,
        segment: Segment,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<FollowUpRecord>, StoreError> {
        let table = self.tables.name(Table::FollowUps)?;
        let (items, next) = self.scan_segment(table, segment, cursor, limit, None).await?;
        let items = items.into_iter().map(|mut item| decode_doc(WHAT, &mut item)).collect::<Result<_, _>>()?;
        Ok(Page { items, next })
    }
}
