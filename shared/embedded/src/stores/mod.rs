//! The domain's stores on SQLite, with the semantics of the port docs in `domain::ports`.

use std::path::Path;

use async_trait::async_trait;
use domain::cycle::{Cycle, CycleId, IssuedNumber};
use domain::entry::EntryRecord;
use domain::error::StoreError;
use domain::idempotency::{Claim, IdempotencyRecord, IdempotencyState};
use domain::keyed_hash::KeyedHash;
use domain::ports::{CycleStore, EntryStore, IdempotencyStore, PutOutcome, ReportStore, Versioned};
use domain::prefecture::PrefectureCode;
use domain::report::{CaseReport, ReportId};
use domain::time::{Instant, sortable_text};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::db::{Db, describe};
use crate::outbox::Outbox;

/// All four stores over one SQLite connection. Cheap to clone; clones share the connection.
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

fn version_of(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt("negative version".to_owned()))
}

fn db_version(v: u64) -> i64 {
    // Versions start at 1; one beyond i64 matches no row, like -1, and the miss is then told apart as usual.
    i64::try_from(v).unwrap_or(-1)
}

fn millis(at: Instant) -> i64 {
    at.timestamp_millis()
}

fn cycle_pk(id: &CycleId) -> String {
    format!("cycle#{}", id.as_str())
}

fn number_pk(hash: &KeyedHash) -> String {
    format!("number#{}", hash.as_str())
}

pub(crate) fn immediate(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    // Immediate: take the write lock before reading, so a read-then-write cannot interleave with another process.
    conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)
}

/// After a conditional update touched no row: tells "absent" from "stale".
fn missing_or_stale(tx: &Connection, table: &str, pk: &str, expected: u64) -> Result<StoreError, StoreError> {
    let exists: bool = tx
        .query_row(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE pk = ?1)"), [pk], |r| r.get(0))
        .map_err(sql)?;
    Ok(if exists { StoreError::VersionConflict { expected } } else { StoreError::NotFound })
}

/// Inserts a number record if its hash is free.
fn insert_number(tx: &Connection, number: &IssuedNumber) -> Result<(), StoreError> {
    let doc = encode(number, "number")?;
    let n = tx
        .execute(
            "INSERT INTO processing_numbers (pk, doc) VALUES (?1, ?2) ON CONFLICT (pk) DO NOTHING",
            params![number_pk(&number.hash), doc],
        )
        .map_err(sql)?;
    if n == 0 { Err(StoreError::AlreadyExists) } else { Ok(()) }
}

/// The cycle's row values besides its key: document, report id and the sparse due instant.
fn cycle_columns(cycle: &Cycle) -> Result<(String, &str, Option<i64>), StoreError> {
    Ok((encode(cycle, "cycle")?, cycle.report_id.as_str(), cycle.next_due_at.map(millis)))
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
                     UNION ALL SELECT pk FROM processing_numbers UNION ALL SELECT report_id FROM processing_numbers
                     UNION ALL SELECT CAST(due_at AS TEXT) FROM processing_numbers
                     UNION ALL SELECT pk FROM idempotency UNION ALL SELECT name FROM counters
                     UNION ALL SELECT pk FROM links UNION ALL SELECT review_hc FROM links
                     UNION ALL SELECT updated_at FROM reports UNION ALL SELECT report_id FROM graph_counted",
                )
                .map_err(sql)?;
            let rows = stmt.query_map([], |r| r.get::<_, Option<String>>(0)).map_err(sql)?;
            rows.filter_map(|r| r.map_err(sql).transpose()).collect()
        })
    }
}

#[async_trait]
impl ReportStore for SqliteStores {
    async fn create_report(&self, report: &CaseReport) -> Result<(), StoreError> {
        let doc = encode(report, "report")?;
        let (pk, hash, pref) = (
            report.id.to_string(),
            report.passport_hash.as_ref().map(|h| h.as_str().to_owned()),
            report.prefecture.as_jis(),
        );
        let case_key = report.case_key.as_ref().map(|k| k.as_str().to_owned());
        let written = sortable_text(report.updated_at);
        self.db
            .run(move |conn| {
                // The unique index on case_key refuses a second report of the same (health centre, case number).
                let n = conn
                    .execute(
                        "INSERT INTO reports (pk, version, doc, passport_hash, prefecture, case_key, updated_at)
                         VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                        params![pk, doc, hash, pref, case_key, written],
                    )
                    .map_err(sql)?;
                if n == 0 { Err(StoreError::AlreadyExists) } else { Ok(()) }
            })
            .await
    }

