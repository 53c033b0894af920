//! The graph export's sources on SQLite: line-list cases by (prefecture, number) and the switch dates.

use async_trait::async_trait;
use chrono::NaiveDate;
use domain::error::StoreError;
use domain::graphs::linelist::LineListCase;
use domain::graphs::Sources;
use domain::ports::GraphSourceStore;
use domain::prefecture::PrefectureCode;
use rusqlite::params;

use crate::stores::{decode, encode, immediate, sql, SqliteStores};

#[async_trait]
impl GraphSourceStore for SqliteStores {
    async fn put_linelist_cases(&self, cases: &[LineListCase]) -> Result<(), StoreError> {
        let rows = cases
            .iter()
            .map(|c| Ok((c.prefecture.as_jis(), c.number.clone(), encode(c, "line-list case")?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.db
            .run(move |conn| {
                let tx = immediate(conn)?;
                {
                    let mut stmt = tx
                        .prepare_cached(
                            "INSERT INTO linelist_cases (prefecture, number, doc) VALUES (?1, ?2, ?3)
                             ON CONFLICT (prefecture, number) DO UPDATE SET doc = excluded.doc",
                        )
                        .map_err(sql)?;
                    for (prefecture, number, doc) in &rows {
                        stmt.execute(params![prefecture, number, doc]).map_err(sql)?;
                    }
                }
                tx.commit().map_err(sql)
            })
            .await
    }

    async fn linelist_cases(&self, prefecture: PrefectureCode) -> Result<Vec<LineListCase>, StoreError> {
        let key = prefecture.as_jis();
        self.db
            .run(move |conn| {
                let mut stmt = conn.prepare_cached("SELECT doc FROM linelist_cases WHERE prefecture = ?1").map_err(sql)?;
                let docs = stmt.query_map([key], |r| r.get::<_, String>(0)).map_err(sql)?;
                docs.map(|doc| decode(&doc.map_err(sql)?, "line-list case")).collect()
            })
            .await
    }

    async fn set_hersys_from(&self, prefecture: PrefectureCode, from: Option<NaiveDate>) -> Result<(), StoreError> {
        let key = prefecture.as_jis();
        self.db
            .run(move |conn| {
                match from {
                    Some(day) => conn.execute(
                        "INSERT INTO graph_switches (prefecture, hersys_from) VALUES (?1, ?2)
                         ON CONFLICT (prefecture) DO UPDATE SET hersys_from = excluded.hersys_from",
                        params![key, day.to_string()],
                    ),
                    None => conn.execute("DELETE FROM graph_switches WHERE prefecture = ?1", [key]),
                }
                .map(|_| ())
                .map_err(sql)
            })
            .await
    }

    async fn hersys_from(&self) -> Result<Sources, StoreError> {
        self.db
            .run(move |conn| {
                let mut stmt = conn.prepare_cached("SELECT prefecture, hersys_from FROM graph_switches").map_err(sql)?;
                let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(sql)?;
                let mut sources = Sources::default();
                for row in rows {
                    let (p, day) = row.map_err(sql)?;
                    let prefecture = PrefectureCode::parse("prefecture", &p).map_err(|_| StoreError::Corrupt("a switch has a bad prefecture".to_owned()))?;
                    let day = day.parse::<NaiveDate>().map_err(|_| StoreError::Corrupt("a switch has a bad date".to_owned()))?;
                    sources.set(prefecture, Some(day));
                }
                Ok(sources)
            })
            .await
    }
}

impl SqliteStores {
    /// Stores many new reports in one transaction, as `create_report` would one by one (version 1, same columns).
    /// For benchmarks and demos that need millions of reports quickly; the product's paths use `create_report`.
    pub fn insert_reports_in_bulk(&self, reports: &[domain::report::CaseReport]) -> Result<(), StoreError> {
        let rows = reports
            .iter()
            .map(|r| {
                Ok((
                    r.id.to_string(),
                    encode(r, "report")?,
                    r.passport_hash.as_ref().map(|h| h.as_str().to_owned()),
                    r.prefecture.as_jis(),
                    r.case_key.as_ref().map(|k| k.as_str().to_owned()),
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.db.run_blocking(move |conn| {
            let tx = immediate(conn)?;
            {
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO reports (pk, version, doc, passport_hash, prefecture, case_key) VALUES (?1, 1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(sql)?;
                for (pk, doc, hash, pref, case_key) in &rows {
                    stmt.execute(params![pk, doc, hash, pref, case_key]).map_err(sql)?;
                }
            }
            tx.commit().map_err(sql)
        })
    }
}
