//! The protocol of the full runs in partitions (the full graph export, the full re-link), written once: the steps as
//! a state machine of `template.yaml` sends them, what each step answers, how a function handles one
//! ([`handle_step`]), and the local stand-in for the state machine ([`run_steps`], for the embedded store: `hersys
//! relink`, `hersys export --full --partitions N`). In AWS, and in the tests on moto's Step Functions interpreter, the
//! state machines run the steps.
//!
//! A run goes through the same steps, each an event of its function (`KEY` is the run's, `full_export` or
//! `full_linkage`):
//!
//! ```json
//! {"KEY": {"step": "start", "input": {...}}}                  -> {"run": {...}, "filing": [<file events>]}
//! {"KEY": {"step": "file", "run": {...}, "index": 3}}         -> the filing partition's counts
//! {"KEY": {"step": "prepare", "run": {...}}}                  -> {"run": {...}, "partitions": [<partition events>]}
//! {"KEY": {"step": "partition", "run": {...}, "index": 3}}    -> the partition's answer
//! {"KEY": {"step": "combine", "run": {...}, "partitions": [<the partitions' answers>], "now": "..."}}
//! {"KEY": {"step": "abandon", "run": {...}}}                  -> {"abandoned": "<run id>"}
//! ```
//!
//! The filing partitions (the first Map's items) are a re-link's first run only; a run without any goes from start
//! to prepare (the full export's state machine has no filing Map). `prepare` fixes what every partition works with
//! (the re-link's model) and gives the partition events, the second Map's items. `combine`'s `partitions` is the
//! Map's result, the partitions' answers in item order (the full export's partitions save their counts privately
//! and its state machine passes none); `now` is optional (the clock). A failed step after the start abandons the run.
//!
//! Locally, every partition runs at once; a failed one is tried again as the state machines' `Retry` does:
//! `StepFailed` is, `LeaseHeld` and `InvalidEvent` are not (another try cannot change them).

use std::fmt::Debug;
use std::future::Future;

use async_trait::async_trait;
use domain::time::Instant;
use futures::StreamExt;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::function_error::FunctionError;

/// What a step's parts are on the wire: JSON both ways, comparable in tests.
pub trait Wire: Debug + Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static {}
impl<T: Debug + Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static> Wire for T {}

/// A kind of full run, as its steps carry it: the event's key and the types its steps pass on.
pub trait FullRunKind: Debug + Clone + PartialEq + Send + Sync + 'static {
    /// The key of the run's events (`full_export`, `full_linkage`).
    const KEY: &'static str;
    /// The run's name in messages (`full export`, `full re-link`).
    const NAME: &'static str;
    /// The execution's input, as the start step receives it.
    type Input: Wire;
    /// The run in progress, as the steps pass it on (ids, counts, a model version: no personal data).
    type Run: Wire;
    /// What a filing partition answers.
    type Filed: Wire;
    /// What a partition answers; the combining step receives them all.
    type Partial: Wire;

    /// The run's id (of our making: not personal data), which the abandon step answers.
    fn run_id(run: &Self::Run) -> &str;
}

/// One step of a full run of kind `K`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields, bound = "")]
pub enum Step<K: FullRunKind> {
    Start {
        input: K::Input,
    },
    File {
        run: K::Run,
        index: u32,
    },
    Prepare {
        run: K::Run,
    },
    Partition {
        run: K::Run,
        index: u32,
    },
    /// `partitions`: the partitions' answers (none where the partitions save their results privately); `now`: the
    /// day the published figures end on (default: the clock, as a scheduled run's event time).
    Combine {
        run: K::Run,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        partitions: Vec<K::Partial>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        now: Option<Instant>,
    },
    Abandon {
        run: K::Run,
    },
}

/// A step as the function receives it: `{"<K::KEY>": {"step": ..., ...}}`, nothing else beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepEvent<K: FullRunKind>(pub Step<K>);

impl<K: FullRunKind> Serialize for StepEvent<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(K::KEY, &self.0)?;
        map.end()
    }
}

impl<'de, K: FullRunKind> Deserialize<'de> for StepEvent<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(KeyedVisitor::<K>(std::marker::PhantomData))
    }
}

/// Reads the one-key object of a [`StepEvent`], refusing another key as `#[serde(deny_unknown_fields)]` does.
struct KeyedVisitor<K>(std::marker::PhantomData<K>);