    async fn get_report(&self, id: &ReportId) -> Result<Option<Versioned<CaseReport>>, StoreError> {
        let pk = id.to_string();
        self.db
            .run(move |conn| {
                let row: Option<(i64, String)> = conn
                    .query_row("SELECT version, doc FROM reports WHERE pk = ?1", [pk], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(sql)?;
                row.map(|(v, doc)| Ok(Versioned { value: decode(&doc, "report")?, version: version_of(v)? }))
                    .transpose()
            })
            .await
    }

    async fn update_report(&self, report: &CaseReport, expected_version: u64) -> Result<u64, StoreError> {
        let doc = encode(report, "report")?;
        let (pk, hash, pref) = (
            report.id.to_string(),
            report.passport_hash.as_ref().map(|h| h.as_str().to_owned()),
            report.prefecture.as_jis(),
        );
        let expected = db_version(expected_version);
        let written = sortable_text(report.updated_at);
        self.db
            .run(move |conn| {
                let tx = immediate(conn)?;
                let new: Option<i64> = tx
                    .query_row(
                        "UPDATE reports SET version = version + 1, doc = ?2, passport_hash = ?3, prefecture = ?4, updated_at = ?6
                         WHERE pk = ?1 AND version = ?5 RETURNING version",
                        params![pk, doc, hash, pref, expected, written],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sql)?;
                match new {
                    Some(v) => {
                        tx.commit().map_err(sql)?;
                        version_of(v)
                    }
                    None => Err(missing_or_stale(&tx, "reports", &pk, expected_version)?),
                }
            })
            .await
    }

    async fn reports_by_passport(&self, passport: &KeyedHash) -> Result<Vec<ReportId>, StoreError> {
        let hash = passport.as_str().to_owned();
        self.db
            .run(move |conn| {
                let mut stmt =
                    conn.prepare_cached("SELECT pk FROM reports WHERE passport_hash = ?1 ORDER BY pk").map_err(sql)?;
                let ids = stmt.query_map([hash], |r| r.get::<_, String>(0)).map_err(sql)?;
                ids.map(|id| {
                    ReportId::parse(&id.map_err(sql)?)
                        .ok_or_else(|| StoreError::Corrupt("stored report id is not a UUID".to_owned()))
                })
                .collect()
            })
            .await
    }

    async fn reports_by_prefecture(&self, prefecture: PrefectureCode) -> Result<Vec<CaseReport>, StoreError> {
        let pref = prefecture.as_jis();
        self.db
            .run(move |conn| {
                let mut stmt =
                    conn.prepare_cached("SELECT doc FROM reports WHERE prefecture = ?1 ORDER BY pk").map_err(sql)?;
                let docs = stmt.query_map([pref], |r| r.get::<_, String>(0)).map_err(sql)?;
                docs.map(|doc| decode(&doc.map_err(sql)?, "report")).collect()
            })
            .await
    }

    async fn report_ids_changed_since(&self, since: Instant, _until: Instant) -> Result<Vec<ReportId>, StoreError> {
        let since = sortable_text(since);
        self.db
            .run(move |conn| {
                let mut stmt = conn.prepare_cached("SELECT pk FROM reports WHERE updated_at >= ?1").map_err(sql)?;
                let ids = stmt.query_map([since], |r| r.get::<_, String>(0)).map_err(sql)?;
                ids.map(|id| {
                    ReportId::parse(&id.map_err(sql)?)
                        .ok_or_else(|| StoreError::Corrupt("stored report id is not a UUID".to_owned()))
                })
                .collect()
            })
            .await
    }

    async fn get_reports(&self, ids: &[ReportId]) -> Result<Vec<CaseReport>, StoreError> {
        let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.db
            .run(move |conn| {
                let mut stmt = conn.prepare_cached("SELECT doc FROM reports WHERE pk = ?1").map_err(sql)?;
                let mut reports = Vec::with_capacity(keys.len());
                for key in &keys {
                    if let Some(doc) = stmt.query_row([key], |r| r.get::<_, String>(0)).optional().map_err(sql)? {
                        reports.push(decode(&doc, "report")?);
                    }
                }
                Ok(reports)
            })
            .await
    }
}

#[async_trait]
impl EntryStore for SqliteStores {
    async fn put_entries(&self, entries: &[EntryRecord]) -> Result<Vec<PutOutcome>, StoreError> {
        let rows =
            entries.iter().map(|e| Ok((e.clone(), encode(e, "entry")?))).collect::<Result<Vec<_>, StoreError>>()?;
        self.db
            .run(move |conn| {
                // One transaction only to batch the writes; each record's outcome is still its own. The statements
                // are prepared once per connection (cached), not once per record.
                let tx = immediate(conn)?;
                let mut outcomes = Vec::with_capacity(rows.len());
                {
                    let mut insert = tx
                        .prepare_cached("INSERT INTO entries (pk, doc, passport_hash) VALUES (?1, ?2, ?3) ON CONFLICT (pk) DO NOTHING")
                        .map_err(sql)?;
                    let mut select = tx.prepare_cached("SELECT doc FROM entries WHERE pk = ?1").map_err(sql)?;
                    for (entry, doc) in rows {
                        let n = insert.execute(params![entry.entry_id, doc, entry.passport_hash.as_str()]).map_err(sql)?;
                        let outcome = if n == 1 {
                            PutOutcome::Created
                        } else {
                            let stored: String = select.query_row([&entry.entry_id], |r| r.get(0)).map_err(sql)?;
                            // Compare as records rather than as text, so that a field added later does not turn an
                            // identical re-send into a conflict.
                            if decode::<EntryRecord>(&stored, "entry")? == entry { PutOutcome::Unchanged } else { PutOutcome::Conflict }
                        };
                        outcomes.push(outcome);
                    }
                }
                tx.commit().map_err(sql)?;
                Ok(outcomes)
            })
            .await
    }

