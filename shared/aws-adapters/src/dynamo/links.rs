//! Links table: `pk` = report id (or `summary`, `summary#...` for the last run's statistics), `doc`, `reviewed`
//! (true once a health centre answered), and `review_hc` (the health centre) only while a review-band decision is
//! pending, so that the `review_queue` index (review_hc, pk) is sparse: it holds exactly the pending reviews.
//!
//! The statistics outgrow one item (a row per entry week, port and nationality: 52,600 rows, 4.7 MB, at 200,000
//! entries over twenty years; DynamoDB refuses an item over 400 KB), so they are stored in parts: their JSON cut
//! into `summary#<generation>#<i>` items, then the `summary` item pointing at that generation, then the parts of
//! the generation it replaced deleted. A reader follows the pointer; parts deleted under it send it back to the
//! pointer.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::StoreError;
use domain::linkage_records::{DecisionWrite, LinkDecision, LinkageSummary, Review};
use domain::ports::LinkStore;
use domain::report::ReportId;
use futures::{StreamExt, TryStreamExt, stream};

use super::{
    CONCURRENT_PUTS, DynamoStores, Item, Table, decode_doc, delete_request, encode_doc, put_request, query_all, s,
    unavailable,
};

const WHAT: &str = "decision";
const SUMMARY_PK: &str = "summary";
/// Bytes of the statistics' JSON per part (an item holds 400 KB, its key and attribute names included).
const SUMMARY_PART_BYTES: usize = 350_000;
/// Times a reader goes back to the pointer when the parts it pointed at were replaced while it read them.
const SUMMARY_READ_ATTEMPTS: usize = 3;

/// The key of a part of the statistics: `summary#<generation>#<i>`.
fn summary_part_key(generation: &str, part: usize) -> Item {
    Item::from([("pk".to_owned(), s(format!("{SUMMARY_PK}#{generation}#{part}")))])
}

fn decision_item(d: &LinkDecision) -> Result<Item, StoreError> {
    let mut item = Item::from([
        ("pk".to_owned(), s(d.report_id.as_str())),
        ("doc".to_owned(), encode_doc(WHAT, d)?),
        ("reviewed".to_owned(), AttributeValue::Bool(d.is_reviewed())),
    ]);
    if d.is_pending() {
        item.insert("review_hc".to_owned(), s(&d.health_center_code));
    }
    Ok(item)
}

impl DynamoStores {
    async fn get_link_item(&self, pk: &str) -> Result<Option<Item>, StoreError> {
        self.get_by_pk(self.tables.name(Table::Links)?, pk).await
    }
}

