//! GraphSources table (hash `pk`, range `sk`): line-list cases under `pk` = `linelist#<prefecture>`, `sk` = the
//! list's No, `doc`; switch dates under `pk` = `switch`, `sk` = the prefecture, `hersys_from` (ISO date). Line
//! lists are public data, so their numbers may be keys. The export's counted fact per report under `pk` =
//! `counted#<report id>`, `sk` = `fact`, `fact` (binary); the line lists' import generation under `pk` = `meta`,
//! `sk` = `linelist_generation`, `value`; the full export's lease under `pk` = `meta`, `sk` = `full_export`.

use async_trait::async_trait;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use domain::StoreError;
use domain::graphs::linelist::LineListCase;
use domain::graphs::state::{CountedFact, decode_fact, encode_fact};
use domain::graphs::{CaseFact, Sources};
use domain::ports::GraphSourceStore;
use domain::prefecture::PrefectureCode;
use domain::report::ReportId;
use futures::{StreamExt, TryStreamExt, stream};

use super::{
    CONCURRENT_PUTS, DynamoStores, Item, Table, decode_doc, encode_doc, n, query_all, read_string, read_u64, s,
    unavailable,
};

fn counted_key(report: &ReportId) -> Item {
    Item::from([("pk".to_owned(), s(format!("counted#{}", report.as_str()))), ("sk".to_owned(), s("fact"))])
}

const WHAT: &str = "line-list case";

fn linelist_pk(prefecture: PrefectureCode) -> String {
    format!("linelist#{}", prefecture.as_jis())
}

#[async_trait]
impl GraphSourceStore for DynamoStores {
    async fn put_linelist_cases(&self, cases: &[LineListCase]) -> Result<(), StoreError> {
        let table = self.tables.name(Table::GraphSources)?.to_owned();
        let items = cases
            .iter()
            .map(|c| {
                Ok(Item::from([
                    ("pk".to_owned(), s(linelist_pk(c.prefecture))),
                    ("sk".to_owned(), s(&c.number)),
                    ("doc".to_owned(), encode_doc(WHAT, c)?),
                ]))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        stream::iter(items)
            .map(|item| {
                let request = self.client.put_item().table_name(&table).set_item(Some(item));
                async move { request.send().await.map(|_| ()).map_err(|e| unavailable("PutItem", &e)) }
            })
            .buffer_unordered(CONCURRENT_PUTS)
            .try_collect::<Vec<()>>()
            .await?;
        // After the cases: an export that sees the new generation also sees them.
        self.client
            .update_item()
            .table_name(&table)
            .key("pk", s("meta"))
            .key("sk", s("linelist_generation"))
            .update_expression("ADD #v :one")
            .expression_attribute_names("#v", "value")
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("UpdateItem", &e))
    }

    async fn linelist_cases(&self, prefecture: PrefectureCode) -> Result<Vec<LineListCase>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(self.tables.name(Table::GraphSources)?)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(linelist_pk(prefecture)));
        query_all(query).await?.into_iter().map(|mut item| decode_doc(WHAT, &mut item)).collect()
    }

    async fn set_hersys_from(&self, prefecture: PrefectureCode, from: Option<NaiveDate>) -> Result<(), StoreError> {
        let table = self.tables.name(Table::GraphSources)?;
        match from {
            Some(day) => self
                .client
                .put_item()
                .table_name(table)
                .item("pk", s("switch"))
                .item("sk", s(prefecture.as_jis()))
                .item("hersys_from", s(day.to_string()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| unavailable("PutItem", &e)),
            None => self
                .client
                .delete_item()
                .table_name(table)
                .key("pk", s("switch"))
                .key("sk", s(prefecture.as_jis()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| unavailable("DeleteItem", &e)),
        }
    }

    async fn hersys_from(&self) -> Result<Sources, StoreError> {
        let query = self
            .client
            .query()
            .table_name(self.tables.name(Table::GraphSources)?)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s("switch"))
            .consistent_read(true);
        let mut sources = Sources::default();
        for item in query_all(query).await? {
            let prefecture = PrefectureCode::parse("prefecture", &read_string("switch", &item, "sk")?)
                .map_err(|_| StoreError::Corrupt("a switch has a bad prefecture".to_owned()))?;
            let day = read_string("switch", &item, "hersys_from")?
                .parse::<NaiveDate>()
                .map_err(|_| StoreError::Corrupt("a switch has a bad date".to_owned()))?;
            sources.set(prefecture, Some(day));
        }
        Ok(sources)
    }

    async fn linelist_generation(&self) -> Result<u64, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(self.tables.name(Table::GraphSources)?)
            .key("pk", s("meta"))
            .key("sk", s("linelist_generation"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("GetItem", &e))?;
        out.item.map_or(Ok(0), |item| read_u64("line-list generation", &item, "value"))
    }

    async fn counted_facts(&self, reports: &[ReportId]) -> Result<Vec<Option<CaseFact>>, StoreError> {
        let table = self.tables.name(Table::GraphSources)?;
        let items = self.batch_get(table, reports.iter().map(counted_key).collect()).await?;
        let mut by_key = std::collections::HashMap::with_capacity(items.len());
        for item in items {
            let pk = read_string("counted fact", &item, "pk")?;
            let bytes = match item.get("fact") {
                Some(AttributeValue::B(blob)) => blob.as_ref().to_vec(),
                _ => return Err(StoreError::Corrupt("a counted fact item has no binary fact".to_owned())),
            };
            let fact = decode_fact(&bytes)
                .map_err(|_| StoreError::Corrupt("a counted fact could not be decoded".to_owned()))?;
            by_key.insert(pk, fact);
        }
        Ok(reports.iter().map(|r| by_key.remove(&format!("counted#{}", r.as_str()))).collect())
    }

    async fn put_counted_facts(&self, facts: &[CountedFact]) -> Result<(), StoreError> {
        use super::{delete_request, put_request};
        let table = self.tables.name(Table::GraphSources)?;
        // A batch may not name one key twice: the last fact of a report wins, as it would one by one.
        let mut last = std::collections::HashMap::with_capacity(facts.len());
        for counted in facts {
            last.insert(counted.report.as_str(), &counted.fact);
        }
        let writes = last
            .into_iter()
            .map(|(report, fact)| {
                let key = Item::from([("pk".to_owned(), s(format!("counted#{report}"))), ("sk".to_owned(), s("fact"))]);
                match fact {
                    Some(fact) => {
                        let mut item = key;
                        item.insert("fact".to_owned(), AttributeValue::B(Blob::new(encode_fact(fact))));
                        put_request(item)
                    }
                    None => delete_request(key),
                }
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(table, writes).await
    }
}