    async fn get_entry(&self, entry_id: &str) -> Result<Option<EntryRecord>, StoreError> {
        let pk = entry_id.to_owned();
        self.db
            .run(move |conn| {
                let doc: Option<String> = conn
                    .query_row("SELECT doc FROM entries WHERE pk = ?1", [pk], |r| r.get(0))
                    .optional()
                    .map_err(sql)?;
                doc.map(|d| decode(&d, "entry")).transpose()
            })
            .await
    }

    async fn entries_by_passport(&self, passport: &KeyedHash) -> Result<Vec<EntryRecord>, StoreError> {
        let hash = passport.as_str().to_owned();
        self.db
            .run(move |conn| {
                let mut stmt =
                    conn.prepare_cached("SELECT doc FROM entries WHERE passport_hash = ?1 ORDER BY pk").map_err(sql)?;
                let docs = stmt.query_map([hash], |r| r.get::<_, String>(0)).map_err(sql)?;
                docs.map(|doc| decode(&doc.map_err(sql)?, "entry")).collect()
            })
            .await
    }

    async fn all_entries(&self) -> Result<Vec<EntryRecord>, StoreError> {
        self.db
            .run(move |conn| {
                let mut stmt = conn.prepare_cached("SELECT doc FROM entries ORDER BY pk").map_err(sql)?;
                let docs = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(sql)?;
                docs.map(|doc| decode(&doc.map_err(sql)?, "entry")).collect()
            })
            .await
    }
}

#[async_trait]
impl CycleStore for SqliteStores {
    async fn create_cycle(&self, cycle: &Cycle, first: &IssuedNumber) -> Result<(), StoreError> {
        let (pk, first) = (cycle_pk(&cycle.id), first.clone());
        let (doc, report_id, due_at) = cycle_columns(cycle)?;
        let report_id = report_id.to_owned();
        self.db
            .run(move |conn| {
                // Dropping the transaction on an early return rolls it back: all or nothing.
                let tx = immediate(conn)?;
                let n = tx
                    .execute(
                        "INSERT INTO processing_numbers (pk, version, doc, report_id, due_at) VALUES (?1, 1, ?2, ?3, ?4)
                         ON CONFLICT (pk) DO NOTHING",
                        params![pk, doc, report_id, due_at],
                    )
                    .map_err(sql)?;
                if n == 0 {
                    return Err(StoreError::AlreadyExists);
                }
                insert_number(&tx, &first)?;
                tx.commit().map_err(sql)
            })
            .await
    }

