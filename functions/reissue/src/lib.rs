//! The re-issuer: every minute, handles the processing-number cycles that are due (a number expired unused, a
//! reminder to send, a failed delivery to retry) through the domain's sweep.

use domain::app::{Cases, SweepRun};
use domain::time::Instant;
use serde::Serialize;
use serde_json::Value;

pub use api::events::ScheduledEvent;

/// Handles one scheduled event. "Now" is the event's `time`, so a late or replayed event catches up exactly.
pub async fn handle(cases: &Cases, event: Value) -> Result<Value, lambda_runtime::Error> {
    let event = ScheduledEvent::from_json(event)?;
    let run = cases.run_due_cycles(event.time).await?;
    tracing::info!(
        due = run.due,
        reissued = run.reissued,
        reminded = run.reminded,
        exhausted = run.exhausted,
        delivery_failures = run.delivery_failures,
        waiting = run.waiting,
        held_for_quiet_hours = run.held_for_quiet_hours,
        lost_races = run.lost_races,
        failed = run.failed,
        "re-issue run done"
    );
    Ok(serde_json::to_value(Answer { now: event.time, run })?)
}

/// What a sweep answers: its "now" and what it did (counts only).
#[derive(Debug, Serialize)]
pub struct Answer {
    pub now: Instant,
    #[serde(flatten)]
    pub run: SweepRun,
}
