//! Audit table: `pk` = the health centre, `sk` = the event's sort key (time to the millisecond, then the event id),
//! `doc`. Written only by PutItem with `attribute_not_exists(pk)`, so an event is never replaced; the functions' IAM
//! allows no UpdateItem or DeleteItem on it (`template.yaml`). A period is a Query on the key, never a Scan.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use domain::StoreError;
use domain::audit::{AuditEvent, AuditPage, AuditQuery, time_key};
use domain::ports::AuditLog;

use super::{DynamoStores, Item, Table, decode_doc, encode_doc, read_string, s, unavailable};

const WHAT: &str = "audit event";

#[async_trait]
impl AuditLog for DynamoStores {
    async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let item = Item::from([
            ("pk".to_owned(), s(&event.health_center_code)),
            ("sk".to_owned(), s(event.sort_key())),
            ("doc".to_owned(), encode_doc(WHAT, event)?),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(self.tables.name(Table::Audit)?)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(PutItemError::is_conditional_check_failed_exception) => {
                Err(StoreError::AlreadyExists)
            }
            Err(e) => Err(unavailable("PutItem", &e)),
        }
    }

    async fn audit_events(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let table = self.tables.name(Table::Audit)?;
        // `until` is exclusive: its time key sorts before every event key of that instant (which goes on with `#`).
        let mut request = self
            .client
            .query()
            .table_name(table)
            .key_condition_expression("pk = :hc AND sk BETWEEN :from AND :until")
            .expression_attribute_values(":hc", s(&query.health_center_code))
            .expression_attribute_values(":from", s(time_key(query.from)))
            .expression_attribute_values(":until", s(time_key(query.until)))
            .consistent_read(true)
            .limit(i32::try_from(query.limit).unwrap_or(i32::MAX));
        if let Some(after) = &query.after {
            request = request
                .exclusive_start_key("pk", s(&query.health_center_code))
                .exclusive_start_key("sk", s(after.as_str()));
        }
        let out = request.send().await.map_err(|e| unavailable("Query", &e))?;
        let events: Vec<AuditEvent> = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|mut item| decode_doc(WHAT, &mut item))
            .collect::<Result<_, _>>()?;
        let next = match out.last_evaluated_key {
            Some(key) => Some(read_string(WHAT, &key, "sk")?),
            None => None,
        };
        Ok(AuditPage { events, next })
    }
}
