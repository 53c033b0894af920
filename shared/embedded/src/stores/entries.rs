//! Entry records of the quarantine system: the `entries` table.

use async_trait::async_trait;
use domain::entry::EntryRecord;
use domain::error::StoreError;
use domain::keyed_hash::KeyedHash;
use domain::ports::{EntryStore, Page, PutOutcome, Segment};
use domain::time::{Instant, sortable_text};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStores, decode, docs_by_pk, docs_in_segment, encode, immediate, sql};

#[async_trait]
impl EntryStore for SqliteStores {
    async fn approximate_count(&self) -> Result<u64, StoreError> {
        self.count_rows("entries").await
    }

    async fn put_entries(&self, entries: &[EntryRecord], written_at: Instant) -> Result<Vec<PutOutcome>, StoreError> {
        let written = sortable_text(written_at);
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
                        .prepare_cached(
                            "INSERT INTO entries (pk, doc, passport_hash, written_at) VALUES (?1, ?2, ?3, ?4)
                             ON CONFLICT (pk) DO NOTHING",
                        )
                        .map_err(sql)?;
                    let mut select = tx.prepare_cached("SELECT doc FROM entries WHERE pk = ?1").map_err(sql)?;
                    for (entry, doc) in rows {
                        let n = insert
                            .execute(params![entry.entry_id, doc, entry.passport_hash.as_str(), written])
                            .map_err(sql)?;
                        let outcome = if n == 1 {
                            PutOutcome::Created
                        } else {
                            let stored: String = select.query_row([&entry.entry_id], |r| r.get(0)).map_err(sql)?;
                            // Compare as records rather than as text, so that a field added later does not turn an
                            // identical re-send into a conflict.
                            if decode::<EntryRecord>(&stored, "entry")? == entry {
                                PutOutcome::Unchanged
                            } else {
                                PutOutcome::Conflict
                            }
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

    async fn entry_ids_written_since(&self, since: Instant, until: Instant) -> Result<Vec<String>, StoreError> {
        let (since, until) = (sortable_text(since), sortable_text(until));
        self.db
            .run(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT pk FROM entries WHERE written_at >= ?1 AND written_at <= ?2")
                    .map_err(sql)?;
                let ids = stmt.query_map([since, until], |r| r.get::<_, String>(0)).map_err(sql)?;
                ids.map(|id| id.map_err(sql)).collect()
            })
            .await
    }

    async fn get_entries(&self, ids: &[String]) -> Result<Vec<EntryRecord>, StoreError> {
        let keys = ids.to_vec();
        self.db.run(move |conn| docs_by_pk(conn, "SELECT doc FROM entries WHERE pk = ?1", &keys, "entry")).await
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

    async fn entries_in_segment(
        &self,
        segment: Segment,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<EntryRecord>, StoreError> {
        self.db.run(move |conn| docs_in_segment(conn, "entries", segment, cursor.as_deref(), limit, "entry")).await
    }
}
