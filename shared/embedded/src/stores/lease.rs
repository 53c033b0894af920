//! The full runs' leases on SQLite: one row of a store's meta table (`name`, value) holding "<run> <end in epoch
//! ms>". The full graph export's is in `graph_meta` (`full_export`), the full re-link's in `link_meta`
//! (`full_linkage`), as on DynamoDB.

use async_trait::async_trait;
use domain::error::StoreError;
use domain::full_run::FullRun;
use domain::ports::FullRunLeases;
use domain::time::Instant;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStores, immediate, millis, sql};

/// Where a lease is kept: the meta table, its value column, and the row's name.
#[derive(Clone, Copy)]
struct LeaseRow {
    table: &'static str,
    column: &'static str,
    name: &'static str,
}

/// Where the lease of `kind` is kept.
fn row(kind: FullRun) -> LeaseRow {
    match kind {
        FullRun::Export => LeaseRow { table: "graph_meta", column: "value", name: "full_export" },
        FullRun::Linkage => LeaseRow { table: "link_meta", column: "doc", name: "full_linkage" },
    }
}

#[async_trait]
impl FullRunLeases for SqliteStores {
    async fn claim(&self, kind: FullRun, run: &str, now: Instant, until: Instant) -> Result<bool, StoreError> {
        self.claim_lease(row(kind), run, now, until).await
    }

    async fn holder(&self, kind: FullRun, now: Instant) -> Result<Option<String>, StoreError> {
        self.lease_holder(row(kind), now).await
    }

    async fn release(&self, kind: FullRun, run: &str) -> Result<(), StoreError> {
        self.release_lease(row(kind), run).await
    }
}

impl LeaseRow {
    fn read(&self, conn: &Connection) -> Result<Option<(String, i64)>, StoreError> {
        let held: Option<Vec<u8>> = conn
            .query_row(&format!("SELECT {} FROM {} WHERE name = ?1", self.column, self.table), [self.name], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql)?;
        Ok(held.as_deref().and_then(parse_lease))
    }
}

impl SqliteStores {
    /// Takes the lease for `run` until `until` unless another run holds one unexpired as of `now`.
    async fn claim_lease(&self, row: LeaseRow, run: &str, now: Instant, until: Instant) -> Result<bool, StoreError> {
        let (run, now, until) = (run.to_owned(), millis(now), millis(until));
        self.db
            .run(move |conn| {
                // Read and write under the write lock: two claims cannot both see the lease free.
                let tx = immediate(conn)?;
                if let Some((holder, lease_end)) = row.read(&tx)?
                    && holder != run
                    && lease_end > now
                {
                    return Ok(false);
                }
                tx.execute(
                    &format!(
                        "INSERT INTO {table} (name, {column}) VALUES (?1, ?2)
                         ON CONFLICT (name) DO UPDATE SET {column} = excluded.{column}",
                        table = row.table,
                        column = row.column
                    ),
                    params![row.name, format!("{run} {until}").into_bytes()],
                )
                .map_err(sql)?;
                tx.commit().map_err(sql)?;
                Ok(true)
            })
            .await
    }

    /// The run holding an unexpired lease as of `now`.
    async fn lease_holder(&self, row: LeaseRow, now: Instant) -> Result<Option<String>, StoreError> {
        let now = millis(now);
        self.db.run(move |conn| Ok(row.read(conn)?.filter(|(_, end)| *end > now).map(|(run, _)| run))).await
    }

    /// Gives the lease up if `run` holds it.
    async fn release_lease(&self, row: LeaseRow, run: &str) -> Result<(), StoreError> {
        let run = run.to_owned();
        self.db
            .run(move |conn| {
                let tx = immediate(conn)?;
                if row.read(&tx)?.is_some_and(|(holder, _)| holder == run) {
                    tx.execute(&format!("DELETE FROM {} WHERE name = ?1", row.table), [row.name]).map_err(sql)?;
                }
                tx.commit().map_err(sql)
            })
            .await
    }
}

/// The holder and end (epoch ms) of a stored lease; `None` for a value that is not one.
fn parse_lease(value: &[u8]) -> Option<(String, i64)> {
    let text = std::str::from_utf8(value).ok()?;
    let (run, end) = text.split_once(' ')?;
    Some((run.to_owned(), end.parse().ok()?))
}
