//! The steps of a partitioned full re-link as events of the linkage function, the same in AWS (the Step Functions
//! state machine of `template.yaml` invokes the function with them) and locally ([`run_partitioned`], behind
//! `hersys relink --partitions N`):
//!
//! ```json
//! {"full_linkage": {"step": "start", "partitions": 8}}
//! {"full_linkage": {"step": "start", "partitions": 8, "estimate": {"reports": 10000, "entries": 1000000}}}
//! {"full_linkage": {"step": "partition", "run": {...}, "index": 3}}
//! {"full_linkage": {"step": "combine", "run": {...}, "partitions": [<the partitions' answers>], "now": "..."}}
//! {"full_linkage": {"step": "abandon", "run": {...}}}
//! ```
//!
//! `start` answers `{"run": {...}, "partitions": [<the partition events>]}`: the Distributed Map's items are the
//! partition events themselves, and its results (the partitions' answers, counts only) the combining step's input.
//! `combine` ("now" optional: the clock) publishes the statistics as a scheduled full run does and answers as it
//! does.

use domain::app::{App, EstimateSample, FullLinkage, PartitionLinked};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
enum Step {
    Start {
        partitions: u32,
        /// A new model version estimated from a sample first (the daily run); absent: the current model.
        #[serde(default)]
        estimate: Option<EstimateSample>,
    },
    Partition {
        run: FullLinkage,
        index: u32,
    },
    Combine {
        run: FullLinkage,
        partitions: Vec<PartitionLinked>,
        #[serde(default)]
        now: Option<domain::time::Instant>,
    },
    Abandon {
        run: FullLinkage,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepEvent {
    full_linkage: Step,
}

/// Handles one step of a partitioned full re-link.
pub async fn handle_step(app: &App, event: Value) -> Result<Value, lambda_runtime::Error> {
    // serde's message can quote the event; only the shape is named (the event holds ids and counts anyway).
    let step = serde_json::from_value::<StepEvent>(event)
        .map_err(|_| "the full_linkage event must be one of the steps start, partition, combine, abandon")?
        .full_linkage;
    match step {
        Step::Start { partitions, estimate } => {
            let relink = app.start_full_linkage(partitions, estimate).await?;
            let items: Vec<Value> = (0..relink.partitions)
                .map(|index| json!({ "full_linkage": { "step": "partition", "run": relink, "index": index } }))
                .collect();
            Ok(json!({ "run": relink, "partitions": items }))
        }
        Step::Partition { run, index } => Ok(serde_json::to_value(app.link_partition(&run, index).await?)?),
        Step::Combine { run, partitions, now } => {
            let now = now.unwrap_or_else(|| app.clock.now());
            let linked = app.finish_full_linkage(&run, &partitions, now).await?;
            crate::answer(app, now, &linked).await
        }
        Step::Abandon { run } => {
            app.abandon_full_linkage(&run).await?;
            Ok(json!({ "abandoned": run.run }))
        }
    }
}

/// Runs a partitioned full re-link in this process, through [`handle_step`] as the state machine would
/// ([`platform::partitioned`]): start (with `estimate`, a new model version from a sample first), every partition at
/// once (each tried up to `attempts` times), then combine as of `now` (default: the clock); if a partition still
/// fails, abandon and fail.
pub async fn run_partitioned(
    app: &App,
    partitions: u32,
    estimate: Option<EstimateSample>,
    attempts: u32,
    now: Option<domain::time::Instant>,
) -> Result<Value, lambda_runtime::Error> {
    let app = app.clone();
    let handle = move |event: Value| {
        let app = app.clone();
        async move { handle_step(&app, event).await }
    };
    let start = match estimate {
        Some(sample) => json!({ "partitions": partitions, "estimate": sample }),
        None => json!({ "partitions": partitions }),
    };
    platform::partitioned::run_partitioned(
        handle,
        "full_linkage",
        start,
        attempts,
        |answers| json!({ "partitions": answers, "now": now }),
    )
    .await
}
