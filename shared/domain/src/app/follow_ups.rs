//! Follow-up operations: ingesting a batch from the entrants' follow-up system (the HTTP route and the CSV import).

use std::collections::{HashMap, HashSet};

use crate::entry::EntryRecord;
use crate::error::{FieldError, Problem};
use crate::follow_up::{FollowUpInput, FollowUpRecord, FollowUpResult, follow_up_of};
use crate::keyed_hash::KeyedHash;
use crate::linkage::follow_up_stats::{self, FollowUpSummary, StatFollowUp};
use crate::links::LinkDecision;
use crate::report::{CaseReport, ReportId};
use crate::time::japan_date;

use super::{App, AppError};

impl App {
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

/// The follow-up statistics of a linkage run: each report reaches at most one follow-up ([`follow_up_of`]), through
/// its linked entry (`decisions` that count as links) or its own passport number.
pub(super) fn follow_up_summary(
    follow_ups: &[FollowUpRecord],
    entries: &[EntryRecord],
    reports: &[CaseReport],
    decisions: &HashMap<ReportId, LinkDecision>,
) -> FollowUpSummary {
    let mut by_passport: HashMap<&KeyedHash, Vec<&FollowUpRecord>> = HashMap::new();
    for f in follow_ups {
        by_passport.entry(&f.person.passport_hash).or_default().push(f);
    }
    let index_of: HashMap<&str, usize> =
        follow_ups.iter().enumerate().map(|(i, f)| (f.follow_up_id.as_str(), i)).collect();
    let entry_by_id: HashMap<&str, &EntryRecord> = entries.iter().map(|e| (e.entry_id.as_str(), e)).collect();
    let mut diagnoses = Vec::new();
    for report in reports {
        let linked_entry = decisions
            .get(&report.id)
            .filter(|d| d.counts_as_link())
            .and_then(|d| entry_by_id.get(d.entry_id.as_str()).copied());
        let Some(hash) = linked_entry.map(|e| &e.passport_hash).or(report.passport_hash.as_ref()) else { continue };
        let Some(candidates) = by_passport.get(hash) else { continue };
        if let Some(f) = follow_up_of(report, linked_entry, candidates.iter().copied())
            && let Some(&i) = index_of.get(f.follow_up_id.as_str())
        {
            diagnoses.push((i, report.diagnosis_date));
        }
    }
    let stat: Vec<StatFollowUp> = follow_ups
        .iter()
        .map(|f| StatFollowUp {
            follow_up_from: f.follow_up_from,
            follow_up_until: f.follow_up_until,
            symptoms_reported_on: f.symptoms_reported_on,
            status: f.status,
        })
        .collect();
    follow_up_stats::summarise(&stat, &diagnoses)
}
