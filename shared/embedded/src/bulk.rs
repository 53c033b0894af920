//! Bulk loads of entry records (`hersys import entries`): the same writes as [`EntryStore::put_entries`], with the
//! store set up for many of them in a row.
//!
//! The `entries_by_passport` index is keyed by a keyed hash, so every insert lands on a random leaf of it: a large
//! import into a live index is bound by SQLite's page traffic (each commit rewrites hundreds of scattered index
//! pages into the WAL). When the file is large against the table, the import drops the index first and builds it
//! again at the end, one sort instead of a million random inserts.
//!
//! That is safe whoever else uses the file meanwhile: no answer depends on the index (a lookup by passport scans
//! the table instead, slower but the same result; uniqueness is the primary key's), and an import that dies
//! midway leaves no file without it, because every opening of the store creates it if absent.
//!
//! [`EntryStore::put_entries`]: domain::ports::EntryStore::put_entries

use domain::error::StoreError;
use rusqlite::Connection;

use crate::SqliteStores;
use crate::db::{Db, ENTRIES_BY_PASSPORT, describe};

/// Whether a bulk load drops the passport index and builds it again at its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PassportIndex {
    /// Rebuild when the load is large against the table (see [`PassportIndex::rebuilds`]).
    #[default]
    Auto,
    /// Keep the index live: every insert updates it.
    Keep,
    /// Drop and rebuild whatever the sizes.
    Rebuild,
}

/// Loads smaller than this keep the index: it is small enough, or the load short enough, for random inserts.
pub const REBUILD_MIN_ROWS: u64 = 20_000;
/// Rebuilding sorts every row of the table again; inserting into a live index costs, per new row, the price of
/// sorting about ten stored rows (measured, `docs/benchmarks-entries.md`). Rebuild while the table holds at most
/// this many rows per row loaded, which leaves a margin.
pub const REBUILD_MAX_STORED_PER_LOADED: u64 = 4;

impl PassportIndex {
    /// Whether a load of about `loaded` rows into a table of about `stored` rows drops and rebuilds the index.
    pub fn rebuilds(self, loaded: u64, stored: u64) -> bool {
        match self {
            PassportIndex::Keep => false,
            PassportIndex::Rebuild => true,
            PassportIndex::Auto => {
                loaded >= REBUILD_MIN_ROWS && stored <= loaded.saturating_mul(REBUILD_MAX_STORED_PER_LOADED)
            }
        }
    }
}

/// WAL pages between automatic checkpoints during a bulk load (40 MB of 4 KiB pages), and SQLite's default.
const BULK_AUTOCHECKPOINT_PAGES: u32 = 10_000;
const DEFAULT_AUTOCHECKPOINT_PAGES: u32 = 1_000;

fn sql(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(describe(&e))
}

/// A bulk load under way. Call [`EntryImport::finish`] when the load ends, whether it succeeded or not: it builds
/// the index again.
#[must_use = "finish() builds the passport index again"]
pub struct EntryImport {
    db: Db,
    index_dropped: bool,
}

impl std::fmt::Debug for EntryImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryImport").field("index_dropped", &self.index_dropped).finish()
    }
}

impl SqliteStores {
    /// Prepares the store for loading about `expected_rows` entry records through `put_entries`.
    pub async fn begin_entry_import(
        &self,
        expected_rows: u64,
        index: PassportIndex,
    ) -> Result<EntryImport, StoreError> {
        let db = self.db.clone();
        let index_dropped = self
            .db
            .run(move |conn: &mut Connection| {
                // Entries are never deleted, so the largest rowid bounds the row count, read in O(log n).
                let stored: i64 =
                    conn.query_row("SELECT coalesce(max(rowid), 0) FROM entries", [], |r| r.get(0)).map_err(sql)?;
                let drop = index.rebuilds(expected_rows, u64::try_from(stored).unwrap_or(0));
                if drop {
                    conn.execute_batch("DROP INDEX IF EXISTS entries_by_passport;").map_err(sql)?;
                }
                // Checkpoints are where WAL mode syncs (the log before, the database after); one every 40 MB of log
                // instead of every 4 MB keeps the syncs, and so the durability, but ten times fewer of them.
                conn.execute_batch(&format!("PRAGMA wal_autocheckpoint = {BULK_AUTOCHECKPOINT_PAGES};"))
                    .map_err(sql)?;
                Ok::<_, StoreError>(drop)
            })
            .await?;
        Ok(EntryImport { db, index_dropped })
    }
}

impl EntryImport {
    /// Whether the load runs without the passport index (built again by [`EntryImport::finish`]).
    pub fn index_dropped(&self) -> bool {
        self.index_dropped
    }

    /// Ends the load: builds the passport index again if it was dropped, restores SQLite's checkpoint interval, and
    /// moves the WAL's pages into the database so that the next opening starts from a short log.
    pub async fn finish(self) -> Result<(), StoreError> {
        let rebuild = self.index_dropped;
        self.db
            .run(move |conn: &mut Connection| {
                if rebuild {
                    conn.execute_batch(ENTRIES_BY_PASSPORT).map_err(sql)?;
                }
                conn.execute_batch(&format!("PRAGMA wal_autocheckpoint = {DEFAULT_AUTOCHECKPOINT_PAGES};"))
                    .map_err(sql)?;
                // Best effort: another connection reading the file can hold part of the WAL; that is not an error.
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(sql)?;
                Ok(())
            })
            .await
    }
}
