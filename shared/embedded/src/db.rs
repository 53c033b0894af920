//! The one SQLite file: opening, schema, and running blocking calls off the async runtime.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::error::{NotifyError, StoreError};
use rusqlite::Connection;

/// Tables mirror the DynamoDB tables of `docs/storage-layout.md`: same key and index columns, documents as JSON
/// text. Index columns hold only opaque ids and keyed hashes. Every statement is idempotent, so opening an
/// existing file changes nothing.
/// Brings files made by earlier versions up to the schema (columns added since).
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let has_case_key = conn.prepare("SELECT 1 FROM pragma_table_info('reports') WHERE name = 'case_key'")?.exists([])?;
    if !has_case_key {
        conn.execute_batch("ALTER TABLE reports ADD COLUMN case_key TEXT;")?;
    }
    // A report is unique by (health centre, case number), held as a keyed hash.
    conn.execute_batch(
        "CREATE UNIQUE INDEX IF NOT EXISTS reports_by_case ON reports (case_key) WHERE case_key IS NOT NULL;",
    )?;
    let has_updated_at =
        conn.prepare("SELECT 1 FROM pragma_table_info('reports') WHERE name = 'updated_at'")?.exists([])?;
    if !has_updated_at {
        // Rows written before stay NULL (out of the index): the graph export's first, full run counts them.
        conn.execute_batch("ALTER TABLE reports ADD COLUMN updated_at TEXT;")?;
    }
    // The write-time index of the daily graph export (`report_ids_changed_since`).
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS reports_by_change ON reports (updated_at) WHERE updated_at IS NOT NULL;",
    )?;
    let has_written_at =
        conn.prepare("SELECT 1 FROM pragma_table_info('entries') WHERE name = 'written_at'")?.exists([])?;
    if !has_written_at {
        // Rows written before stay NULL: the linkage's first run (which has no state yet) indexes every entry.
        conn.execute_batch("ALTER TABLE entries ADD COLUMN written_at TEXT;")?;
    }
    // The write-time index of the incremental linkage (`entry_ids_written_since`).
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS entries_by_write ON entries (written_at) WHERE written_at IS NOT NULL;",
    )?;
    let keys_by_key_first = conn.prepare("SELECT 1 FROM pragma_table_info('link_entry_keys')")?.exists([])?
        && !conn.prepare("SELECT 1 FROM pragma_table_info('link_entry_keys') WHERE name = 'bucket'")?.exists([])?;
    if keys_by_key_first {
        // The index of an earlier layout is dropped with the linkage's watermark: the next scheduled run has no
        // state, files every entry and report again and links in full.
        conn.execute_batch("DROP TABLE link_entry_keys; DELETE FROM link_meta WHERE name = 'state';")?;
    }
    conn.execute_batch(LINK_ENTRY_KEYS)
}

/// The entries' linkage index, clustered by a 32-day bucket of the entry day first: an hour's new entries (recent
/// entry days) are filed into the few newest buckets, a small part of the B-tree that stays in the page cache,
/// instead of at random places of the whole tree (3.6 s for 170,000 key rows into 17 million at 1M entries when
/// keyed by key first; docs/benchmarks-linkage.md). A lookup seeks once per bucket of its window (five at 120 days).
pub(crate) const LINK_ENTRY_KEYS: &str = "
CREATE TABLE IF NOT EXISTS link_entry_keys (
    bucket   INTEGER NOT NULL,
    key      INTEGER NOT NULL,
    day      INTEGER NOT NULL,
    entry_id TEXT NOT NULL,
    PRIMARY KEY (bucket, key, day, entry_id)
) WITHOUT ROWID;
";