impl<'de, K: FullRunKind> Visitor<'de> for KeyedVisitor<K> {
    type Value = StepEvent<K>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an object with the one field `{}`", K::KEY)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut step = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != K::KEY {
                return Err(serde::de::Error::unknown_field(&key, &[K::KEY]));
            }
            if step.is_some() {
                return Err(serde::de::Error::duplicate_field(K::KEY));
            }
            step = Some(map.next_value::<Step<K>>()?);
        }
        step.map(StepEvent).ok_or_else(|| serde::de::Error::missing_field(K::KEY))
    }
}

/// What `start` answers: the run, and the filing events (the first Map's items; most runs have none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Started<K: FullRunKind> {
    pub run: K::Run,
    pub filing: Vec<StepEvent<K>>,
}

/// What `prepare` answers: the run as every partition works with it, and one event per partition (the second
/// Map's items).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Prepared<K: FullRunKind> {
    pub run: K::Run,
    pub partitions: Vec<StepEvent<K>>,
}

/// What a step answers; `C` is the combining step's answer, which is the function's answer to a scheduled run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged, bound(serialize = "C: Serialize"))]
pub enum StepAnswer<K: FullRunKind, C> {
    Started(Started<K>),
    Filed(K::Filed),
    Prepared(Prepared<K>),
    Partition(K::Partial),
    Combined(C),
    Abandoned { abandoned: String },
}

/// What a function does at each step of its full run. The protocol (which step follows which, what each answers)
/// is [`handle_step`]'s and [`run_steps`]'s.
#[async_trait]
pub trait FullRunSteps: Clone + Send + Sync + 'static {
    type Kind: FullRunKind;
    /// The combining step's answer.
    type Combined: Debug + Clone + PartialEq + Serialize + Send + 'static;

    /// Takes the lease and starts a run: the run, and how many filing partitions it has.
    async fn start(&self, input: <Self::Kind as FullRunKind>::Input) -> Result<Run<Self>, FunctionError>;
    async fn file(&self, run: &Run<Self>, index: u32) -> Result<<Self::Kind as FullRunKind>::Filed, FunctionError>;
    /// The run as every partition works with it, and how many partitions it has.
    async fn prepare(&self, run: &Run<Self>) -> Result<(Run<Self>, u32), FunctionError>;
    async fn partition(&self, run: &Run<Self>, index: u32) -> Result<Partial<Self>, FunctionError>;
    async fn combine(
        &self,
        run: &Run<Self>,
        partitions: &[Partial<Self>],
        now: Option<Instant>,
    ) -> Result<Self::Combined, FunctionError>;
    /// Frees the lease and the partial results; the state stays as it was.
    async fn abandon(&self, run: &Run<Self>) -> Result<(), FunctionError>;
    /// How many filing partitions a started run has.
    fn filing(run: &Run<Self>) -> u32;
}

/// The run type of a function's full run.
pub type Run<R> = <<R as FullRunSteps>::Kind as FullRunKind>::Run;
type Partial<R> = <<R as FullRunSteps>::Kind as FullRunKind>::Partial;

/// Handles one step of a full run.
pub async fn handle_step<R: FullRunSteps>(
    runner: &R,
    step: Step<R::Kind>,
) -> Result<StepAnswer<R::Kind, R::Combined>, FunctionError> {
    Ok(match step {
        Step::Start { input } => {
            let run = runner.start(input).await?;
            let filing = (0..R::filing(&run)).map(|index| StepEvent(Step::File { run: run.clone(), index })).collect();
            StepAnswer::Started(Started { run, filing })
        }
        Step::File { run, index } => StepAnswer::Filed(runner.file(&run, index).await?),
        Step::Prepare { run } => {
            let (run, partitions) = runner.prepare(&run).await?;
            let partitions =
                (0..partitions).map(|index| StepEvent(Step::Partition { run: run.clone(), index })).collect();
            StepAnswer::Prepared(Prepared { run, partitions })
        }
        Step::Partition { run, index } => StepAnswer::Partition(runner.partition(&run, index).await?),
        Step::Combine { run, partitions, now } => StepAnswer::Combined(runner.combine(&run, &partitions, now).await?),
        Step::Abandon { run } => {
            runner.abandon(&run).await?;
            StepAnswer::Abandoned { abandoned: R::Kind::run_id(&run).to_owned() }
        }
    })
}

