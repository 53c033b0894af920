//! The domain's stores on SQLite, with the semantics of the port docs in `domain::ports`: one file per store, as
//! on the DynamoDB side (`aws-adapters/src/dynamo/`), and here what they share.

mod audit;
mod counters;
mod cycles;
mod entries;
mod follow_ups;
mod graph_sources;
mod idempotency;
mod lease;
mod link_index;
mod links;
mod reports;

use std::path::Path;

use domain::error::StoreError;
use domain::ports::{Page, Segment};
use domain::time::Instant;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::db::{Db, describe};
use crate::outbox::Outbox;

/// Every store over one SQLite connection. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct SqliteStores {
    pub(crate) db: Db,
}

impl std::fmt::Debug for SqliteStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStores")
    }
}

pub(crate) fn sql(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(describe(&e))
}

// serde_json's messages can quote the offending value, so only the kind of document is named.
pub(crate) fn encode<T: Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|_| StoreError::Corrupt(format!("{what} does not encode")))
}

pub(crate) fn decode<T: DeserializeOwned>(doc: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|_| StoreError::Corrupt(format!("stored {what} does not decode")))
}

/// One page of the documents of a segment of `table` (a rowid table with a `doc` column), for the partitions of a
/// full run: a row's segment is its rowid modulo the number of segments (rowids stay as they are: the product never
/// vacuums), read in rowid order after `cursor` (a rowid).
pub(crate) fn docs_in_segment<T: DeserializeOwned>(
    conn: &Connection,
    table: &'static str,
    segment: Segment,
    cursor: Option<&str>,
    limit: usize,
    what: &str,
) -> Result<Page<T>, StoreError> {
    let after: i64 = match cursor {
        Some(c) => c.parse().map_err(|_| StoreError::Corrupt(format!("a {what} page cursor is not a row id")))?,
        None => 0,
    };
    let (index, of) = (i64::from(segment.index), i64::from(segment.of.max(1)));
    let limit = limit.max(1);
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT rowid, doc FROM {table} WHERE rowid > ?1 AND rowid % ?2 = ?3 ORDER BY rowid LIMIT ?4"
        ))
        .map_err(sql)?;
    let rows = stmt
        .query_map(params![after, of, index, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(sql)?;
    let (mut items, mut last) = (Vec::with_capacity(limit), None);
    for row in rows {
        let (rowid, doc) = row.map_err(sql)?;
        items.push(decode(&doc, what)?);
        last = Some(rowid);
    }
    // A short page is the last one.
    let next = if items.len() == limit { last.map(|r| r.to_string()) } else { None };
    Ok(Page { items, next })
}

/// The documents of these primary keys that exist, in the order asked, by `select` (one `?1` parameter).
pub(crate) fn docs_by_pk<T: DeserializeOwned>(
    conn: &Connection,
    select: &str,
    keys: &[String],
    what: &str,
) -> Result<Vec<T>, StoreError> {
    // One read transaction for all (and one snapshot): a statement on its own takes and drops the file lock.
    let tx = conn.unchecked_transaction().map_err(sql)?;
    let mut stmt = tx.prepare_cached(select).map_err(sql)?;
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        if let Some(doc) = stmt.query_row([key], |r| r.get::<_, String>(0)).optional().map_err(sql)? {
            out.push(decode(&doc, what)?);
        }
    }
    Ok(out)
}

pub(crate) fn version_of(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt("negative version".to_owned()))
}

pub(crate) fn db_version(v: u64) -> i64 {
    // Versions start at 1; one beyond i64 matches no row, like -1, and the miss is then told apart as usual.
    i64::try_from(v).unwrap_or(-1)
}

pub(crate) fn millis(at: Instant) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn immediate(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    // Immediate: take the write lock before reading, so a read-then-write cannot interleave with another process.
    conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)
}

/// After a conditional update touched no row: tells "absent" from "stale".
pub(crate) fn missing_or_stale(
    tx: &Connection,
    table: &str,
    pk: &str,
    expected: u64,
) -> Result<StoreError, StoreError> {
    let exists: bool = tx
        .query_row(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE pk = ?1)"), [pk], |r| r.get(0))
        .map_err(sql)?;
    Ok(if exists { StoreError::VersionConflict { expected } } else { StoreError::NotFound })
}

impl SqliteStores {
    /// The rows of one of the record tables (an exact count: the embedded store is small enough).
    pub(crate) async fn count_rows(&self, table: &'static str) -> Result<u64, StoreError> {
        self.db
            .run(move |conn| {
                let count: i64 =
                    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).map_err(sql)?;
                Ok(u64::try_from(count).unwrap_or(0))
            })
            .await
    }
}

impl SqliteStores {
    /// Opens the file (creating it, its parent directory and the schema if need be) in WAL mode.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self { db: Db::open(path)? })
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Ok(Self { db: Db::open_in_memory()? })
    }

    /// The outbox on the same connection (and so the same file), for a server that both stores and "sends".
    pub fn outbox(&self) -> Outbox {
        Outbox::from_db(self.db.clone())
    }

    /// Every value of every key and index column of the store tables, for the contract test "no raw personal
    /// identifier in any key". The outbox tables are not stores and are left out (they hold raw recipients).
    pub fn all_key_values(&self) -> Result<Vec<String>, StoreError> {
        self.db.run_blocking(|conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT pk FROM reports UNION ALL SELECT passport_hash FROM reports
                     UNION ALL SELECT prefecture FROM reports UNION ALL SELECT case_key FROM reports
                     UNION ALL SELECT pk FROM entries UNION ALL SELECT passport_hash FROM entries
                     UNION ALL SELECT pk FROM follow_ups UNION ALL SELECT passport_hash FROM follow_ups
                     UNION ALL SELECT pk FROM processing_numbers UNION ALL SELECT report_id FROM processing_numbers
                     UNION ALL SELECT CAST(due_at AS TEXT) FROM processing_numbers
                     UNION ALL SELECT pk FROM idempotency UNION ALL SELECT name FROM counters
                     UNION ALL SELECT pk FROM links UNION ALL SELECT review_hc FROM links
                     UNION ALL SELECT updated_at FROM reports UNION ALL SELECT report_id FROM graph_counted
                     UNION ALL SELECT health_center FROM audit_events UNION ALL SELECT sk FROM audit_events",
                )
                .map_err(sql)?;
            let rows = stmt.query_map([], |r| r.get::<_, Option<String>>(0)).map_err(sql)?;
            rows.filter_map(|r| r.map_err(sql).transpose()).collect()
        })
    }
}

#[cfg(test)]
impl SqliteStores {
    /// SQLite's plan for a query, to check that lookups are served by an index.
    pub(crate) fn query_plan(&self, query: &str) -> String {
        #![allow(clippy::unwrap_used)]
        self.db
            .run_blocking(|conn| {
                let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {query}")).map_err(sql)?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(3)).map_err(sql)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(sql)
            })
            .unwrap()
            .join("; ")
    }
}
