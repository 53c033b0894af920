//! The graph export's own data on SQLite: line-list cases by (prefecture, number), the switch dates, the facts
//! counted per report, and the export's state between runs.

use async_trait::async_trait;
use chrono::NaiveDate;
use domain::error::StoreError;
use domain::graphs::linelist::LineListCase;
use domain::graphs::state::{CountedFact, decode_fact, encode_fact};
use domain::graphs::{CaseFact, Sources};
use domain::ports::{ExportStateStore, GraphSourceStore};
use domain::prefecture::PrefectureCode;
use domain::report::ReportId;
use rusqlite::{OptionalExtension, params};

const LINELIST_GENERATION: &str = "linelist_generation";
const EXPORT_STATE: &str = "export_state";
fn partial_name(run: &str, index: u32) -> String {
    format!("partial#{run}#{index}")
}

use super::{SqliteStores, decode, encode, immediate, sql};

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
                tx.execute(
                    "INSERT INTO graph_meta (name, value) VALUES (?1, 1)
                     ON CONFLICT (name) DO UPDATE SET value = value + 1",
                    [LINELIST_GENERATION],
                )
                .map_err(sql)?;
                tx.commit().map_err(sql)
            })
            .await
    }

    async fn linelist_cases(&self, prefecture: PrefectureCode) -> Result<Vec<LineListCase>, StoreError> {
        let key = prefecture.as_jis();
        self.db
            .run(move |conn| {
                let mut stmt =
                    conn.prepare_cached("SELECT doc FROM linelist_cases WHERE prefecture = ?1").map_err(sql)?;
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
                let mut stmt =
                    conn.prepare_cached("SELECT prefecture, hersys_from FROM graph_switches").map_err(sql)?;
                let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(sql)?;
                let mut sources = Sources::default();
                for row in rows {
                    let (p, day) = row.map_err(sql)?;
                    let prefecture = PrefectureCode::parse("prefecture", &p)
                        .map_err(|_| StoreError::Corrupt("a switch has a bad prefecture".to_owned()))?;
                    let day = day
                        .parse::<NaiveDate>()
                        .map_err(|_| StoreError::Corrupt("a switch has a bad date".to_owned()))?;
                    sources.set(prefecture, Some(day));
                }
                Ok(sources)
            })
            .await
    }

    async fn linelist_generation(&self) -> Result<u64, StoreError> {
        self.db
            .run(move |conn| {
                let value: Option<i64> = conn
                    .query_row("SELECT value FROM graph_meta WHERE name = ?1", [LINELIST_GENERATION], |r| r.get(0))
                    .optional()
                    .map_err(sql)?;
                Ok(value.map_or(0, |v| u64::try_from(v).unwrap_or(0)))
            })
            .await
    }

    async fn counted_facts(&self, reports: &[ReportId]) -> Result<Vec<Option<CaseFact>>, StoreError> {
        let keys: Vec<String> = reports.iter().map(ToString::to_string).collect();
        self.db
            .run(move |conn| {
                let mut stmt =
                    conn.prepare_cached("SELECT fact FROM graph_counted WHERE report_id = ?1").map_err(sql)?;
                keys.iter()
                    .map(|key| {
                        let bytes: Option<Vec<u8>> = stmt.query_row([key], |r| r.get(0)).optional().map_err(sql)?;
                        bytes
                            .map(|b| {
                                decode_fact(&b)
                                    .map_err(|_| StoreError::Corrupt("a counted fact could not be decoded".to_owned()))
                            })
                            .transpose()
                    })
                    .collect()
            })
            .await
    }

    async fn put_counted_facts(&self, facts: &[CountedFact]) -> Result<(), StoreError> {
        let rows: Vec<(String, Option<Vec<u8>>)> =
            facts.iter().map(|c| (c.report.to_string(), c.fact.as_ref().map(encode_fact))).collect();
        self.db
            .run(move |conn| {
                let tx = immediate(conn)?;
                {
                    let mut put = tx
                        .prepare_cached(
                            "INSERT INTO graph_counted (report_id, fact) VALUES (?1, ?2)
                             ON CONFLICT (report_id) DO UPDATE SET fact = excluded.fact",
                        )
                        .map_err(sql)?;
                    let mut remove =
                        tx.prepare_cached("DELETE FROM graph_counted WHERE report_id = ?1").map_err(sql)?;
                    for (key, fact) in &rows {
                        match fact {
                            Some(bytes) => put.execute(params![key, bytes]),
                            None => remove.execute([key]),
                        }
                        .map_err(sql)?;
                    }
                }
                tx.commit().map_err(sql)
            })
            .await
    }
}

