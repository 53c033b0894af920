//! The ports: what the domain needs from the outside world, as small traits. Adapters (embedded SQLite, DynamoDB,
//! SES v2, SNS, S3, local outbox and export directory) implement them; the contract suite in `tests/` runs the same
//! checks against every store implementation.
//!
//! Rules every implementation keeps:
//! - no raw personal identifier in any key or index attribute (only [`KeyedHash`]es and opaque ids);
//! - `create_*` writes only if absent; `update_*` writes only if the stored version equals the expected one;
//! - a multi-item write is all or nothing;
//! - error texts never contain item values.

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::audit::{AuditEvent, AuditPage, AuditQuery};
use crate::cycle::{Cycle, CycleId, IssuedNumber, SealedNumber};
use crate::entry::EntryRecord;
use crate::error::{ExportError, NotifyError, StoreError, VaultError};
use crate::follow_up::{FollowUpRecord, FollowUpWrite};
use crate::full_run::FullRun;
use crate::graphs::CaseFact;
use crate::graphs::linelist::LineListCase;
use crate::graphs::state::CountedFact;
use crate::idempotency::{Claim, IdempotencyRecord};
use crate::keyed_hash::KeyedHash;
use crate::linkage_records::{
    DecisionWrite, IndexedRecord, KeyLookup, LinkDecision, LinkageState, LinkageSummary, Review, StoredModel,
};
use crate::pii::{Email, PhoneNumber, ProcessingNumber};
use crate::prefecture::PrefectureCode;
use crate::report::{CaseReport, ReportId};
use crate::time::Instant;

/// A stored value with its version for optimistic concurrency. Versions start at 1 and grow by 1 per update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// About how many records the store holds (DynamoDB's item count, refreshed about every six hours; an exact
    /// count on the embedded store): what a full run's start sizes its partitions by.
    async fn approximate_count(&self) -> Result<u64, StoreError>;
    /// Stores a new report at version 1; `AlreadyExists` if the id is taken.
    async fn create_report(&self, report: &CaseReport) -> Result<(), StoreError>;
    async fn get_report(&self, id: &ReportId) -> Result<Option<Versioned<CaseReport>>, StoreError>;
    /// Replaces the report if its stored version is `expected_version`; returns the new version.
    /// `NotFound` if absent, `VersionConflict` if stale.
    async fn update_report(&self, report: &CaseReport, expected_version: u64) -> Result<u64, StoreError>;
    /// Reports whose passport number has this keyed hash (the linkage's exact step).
    async fn reports_by_passport(&self, passport: &KeyedHash) -> Result<Vec<ReportId>, StoreError>;
    /// All reports of a prefecture (graph export), in no particular order.
    async fn reports_by_prefecture(&self, prefecture: PrefectureCode) -> Result<Vec<CaseReport>, StoreError>;
    /// Ids of the reports created or updated at or after `since` (by `updated_at`), as far as `until` (the reader's
    /// now; later writes may be included). Served by an index on the write time, never a scan: the daily graph
    /// export reads what changed, not all history. Reports written by versions before this index are absent (a
    /// full export counts them).
    async fn report_ids_changed_since(&self, since: Instant, until: Instant) -> Result<Vec<ReportId>, StoreError>;
    /// The current version of each report that exists, in no particular order (absent ids are skipped).
    async fn get_reports(&self, ids: &[ReportId]) -> Result<Vec<CaseReport>, StoreError>;
    /// One page of the reports of a segment: the reports split into `segment.of` disjoint segments that together
    /// hold every report (a parallel Scan on DynamoDB), read a page at a time from `cursor` (`None`: the start).
    /// Full runs only (the partitions of a full export); never on a request's path.
    async fn reports_in_segment(
        &self,
        segment: Segment,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<CaseReport>, StoreError>;
}

/// One of `of` disjoint segments of a table (`index` from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub index: u32,
    pub of: u32,
}

/// A page of a segment's records, and where the next page starts (`None`: the segment is done).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// How one record of a batch fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    /// Already stored with identical content: re-sending a batch changes nothing.
    Unchanged,
    /// Already stored with different content; the stored record is kept.
    Conflict,
}