/// Days per bucket of `link_entry_keys`.
pub(crate) const LINK_BUCKET_DAYS: i32 = 32;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS reports (
    pk            TEXT PRIMARY KEY,
    version       INTEGER NOT NULL,
    doc           TEXT NOT NULL,
    passport_hash TEXT,
    prefecture    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_by_passport ON reports (passport_hash) WHERE passport_hash IS NOT NULL;
CREATE INDEX IF NOT EXISTS reports_by_prefecture ON reports (prefecture, pk);

CREATE TABLE IF NOT EXISTS entries (
    pk            TEXT PRIMARY KEY,
    doc           TEXT NOT NULL,
    passport_hash TEXT NOT NULL
);
-- The entries' passport index is created by ENTRIES_BY_PASSPORT (below), also run at the end of a bulk import.

-- Follow-up records of the entrants' follow-up system: replaced by newer re-sends (domain::follow_up).
-- The incremental linkage's index: keyed blocking keys (64 bits, as a signed integer) of entries by
-- key and entry day (LINK_ENTRY_KEYS, below), of reports by diagnosis day; days as days since 0001-01-01. Its
-- model and watermark: link_meta.
CREATE TABLE IF NOT EXISTS link_report_keys (
    day       INTEGER NOT NULL,
    key       INTEGER NOT NULL,
    report_id TEXT NOT NULL,
    PRIMARY KEY (day, key, report_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS link_meta (
    name TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS follow_ups (
    pk            TEXT PRIMARY KEY,
    doc           TEXT NOT NULL,
    passport_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS follow_ups_by_passport ON follow_ups (passport_hash);

-- Cycles (pk 'cycle#<id>': version, report_id, due_at) and numbers (pk 'number#<hash>') share a table, as in
-- DynamoDB, because issuing a number is one transaction over both. due_at (epoch ms) is set only while the
-- cycle has a next_due_at, so the partial index holds exactly the cycles with work left.
CREATE TABLE IF NOT EXISTS processing_numbers (
    pk        TEXT PRIMARY KEY,
    version   INTEGER,
    doc       TEXT NOT NULL,
    report_id TEXT,
    due_at    INTEGER
);
CREATE INDEX IF NOT EXISTS processing_numbers_by_report ON processing_numbers (report_id, pk)
    WHERE report_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS processing_numbers_due ON processing_numbers (due_at) WHERE due_at IS NOT NULL;

-- Statistics and redemption-attempt counters; names carry their time window, so rows are never reset.
CREATE TABLE IF NOT EXISTS counters (
    name        TEXT PRIMARY KEY,
    value       INTEGER NOT NULL,
    purge_after INTEGER NOT NULL
);

-- Linkage decisions (pk = report id) and the summary (pk 'summary'). review_hc is the report's health centre while
-- its review-band decision is pending, else NULL: the partial index is the review queue.
CREATE TABLE IF NOT EXISTS links (
    pk        TEXT PRIMARY KEY,
    doc       TEXT NOT NULL,
    reviewed  INTEGER NOT NULL DEFAULT 0,
    review_hc TEXT
);
CREATE INDEX IF NOT EXISTS links_review_queue ON links (review_hc, pk) WHERE review_hc IS NOT NULL;

-- The audit of views of personal data: one row per event, keyed by health centre and sort key (the
-- time to the millisecond, then the event id). Append-only: the triggers refuse every update and delete, as the
-- AWS role may only put to the Audit table.
CREATE TABLE IF NOT EXISTS audit_events (
    health_center TEXT NOT NULL,
    sk            TEXT NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (health_center, sk)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit is append-only'); END;

CREATE TABLE IF NOT EXISTS idempotency (
    pk              TEXT PRIMARY KEY,
    payload_hash    TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('IN_PROGRESS', 'COMPLETED')),
    lock_expires_at INTEGER,
    response        TEXT,
    expires_at      INTEGER NOT NULL
);

-- The graph export's inputs: published line-list cases (public data, keyed by prefecture and the list's No) and
-- each prefecture's date from which HER-SYS reports are its source. One DynamoDB table (GraphSources) holds both.
CREATE TABLE IF NOT EXISTS linelist_cases (
    prefecture TEXT NOT NULL,
    number     TEXT NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (prefecture, number)
);
CREATE TABLE IF NOT EXISTS graph_switches (
    prefecture  TEXT PRIMARY KEY,
    hersys_from TEXT NOT NULL
);
-- Per report, the fact the graph export counted last (compact binary; prefecture, dates, sex/age bands only).
CREATE TABLE IF NOT EXISTS graph_counted (
    report_id TEXT PRIMARY KEY,
    fact      BLOB NOT NULL
);
-- Small named values of the graph export: the line lists' import generation, and its state between runs.
CREATE TABLE IF NOT EXISTS graph_meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- Local stand-ins for SNS and SES: what would have been sent, and SNS's SMS opt-out list. Raw recipients on
-- purpose (see outbox.rs); these are not store tables and hold no index of personal data for the domain.
CREATE TABLE IF NOT EXISTS outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    accepted_at TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS opted_out_phones (
    phone TEXT PRIMARY KEY
);
";

/// The entries' passport index. Part of the schema; a bulk import may drop it and runs this again at its end (and
/// every opening runs it too, so an import that died midway leaves no file without it).
pub(crate) const ENTRIES_BY_PASSPORT: &str =
    "CREATE INDEX IF NOT EXISTS entries_by_passport ON entries (passport_hash);";

/// A shared connection. rusqlite is synchronous, so every call runs on tokio's blocking pool; one mutex
/// serialises them, which SQLite would do for writers anyway.
#[derive(Clone)]
pub(crate) struct Db(Arc<Mutex<Connection>>);

/// A fixed text for a rusqlite error: its SQLite code at most. Some rusqlite errors quote values
/// (e.g. `IntegralValueOutOfRange`), so their `Display` is never passed on.
pub(crate) fn describe(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(code) => format!("sqlite: {code:?}"),
        None => "sqlite: call failed".to_owned(),
    }
}

/// Errors of adapters that can say "the backend is unavailable".
pub(crate) trait Unavailable {
    fn unavailable(why: String) -> Self;
}

impl Unavailable for StoreError {
    fn unavailable(why: String) -> Self {
        StoreError::Unavailable(why)
    }
}

impl Unavailable for NotifyError {
    fn unavailable(why: String) -> Self {
        NotifyError::Unavailable(why)
    }
}

impl Db {
    /// Opens (creating if need be) the file and its parent directory, and the schema.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Unavailable(format!("cannot create the data directory: {}", e.kind())))?;
        }
        let conn = Connection::open(path).map_err(|e| StoreError::Unavailable(describe(&e)))?;
        Self::init(conn)
    }

    pub(crate) fn open_in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(|e| StoreError::Unavailable(describe(&e)))?;
        Self::init(conn)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        // A second process (`hersys outbox`) may hold the file while the server writes: WAL lets readers and the
        // writer proceed together, and the busy timeout waits out the short write locks instead of failing.
        conn.busy_timeout(Duration::from_secs(5))
            .and_then(|()| conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"))
            // 32 MiB of page cache instead of 2: the linkage index's B-trees (hundreds of MB at a million entries)
            // are written and read at random keys, and their upper levels then stay in memory.
            .and_then(|()| conn.execute_batch("PRAGMA cache_size = -32768;"))
            .and_then(|()| conn.execute_batch(SCHEMA))
            .and_then(|()| conn.execute_batch(ENTRIES_BY_PASSPORT))
            .and_then(|()| migrate(&conn))
            .map_err(|e| StoreError::Unavailable(describe(&e)))?;
        Ok(Self(Arc::new(Mutex::new(conn))))
    }

    /// Runs `f` with the connection on the blocking pool.
    pub(crate) async fn run<T, E>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: Unavailable + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.run_blocking(f))
            .await
            .unwrap_or_else(|_| Err(E::unavailable("the database task failed".to_owned())))
    }

    /// Runs `f` with the connection on the current thread, for the synchronous developer helpers.
    pub(crate) fn run_blocking<T, E: Unavailable>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        // A poisoned mutex means a call panicked midway; SQLite rolled its transaction back, but refuse anyway
        // rather than guess about the connection's state.
        let mut conn = self.0.lock().map_err(|_| E::unavailable("the database lock is poisoned".to_owned()))?;
        f(&mut conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file whose linkage index has the earlier layout (keyed by key first) loses that index and the linkage's
    /// watermark when opened, so that the next scheduled run files everything again; the model stays.
    #[test]
    fn an_entry_index_of_the_earlier_layout_is_dropped_with_the_watermark() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE link_entry_keys (key INTEGER NOT NULL, day INTEGER NOT NULL, entry_id TEXT NOT NULL,
                     PRIMARY KEY (key, day, entry_id)) WITHOUT ROWID;
                 INSERT INTO link_entry_keys VALUES (1, 2, 'E-1');
                 CREATE TABLE link_meta (name TEXT PRIMARY KEY, doc TEXT NOT NULL);
                 INSERT INTO link_meta VALUES ('state', '{}'), ('model', '{}');",
            )
            .unwrap();
        }
        let db = Db::open(&path).unwrap();
        let (columns, keys, meta): (i64, i64, Vec<String>) = db
            .run_blocking(|conn| {
                let sql = |e: rusqlite::Error| StoreError::Unavailable(e.to_string());
                let count = |q: &str| conn.query_row(q, [], |r| r.get::<_, i64>(0)).map_err(sql);
                let meta = conn
                    .prepare("SELECT name FROM link_meta ORDER BY name")
                    .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>())
                    .map_err(sql)?;
                Ok::<_, StoreError>((
                    count("SELECT count(*) FROM pragma_table_info('link_entry_keys') WHERE name = 'bucket'")?,
                    count("SELECT count(*) FROM link_entry_keys")?,
                    meta,
                ))
            })
            .unwrap();
        assert_eq!((columns, keys, meta), (1, 0, vec!["model".to_owned()]));
        // Opening it again changes nothing.
        drop(db);
        Db::open(&path).unwrap();
    }
}
