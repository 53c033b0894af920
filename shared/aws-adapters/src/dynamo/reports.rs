//! Reports table: `pk` = report id, `version`, `doc`, `prefecture`, and `passport_hash` only when a passport number
//! is known (so the `by_passport` index stays sparse). `changed_day` / `changed_at` (the write time) key the
//! `by_change` index that the daily graph export reads: the partition is the UTC day and one of 16 shards (the
//! id's last hex digit), so that a day's writes spread over 16 index partitions instead of one hot one.

use super::Table;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use domain::StoreError;
use domain::keyed_hash::KeyedHash;
use domain::ports::{Page, ReportStore, Segment, Versioned};
use domain::prefecture::PrefectureCode;
use domain::report::{CaseReport, ReportId};
use domain::time::{Instant, sortable_text};

use super::{
    DynamoStores, Item, change_partition, decode_doc, encode_doc, n, query_all, read_string, read_u64, s, unavailable,
};

const WHAT: &str = "report";
fn shard_of(id: &ReportId) -> u32 {
    id.as_str().chars().last().and_then(|c| c.to_digit(16)).unwrap_or(0)
}

fn report_item(report: &CaseReport, version: u64) -> Result<Item, StoreError> {
    let mut item = Item::from([
        ("pk".to_owned(), s(report.id.as_str())),
        ("version".to_owned(), n(version)),
        ("doc".to_owned(), encode_doc(WHAT, report)?),
        ("prefecture".to_owned(), s(report.prefecture.as_jis())),
    ]);
    if let Some(hash) = &report.passport_hash {
        item.insert("passport_hash".to_owned(), s(hash.as_str()));
    }
    item.insert("changed_day".to_owned(), s(change_partition(report.updated_at.date_naive(), shard_of(&report.id))));
    item.insert("changed_at".to_owned(), s(sortable_text(report.updated_at)));
    Ok(item)
}

#[async_trait]
impl ReportStore for DynamoStores {
    async fn approximate_count(&self) -> Result<u64, StoreError> {
        self.item_count(Table::Reports).await
    }

    async fn create_report(&self, report: &CaseReport) -> Result<(), StoreError> {
        if let Some(case_key) = &report.case_key {
            // Unique by (health centre, case number): the report and a claim item `case#<keyed hash>` are written
            // together, each only if absent. The claim item has no index attributes, so no index sees it.
            let table = self.tables.name(Table::Reports)?;
            let put = |item: Item| {
                Put::builder()
                    .table_name(table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map(|p| TransactWriteItem::builder().put(p).build())
                    .map_err(|_| StoreError::Unavailable("TransactWriteItems: request could not be built".to_owned()))
            };
            let claim = Item::from([
                ("pk".to_owned(), s(format!("case#{}", case_key.as_str()))),
                ("report_id".to_owned(), s(report.id.as_str())),
            ]);
            return match self.transact(vec![put(report_item(report, 1)?)?, put(claim)?]).await? {
                Ok(()) => Ok(()),
                Err(reasons) if reasons.iter().any(|r| r.code() == Some("ConditionalCheckFailed")) => {
                    Err(StoreError::AlreadyExists)
                }
                Err(reasons) => Err(StoreError::TransactionCancelled(super::reason_codes(&reasons))),
            };
        }
        let result = self
            .client
            .put_item()
            .table_name(self.tables.name(Table::Reports)?)
            .set_item(Some(report_item(report, 1)?))
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

    async fn get_report(&self, id: &ReportId) -> Result<Option<Versioned<CaseReport>>, StoreError> {
        let item = self.get_by_pk(self.tables.name(Table::Reports)?, id.as_str()).await?;
        let Some(mut item) = item else { return Ok(None) };
        let version = read_u64(WHAT, &item, "version")?;
        Ok(Some(Versioned { value: decode_doc(WHAT, &mut item)?, version }))
    }

    async fn update_report(&self, report: &CaseReport, expected_version: u64) -> Result<u64, StoreError> {
        let version = expected_version + 1;
        let result = self
            .client
            .put_item()
            .table_name(self.tables.name(Table::Reports)?)
            .set_item(Some(report_item(report, version)?))
            .condition_expression("attribute_exists(pk) AND version = :expected")
            .expression_attribute_values(":expected", n(expected_version))
            // The old item tells a missing report from a stale version without a second read.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(version),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => match failed.item() {
                    None => Err(StoreError::NotFound),
                    Some(_) => Err(StoreError::VersionConflict { expected: expected_version }),
                },
                _ => Err(unavailable("PutItem", &e)),
            },
        }
    }

    async fn reports_by_passport(&self, passport: &KeyedHash) -> Result<Vec<ReportId>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(self.tables.name(Table::Reports)?)
            .index_name("by_passport")
            .key_condition_expression("passport_hash = :h")
            .expression_attribute_values(":h", s(passport.as_str()));
        query_all(query)
            .await?
            .iter()
            .map(|item| {
                let pk = read_string(WHAT, item, "pk")?;
                ReportId::parse(&pk).ok_or_else(|| StoreError::Corrupt("a report key is not a report id".to_owned()))
            })
            .collect()
    }

    async fn reports_by_prefecture(&self, prefecture: PrefectureCode) -> Result<Vec<CaseReport>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(self.tables.name(Table::Reports)?)
            .index_name("by_prefecture")
            .key_condition_expression("prefecture = :p")
            .expression_attribute_values(":p", s(prefecture.as_jis()));
        query_all(query).await?.into_iter().map(|mut item| decode_doc(WHAT, &mut item)).collect()
    }

    async fn report_ids_changed_since(&self, since: Instant, until: Instant) -> Result<Vec<ReportId>, StoreError> {
        let items = self.changed_since(Table::Reports, since, until).await?;
        items
            .iter()
            .map(|item| {
                let pk = read_string(WHAT, item, "pk")?;
                ReportId::parse(&pk).ok_or_else(|| StoreError::Corrupt("a report key is not a report id".to_owned()))
            })
            .collect()
    }

    async fn get_reports(&self, ids: &[ReportId]) -> Result<Vec<CaseReport>, StoreError> {
        let keys = ids.iter().map(|id| Item::from([("pk".to_owned(), s(id.as_str()))])).collect();
        let items = self.batch_get(self.tables.name(Table::Reports)?, keys).await?;
        items.into_iter().map(|mut item| decode_doc(WHAT, &mut item)).collect()
    }

    async fn reports_in_segment(
        &self,
        segment: Segment,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<CaseReport>, StoreError> {
        // The claim items of (health centre, case number) are no reports.
        let (items, next) = self
            .scan_segment(self.tables.name(Table::Reports)?, segment, cursor, limit, Some("attribute_exists(doc)"))
            .await?;
        let items = items.into_iter().map(|mut item| decode_doc(WHAT, &mut item)).collect::<Result<_, _>>()?;
        Ok(Page { items, next })
    }
}
