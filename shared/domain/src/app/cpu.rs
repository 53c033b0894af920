//! CPU-bound work off the async workers.
//!
//! The operations are `async` because their ports are; the few that compute for seconds (the scored linkage) must
//! not do it on the thread that polls them. Under `hersys serve` the API's requests and the schedules share the
//! runtime's few worker threads (two on a 2-core machine, one with `TOKIO_WORKER_THREADS=1`), so a linkage run
//! computed in place would hold a worker for its whole duration and the requests queued on it would wait. The work
//! goes to rayon's pool instead (where the linkage's own parallelism runs anyway) and the operation awaits a
//! channel. rayon rather than `tokio::task::spawn_blocking` keeps the domain free of a runtime: it works the same
//! under Lambda's runtime, `hersys serve` and a test's.

use std::panic::{AssertUnwindSafe, catch_unwind};

use futures::channel::oneshot;

use super::AppError;

/// Runs `work` on rayon's thread pool and waits for it without blocking the calling task's thread. A panic in
/// `work` comes back as an internal error (`what` names the computation) instead of taking the process down.
pub(crate) async fn off_the_async_workers<T, F>(what: &'static str, work: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (sender, receiver) = oneshot::channel();
    rayon::spawn(move || {
        // The receiver only goes away if the awaiting operation was dropped; nobody wants the result then.
        let _ = sender.send(catch_unwind(AssertUnwindSafe(work)));
    });
    match receiver.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_panic)) => Err(AppError::Internal(format!("{what} failed"))),
        Err(_cancelled) => Err(AppError::Internal(format!("{what} was abandoned"))),
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::sync::mpsc;
    use std::task::Context;
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_work_runs_on_another_thread_and_its_value_comes_back() {
        let caller = std::thread::current().id();
        let (worker, value) =
            futures::executor::block_on(off_the_async_workers("test", || (std::thread::current().id(), 42))).unwrap();
        assert_ne!(worker, caller);
        assert_eq!(value, 42);
    }

    #[test]
    fn the_operation_returns_to_its_thread_while_the_work_runs() {
        // The work waits for a signal that only this thread sends, after the first poll. Were the work run in
        // place, that poll would block until the work gave up (after 30 s) and come back ready with `false`.
        let (go, wait) = mpsc::channel::<()>();
        let mut pending =
            Box::pin(off_the_async_workers("test", move || wait.recv_timeout(Duration::from_secs(30)).is_ok()));
        let waker = futures::task::noop_waker();
        let mut context = Context::from_waker(&waker);
        assert!(pending.as_mut().poll(&mut context).is_pending());
        go.send(()).unwrap();
        assert!(futures::executor::block_on(pending).unwrap(), "the work saw the signal sent after the first poll");
    }

    #[test]
    fn a_panic_in_the_work_is_an_internal_error() {
        #[allow(clippy::panic)]
        let result =
            futures::executor::block_on(off_the_async_workers("the test computation", || -> u8 { panic!("boom") }));
        assert!(matches!(result, Err(AppError::Internal(m)) if m == "the test computation failed"));
    }
}
