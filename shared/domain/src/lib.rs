//! The HER-SYS extension's domain: case reports, entry records, follow-up records, processing numbers, prefectures
//! and the rules on them, and the ports (traits) through which it reaches storage and messaging.
//!
//! Architecture invariant: this crate knows nothing of AWS, Lambda, HTTP or JSON, and does no I/O. Everything
//! personal is held in the redacting types of [`pii`].

pub mod app;
pub mod audit;
mod checker;
pub mod cycle;
pub mod entry;
pub mod error;
pub mod follow_up;
pub mod full_run;
pub mod graphs;
pub mod idempotency;
pub mod keyed_hash;
pub mod linkage_records;
pub mod linkage_statistics;
pub mod partition_plan;
pub mod pii;
pub mod ports;
pub mod prefecture;
mod raw_record;
pub mod report;
pub mod sealing;
pub mod time;

pub use error::{FieldError, NotifyError, Problem, StoreError, ValidationError};
pub use keyed_hash::{KeyedHash, KeyedHasher};
pub use raw_record::RawRecord;
