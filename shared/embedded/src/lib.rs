//! The embedded default implementation of the domain's ports, for `hersys serve` and tests without AWS:
//!
//! - [`SqliteStores`]: every store (reports, entries, cycles, idempotency, graph sources, links; one file each in
//!   `stores/`) on one SQLite file, laid out like the DynamoDB tables (`docs/storage-layout.md`): same keys and index
//!   columns, documents as JSON text, SQLite transactions where DynamoDB has `TransactWriteItems`.
//! - [`Outbox`]: a [`domain::ports::Notifier`] that records SMS and e-mail in the same file instead of sending them,
//!   with a local SMS opt-out list.
//! - [`KeyFileVault`]: a [`domain::ports::NumberVault`] with its key in a file of the data dir (0600).
//! - [`DirExportSink`]: a [`domain::ports::ExportSink`] writing to a directory instead of S3.
//! - [`embedded_wiring`]: the wiring of all of them into one [`domain::app::Wiring`].
//!
//! Architecture invariant: this crate is an adapter and nothing more. It knows nothing of AWS and holds no
//! business rule (issuing, linkage, validation live in `domain`); it only keeps the contracts written on the
//! ports, which the shared contract suite in `tests/` checks against this crate and the DynamoDB adapters alike.
//! Like every adapter, it keeps raw personal identifiers out of keys and indexes, and values out of error texts.

mod bulk;
mod db;
mod export;
mod outbox;
mod stores;
mod vault;
mod wiring;

pub use bulk::{EntryImport, PassportIndex};
pub use export::DirExportSink;
pub use outbox::{Outbox, OutboxMessage};
pub use stores::SqliteStores;
pub use vault::KeyFileVault;
pub use wiring::{NUMBER_KEY_FILE, STORE_FILE, embedded_wiring};

#[cfg(test)]
mod tests;
