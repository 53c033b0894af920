//! Follow-up records of the entrants' follow-up system: the `follow_ups` table.

use async_trait::async_trait;
use domain::error::StoreError;
use domain::follow_up::{FollowUpRecord, FollowUpWrite};
use domain::keyed_hash::KeyedHash;
use domain::ports::{FollowUpStore, Page, Segment};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStores, decode, docs_in_segment, encode, immediate, sql};

const WHAT: &str = "follow-up";

#[async_trait]
impl FollowUpStore for SqliteStores {
    async fn approximate_count(&self) -> Result<u64, StoreError> {
        self.count_rows("follow_ups").await
    }

    async fn put_follow_ups(&self, records: &[FollowUpRecord]) -> Result<Vec<FollowUpWrite>, StoreError> {
        let rows = records.iter().map(|r| Ok((r.clone(), encode(r, WHAT)?))).collect::<Result<Vec<_>, StoreError>>()?;
        self.db
            .run(move |conn| {
                // The write lock is taken before each record's read (an immediate transaction), so the read, the
                // re-send rule and the write are one step: no other writer comes in between.
                let tx = immediate(conn)?;
                let mut outcomes = Vec::with_capacity(rows.len());
                {
                    let mut select = tx.prepare_cached("SELECT doc FROM follow_ups WHERE pk = ?1").map_err(sql)?;
                    let mut upsert = tx
                        .prepare_cached(
                            "INSERT INTO follow_ups (pk, doc, passport_hash) VALUES (?1, ?2, ?3)
                             ON CONFLICT (pk) DO UPDATE SET doc = excluded.doc",
                        )
                        .map_err(sql)?;
                    for (record, doc) in rows {
                        let stored: Option<String> =
                            select.query_row([&record.follow_up_id], |r| r.get(0)).optional().map_err(sql)?;
                        let outcome = match stored {
                            None => FollowUpWrite::Created,
                            Some(stored) => record.resend(&decode(&stored, WHAT)?),
                        };
                        if matches!(outcome, FollowUpWrite::Created | FollowUpWrite::Replaced) {
                            let hash = record.person.passport_hash.as_str();
                            upsert.execute(params![record.follow_up_id, doc, hash]).map_err(sql)?;
                        }
                        outcomes.push(outcome);
                    }
                }
                tx.commit().map_err(sql)?;
                Ok(outcomes)
            })
            .await
    }

    async fn get_follow_up(&self, follow_up_id: &str) -> Result<Option<FollowUpRecord>, StoreError> {
        let pk = follow_up_id.to_owned();
        self.db
            .run(move |conn| {
                let doc: Option<String> = conn
                    .query_row("SELECT doc FROM follow_ups WHERE pk = ?1", [pk], |r| r.get(0))
                    .optional()
                    .map_err(sql)?;
                doc.map(|d| decode(&d, WHAT)).transpose()
            })
            .await
    }

    async fn follow_ups_by_passport(&self, passport: &KeyedHash) -> Result<Vec<FollowUpRecord>, StoreError> {
        let hash = passport.as_str().to_owned();
        self.db
            .run(move |conn| {
                let mut stmt = conn
                    .prepare_cached("SELECT doc FROM follow_ups WHERE passport_hash = ?1 ORDER BY pk")
                    .map_err(sql)?;
                let docs = stmt.query_map([hash], |r| r.get::<_, String>(0)).map_err(sql)?;
                docs.map(|doc| decode(&doc.map_err(sql)?, WHAT)).collect()
            })
            .await
    }

    async fn all_follow_ups(&self) -> Result<Vec<FollowUpRecord>, StoreError> {
        self.db
            .run(move |conn| {
                let mut stmt = conn.prepare_cached("SELECT doc FROM follow_ups ORDER BY pk").map_err(sql)?;
                let docs = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(sql)?;
                docs.map(|doc| decode(&doc.map_err(sql)?, WHAT)).collect()
            })
            .await
    }

    async fn follow_ups_in_segment(
        &self,
        segment: Segment,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<FollowUpRecord>, StoreError> {
        self.db.run(move |conn| docs_in_segment(conn, "follow_ups", segment, cursor.as_deref(), limit, WHAT)).await
    }
}
