//! Processing-number cycles and their issued numbers (`processing_numbers`, keyed like the DynamoDB items).

use async_trait::async_trait;
use domain::cycle::{Cycle, CycleId, IssuedNumber};
use domain::error::StoreError;
use domain::keyed_hash::KeyedHash;
use domain::ports::{CycleStore, Versioned};
use domain::report::ReportId;
use domain::time::Instant;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStores, db_version, decode, encode, immediate, millis, missing_or_stale, sql, version_of};

fn cycle_pk(id: &CycleId) -> String {
    format!("cycle#{}", id.as_str())
}

fn number_pk(hash: &KeyedHash) -> String {
    format!("number#{}", hash.as_str())
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
}
