//! Imports that ride out a stall of the store: a chunk refused because the store is unavailable (throttling, a
//! timeout, a 5xx, a connection refused; `StoreError::Unavailable`, after the SDK's own quick retries) is sent
//! again with a growing pause, for up to a configurable time, while the progress bar says so. Re-sending a chunk
//! is safe: every import writes idempotently (rows already stored count as unchanged). Only a fault that outlasts
//! the limit stops the import, with the store's own message.

use std::future::Future;
use std::time::{Duration, Instant};

use domain::StoreError;
use domain::app::AppError;
use indicatif::ProgressBar;

/// How long an import waits for an unavailable store by default: a night-time import outlives a failover or a
/// maintenance restart rather than stop at row 3,000 of a million.
pub const DEFAULT_RETRY_SECONDS: u64 = 300;

/// The first pause after a failure, and the longest: the pause doubles from the one to the other.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const LONGEST_PAUSE: Duration = Duration::from_secs(15);

/// The `--retry-for SECONDS` option of the imports.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct Patience {
    /// How long to keep retrying while the store is unavailable (throttled, timing out, failing), in seconds;
    /// 0 stops at the first failure.
    #[arg(long = "retry-for", value_name = "SECONDS", default_value_t = DEFAULT_RETRY_SECONDS)]
    pub seconds: u64,
}

impl Patience {
    pub fn limit(self) -> Duration {
        Duration::from_secs(self.seconds)
    }

    /// Runs `op` until it succeeds, fails otherwise than by an unavailable store, or the store stays unavailable
    /// longer than the limit (counted from the first failure of a streak). The bar's message shows the wait.
    pub async fn run<T, F, Fut>(self, bar: &ProgressBar, op: F) -> Result<T, AppError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        self.run_on(bar, op, Instant::now, tokio::time::sleep).await
    }

    /// [`Patience::run`] on a given clock: the tests pass a clock that the pauses advance, so that they take no
    /// time (and need no paused tokio runtime, whose `test-util` feature would build tokio a second way).
    async fn run_on<T, F, Fut, S>(
        self,
        bar: &ProgressBar,
        mut op: F,
        now: impl Fn() -> Instant,
        sleep: impl Fn(Duration) -> S,
    ) -> Result<T, AppError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
        S: Future<Output = ()>,
    {
        let mut since: Option<Instant> = None;
        let mut pause = FIRST_PAUSE;
        loop {
            match op().await {
                Ok(value) => {
                    if since.is_some() {
                        bar.set_message("");
                        tracing::info!("the store answers again: the import goes on");
                    }
                    return Ok(value);
                }
                Err(AppError::Store(StoreError::Unavailable(reason))) => {
                    let first = *since.get_or_insert_with(&now);
                    let waited = now().saturating_duration_since(first);
                    if waited + pause > self.limit() {
                        return Err(AppError::Store(StoreError::Unavailable(reason)));
                    }
                    bar.set_message(format!(
                        "storage unavailable, retrying for {} s of {} s",
                        waited.as_secs(),
                        self.seconds
                    ));
                    // The reason holds SDK error codes only, never values (see StoreError).
                    tracing::warn!(waited_s = waited.as_secs(), %reason, "store unavailable: retrying the chunk");
                    sleep(pause).await;
                    pause = (pause * 2).min(LONGEST_PAUSE);
                }
                Err(other) => return Err(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A clock that only the pauses move: `now` reads it, `sleep` advances it and returns at once.
    struct PausedClock {
        start: Instant,
        slept: Cell<Duration>,
    }

    impl PausedClock {
        fn new() -> Self {
            Self { start: Instant::now(), slept: Cell::new(Duration::ZERO) }
        }

        fn now(&self) -> Instant {
            self.start + self.slept.get()
        }

        fn sleep(&self, pause: Duration) -> std::future::Ready<()> {
            self.slept.set(self.slept.get() + pause);
            std::future::ready(())
        }
    }

    fn unavailable() -> AppError {
        AppError::Store(StoreError::Unavailable("PutItem: InternalServerError".into()))
    }

    #[tokio::test]
    async fn a_stall_shorter_than_the_limit_is_waited_out_and_a_longer_one_stops() {
        let bar = ProgressBar::hidden();
        let calls = AtomicU32::new(0);
        // Fails five times (pauses of 0.5 + 1 + 2 + 4 + 8 = 15.5 s: a 15-second stall), then succeeds.
        let clock = PausedClock::new();
        let answer = Patience { seconds: 60 }
            .run_on(
                &bar,
                || async { if calls.fetch_add(1, Ordering::SeqCst) < 5 { Err(unavailable()) } else { Ok(7) } },
                || clock.now(),
                |pause| clock.sleep(pause),
            )
            .await;
        assert_eq!(answer.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 6);
        assert_eq!(clock.slept.get(), Duration::from_millis(15_500));

        let calls = AtomicU32::new(0);
        let clock = PausedClock::new();
        let answer: Result<u8, _> = Patience { seconds: 10 }
            .run_on(
                &bar,
                || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err(unavailable())
                },
                || clock.now(),
                |pause| clock.sleep(pause),
            )
            .await;
        assert!(matches!(answer, Err(AppError::Store(StoreError::Unavailable(_)))));
        // 0.5 + 1 + 2 + 4 = 7.5 s waited; the next pause (8 s) would pass the 10 s limit.
        assert_eq!(calls.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn other_failures_stop_at_once() {
        let bar = ProgressBar::hidden();
        let calls = AtomicU32::new(0);
        let answer: Result<u8, _> = Patience { seconds: 300 }
            .run(&bar, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(AppError::Internal("a bug".into()))
            })
            .await;
        assert!(matches!(answer, Err(AppError::Internal(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