/// Runs a full run in this process, step by step as its state machine does: start, the filing partitions at once,
/// prepare, every partition at once (each partition of either kind tried up to `attempts` times), then combine as
/// of `now` (default: the clock). If a step after the start fails, abandons the run and fails naming the step's
/// error. Answers as the combining step does.
pub async fn run_steps<R: FullRunSteps>(
    runner: &R,
    input: <R::Kind as FullRunKind>::Input,
    attempts: u32,
    now: Option<Instant>,
) -> Result<R::Combined, FunctionError> {
    let StepAnswer::Started(Started { run, filing }) = handle_step(runner, Step::Start { input }).await? else {
        return Err(FunctionError::failed("start answered as another step"));
    };
    match after_start(runner, run.clone(), filing, attempts, now).await {
        Ok(answer) => Ok(answer),
        Err(e) => {
            handle_step(runner, Step::Abandon { run }).await?;
            Err(FunctionError::new(e.name, format!("the {} failed: {e}", R::Kind::NAME)))
        }
    }
}

/// The steps after the start, as the state machine runs them: filing, prepare, the partitions, combine.
async fn after_start<R: FullRunSteps>(
    runner: &R,
    run: Run<R>,
    filing: Vec<StepEvent<R::Kind>>,
    attempts: u32,
    now: Option<Instant>,
) -> Result<R::Combined, FunctionError> {
    let worker = runner.clone();
    let step = move |event: StepEvent<R::Kind>| {
        let runner = worker.clone();
        async move { handle_step(&runner, event.0).await }
    };
    run_partitions(filing, attempts, step.clone()).await?;
    let StepAnswer::Prepared(Prepared { run, partitions }) = handle_step(runner, Step::Prepare { run }).await? else {
        return Err(FunctionError::failed("prepare answered as another step"));
    };
    let answers = run_partitions(partitions, attempts, step).await?;
    let partitions = answers
        .into_iter()
        .map(|answer| match answer {
            StepAnswer::Partition(partial) => Ok(partial),
            _ => Err(FunctionError::failed("a partition answered as another step")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    match handle_step(runner, Step::Combine { run, partitions, now }).await? {
        StepAnswer::Combined(answer) => Ok(answer),
        _ => Err(FunctionError::failed("combine answered as another step")),
    }
}

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

    /// A kind of run for the tests of the step type: its run is an id and a count.
    #[derive(Debug, Clone, PartialEq)]
    enum Counting {}

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct CountingRun {
        run: String,
        partitions: u32,
    }

    impl FullRunKind for Counting {
        const KEY: &'static str = "full_count";
        const NAME: &'static str = "full count";
        type Input = serde_json::Value;
        type Run = CountingRun;
        type Filed = ();
        type Partial = u32;

        fn run_id(run: &CountingRun) -> &str {
            &run.run
        }
    }

    fn decode(value: serde_json::Value) -> Result<StepEvent<Counting>, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn a_step_event_is_its_runs_key_around_the_step_and_reads_back_as_it_was_written() {
        let run = CountingRun { run: "r1".into(), partitions: 2 };
        let combine = StepEvent::<Counting>(Step::Combine { run, partitions: vec![3, 4], now: None });
        let json = serde_json::to_value(&combine).unwrap();
        let expected = serde_json::json!({
            "full_count": { "step": "combine", "run": { "run": "r1", "partitions": 2 }, "partitions": [3, 4] }
        });
        assert_eq!(json, expected);
        assert_eq!(decode(json).unwrap(), combine);
        // The partitions' answers may be absent (a run whose partitions save their results privately).
        let bare = serde_json::json!({ "full_count": { "step": "combine", "run": { "run": "r1", "partitions": 2 } } });
        assert!(matches!(decode(bare).unwrap().0, Step::Combine { partitions, .. } if partitions.is_empty()));
    }

    #[test]
    fn a_step_event_of_another_run_or_with_another_field_is_refused_naming_the_field() {
        let start = serde_json::json!({ "step": "start", "input": {} });
        let other = decode(serde_json::json!({ "full_export": start })).unwrap_err();
        assert!(other.contains("unknown field `full_export`, expected `full_count`"), "{other}");
        let beside = decode(serde_json::json!({ "full_count": start, "time": "2021-01-01T00:00:00Z" })).unwrap_err();
        assert!(beside.contains("unknown field `time`"), "{beside}");
        let empty = decode(serde_json::json!({})).unwrap_err();
        assert!(empty.contains("missing field `full_count`"), "{empty}");
        let unknown_step = decode(serde_json::json!({ "full_count": { "step": "sleep" } })).unwrap_err();
        assert!(unknown_step.contains("unknown variant `sleep`"), "{unknown_step}");
    }

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
