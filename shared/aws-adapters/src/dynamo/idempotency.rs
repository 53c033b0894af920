//! Idempotency table, after AWS Powertools: one conditional put claims a key and, when refused, returns the record
//! that holds it (`ReturnValuesOnConditionCheckFailure=ALL_OLD`), so a claim costs one round trip either way.
//! Expiry is checked in the condition itself; TTL deletion (on `ttl`) is only housekeeping.

use super::Table;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use domain::StoreError;
use domain::idempotency::{Claim, IdempotencyRecord, IdempotencyState};
use domain::keyed_hash::KeyedHash;
use domain::ports::IdempotencyStore;
use domain::time::Instant;

use super::{DynamoStores, Item, epoch_ms, epoch_s, read_string, s, unavailable};

const WHAT: &str = "idempotency";
const IN_PROGRESS: &str = "IN_PROGRESS";
const COMPLETED: &str = "COMPLETED";

fn record_item(record: &IdempotencyRecord) -> Item {
    let mut item = Item::from([
        ("pk".to_owned(), s(record.key.as_str())),
        ("payload_hash".to_owned(), s(&record.payload_hash)),
        ("expires_at".to_owned(), epoch_ms(record.expires_at)),
        ("ttl".to_owned(), epoch_s(record.expires_at)),
    ]);
    match &record.state {
        IdempotencyState::InProgress { lock_expires_at } => {
            item.insert("state".to_owned(), s(IN_PROGRESS));
            item.insert("lock_expires_at".to_owned(), epoch_ms(*lock_expires_at));
        }
        IdempotencyState::Completed { response } => {
            item.insert("state".to_owned(), s(COMPLETED));
            item.insert("response".to_owned(), s(response));
        }
    }
    item
}

#[async_trait]
impl IdempotencyStore for DynamoStores {
    async fn claim(&self, record: &IdempotencyRecord, now: Instant) -> Result<Claim, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(self.tables.name(Table::Idempotency)?)
            .set_item(Some(record_item(record)))
            // Free, expired, or held by an invocation whose lock ran out (it crashed or timed out).
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at < :now OR (#state = :in_progress AND lock_expires_at < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", epoch_ms(now))
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let holder = match result {
            Ok(_) => return Ok(Claim::Acquired),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => failed.item().cloned(),
                _ => return Err(unavailable("PutItem", &e)),
            },
        };
        // A refusal without the holder means it was deleted in between: the caller may simply claim again.
        let Some(holder) = holder else {
            return Err(StoreError::Unavailable(
                "PutItem: the idempotency record changed during the claim; retry".to_owned(),
            ));
        };
        if read_string(WHAT, &holder, "payload_hash")? != record.payload_hash {
            return Ok(Claim::PayloadMismatch);
        }
        if read_string(WHAT, &holder, "state")? == COMPLETED {
            return Ok(Claim::Completed { response: read_string(WHAT, &holder, "response")? });
        }
        Ok(Claim::InProgress)
    }

    async fn complete(&self, key: &KeyedHash, response: &str, expires_at: Instant) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(self.tables.name(Table::Idempotency)?)
            .key("pk", s(key.as_str()))
            .update_expression(concat!(
                "SET #state = :completed, #response = :response, expires_at = :expires, #ttl = :ttl ",
                "REMOVE lock_expires_at"
            ))
            .condition_expression("attribute_exists(pk)")
            // `state`, `response` and `ttl` are reserved words in expressions.
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#response", "response")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":response", s(response))
            .expression_attribute_values(":expires", epoch_ms(expires_at))
            .expression_attribute_values(":ttl", epoch_s(expires_at))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(UpdateItemError::is_conditional_check_failed_exception) => {
                Err(StoreError::NotFound)
            }
            Err(e) => Err(unavailable("UpdateItem", &e)),
        }
    }

    async fn release(&self, key: &KeyedHash) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(self.tables.name(Table::Idempotency)?)
            .key("pk", s(key.as_str()))
            .send()
            .await
            .map_err(|e| unavailable("DeleteItem", &e))?;
        Ok(())
    }
}