#[async_trait]
impl ExportStateStore for SqliteStores {
    async fn load_export_state(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .run(move |conn| {
                conn.query_row("SELECT value FROM graph_meta WHERE name = ?1", [EXPORT_STATE], |r| r.get(0))
                    .optional()
                    .map_err(sql)
            })
            .await
    }

    async fn save_export_state(&self, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.db
            .run(move |conn| {
                conn.execute(
                    "INSERT INTO graph_meta (name, value) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    params![EXPORT_STATE, bytes],
                )
                .map(|_| ())
                .map_err(sql)
            })
            .await
    }

    async fn save_partition_result(&self, run: &str, index: u32, bytes: Vec<u8>) -> Result<(), StoreError> {
        let name = partial_name(run, index);
        self.db
            .run(move |conn| {
                conn.execute(
                    "INSERT INTO graph_meta (name, value) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    params![name, bytes],
                )
                .map(|_| ())
                .map_err(sql)
            })
            .await
    }

    async fn load_partition_result(&self, run: &str, index: u32) -> Result<Option<Vec<u8>>, StoreError> {
        let name = partial_name(run, index);
        self.db
            .run(move |conn| {
                conn.query_row("SELECT value FROM graph_meta WHERE name = ?1", [name], |r| r.get(0))
                    .optional()
                    .map_err(sql)
            })
            .await
    }

    async fn delete_partition_results(&self, run: &str, of: u32) -> Result<(), StoreError> {
        let names: Vec<String> = (0..of).map(|i| partial_name(run, i)).collect();
        self.db
            .run(move |conn| {
                let tx = immediate(conn)?;
                for name in &names {
                    tx.execute("DELETE FROM graph_meta WHERE name = ?1", [name]).map_err(sql)?;
                }
                tx.commit().map_err(sql)
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
                    domain::time::sortable_text(r.updated_at),
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.db.run_blocking(move |conn| {
            let tx = immediate(conn)?;
            {
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO reports (pk, version, doc, passport_hash, prefecture, case_key, updated_at)
                         VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .map_err(sql)?;
                for (pk, doc, hash, pref, case_key, written) in &rows {
                    stmt.execute(params![pk, doc, hash, pref, case_key, written]).map_err(sql)?;
                }
            }
            tx.commit().map_err(sql)
        })
    }

    /// About `n` distinct stored reports picked at random by row id (a seeded draw), with their versions: the
    /// reports a benchmark changes. Reads only the rows it picks.
    pub fn reports_at_random(
        &self,
        n: u64,
        seed: u64,
    ) -> Result<Vec<domain::ports::Versioned<domain::report::CaseReport>>, StoreError> {
        self.db.run_blocking(move |conn| {
            let max: i64 =
                conn.query_row("SELECT coalesce(max(rowid), 0) FROM reports", [], |r| r.get(0)).map_err(sql)?;
            let mut picked = std::collections::BTreeSet::new();
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut stmt = conn.prepare_cached("SELECT version, doc FROM reports WHERE rowid = ?1").map_err(sql)?;
            let mut out = Vec::new();
            let mut tries = 0u64;
            while (out.len() as u64) < n && max > 0 && tries < n.saturating_mul(4) {
                tries += 1;
                // xorshift64: a fixed sequence per seed.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let rowid = i64::try_from(x % u64::try_from(max).unwrap_or(1)).unwrap_or(0) + 1;
                if !picked.insert(rowid) {
                    continue;
                }
                if let Some((version, doc)) = stmt
                    .query_row([rowid], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                    .optional()
                    .map_err(sql)?
                {
                    let version =
                        u64::try_from(version).map_err(|_| StoreError::Corrupt("a negative version".to_owned()))?;
                    out.push(domain::ports::Versioned { value: decode(&doc, "report")?, version });
                }
            }
            Ok(out)
        })
    }
}
