//! The audit of views (`AuditLog`) on SQLite: table `audit_events`, keyed by (health centre, sort key), append-only
//! (its triggers refuse updates and deletes). A period is a range of the primary key, never a scan.

use async_trait::async_trait;
use domain::audit::{AuditEvent, AuditPage, AuditQuery, time_key};
use domain::error::StoreError;
use domain::ports::AuditLog;
use rusqlite::params;

use super::{SqliteStores, decode, encode, sql};

#[async_trait]
impl AuditLog for SqliteStores {
    async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let (hc, sk, doc) = (event.health_center_code.clone(), event.sort_key(), encode(event, "audit event")?);
        self.db
            .run(move |conn| {
                // No OR REPLACE, no upsert: an existing event is never overwritten.
                let n = conn
                    .execute(
                        "INSERT INTO audit_events (health_center, sk, doc) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                        params![hc, sk, doc],
                    )
                    .map_err(sql)?;
                if n == 0 { Err(StoreError::AlreadyExists) } else { Ok(()) }
            })
            .await
    }

    async fn audit_events(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let hc = query.health_center_code.clone();
        let from = time_key(query.from);
        let until = time_key(query.until);
        // Strictly after the cursor; the empty string is before every key.
        let after = query.after.clone().unwrap_or_default();
        let limit = query.limit;
        self.db
            .run(move |conn| {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT doc FROM audit_events WHERE health_center = ?1 AND sk >= ?2 AND sk < ?3 AND sk > ?4
                         ORDER BY sk LIMIT ?5",
                    )
                    .map_err(sql)?;
                let docs = stmt
                    .query_map(params![hc, from, until, after, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                        r.get::<_, String>(0)
                    })
                    .map_err(sql)?;
                let events: Vec<AuditEvent> =
                    docs.map(|doc| decode(&doc.map_err(sql)?, "audit event")).collect::<Result<_, _>>()?;
                // A full page may have a next one; a short page is the last.
                let next = (events.len() == limit).then(|| events.last().map(AuditEvent::sort_key)).flatten();
                Ok(AuditPage { events, next })
            })
            .await
    }
}

impl SqliteStores {
    /// Every audit event of every health centre, oldest first: for `hersys audit`, the local operator's listing.
    pub fn all_audit_events(&self) -> Result<Vec<AuditEvent>, StoreError> {
        self.db.run_blocking(|conn| {
            let mut stmt = conn.prepare("SELECT doc FROM audit_events ORDER BY sk, health_center").map_err(sql)?;
            let docs = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(sql)?;
            docs.map(|doc| decode(&doc.map_err(sql)?, "audit event")).collect()
        })
    }
}
