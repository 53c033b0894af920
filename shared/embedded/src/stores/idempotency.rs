//! Idempotency records: the `idempotency` table.

use async_trait::async_trait;
use domain::error::StoreError;
use domain::idempotency::{Claim, IdempotencyRecord, IdempotencyState};
use domain::keyed_hash::KeyedHash;
use domain::ports::IdempotencyStore;
use domain::time::Instant;
use rusqlite::{OptionalExtension, params};

use super::{SqliteStores, immediate, millis, sql};

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
                        "SELECT payload_hash, state, lock_expires_at, response, expires_at
                         FROM idempotency WHERE pk = ?1",
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
                    IdempotencyState::InProgress { lock_expires_at } => {
                        (IN_PROGRESS, Some(millis(*lock_expires_at)), None)
                    }
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
                        "UPDATE idempotency
                         SET state = 'COMPLETED', lock_expires_at = NULL, response = ?2, expires_at = ?3
                         WHERE pk = ?1",
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
