//! The partitions of a full run (the full graph export, the full re-link) in this process: the local stand-in for
//! the Distributed Map of `template.yaml`'s state machines, for the embedded store (`hersys relink`, `hersys export
//! --partitions`). In AWS, and in the tests on moto's Step Functions interpreter, the state machines run the steps.
//!
//! Every partition runs at once; a failed one is tried again as the state machines' `Retry` does: `StepFailed` is,
//! `LeaseHeld` and `InvalidEvent` are not (another try cannot change them). The caller starts, then combines the
//! answers or abandons the run.

use std::future::Future;

use futures::StreamExt;

use crate::function_error::FunctionError;

/// Runs `partition` on every item at once, each tried up to `attempts` times with a growing pause; the answers in
/// item order (as the Distributed Map's result), or the first partition's error that remained after its tries.
pub async fn run_partitions<P, A, F, Fut>(items: Vec<P>, attempts: u32, partition: F) -> Result<Vec<A>, FunctionError>
where
    P: Clone + Send + 'static,
    A: Send + 'static,
    F: Fn(P) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<A, FunctionError>> + Send + 'static,
{
    let concurrency = items.len().max(1);
    let tasks = items.into_iter().map(|item| {
        let partition = partition.clone();
        tokio::spawn(async move { with_retries(partition, item, attempts.max(1)).await })
    });
    let outcomes: Vec<_> = futures::stream::iter(tasks).buffered(concurrency).collect().await;
    let mut answers = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        let answer = outcome.map_err(|e| FunctionError::failed(format!("a partition's task ended: {e}")))?;
        answers.push(answer?);
    }
    Ok(answers)
}

/// One partition, tried up to `attempts` times with a growing pause while its error is worth another try.
async fn with_retries<P, A, F, Fut>(partition: F, item: P, attempts: u32) -> Result<A, FunctionError>
where
    P: Clone,
    F: Fn(P) -> Fut,
    Fut: Future<Output = Result<A, FunctionError>>,
{
    let mut attempt = 1;
    loop {
        match partition(item.clone()).await {
            Ok(answer) => return Ok(answer),
            Err(e) if attempt < attempts && e.is_retryable() => {
                tracing::warn!(attempt, error = %e, "a partition failed");
                tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::function_error::ErrorName;

    #[tokio::test]
    async fn a_failed_partition_is_tried_again_and_the_answers_keep_their_order() {
        let tries = Arc::new(AtomicU32::new(0));
        let counter = tries.clone();
        let answers = run_partitions(vec![0, 1, 2], 3, move |i: u32| {
            let counter = counter.clone();
            async move {
                if i == 1 && counter.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Err(FunctionError::failed("once"));
                }
                Ok(i * 10)
            }
        })
        .await
        .unwrap();
        assert_eq!(answers, vec![0, 10, 20]);
        assert_eq!(tries.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_lost_lease_is_not_tried_again() {
        let tries = Arc::new(AtomicU32::new(0));
        let counter = tries.clone();
        let failed = run_partitions(vec![0], 3, move |_: u32| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Err::<u32, _>(FunctionError::new(ErrorName::LeaseHeld, "lost")) }
        })
        .await
        .unwrap_err();
        assert_eq!((failed.name, tries.load(Ordering::SeqCst)), (ErrorName::LeaseHeld, 1));
    }
}