#[async_trait]
impl LinkStore for DynamoStores {
    async fn put_decision(&self, decision: &LinkDecision) -> Result<DecisionWrite, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(self.tables.name(Table::Links)?)
            .set_item(Some(decision_item(decision)?))
            .condition_expression("attribute_not_exists(pk) OR reviewed = :f")
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .send()
            .await;
        match result {
            Ok(_) => Ok(DecisionWrite::Written),
            Err(e) if e.as_service_error().is_some_and(PutItemError::is_conditional_check_failed_exception) => {
                Ok(DecisionWrite::KeptReviewed)
            }
            Err(e) => Err(unavailable("PutItem", &e)),
        }
    }

    async fn put_decisions(&self, decisions: &[LinkDecision]) -> Result<Vec<DecisionWrite>, StoreError> {
        // Conditional puts cannot go in a BatchWriteItem: sent one by one, 16 at a time, answered in order.
        let puts: Vec<_> = decisions.iter().map(|d| self.put_decision(d)).collect();
        stream::iter(puts).buffered(CONCURRENT_PUTS).try_collect().await
    }

    async fn get_decision(&self, report: &ReportId) -> Result<Option<LinkDecision>, StoreError> {
        match self.get_link_item(report.as_str()).await? {
            Some(mut item) => decode_doc(WHAT, &mut item).map(Some),
            None => Ok(None),
        }
    }

    async fn decisions_of(&self, reports: &[ReportId]) -> Result<Vec<LinkDecision>, StoreError> {
        let keys = reports.iter().map(|id| Item::from([("pk".to_owned(), s(id.as_str()))])).collect();
        let items = self.batch_get(self.tables.name(Table::Links)?, keys).await?;
        items.into_iter().map(|mut item| decode_doc(WHAT, &mut item)).collect()
    }

    async fn remove_decision(&self, report: &ReportId) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(self.tables.name(Table::Links)?)
            .key("pk", s(report.as_str()))
            .condition_expression("attribute_exists(pk) AND reviewed = :f")
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(DeleteItemError::is_conditional_check_failed_exception) => {
                Ok(false)
            }
            Err(e) => Err(unavailable("DeleteItem", &e)),
        }
    }

    async fn all_decisions(&self) -> Result<Vec<LinkDecision>, StoreError> {
        let scan = self
            .client
            .scan()
            .table_name(self.tables.name(Table::Links)?)
            .filter_expression("NOT begins_with(pk, :summary)")
            .expression_attribute_values(":summary", s(SUMMARY_PK))
            .consistent_read(true);
        let items = super::scan_all(scan).await?;
        let mut decisions: Vec<LinkDecision> =
            items.into_iter().map(|mut item| decode_doc(WHAT, &mut item)).collect::<Result<_, _>>()?;
        decisions.sort_by(|a, b| a.report_id.cmp(&b.report_id));
        Ok(decisions)
    }

    async fn review_queue(&self, health_center: &str) -> Result<Vec<LinkDecision>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(self.tables.name(Table::Links)?)
            .index_name("review_queue")
            .key_condition_expression("review_hc = :hc")
            .expression_attribute_values(":hc", s(health_center));
        query_all(query).await?.into_iter().map(|mut item| decode_doc(WHAT, &mut item)).collect()
    }

    async fn record_review(&self, report: &ReportId, review: &Review) -> Result<LinkDecision, StoreError> {
        let mut item = self.get_link_item(report.as_str()).await?.ok_or(StoreError::NotFound)?;
        let mut decision: LinkDecision = decode_doc(WHAT, &mut item)?;
        if !decision.is_pending() {
            return Err(StoreError::VersionConflict { expected: 0 });
        }
        decision = decision.with_review(review.clone());
        // Only over a still-pending decision: two answers at once, one wins.
        let result = self
            .client
            .put_item()
            .table_name(self.tables.name(Table::Links)?)
            .set_item(Some(decision_item(&decision)?))
            .condition_expression("attribute_exists(review_hc) AND reviewed = :f")
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .send()
            .await;
        match result {
            Ok(_) => Ok(decision),
            Err(e) if e.as_service_error().is_some_and(PutItemError::is_conditional_check_failed_exception) => {
                Err(StoreError::VersionConflict { expected: 0 })
            }
            Err(e) => Err(unavailable("PutItem", &e)),
        }
    }

    async fn put_summary(&self, summary: &LinkageSummary) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::primitives::Blob;
        let table = self.tables.name(Table::Links)?;
        let json = serde_json::to_vec(summary)
            .map_err(|_| StoreError::Corrupt("the linkage statistics do not encode".to_owned()))?;
        let generation = uuid::Uuid::new_v4().to_string();
        let parts: Vec<&[u8]> = json.chunks(SUMMARY_PART_BYTES).collect();
        let writes = parts
            .iter()
            .enumerate()
            .map(|(i, bytes)| {
                let mut item = summary_part_key(&generation, i);
                item.insert("part".to_owned(), AttributeValue::B(Blob::new(*bytes)));
                put_request(item)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let replaced = self.get_link_item(SUMMARY_PK).await?.and_then(|head| summary_pointer(&head));
        // the parts first, then the pointer: a reader never follows it to parts not yet written
        self.batch_write(table, writes).await?;
        self.client
            .put_item()
            .table_name(table)
            .set_item(Some(Item::from([
                ("pk".to_owned(), s(SUMMARY_PK)),
                ("generation".to_owned(), s(&generation)),
                ("parts".to_owned(), super::n(parts.len())),
            ])))
            .send()
            .await
            .map_err(|e| unavailable("PutItem", &e))?;
        if let Some((old, count)) = replaced {
            let deletes = (0..count).map(|i| delete_request(summary_part_key(&old, i))).collect::<Result<_, _>>()?;
            self.batch_write(table, deletes).await?;
        }
        Ok(())
    }

    async fn get_summary(&self) -> Result<Option<LinkageSummary>, StoreError> {
        let table = self.tables.name(Table::Links)?;
        for _ in 0..SUMMARY_READ_ATTEMPTS {
            let Some(mut head) = self.get_link_item(SUMMARY_PK).await? else { return Ok(None) };
            if head.contains_key("doc") {
                // stored whole, before the statistics were stored in parts
                return decode_doc("summary", &mut head).map(Some);
            }
            let (generation, count) = summary_pointer(&head)
                .ok_or_else(|| StoreError::Corrupt("the linkage statistics' pointer is malformed".to_owned()))?;
            let mut parts =
                self.batch_get(table, (0..count).map(|i| summary_part_key(&generation, i)).collect()).await?;
            if parts.len() < count {
                continue; // replaced while read: follow the new pointer
            }
            let pk = |item: &Item| item.get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let index = |item: &Item| pk(item).rsplit('#').next().and_then(|i| i.parse::<usize>().ok());
            parts.sort_by_key(index);
            let mut json = Vec::new();
            for part in &parts {
                let bytes = part.get("part").and_then(|v| v.as_b().ok());
                json.extend_from_slice(
                    bytes
                        .ok_or_else(|| StoreError::Corrupt("a part of the linkage statistics is malformed".into()))?
                        .as_ref(),
                );
            }
            return serde_json::from_slice(&json)
                .map(Some)
                .map_err(|_| StoreError::Corrupt("the linkage statistics do not decode".to_owned()));
        }
        Err(StoreError::Unavailable("the linkage statistics were replaced at every read".to_owned()))
    }
}

/// The generation and number of parts the `summary` item points at.
fn summary_pointer(head: &Item) -> Option<(String, usize)> {
    let generation = head.get("generation")?.as_s().ok()?.clone();
    let parts = head.get("parts")?.as_n().ok()?.parse().ok()?;
    Some((generation, parts))
}