#[async_trait]
pub trait EntryStore: Send + Sync {
    /// About how many records the store holds (DynamoDB's item count, refreshed about every six hours; an exact
    /// count on the embedded store): what a full run's start sizes its partitions by.
    async fn approximate_count(&self) -> Result<u64, StoreError>;
    /// Creates each record if absent. One outcome per input, in order. Records are independent: one conflict does
    /// not stop the others.
    /// `written_at` is kept as the records' write time (for [`EntryStore::entry_ids_written_since`]).
    async fn put_entries(&self, entries: &[EntryRecord], written_at: Instant) -> Result<Vec<PutOutcome>, StoreError>;
    async fn get_entry(&self, entry_id: &str) -> Result<Option<EntryRecord>, StoreError>;
    async fn entries_by_passport(&self, passport: &KeyedHash) -> Result<Vec<EntryRecord>, StoreError>;
    /// The ids of the entry records written in `since..=until` (by their write time), for the incremental linkage.
    async fn entry_ids_written_since(&self, since: Instant, until: Instant) -> Result<Vec<String>, StoreError>;
    /// The entry records of these ids that exist (any order). The ids are distinct (a DynamoDB batch refuses a
    /// repeated key).
    async fn get_entries(&self, ids: &[String]) -> Result<Vec<EntryRecord>, StoreError>;
    /// Every entry record (a full read: Scan on DynamoDB), for the scheduled linkage.
    async fn all_entries(&self) -> Result<Vec<EntryRecord>, StoreError>;
    /// One page of the entry records of a segment (as [`ReportStore::reports_in_segment`]): the partitions of a
    /// full re-link count the entrants for the statistics.
    async fn entries_in_segment(
        &self,
        segment: Segment,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<EntryRecord>, StoreError>;
}

/// Follow-up records of the entrants' follow-up system, replaced by newer re-sends.
#[async_trait]
pub trait FollowUpStore: Send + Sync {
    /// About how many records the store holds (DynamoDB's item count, refreshed about every six hours; an exact
    /// count on the embedded store): what a full run's start sizes its partitions by.
    async fn approximate_count(&self) -> Result<u64, StoreError>;
    /// Writes each record as [`FollowUpRecord::resend`] rules against the one stored under its id (created when
    /// there is none), atomically per record: a concurrent write of the same id is never lost, the older of two
    /// never replaces the newer. One outcome per input, in order; the ids of one call are distinct.
    async fn put_follow_ups(&self, records: &[FollowUpRecord]) -> Result<Vec<FollowUpWrite>, StoreError>;
    async fn get_follow_up(&self, follow_up_id: &str) -> Result<Option<FollowUpRecord>, StoreError>;
    /// Records whose passport number has this keyed hash (the linkage's exact step). Served by an index.
    async fn follow_ups_by_passport(&self, passport: &KeyedHash) -> Result<Vec<FollowUpRecord>, StoreError>;
    /// Every follow-up record (a full read: Scan on DynamoDB), for the scheduled linkage's statistics.
    async fn all_follow_ups(&self) -> Result<Vec<FollowUpRecord>, StoreError>;
    /// One page of the follow-up records of a segment (as [`ReportStore::reports_in_segment`]), for the
    /// statistics of a full re-link's partitions.
    async fn follow_ups_in_segment(
        &self,
        segment: Segment,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<FollowUpRecord>, StoreError>;
}

/// Linkage decisions, one per report, and the summary of the last run.
#[async_trait]
pub trait LinkStore: Send + Sync {
    /// Writes (replaces) the decision of `decision.report_id`, unless the stored one was confirmed or rejected by a
    /// health centre: then nothing is written (`KeptReviewed`). A pending review-band decision carries a review
    /// queue key (its health centre) while pending only (sparse index).
    async fn put_decision(&self, decision: &LinkDecision) -> Result<DecisionWrite, StoreError>;
    /// [`LinkStore::put_decision`] of each, answered in order: the runs settle hundreds at a time. SQLite writes
    /// them in one transaction (all or none); DynamoDB sends the conditional puts concurrently (a failure leaves
    /// those written before it, which the next run finds settled).
    async fn put_decisions(&self, decisions: &[LinkDecision]) -> Result<Vec<DecisionWrite>, StoreError>;
    async fn get_decision(&self, report: &ReportId) -> Result<Option<LinkDecision>, StoreError>;
    /// The stored decisions of these reports (those that have one, any order): a page of a full re-link's partition.
    async fn decisions_of(&self, reports: &[ReportId]) -> Result<Vec<LinkDecision>, StoreError>;
    /// Removes the decision of a report unless it was reviewed; tells whether one was removed.
    async fn remove_decision(&self, report: &ReportId) -> Result<bool, StoreError>;
    /// Every stored decision (a full read: Scan on DynamoDB), for the scheduled run and its statistics.
    async fn all_decisions(&self) -> Result<Vec<LinkDecision>, StoreError>;
    /// Pending review-band decisions of a health centre's reports, by report id. Served by a sparse index.
    async fn review_queue(&self, health_center: &str) -> Result<Vec<LinkDecision>, StoreError>;
    /// Records a health centre's answer on a pending decision and returns the decision as stored.
    /// `NotFound` if absent, `VersionConflict { expected: 0 }` if it is not pending (a link, or answered already).
    async fn record_review(&self, report: &ReportId, review: &Review) -> Result<LinkDecision, StoreError>;
    async fn put_summary(&self, summary: &LinkageSummary) -> Result<(), StoreError>;
    async fn get_summary(&self) -> Result<Option<LinkageSummary>, StoreError>;
}

/// The stored linkage index and model of the incremental run: the keyed blocking keys of entries (looked up by key
/// and entry day) and of reports (read by diagnosis day), the current model and the run's watermark.
#[async_trait]
pub trait LinkIndex: Send + Sync {
    /// Files each entry under its keys at its entry day (idempotent).
    async fn put_entry_keys(&self, records: &[IndexedRecord]) -> Result<(), StoreError>;
    /// Files each report under its keys at its diagnosis day (idempotent; keys of an earlier version of the report
    /// may remain: a reader re-reads the report).
    async fn put_report_keys(&self, records: &[IndexedRecord]) -> Result<(), StoreError>;
    /// For each lookup, the ids of the entries filed under its key with an entry day in its range, at most `limit`
    /// of them (a caller asks one more than it accepts, to tell a block that is too large); in the order of
    /// `lookups`. A run asks for the keys of hundreds of reports at once (SQLite: one read transaction; DynamoDB:
    /// the Queries in flight together).
    async fn entries_by_keys(&self, lookups: &[KeyLookup], limit: usize) -> Result<Vec<Vec<String>>, StoreError>;
    /// Every (key, diagnosis day, report id) filed at a diagnosis day in `from..=to`.
    async fn report_keys_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, NaiveDate, ReportId)>, StoreError>;
    async fn current_model(&self) -> Result<Option<StoredModel>, StoreError>;
    async fn put_model(&self, model: &StoredModel) -> Result<(), StoreError>;
    async fn linkage_state(&self) -> Result<Option<LinkageState>, StoreError>;
    async fn put_linkage_state(&self, state: &LinkageState) -> Result<(), StoreError>;
}

/// The leases of the full runs, one per [`FullRun`]: two runs of a kind never run at once, and one that died frees
/// its lease by expiry. Each lease is kept beside what its run rewrites (the export's with the graph sources, the
/// re-link's with the index), so that a function's permissions on that data cover its lease.
#[async_trait]
pub trait FullRunLeases: Send + Sync {
    /// Takes the lease of `kind` for `run` until `until`, unless another run holds it unexpired as of `now`: `false`
    /// then. The holder's retried claim succeeds (and extends it).
    async fn claim(&self, kind: FullRun, run: &str, now: Instant, until: Instant) -> Result<bool, StoreError>;
    /// The run holding the unexpired lease of `kind` as of `now`, if any.
    async fn holder(&self, kind: FullRun, now: Instant) -> Result<Option<String>, StoreError>;
    /// Gives the lease of `kind` up, if `run` holds it.
    async fn release(&self, kind: FullRun, run: &str) -> Result<(), StoreError>;
}

/// The audit of views of personal data: append-only, kept by health centre and time.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends the event if no event has its (health centre, sort key); `AlreadyExists` otherwise. Never replaces,
    /// changes or removes an event: the AWS role may only put, and the SQLite table refuses updates and deletes.
    async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// One page of a health centre's events with `from <= at < until`, oldest first, after `query.after`. Served by
    /// the (health centre, time) key, never a scan.
    async fn audit_events(&self, query: &AuditQuery) -> Result<AuditPage, StoreError>;
}

