//! Idempotency records, after AWS Powertools: one conditional write claims a key; a retry finds the claim and gets
//! the stored answer instead of repeating the side effect (a second SMS, a second report).

use serde::{Deserialize, Serialize};

use crate::keyed_hash::KeyedHash;
use crate::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdempotencyState {
    InProgress { lock_expires_at: Instant },
    Completed { response: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    /// Opaque key (a keyed hash of caller + Idempotency-Key, or of code + generation for message sends).
    pub key: KeyedHash,
    /// Hash of the request, so that the same key with a different payload is refused instead of replayed.
    pub payload_hash: String,
    pub state: IdempotencyState,
    /// Never trusted to have been deleted by TTL: readers treat expired records as absent.
    pub expires_at: Instant,
}

/// What a claim attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller owns the key now and must complete or release it.
    Acquired,
    /// Someone else holds a live claim.
    InProgress,
    /// Done before: here is the answer to repeat.
    Completed { response: String },
    /// The key was used with another payload.
    PayloadMismatch,
}
