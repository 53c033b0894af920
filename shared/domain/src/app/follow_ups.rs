//! Follow-up operations: ingesting a batch from the entrants' follow-up system (the HTTP route and the CSV import).

use std::collections::HashSet;

use crate::error::{FieldError, Problem};
use crate::follow_up::{FollowUpInput, FollowUpRecord, FollowUpResult};
use crate::time::japan_date;

use super::{AppError, Linkage};

impl Linkage {
    /// Validates each record and writes the valid ones by the re-send rule ([`FollowUpRecord::resend`]). Records
    /// are independent: refused records do not stop the others, and re-sending a batch changes nothing.
    ///
    /// An id that comes again later in the same batch is refused there (field `follow_up_id`): which of two
    /// versions sent at once is the newer is for the sender to say, by sending it in a later batch.
    ///
    /// Fails only when the store fails; then part of the batch may have been written, and re-sending it is safe.
    pub async fn ingest_follow_ups(&self, inputs: &[FollowUpInput]) -> Result<Vec<FollowUpResult>, AppError> {
        let today = japan_date(self.clock.now());
        let mut results = Vec::with_capacity(inputs.len());
        let mut to_store = Vec::with_capacity(inputs.len());
        let mut stored_at = Vec::with_capacity(inputs.len());
        let mut seen: HashSet<String> = HashSet::with_capacity(inputs.len());
        for (index, input) in inputs.iter().enumerate() {
            let follow_up_id = input.valid_follow_up_id().map(str::to_owned);
            let outcome = match FollowUpRecord::from_input(input, &self.hasher, today) {
                Err(invalid) => Err(invalid.0),
                Ok(record) if !seen.insert(record.follow_up_id.clone()) => Err(vec![FieldError::new(
                    "follow_up_id",
                    Problem::Invalid("appears more than once in the batch; send the newer in a later batch"),
                )]),
                Ok(record) => {
                    to_store.push(record);
                    stored_at.push(index);
                    // Settled below, from the store's answer.
                    Ok(crate::follow_up::FollowUpWrite::Created)
                }
            };
            results.push(FollowUpResult { index, follow_up_id, outcome });
        }
        if !to_store.is_empty() {
            let writes = self.follow_ups.put_follow_ups(&to_store).await?;
            if writes.len() != to_store.len() {
                return Err(AppError::Internal(format!(
                    "the follow-up store answered {} outcomes for {} records",
                    writes.len(),
                    to_store.len()
                )));
            }
            for (&at, write) in stored_at.iter().zip(writes) {
                if let Some(r) = results.get_mut(at) {
                    r.outcome = Ok(write);
                }
            }
        }
        tracing::debug!(received = results.len(), "follow-ups ingested");
        Ok(results)
    }
}
