//! Links table: `pk` = report id (or `summary` for the last run's statistics), `doc`, `reviewed` (true once a
//! health centre answered), and `review_hc` (the health centre) only while a review-band decision is pending, so
//! that the `review_queue` index (review_hc, pk) is sparse: it holds exactly the pending reviews.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::StoreError;
use domain::links::{DecisionWrite, LinkDecision, LinkageSummary, Review};
use domain::ports::LinkStore;
use domain::report::ReportId;
use futures::{StreamExt, TryStreamExt, stream};

use super::{CONCURRENT_PUTS, DynamoStores, Item, Table, decode_doc, encode_doc, query_all, s, unavailable};

const WHAT: &str = "decision";
const SUMMARY_PK: &str = "summary";

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
            .filter_expression("pk <> :summary")
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
        self.client
            .put_item()
            .table_name(self.tables.name(Table::Links)?)
            .set_item(Some(Item::from([
                ("pk".to_owned(), s(SUMMARY_PK)),
                ("doc".to_owned(), encode_doc("summary", summary)?),
            ])))
            .send()
            .await
            .map_err(|e| unavailable("PutItem", &e))?;
        Ok(())
    }

    async fn get_summary(&self) -> Result<Option<LinkageSummary>, StoreError> {
        match self.get_link_item(SUMMARY_PK).await? {
            Some(mut item) => decode_doc("summary", &mut item).map(Some),
            None => Ok(None),
        }
    }
}
