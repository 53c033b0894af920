//! Processing numbers (処理番号) for the contact app: one cycle per issue by a health centre, holding up to five
//! numbers (the first and four automatic re-issues) and one reminder.
//!
//! This module holds the stored shapes. Numbers are kept only as keyed hashes; the plaintext lives in the outgoing
//! message alone.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::keyed_hash::KeyedHash;
use crate::report::ReportId;
use crate::time::Instant;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CycleId(String);

impl CycleId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Spreads due cycles over a few index partitions so that one hot partition does not throttle the re-issuer.
    pub fn due_shard(&self) -> u8 {
        self.0.bytes().fold(0u8, |acc, b| acc.wrapping_add(b)) % DUE_SHARDS
    }
}

/// Number of partitions of the due index.
pub const DUE_SHARDS: u8 = 4;

impl fmt::Debug for CycleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CycleId({})", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Sms,
    Email,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleState {
    /// A number is live or about to be (re-)issued.
    Active,
    /// The patient registered in the app.
    Redeemed,
    /// The fourth re-issue expired unused.
    Exhausted,
    /// The health centre cancelled, or a manual issue started a new cycle.
    Cancelled,
    /// The phone is on the SMS opt-out list.
    OptedOut,
}

/// One issue cycle of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    pub id: CycleId,
    pub report_id: ReportId,
    pub channel: Channel,
    pub state: CycleState,
    /// 0 for the health centre's issue, 1-4 for automatic re-issues.
    pub generation: u8,
    /// Hash of the live number, if one is live.
    pub current_number: Option<KeyedHash>,
    pub issued_at: Option<Instant>,
    pub expires_at: Option<Instant>,
    pub reminder_sent_at: Option<Instant>,
    /// When the re-issuer must look at this cycle next; `None` once nothing is left to do. This feeds the sparse due
    /// index: a finished cycle drops out of it.
    pub next_due_at: Option<Instant>,
    pub created_at: Instant,
}

/// Why a number is no longer redeemable; shown to the health centre, never to the redeeming caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberState {
    Live,
    Used,
    Expired,
    Superseded,
    Cancelled,
}

/// One issued number, keyed by its hash. Creating it only if absent keeps live numbers unique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedNumber {
    pub hash: KeyedHash,
    pub cycle_id: CycleId,
    pub generation: u8,
    pub state: NumberState,
    pub issued_at: Instant,
    pub expires_at: Instant,
    /// After this instant the record may be deleted (TTL), and reads treat it as gone.
    pub purge_after: Instant,
}
