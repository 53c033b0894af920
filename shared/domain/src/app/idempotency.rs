//! `Idempotency-Key` claims for POSTs that must not happen twice, after AWS Powertools: one conditional write claims
//! the key; the HTTP API (`api`'s `idempotency.rs`) turns the claim into an answer. The key is stored only as a
//! keyed hash, scoped to the caller.

use std::sync::Arc;

use chrono::Duration;

use super::{AppError, Ports, Settings};
use crate::StoreError;
use crate::idempotency::{Claim, IdempotencyRecord, IdempotencyState};
use crate::keyed_hash::{KeyedHash, KeyedHasher};
use crate::ports::IdempotencyStore;
use crate::time::{Clock, Instant};

/// How long a claimed key stays locked if its request dies half-way (the API function times out well before), and
/// how long an answer is replayed.
const LOCK_SECONDS: i64 = 30;
const KEEP_HOURS: i64 = 24;

/// The idempotency keys' service.
#[derive(Clone)]
pub struct Idempotency {
    store: Arc<dyn IdempotencyStore>,
    hasher: KeyedHasher,
    clock: Arc<dyn Clock>,
}

/// A key this request claimed: to be completed with its answer, or released when it fails.
pub struct ClaimedKey {
    key: KeyedHash,
    expires_at: Instant,
}

impl Idempotency {
    pub fn new(ports: &Ports, settings: &Settings) -> Idempotency {
        Idempotency { store: ports.idempotency.clone(), hasher: settings.hasher.clone(), clock: ports.clock.clone() }
    }

    /// Claims `key` of `subject` for a request to `scope` with `body`: what the store says of it, and the claimed
    /// key (which only an `Acquired` claim must complete or release).
    pub async fn claim(
        &self,
        scope: &str,
        subject: &str,
        key: &str,
        body: &[u8],
    ) -> Result<(Claim, ClaimedKey), AppError> {
        let now = self.clock.now();
        let record = IdempotencyRecord {
            key: self.hasher.opaque(&format!("idem-{scope}"), &format!("{subject}\n{key}")),
            payload_hash: self.hasher.opaque("idem-body", &String::from_utf8_lossy(body)).as_str().to_owned(),
            state: IdempotencyState::InProgress { lock_expires_at: now + Duration::seconds(LOCK_SECONDS) },
            expires_at: now + Duration::hours(KEEP_HOURS),
        };
        let claim = self.store.claim(&record, now).await?;
        Ok((claim, ClaimedKey { key: record.key, expires_at: record.expires_at }))
    }

    /// Stores the answer of the request that claimed the key, replayed to retries until the key expires.
    pub async fn complete(&self, claimed: &ClaimedKey, response: &str) -> Result<(), AppError> {
        Ok(self.store.complete(&claimed.key, response, claimed.expires_at).await?)
    }

    /// Frees a key whose request failed, so that a corrected retry with the same key may succeed.
    pub async fn release(&self, claimed: &ClaimedKey) -> Result<(), StoreError> {
        self.store.release(&claimed.key).await
    }
}
