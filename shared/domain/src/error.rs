//! Errors of the domain layer. Messages name fields and rules, never values: they end up in logs and HTTP answers.

use std::fmt;

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing,
    Invalid(&'static str),
    /// Free text for rules whose wording depends on other fields (still never containing input values).
    Rule(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing => f.write_str("is required"),
            Problem::Invalid(why) => f.write_str(why),
            Problem::Rule(why) => f.write_str(why),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    pub field: String,
    pub problem: Problem,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: Problem) -> Self {
        Self { field: field.into(), problem }
    }
}

/// Input refused; lists every offending field at once so that a form can be fixed in one round trip.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
pub struct ValidationError(pub Vec<FieldError>);

/// Failures of a storage adapter, in the terms the domain can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the item already exists")]
    AlreadyExists,
    #[error("the item does not exist")]
    NotFound,
    /// Optimistic concurrency: somebody else changed the item since it was read.
    #[error("the item was changed by someone else (expected version {expected})")]
    VersionConflict { expected: u64 },
    /// A multi-item write was refused as a whole; nothing of it was written.
    #[error("the transaction was cancelled: {0}")]
    TransactionCancelled(String),
    /// The backend failed or is unreachable. The text comes from the adapter and must not contain item values.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Failures of a notification sender.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The recipient asked not to be contacted (SMS opt-out list).
    #[error("the recipient opted out")]
    OptedOut,
    /// Permanent refusal by the provider (bad address, unverified sender).
    #[error("the message was refused: {0}")]
    Rejected(String),
    /// Worth retrying later.
    #[error("the message service is unavailable: {0}")]
    Unavailable(String),
}

/// Failures of a [`crate::ports::NumberVault`]: the key service or key file, never the number.
#[derive(Debug, thiserror::Error)]
#[error("number vault: {0}")]
pub struct VaultError(pub String);

#[derive(Debug, thiserror::Error)]
#[error("export failed: {0}")]
pub struct ExportError(pub String);
