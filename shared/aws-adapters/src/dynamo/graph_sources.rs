//! GraphSources table (hash `pk`, range `sk`): line-list cases under `pk` = `linelist#<prefecture>`, `sk` = the
//! list's No, `doc`; switch dates under `pk` = `switch`, `sk` = the prefecture, `hersys_from` (ISO date). Line
//! lists are public data, so their numbers may be keys.

use async_trait::async_trait;
use chrono::NaiveDate;
use domain::StoreError;
use domain::graphs::Sources;
use domain::graphs::linelist::LineListCase;
use domain::ports::GraphSourceStore;
use domain::prefecture::PrefectureCode;
use futures::{StreamExt, TryStreamExt, stream};

use super::{DynamoStores, Item, Table, decode_doc, encode_doc, query_all, read_string, s, unavailable};

const WHAT: &str = "line-list case";
const CONCURRENT_PUTS: usize = 16;

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
            .await
            .map(|_| ())
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
}
