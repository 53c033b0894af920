//! Entry-record operations: ingesting a batch from the quarantine system (the HTTP route and the CSV import).

use std::collections::HashMap;

use crate::entry::{BatchOutcome, EntryInput, EntryRecord, RecordOutcome, RecordResult};
use crate::ports::PutOutcome;
use crate::time::japan_date;

use super::{AppError, Linkage};

impl Linkage {
    /// Validates each record and stores the valid ones, each created only if its entry id is free. Records are
    /// independent: refused records do not stop the others, and re-sending a batch changes nothing (`Unchanged`).
    ///
    /// The same entry id twice in one batch is settled here, in input order, so that every store answers alike:
    /// the first is written; a later identical one fares as the first did, except that `Created` becomes
    /// `Unchanged`; a later different one is a `Conflict`.
    ///
    /// Fails only when the store fails; then part of the batch may have been written, and re-sending it is safe.
    // Long: validation, the in-batch repeats and the store's answers mapped back to input order belong together:
    // the order of outcomes is the contract.
    pub async fn ingest_entries(&self, inputs: &[EntryInput]) -> Result<BatchOutcome, AppError> {
        let today = japan_date(self.clock.now());
        let mut results = Vec::with_capacity(inputs.len());
        let mut to_store: Vec<EntryRecord> = Vec::with_capacity(inputs.len());
        // For each record sent to the store, the position of its result; for each identical repeat, the position of
        // its result and the index (in `to_store`) of the record it repeats.
        let mut stored_at: Vec<usize> = Vec::with_capacity(inputs.len());
        let mut repeats: Vec<(usize, usize)> = Vec::new();
        let mut first_of_id: HashMap<String, usize> = HashMap::with_capacity(inputs.len());
        for (index, input) in inputs.iter().enumerate() {
            let entry_id = input.valid_entry_id().map(str::to_owned);
            let outcome = match EntryRecord::from_input(input, &self.hasher, today) {
                Err(invalid) => RecordOutcome::Rejected(invalid.0),
                Ok(record) => match first_of_id.get(&record.entry_id) {
                    Some(&earlier) if to_store.get(earlier) == Some(&record) => {
                        repeats.push((index, earlier));
                        RecordOutcome::Unchanged
                    }
                    Some(&earlier) => RecordOutcome::Conflict(
                        to_store.get(earlier).map(|first| record.differing_fields(first)).unwrap_or_default(),
                    ),
                    None => {
                        first_of_id.insert(record.entry_id.clone(), to_store.len());
                        to_store.push(record);
                        stored_at.push(index);
                        // Settled below, from the store's answer.
                        RecordOutcome::Created
                    }
                },
            };
            results.push(RecordResult { index, entry_id, outcome });
        }
        if !to_store.is_empty() {
            let outcomes = self.entries.put_entries(&to_store, self.clock.now()).await?;
            if outcomes.len() != to_store.len() {
                return Err(AppError::Internal(format!(
                    "the entry store answered {} outcomes for {} records",
                    outcomes.len(),
                    to_store.len()
                )));
            }
            for ((&at, outcome), record) in stored_at.iter().zip(&outcomes).zip(&to_store) {
                let outcome = match outcome {
                    PutOutcome::Created => RecordOutcome::Created,
                    PutOutcome::Unchanged => RecordOutcome::Unchanged,
                    PutOutcome::Conflict => RecordOutcome::Conflict(self.differing_from_stored(record).await?),
                };
                if let Some(r) = results.get_mut(at) {
                    r.outcome = outcome;
                }
            }
            for (at, earlier) in repeats {
                let conflict = stored_at.get(earlier).and_then(|&first| results.get(first)).map(|r| r.outcome.clone());
                if let (Some(r), Some(conflict @ RecordOutcome::Conflict(_))) = (results.get_mut(at), conflict) {
                    r.outcome = conflict;
                }
            }
        }
        let outcome = BatchOutcome { results };
        let c = outcome.counts();
        tracing::debug!(
            received = c.received,
            created = c.created,
            unchanged = c.unchanged,
            conflicts = c.conflicts,
            rejected = c.rejected,
            "entries ingested"
        );
        Ok(outcome)
    }

    /// The fields in which `record` differs from the one stored under its id, read again: conflicts are rare (a
    /// corrected record sent as new), and the quarantine system needs to know what to correct.
    async fn differing_from_stored(&self, record: &EntryRecord) -> Result<Vec<&'static str>, AppError> {
        let stored = self.entries.get_entry(&record.entry_id).await?;
        Ok(stored.map(|stored| record.differing_fields(&stored)).unwrap_or_default())
    }
}