#[async_trait]
pub trait CycleStore: Send + Sync {
    /// Atomically: creates the cycle (version 1) and its first number (if no record with that hash exists).
    /// `AlreadyExists` if either exists; then nothing is written.
    async fn create_cycle(&self, cycle: &Cycle, first: &IssuedNumber) -> Result<(), StoreError>;
    async fn get_cycle(&self, id: &CycleId) -> Result<Option<Versioned<Cycle>>, StoreError>;
    /// Atomically: replaces the cycle if at `expected_version`, replaces the given existing number records
    /// (state changes such as expired or superseded), and creates `new_number` if absent. All or nothing; returns
    /// the cycle's new version.
    async fn advance_cycle(
        &self,
        cycle: &Cycle,
        expected_version: u64,
        changed: &[IssuedNumber],
        new_number: Option<&IssuedNumber>,
    ) -> Result<u64, StoreError>;
    /// The number record with this hash; records past `purge_after` (as of `now`) count as absent.
    async fn get_number(&self, hash: &KeyedHash, now: Instant) -> Result<Option<IssuedNumber>, StoreError>;
    /// Cycles whose `next_due_at` is at or before `now`, oldest first, at most `limit`. Served by a sparse index,
    /// never a scan.
    async fn due_cycles(&self, now: Instant, limit: usize) -> Result<Vec<CycleId>, StoreError>;
    async fn cycles_of_report(&self, report: &ReportId) -> Result<Vec<Versioned<Cycle>>, StoreError>;
}

