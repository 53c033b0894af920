//! The incremental linkage's index on SQLite: `link_entry_keys` (32-day bucket, key, entry day, entry id; why the
//! bucket: `db::LINK_ENTRY_KEYS`), `link_report_keys` (diagnosis day, key, report id), and `link_meta` (the model,
//! the watermark). Keys are the 16 hex digits of
//! `KeyedHasher::block_key`, held as the signed 64-bit integer of the same bits; days as days since 0001-01-01.

use async_trait::async_trait;
use chrono::{Datelike, NaiveDate};
use domain::error::StoreError;
use domain::linkage_records::{IndexedRecord, KeyLookup, LinkageState, StoredModel};
use domain::ports::LinkIndex;
use domain::report::ReportId;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{SqliteStores, decode, encode, immediate, sql};
use crate::db::LINK_BUCKET_DAYS;

const MODEL: &str = "model";
const STATE: &str = "state";
fn key_bits(key: &str) -> Result<i64, StoreError> {
    u64::from_str_radix(key, 16)
        .map(|k| k as i64)
        .map_err(|_| StoreError::Corrupt("a linkage index key is not 16 hex digits".to_owned()))
}

fn key_text(bits: i64) -> String {
    format!("{:016x}", bits as u64)
}

fn day_number(day: NaiveDate) -> i32 {
    day.num_days_from_ce()
}

fn day_of(number: i32) -> Result<NaiveDate, StoreError> {
    NaiveDate::from_num_days_from_ce_opt(number)
        .ok_or_else(|| StoreError::Corrupt("a linkage index day is out of range".to_owned()))
}

impl SqliteStores {
    /// Inserts a row per (record, key): `insert` takes (bucket, key, day, id), the bucket `bucket_of(day)`.
    async fn put_keys(
        &self,
        insert: &'static str,
        records: &[IndexedRecord],
        bucket_of: fn(i32) -> i32,
    ) -> Result<(), StoreError> {
        let mut rows: Vec<(i32, i64, i32, String)> = Vec::with_capacity(records.iter().map(|r| r.keys.len()).sum());
        for r in records {
            let day = day_number(r.day);
            for key in &r.keys {
                rows.push((bucket_of(day), key_bits(key)?, day, r.id.clone()));
            }
        }
        // In the table's order: consecutive inserts land on neighbouring B-tree pages.
        rows.sort_unstable();
        self.db
            .run(move |conn| {
                let tx = immediate(conn)?;
                {
                    let mut stmt = tx.prepare_cached(insert).map_err(sql)?;
                    for (bucket, key, day, id) in &rows {
                        stmt.execute(params![bucket, key, day, id]).map_err(sql)?;
                    }
                }
                tx.commit().map_err(sql)
            })
            .await
    }

    async fn get_meta<T: DeserializeOwned + Send + 'static>(
        &self,
        name: &'static str,
    ) -> Result<Option<T>, StoreError> {
        self.db
            .run(move |conn| {
                let doc: Option<String> = conn
                    .query_row("SELECT doc FROM link_meta WHERE name = ?1", [name], |r| r.get(0))
                    .optional()
                    .map_err(sql)?;
                doc.map(|d| decode(&d, name)).transpose()
            })
            .await
    }

    async fn put_meta<T: Serialize>(&self, name: &'static str, value: &T) -> Result<(), StoreError> {
        let doc = encode(value, name)?;
        self.db
            .run(move |conn| {
                conn.execute(
                    "INSERT INTO link_meta (name, doc) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET doc = excluded.doc",
                    params![name, doc],
                )
                .map_err(sql)?;
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl LinkIndex for SqliteStores {
    async fn put_entry_keys(&self, records: &[IndexedRecord]) -> Result<(), StoreError> {
        let insert = "INSERT OR IGNORE INTO link_entry_keys (bucket, key, day, entry_id) VALUES (?1, ?2, ?3, ?4)";
        self.put_keys(insert, records, |day| day.div_euclid(LINK_BUCKET_DAYS)).await
    }

    async fn put_report_keys(&self, records: &[IndexedRecord]) -> Result<(), StoreError> {
        // Clustered by day already (the bucket is the day; ?3, the day again, is not used).
        let insert = "INSERT OR IGNORE INTO link_report_keys (day, key, report_id) VALUES (?1, ?2, ?4)";
        self.put_keys(insert, records, |day| day).await
    }

    async fn entries_by_keys(&self, lookups: &[KeyLookup], limit: usize) -> Result<Vec<Vec<String>>, StoreError> {
        let lookups = lookups
            .iter()
            .map(|l| Ok((key_bits(&l.key)?, day_number(l.from), day_number(l.to))))
            .collect::<Result<Vec<(i64, i32, i32)>, StoreError>>()?;
        self.db
            .run(move |conn| {
                // One read transaction for all: a statement on its own takes and drops SQLite's file lock each time.
                let tx = conn.transaction().map_err(sql)?;
                lookups
                    .iter()
                    .map(|&(key, from, to)| {
                        // One statement per key, the range's buckets as an IN list: SQLite seeks (bucket, key) once
                        // per bucket. Cached per number of buckets (a window spans the same few).
                        let buckets = from.div_euclid(LINK_BUCKET_DAYS)..=to.div_euclid(LINK_BUCKET_DAYS);
                        let list = vec!["?"; buckets.clone().count()].join(", ");
                        // The limit is written into the statement, not bound: SQLite plans a bound LIMIT by its
                        // value, so binding it made every execution prepare the statement again (a fifth of the
                        // hourly run's time).
                        let query = format!(
                            "SELECT entry_id FROM link_entry_keys
                             WHERE bucket IN ({list}) AND key = ? AND day BETWEEN ? AND ? LIMIT {limit}"
                        );
                        let mut stmt = tx.prepare_cached(&query).map_err(sql)?;
                        let mut values: Vec<i64> = buckets.map(i64::from).collect();
                        values.extend([key, i64::from(from), i64::from(to)]);
                        let ids = stmt
                            .query_map(rusqlite::params_from_iter(values), |r| r.get::<_, String>(0))
                            .map_err(sql)?;
                        ids.map(|id| id.map_err(sql)).collect()
                    })
                    .collect()
            })
            .await
    }

    async fn report_keys_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, NaiveDate, ReportId)>, StoreError> {
        let (from, to) = (day_number(from), day_number(to));
        self.db
            .run(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT key, day, report_id FROM link_report_keys WHERE day BETWEEN ?1 AND ?2")
                    .map_err(sql)?;
                let rows = stmt
                    .query_map(params![from, to], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, i32>(1)?, r.get::<_, String>(2)?))
                    })
                    .map_err(sql)?;
                rows.map(|row| {
                    let (key, day, id) = row.map_err(sql)?;
                    let id = ReportId::parse(&id)
                        .ok_or_else(|| StoreError::Corrupt("a linkage index report id is not a UUID".to_owned()))?;
                    Ok((key_text(key), day_of(day)?, id))
                })
                .collect()
            })
            .await
    }

    async fn current_model(&self) -> Result<Option<StoredModel>, StoreError> {
        self.get_meta(MODEL).await
    }

    async fn put_model(&self, model: &StoredModel) -> Result<(), StoreError> {
        self.put_meta(MODEL, model).await
    }

    async fn linkage_state(&self) -> Result<Option<LinkageState>, StoreError> {
        self.get_meta(STATE).await
    }

    async fn put_linkage_state(&self, state: &LinkageState) -> Result<(), StoreError> {
        self.put_meta(STATE, state).await
    }
}
