//! A partitioned run (the full graph export, the full re-link) in this process, through its function's handler as
//! the Step Functions state machine of `template.yaml` drives it in AWS: the `start` step, every partition at once
//! (each tried again on failure, as the state machine's `Retry`), then `combine`; or `abandon` if a partition fails
//! for good. The steps are events `{"<key>": {"step": ..., ...}}` of the handler; `start` answers
//! `{"run": {...}, "partitions": [<the partition events>]}`.

use std::future::Future;

use futures::StreamExt;
use serde_json::{Value, json};

/// The step events of a partitioned run named `key` as a function's handler receives them: one step
/// (`{"<key>": {...}}`), or a batch of them as the Distributed Map's item batcher sends them (`{"Items": [...]}`),
/// run one after the other. `None` for any other event (a scheduled one).
pub async fn step_or_batch<H, Fut>(event: &Value, key: &str, handle: H) -> Option<Result<Value, lambda_runtime::Error>>
where
    H: Fn(Value) -> Fut,
    Fut: Future<Output = Result<Value, lambda_runtime::Error>>,
{
    if event.get(key).is_some() {
        return Some(handle(event.clone()).await);
    }
    let items = event.get("Items").and_then(Value::as_array)?;
    let mut answers = Vec::with_capacity(items.len());
    for item in items {
        match handle(item.clone()).await {
            Ok(answer) => answers.push(answer),
            Err(e) => return Some(Err(e)),
        }
    }
    Some(Ok(Value::Array(answers)))
}

/// Runs the steps of a partitioned run named `key` (`full_export`, `full_linkage`) through `handle`. `start` is the
/// start step's fields besides `step`; `combine` makes the combining step's fields (besides `step` and `run`) from
/// the partitions' answers, in partition order. Each partition is tried up to `attempts` times.
pub async fn run_partitioned<H, Fut>(
    handle: H,
    key: &'static str,
    start: Value,
    attempts: u32,
    combine: impl FnOnce(Vec<Value>) -> Value,
) -> Result<Value, lambda_runtime::Error>
where
    H: Fn(Value) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, lambda_runtime::Error>> + Send + 'static,
{
    let mut start_step = json!({ "step": "start" });
    if let (Some(fields), Some(step)) = (start.as_object(), start_step.as_object_mut()) {
        step.extend(fields.clone());
    }
    let started = handle(json!({ key: start_step })).await?;
    let run = started["run"].clone();
    let items = started["partitions"].as_array().cloned().unwrap_or_default();
    let concurrency = items.len().max(1);
    let tasks = items.into_iter().map(|item| {
        let handle = handle.clone();
        tokio::spawn(async move { with_retries(handle, key, item, attempts.max(1)).await })
    });
    let outcomes: Vec<Result<Result<Value, String>, tokio::task::JoinError>> =
        futures::stream::iter(tasks).buffered(concurrency).collect().await;
    let mut answers = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        match outcome.map_err(|e| e.to_string()).and_then(|answer| answer) {
            Ok(answer) => answers.push(answer),
            Err(reason) => {
                handle(json!({ key: { "step": "abandon", "run": run } })).await?;
                return Err(format!("a partition of the {} failed: {reason}", key.replace('_', " ")).into());
            }
        }
    }
    let mut combine_step = json!({ "step": "combine", "run": run });
    if let (Some(fields), Some(step)) = (combine(answers).as_object(), combine_step.as_object_mut()) {
        step.extend(fields.clone());
    }
    handle(json!({ key: combine_step })).await
}

/// One partition event, tried up to `attempts` times with a growing pause; the last error's text if all fail.
async fn with_retries<H, Fut>(handle: H, key: &str, event: Value, attempts: u32) -> Result<Value, String>
where
    H: Fn(Value) -> Fut,
    Fut: Future<Output = Result<Value, lambda_runtime::Error>>,
{
    let mut last = String::new();
    for attempt in 1..=attempts {
        match handle(event.clone()).await {
            Ok(answer) => return Ok(answer),
            Err(e) => {
                last = e.to_string();
                tracing::warn!(attempt, error = %last, "a partition failed");
                // A run that lost its lease (a conflict named after the run) will not get it back by trying again.
                if last.contains(key) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
            }
        }
    }
    Err(last)
}
