//! `POST /v1/follow-ups`: the entrants' follow-up system's records, up to [`domain::entry::MAX_BATCH`] a request,
//! read as the entry batches are ([`crate::batch`]). Field names are [`domain::follow_up::COLUMNS`].
//!
//! The answer is `200` with one result per record, in order:
//!
//! ```json
//! {"received": 3, "created": 1, "replaced": 1, "unchanged": 0, "stale": 1, "conflicts": 0, "rejected": 0,
//!  "results": [{"index": 0, "follow_up_id": "F1", "outcome": "created"},
//!              {"index": 1, "follow_up_id": "F2", "outcome": "replaced"},
//!              {"index": 2, "follow_up_id": "F3", "outcome": "stale"}]}
//! ```
//!
//! `replaced`: newer than the stored record (a later last check-in, or the same day with other values); `stale`:
//! older, refused, the stored one kept; `conflict`: the id is another person's follow-up. `follow_up_id` is left
//! out when the record has no well-formed one.

use axum::Json;
use axum::extract::State;
use domain::app::App;
use domain::entry::parse_entry_id;
use domain::follow_up::{FollowUpInput, FollowUpResult, FollowUpWrite};
use serde::Serialize;
use serde_json::Value;

use crate::auth::{Caller, Role};
use crate::batch::{BatchBody, to_input};
use crate::error::{ApiError, FieldProblem};

#[derive(Debug, Serialize)]
pub(crate) struct ResultView {
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    follow_up_id: Option<String>,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldProblem>,
}

impl From<FollowUpResult> for ResultView {
    fn from(r: FollowUpResult) -> Self {
        let outcome = r.outcome_str();
        let fields = match r.outcome {
            Err(errors) => {
                errors.into_iter().map(|e| FieldProblem { field: e.field, problem: e.problem.to_string() }).collect()
            }
            Ok(_) => Vec::new(),
        };
        ResultView { index: r.index, follow_up_id: r.follow_up_id, outcome, fields }
    }
}

#[derive(Debug, Default, Serialize)]
pub(crate) struct BatchView {
    received: usize,
    created: usize,
    replaced: usize,
    unchanged: usize,
    stale: usize,
    conflicts: usize,
    rejected: usize,
    results: Vec<ResultView>,
}

impl BatchView {
    fn of(results: Vec<FollowUpResult>) -> Self {
        let mut view = BatchView { received: results.len(), ..BatchView::default() };
        for r in &results {
            let count = match r.outcome {
                Ok(FollowUpWrite::Created) => &mut view.created,
                Ok(FollowUpWrite::Replaced) => &mut view.replaced,
                Ok(FollowUpWrite::Unchanged) => &mut view.unchanged,
                Ok(FollowUpWrite::Stale) => &mut view.stale,
                Ok(FollowUpWrite::Conflict) => &mut view.conflicts,
                Err(_) => &mut view.rejected,
            };
            *count += 1;
        }
        view.results = results.into_iter().map(ResultView::from).collect();
        view
    }
}

/// Roles: follow_up.
pub(crate) async fn create(
    State(app): State<App>,
    caller: Caller,
    body: BatchBody,
) -> Result<Json<BatchView>, ApiError> {
    caller.require(&[Role::FollowUp])?;
    let records = body.records()?;

    // Records that are not objects of strings are refused here; the others go to validation and storage.
    let mut results: Vec<Option<FollowUpResult>> = Vec::with_capacity(records.len());
    let mut inputs = Vec::with_capacity(records.len());
    let mut positions = Vec::with_capacity(records.len());
    for (slot, record) in records.iter().enumerate() {
        let (index, record) = (record.index, &record.value);
        match to_input::<FollowUpInput>(record) {
            Ok(input) => {
                inputs.push(input);
                positions.push(slot);
                results.push(None);
            }
            Err(errors) => {
                let follow_up_id = record
                    .get("follow_up_id")
                    .and_then(Value::as_str)
                    .and_then(|id| parse_entry_id("follow_up_id", id).ok());
                results.push(Some(FollowUpResult { index, follow_up_id, outcome: Err(errors) }));
            }
        }
    }
    let stored = app.linkage.ingest_follow_ups(&inputs).await?;
    for (result, &slot) in stored.into_iter().zip(&positions) {
        if let (Some(place), Some(record)) = (results.get_mut(slot), records.get(slot)) {
            *place = Some(FollowUpResult { index: record.index, ..result });
        }
    }
    let view = BatchView::of(results.into_iter().flatten().collect());
    tracing::info!(
        received = view.received,
        created = view.created,
        replaced = view.replaced,
        unchanged = view.unchanged,
        stale = view.stale,
        conflicts = view.conflicts,
        rejected = view.rejected,
        "follow-ups received"
    );
    Ok(Json(view))
}