/// Counters: operator statistics per Japan date and redemption-attempt limits per time window. Kept beside the cycles
/// (the same table) but a port of their own: they are read in batches, never through a cycle.
#[async_trait]
pub trait CounterStore: Send + Sync {
    /// Adds `delta` to the counter `name` (absent counts as 0) and returns the new value, atomically. Counters hold
    /// operator statistics and redemption-attempt limits. Names are opaque (dates, keyed hashes), never personal
    /// data; a name includes its time window, so a counter is never reset, only left to expire.
    async fn add_to_counter(&self, name: &str, delta: u64, purge_after: Instant) -> Result<u64, StoreError>;
    /// Current values, in the order asked; 0 for absent counters and for those past `purge_after` as of `now`.
    /// Read in batches (the statistics ask for up to 1,840 at once), never one request per name.
    async fn counters(&self, names: &[String], now: Instant) -> Result<Vec<u64>, StoreError>;
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `record.key` (which must be `InProgress`) unless a live record holds it. Expired records (as of `now`)
    /// are taken over.
    async fn claim(&self, record: &IdempotencyRecord, now: Instant) -> Result<Claim, StoreError>;
    /// Marks a claimed key completed with its response, kept until `expires_at`.
    async fn complete(&self, key: &KeyedHash, response: &str, expires_at: Instant) -> Result<(), StoreError>;
    /// Gives up a claim after a failure, so a retry may try again.
    async fn release(&self, key: &KeyedHash) -> Result<(), StoreError>;
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    Sms(PhoneNumber),
    Email(Email),
}

/// A message to a patient. Its text may carry a processing number, so `Debug` shows neither text nor recipient.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub to: Recipient,
    pub subject: String,
    pub body: String,
}

impl std::fmt::Debug for OutgoingMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let channel = match self.to {
            Recipient::Sms(_) => "sms",
            Recipient::Email(_) => "email",
        };
        write!(f, "OutgoingMessage {{ channel: {channel}, body: <redacted> }}")
    }
}

/// The provider's handle on a sent message (SNS MessageId, SES MessageId, outbox row id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub message_id: String,
    /// When the provider accepted the message: the hour of a processing number's validity starts here.
    pub accepted_at: Instant,
}

#[async_trait]
pub trait Notifier: Send + Sync {
    /// Hands the message to the provider. SNS and SES take no idempotency token: callers guard with an
    /// [`IdempotencyStore`] record so that a retry never sends twice.
    async fn send(&self, message: &OutgoingMessage) -> Result<Delivery, NotifyError>;
    /// Whether the phone is on the SMS opt-out list.
    async fn is_opted_out(&self, phone: &PhoneNumber) -> Result<bool, NotifyError>;
}

