//! A run's lease on SQLite: one row of a store's meta table (`name`, value) holding "<run> <end in epoch ms>". The
//! full graph export (`graph_meta`) and the full re-link (`link_meta`) each hold theirs in their own store's table.

use domain::error::StoreError;
use domain::time::Instant;
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStores, immediate, millis, sql};

/// Where a lease is kept: the meta table, its value column, and the row's name.
#[derive(Clone, Copy)]
pub(super) struct LeaseRow {
    pub table: &'static str,
    pub column: &'static str,
    pub name: &'static str,
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
    pub(super) async fn claim_lease(
        &self,
        row: LeaseRow,
        run: &str,
        now: Instant,
        until: Instant,
    ) -> Result<bool, StoreError> {
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
    pub(super) async fn lease_holder(&self, row: LeaseRow, now: Instant) -> Result<Option<String>, StoreError> {
        let now = millis(now);
        self.db.run(move |conn| Ok(row.read(conn)?.filter(|(_, end)| *end > now).map(|(run, _)| run))).await
    }

    /// Gives the lease up if `run` holds it.
    pub(super) async fn release_lease(&self, row: LeaseRow, run: &str) -> Result<(), StoreError> {
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