    async fn get_cycle(&self, id: &CycleId) -> Result<Option<Versioned<Cycle>>, StoreError> {
        let pk = cycle_pk(id);
        self.db
            .run(move |conn| {
                let row: Option<(i64, String)> = conn
                    .query_row("SELECT version, doc FROM processing_numbers WHERE pk = ?1", [pk], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()
                    .map_err(sql)?;
                row.map(|(v, doc)| Ok(Versioned { value: decode(&doc, "cycle")?, version: version_of(v)? })).transpose()
            })
            .await
    }

    async fn advance_cycle(
        &self,
        cycle: &Cycle,
        expected_version: u64,
        changed: &[IssuedNumber],
        new_number: Option<&IssuedNumber>,
    ) -> Result<u64, StoreError> {
        let pk = cycle_pk(&cycle.id);
        let (doc, report_id, due_at) = cycle_columns(cycle)?;
        let report_id = report_id.to_owned();
        let changed = changed
            .iter()
            .map(|n| Ok((number_pk(&n.hash), encode(n, "number")?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let new_number = new_number.cloned();
        let expected = db_version(expected_version);
        self.db
            .run(move |conn| {
                // Every early return drops the transaction, which rolls back whatever was written before it.
                let tx = immediate(conn)?;
                let version: Option<i64> = tx
                    .query_row(
                        "UPDATE processing_numbers SET version = version + 1, doc = ?2, report_id = ?3, due_at = ?4
                         WHERE pk = ?1 AND version = ?5 RETURNING version",
                        params![pk, doc, report_id, due_at, expected],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sql)?;
                let Some(version) = version else {
                    return Err(missing_or_stale(&tx, "processing_numbers", &pk, expected_version)?);
                };
                for (number_pk, doc) in &changed {
                    let n = tx
                        .execute("UPDATE processing_numbers SET doc = ?2 WHERE pk = ?1", params![number_pk, doc])
                        .map_err(sql)?;
                    if n == 0 {
                        return Err(StoreError::TransactionCancelled(
                            "a number record to change does not exist".to_owned(),
                        ));
                    }
                }
                if let Some(number) = &new_number {
                    insert_number(&tx, number)?;
                }
                tx.commit().map_err(sql)?;
                version_of(version)
            })
            .await
    }

    async fn get_number(&self, hash: &KeyedHash, now: Instant) -> Result<Option<IssuedNumber>, StoreError> {
        let pk = number_pk(hash);
        self.db
            .run(move |conn| {
                let doc: Option<String> = conn
                    .query_row("SELECT doc FROM processing_numbers WHERE pk = ?1", [pk], |r| r.get(0))
                    .optional()
                    .map_err(sql)?;
                let number = doc.map(|d| decode::<IssuedNumber>(&d, "number")).transpose()?;
                // No TTL here, and DynamoDB's deletes lag anyway: a record past purge_after counts as gone.
                Ok(number.filter(|n| n.purge_after > now))
            })
            .await
    }

    async fn due_cycles(&self, now: Instant, limit: usize) -> Result<Vec<CycleId>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .run(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT pk FROM processing_numbers WHERE due_at <= ?1 ORDER BY due_at, pk LIMIT ?2")
                    .map_err(sql)?;
                let pks = stmt.query_map(params![millis(now), limit], |r| r.get::<_, String>(0)).map_err(sql)?;
                pks.map(|pk| {
                    let pk = pk.map_err(sql)?;
                    pk.strip_prefix("cycle#")
                        .map(|id| CycleId::from_stored(id.to_owned()))
                        .ok_or_else(|| StoreError::Corrupt("a due row is not a cycle".to_owned()))
                })
                .collect()
            })
            .await
    }

    async fn cycles_of_report(&self, report: &ReportId) -> Result<Vec<Versioned<Cycle>>, StoreError> {
        let report_id = report.to_string();
        self.db
            .run(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT version, doc FROM processing_numbers WHERE report_id = ?1 ORDER BY pk")
                    .map_err(sql)?;
                let rows =
                    stmt.query_map([report_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).map_err(sql)?;
                rows.map(|row| {
                    let (v, doc) = row.map_err(sql)?;
                    Ok(Versioned { value: decode(&doc, "cycle")?, version: version_of(v)? })
                })
                .collect()
            })
            .await
    }

    async fn add_to_counter(&self, name: &str, delta: u64, purge_after: Instant) -> Result<u64, StoreError> {
        let (name, delta, purge) = (name.to_owned(), i64::try_from(delta).unwrap_or(i64::MAX), millis(purge_after));
        self.db
            .run(move |conn| {
                let value: i64 = conn
                    .prepare_cached(
                        "INSERT INTO counters (name, value, purge_after) VALUES (?1, ?2, ?3)
                         ON CONFLICT (name) DO UPDATE SET value = value + excluded.value,
                             purge_after = max(purge_after, excluded.purge_after)
                         RETURNING value",
                    )
                    .and_then(|mut stmt| stmt.query_row(params![name, delta, purge], |r| r.get(0)))
                    .map_err(sql)?;
                Ok(u64::try_from(value).unwrap_or(0))
            })
            .await
    }

    async fn counters(&self, names: &[String], now: Instant) -> Result<Vec<u64>, StoreError> {
        let (names, now) = (names.to_vec(), millis(now));
        self.db
            .run(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT value FROM counters WHERE name = ?1 AND purge_after > ?2")
                    .map_err(sql)?;
                names
                    .iter()
                    .map(|name| {
                        let v: Option<i64> =
                            stmt.query_row(params![name, now], |r| r.get(0)).optional().map_err(sql)?;
                        Ok(v.map_or(0, |v| u64::try_from(v).unwrap_or(0)))
                    })
                    .collect()
            })
            .await
    }
}

const IN_PROGRESS: &str = "IN_PROGRESS";
const COMPLETED: &str = "COMPLETED";

#[async_trait]
impl IdempotencyStore for SqliteStores {
    async fn claim(&self, record: &IdempotencyRecord, now: Instant) -> Result<Claim, StoreError> {
        let record = record.clone();
        self.db
            .run(move |conn| {
                let tx = immediate(conn)?;
                let held: Option<(String, String, Option<i64>, Option<String>, i64)> = tx
                    .query_row(
                        "SELECT payload_hash, state, lock_expires_at, response, expires_at FROM idempotency WHERE pk = ?1",
                        [record.key.as_str()],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                    )
                    .optional()
                    .map_err(sql)?;
                let now = millis(now);
                if let Some((payload_hash, state, lock_expires_at, response, expires_at)) = held {
                    // Expired records and abandoned locks are taken over, as if absent (TTL is never trusted).
                    let lock_live = state == IN_PROGRESS && lock_expires_at.is_some_and(|t| t > now);
                    let live = expires_at > now && (state == COMPLETED || lock_live);
                    if live {
                        return Ok(if payload_hash != record.payload_hash {
                            Claim::PayloadMismatch
                        } else if state == COMPLETED {
                            Claim::Completed { response: response.unwrap_or_default() }
                        } else {
                            Claim::InProgress
                        });
                    }
                }
                let (state, lock, response) = match &record.state {
                    IdempotencyState::InProgress { lock_expires_at } => (IN_PROGRESS, Some(millis(*lock_expires_at)), None),
                    IdempotencyState::Completed { response } => (COMPLETED, None, Some(response.as_str())),
                };
                tx.execute(
                    "INSERT OR REPLACE INTO idempotency (pk, payload_hash, state, lock_expires_at, response, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![record.key.as_str(), record.payload_hash, state, lock, response, millis(record.expires_at)],
                )
                .map_err(sql)?;
                tx.commit().map_err(sql)?;
                Ok(Claim::Acquired)
            })
            .await
    }

    async fn complete(&self, key: &KeyedHash, response: &str, expires_at: Instant) -> Result<(), StoreError> {
        let (pk, response) = (key.as_str().to_owned(), response.to_owned());
        self.db
            .run(move |conn| {
                let n = conn
                    .execute(
                        "UPDATE idempotency SET state = 'COMPLETED', lock_expires_at = NULL, response = ?2, expires_at = ?3 WHERE pk = ?1",
                        params![pk, response, millis(expires_at)],
                    )
                    .map_err(sql)?;
                if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
            })
            .await
    }

    async fn release(&self, key: &KeyedHash) -> Result<(), StoreError> {
        let pk = key.as_str().to_owned();
        self.db
            .run(move |conn| {
                // Only a claim is given up: a completed answer stays, and releasing twice is harmless.
                conn.execute("DELETE FROM idempotency WHERE pk = ?1 AND state = 'IN_PROGRESS'", [pk]).map_err(sql)?;
                Ok(())
            })
            .await
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
