//! `POST /v1/entries`: the quarantine system's entry records, up to [`domain::entry::MAX_BATCH`] a request, read by
//! [`crate::batch`]. Field names are the CSV columns of [`domain::entry::COLUMNS`].
//!
//! The answer is `200` with one result per record, in order, whatever the mix of outcomes:
//!
//! ```json
//! {"received": 4, "created": 2, "unchanged": 1, "conflicts": 0, "rejected": 1,
//!  "results": [{"index": 0, "entry_id": "E1", "outcome": "created"},
//!              {"index": 1, "entry_id": "E2", "outcome": "unchanged"},
//!              {"index": 2, "entry_id": "E3", "outcome": "created"},
//!              {"index": 3, "entry_id": "E4", "outcome": "rejected",
//!               "fields": [{"field": "passport_number", "problem": "must be 5 to 9 letters or digits"}]}]}
//! ```
//!
//! `entry_id` is left out when the record has no well-formed one. Errors of the request as a whole (no token, wrong
//! role, unreadable JSON, too many records) are the usual `{"error", "fields"}` answers; none repeats a value.

use axum::Json;
use axum::extract::State;
use domain::app::App;
use domain::entry::{BatchOutcome, EntryInput, RecordOutcome, RecordResult, parse_entry_id};
use serde::Serialize;
use serde_json::Value;

use crate::auth::{Caller, Role};
use crate::batch::{BatchBody, to_input};
use crate::error::{ApiError, FieldProblem};

#[derive(Debug, Serialize)]
pub(crate) struct ResultView {
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    entry_id: Option<String>,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldProblem>,
}

impl From<RecordResult> for ResultView {
    fn from(r: RecordResult) -> Self {
        let outcome = r.outcome.as_str();
        let fields = match r.outcome {
            RecordOutcome::Rejected(errors) => {
                errors.into_iter().map(|e| FieldProblem { field: e.field, problem: e.problem.to_string() }).collect()
            }
            RecordOutcome::Conflict(differing) => differing
                .into_iter()
                .map(|field| FieldProblem {
                    field: field.to_owned(),
                    problem: "differs from the record stored under this entry_id".to_owned(),
                })
                .collect(),
            _ => Vec::new(),
        };
        ResultView { index: r.index, entry_id: r.entry_id, outcome, fields }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct BatchView {
    received: usize,
    created: usize,
    unchanged: usize,
    conflicts: usize,
    rejected: usize,
    results: Vec<ResultView>,
}

/// Roles: quarantine.
pub(crate) async fn create(
    State(app): State<App>,
    caller: Caller,
    body: BatchBody,
) -> Result<Json<BatchView>, ApiError> {
    caller.require(&[Role::Quarantine])?;
    let records = body.records()?;

    // Records that are not objects of strings are refused here; the others go to validation and storage.
    let mut results: Vec<Option<RecordResult>> = Vec::with_capacity(records.len());
    let mut inputs = Vec::with_capacity(records.len());
    let mut positions = Vec::with_capacity(records.len());
    for (slot, record) in records.iter().enumerate() {
        let (index, record) = (record.index, &record.value);
        match to_input::<EntryInput>(record) {
            Ok(input) => {
                inputs.push(input);
                positions.push(slot);
                results.push(None);
            }
            Err(errors) => {
                let entry_id =
                    record.get("entry_id").and_then(Value::as_str).and_then(|id| parse_entry_id("entry_id", id).ok());
                results.push(Some(RecordResult { index, entry_id, outcome: RecordOutcome::Rejected(errors) }));
            }
        }
    }
    let outcome = app.linkage.ingest_entries(&inputs).await?;
    for (result, &slot) in outcome.results.into_iter().zip(&positions) {
        if let (Some(place), Some(record)) = (results.get_mut(slot), records.get(slot)) {
            *place = Some(RecordResult { index: record.index, ..result });
        }
    }
    let batch = BatchOutcome { results: results.into_iter().flatten().collect() };
    let c = batch.counts();
    tracing::info!(
        received = c.received,
        created = c.created,
        unchanged = c.unchanged,
        conflicts = c.conflicts,
        rejected = c.rejected,
        "entries received"
    );
    Ok(Json(BatchView {
        received: c.received,
        created: c.created,
        unchanged: c.unchanged,
        conflicts: c.conflicts,
        rejected: c.rejected,
        results: batch.results.into_iter().map(ResultView::from).collect(),
    }))
}