/// Encrypts live processing numbers so that the reminder can repeat one, and nothing readable is at rest: KMS
/// envelope encryption in AWS, a key file in the data dir locally. Both use AES-256-GCM with the number's keyed hash
/// as associated data, so a sealed copy opens only as the number it was sealed for.
#[async_trait]
pub trait NumberVault: Send + Sync {
    async fn seal(&self, number: &ProcessingNumber, hash: &KeyedHash) -> Result<SealedNumber, VaultError>;
    async fn open(&self, sealed: &SealedNumber, hash: &KeyedHash) -> Result<ProcessingNumber, VaultError>;
}

/// Operational metrics (CloudWatch Embedded Metric Format in AWS). Names and dimension values are fixed words and
/// numbers, never personal data.
pub trait Metrics: Send + Sync {
    fn count(&self, name: &'static str, dimensions: &[(&'static str, String)], value: f64);
}

/// Metrics dropped (tests, local tools).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMetrics;

impl Metrics for NoMetrics {
    fn count(&self, _name: &'static str, _dimensions: &[(&'static str, String)], _value: f64) {}
}

/// Where exported graph data goes (S3 bucket, local directory).
#[async_trait]
pub trait ExportSink: Send + Sync {
    /// Writes (or replaces) one object. `path` is relative, with `/` separators, e.g.
    /// `csv/newly_confirmed_cases_daily.csv`.
    async fn put_object(&self, path: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), ExportError>;
}

/// The graph export's own inputs: the municipality-published line lists (public data, one item per case, keyed by
/// prefecture and the list's `No`) and, per prefecture, the date from which HER-SYS reports are its source.
#[async_trait]
pub trait GraphSourceStore: Send + Sync {
    /// Creates or replaces each case by (prefecture, number): importing the same or a later list again is safe.
    async fn put_linelist_cases(&self, cases: &[LineListCase]) -> Result<(), StoreError>;
    /// All imported cases of a prefecture, in no particular order.
    async fn linelist_cases(&self, prefecture: PrefectureCode) -> Result<Vec<LineListCase>, StoreError>;
    /// Sets (or with `None` clears) the date from which the prefecture's series come from HER-SYS reports.
    async fn set_hersys_from(
        &self,
        prefecture: PrefectureCode,
        from: Option<chrono::NaiveDate>,
    ) -> Result<(), StoreError>;
    /// Every prefecture's switch date.
    async fn hersys_from(&self) -> Result<crate::graphs::Sources, StoreError>;
    /// A number that grows with every `put_linelist_cases` (0 before any): the export counts the line lists again
    /// only when it changed.
    async fn linelist_generation(&self) -> Result<u64, StoreError>;
    /// The fact the graph export last counted for each report, in the order asked (`None`: nothing counted).
    async fn counted_facts(&self, reports: &[ReportId]) -> Result<Vec<Option<CaseFact>>, StoreError>;
    /// Records counted facts (a `None` fact removes the record). Idempotent: the export may record the same again.
    async fn put_counted_facts(&self, facts: &[CountedFact]) -> Result<(), StoreError>;
}

/// Starts the partitioned full runs on the distributed engine that runs them (Step Functions in AWS). The embedded
/// default has none: there, a scheduled export without a usable state counts everything in its own process.
#[async_trait]
pub trait FullRunStarter: Send + Sync {
    /// Starts a full graph export as the execution `name`, its partitions sized by the work. Names are unique: a
    /// name already used answers `Ok(false)` and starts nothing.
    async fn start_full_export(&self, name: &str) -> Result<bool, StoreError>;
}

/// The graph export's state between runs ([`crate::graphs::state::ExportState`] as bytes): one private object,
/// replaced whole (an S3 object in AWS, a row of the embedded store locally). Never published.
#[async_trait]
pub trait ExportStateStore: Send + Sync {
    async fn load_export_state(&self) -> Result<Option<Vec<u8>>, StoreError>;
    async fn save_export_state(&self, bytes: Vec<u8>) -> Result<(), StoreError>;
    /// One partition's result of a full run, as bytes (the full export's counts, the full re-link's statistics
    /// tallies), for the combining step; replaced whole, since a retried partition writes it again.
    async fn save_partition_result(&self, run: &str, index: u32, bytes: Vec<u8>) -> Result<(), StoreError>;
    async fn load_partition_result(&self, run: &str, index: u32) -> Result<Option<Vec<u8>>, StoreError>;
    /// Removes a finished run's partition results (`of` of them; absent ones are fine).
    async fn delete_partition_results(&self, run: &str, of: u32) -> Result<(), StoreError>;
}
