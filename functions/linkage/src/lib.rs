//! The scheduled linkage: joins outbreak reports with quarantine entry records and stores the decisions.
//! The hourly event links what was written since the last run; an event whose `detail` is `{"mode": "full"}`
//! re-links everything with the current model, `{"mode": "estimate"}` estimates a new model version from every record
//! first (the first run does; the daily schedule estimates from a sample and re-links in partitions instead: [`full`]).
//! The full runs recompute the statistics and publish them as the public CSV files
//! (`publish::linkage`, small counts hidden) beside the graph export's files.

use domain::app::{AppError, Linkage, LinkageMode, LinkageRun, MissingPort, Publisher, Relink, Wiring};
use domain::time::Instant;
use platform::function_error::{FunctionError, encode_answer};
use publish::Audience;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use api::events::{ScheduledEvent, StepOrScheduled};

pub mod full;

/// The events the function takes: a step of a partitioned full re-link (what `FullLinkageStateMachine` sends), or
/// a scheduled event (EventBridge Scheduler).
pub type Event = StepOrScheduled<full::StepEvent, Scheduled>;

/// A scheduled event: "now" is its `time`; `detail.mode` the run asked for (none: the hourly run).
#[derive(Debug, Deserialize)]
pub struct Scheduled {
    pub time: Instant,
    #[serde(default)]
    pub detail: Option<Detail>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Detail {
    #[serde(default)]
    pub mode: Option<String>,
}

/// What the function answers (counts, ids and file names only).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Run(RunAnswer),
    Skipped {
        now: Instant,
        skipped: &'static str,
    },
    /// A step of the full re-link in partitions (its combining step answers a [`RunAnswer`] too).
    Step(full::StepAnswer),
}

/// What a linkage run did, and the public files it wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunAnswer {
    pub now: Instant,
    pub mode: &'static str,
    pub model_version: String,
    pub entries: usize,
    pub reports: usize,
    pub candidate_pairs: usize,
    pub links: usize,
    pub reviews: usize,
    pub written: usize,
    pub unchanged: usize,
    pub kept_reviewed: usize,
    pub removed: usize,
    pub files: Vec<String>,
    /// The partitions a full run in partitions ran in (the combining step's answer); none for a scheduled run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partitions: Option<u32>,
}

/// What the function runs on, built once per cold start.
#[derive(Clone)]
pub struct Services {
    pub linkage: Linkage,
    /// The partitioned full re-link, where the function has the state bucket (`FullLinkageFunction`; locally,
    /// always). The hourly function has none: a step sent to it is refused.
    pub relink: Option<Relink>,
    pub publisher: Publisher,
}

impl Services {
    pub fn new(wiring: &Wiring) -> Result<Services, MissingPort> {
        Ok(Services { linkage: wiring.linkage(), relink: wiring.relink().ok(), publisher: wiring.publisher()? })
    }

    /// What the full re-link's steps run on, or why this function cannot run them.
    fn full_relink(&self) -> Result<full::FullRelink, FunctionError> {
        let relink = self.relink.clone().ok_or_else(|| {
            FunctionError::invalid_event("a full_linkage step, but this function is wired without EXPORT_STATE_BUCKET")
        })?;
        Ok(full::FullRelink { relink, publisher: self.publisher.clone() })
    }
}

/// Handles one event as Lambda delivers it: decoded into [`Event`], answered as JSON.
pub async fn handle(services: &Services, event: Value) -> Result<Value, FunctionError> {
    let event = Event::decode(event, "a full_linkage step").map_err(FunctionError::invalid_event)?;
    encode_answer(&handle_event(services, event).await?)
}

/// Handles one typed event.
pub async fn handle_event(services: &Services, event: Event) -> Result<Answer, FunctionError> {
    let event = match event {
        Event::Step(step) => {
            let steps = services.full_relink()?;
            return Ok(Answer::Step(platform::partitioned::handle_step(&steps, step.0).await?));
        }
        Event::Scheduled(event) => event,
    };
    let mode = mode_of(event.detail.as_ref())?;
    match services.linkage.run_linkage(event.time, mode).await {
        Ok(run) => Ok(Answer::Run(publish_run(&services.publisher, event.time, &run).await?)),
        // A full re-link holds the lease: it decides and publishes; what was written meanwhile is the next run's.
        Err(AppError::LeaseHeld(_)) => {
            tracing::info!("a full re-link is in progress: this run does nothing");
            Ok(Answer::Skipped { now: event.time, skipped: "a full re-link is in progress" })
        }
        Err(e) => Err(e.into()),
    }
}

/// Publishes the statistics a run recomputed (the full runs) and gives the run's answer: counts and file names.
async fn publish_run(publisher: &Publisher, now: Instant, run: &LinkageRun) -> Result<RunAnswer, FunctionError> {
    let rendered = match &run.summary {
        Some(summary) => publish::linkage::files(summary.into(), Audience::Public)
            .map_err(|e| FunctionError::failed(e.to_string()))?,
        None => Vec::new(),
    };
    let mut files = Vec::with_capacity(rendered.len());
    for file in rendered {
        publisher
            .put(&file.path, file.content_type, file.bytes)
            .await
            .map_err(|e| FunctionError::failed(e.to_string()))?;
        files.push(file.path);
    }
    if !files.is_empty() {
        // The freshness alarm (template.yaml, LinkageStatisticsStaleAlarm): none counted for 26 hours.
        publisher.count_published("linkage_statistics");
    }
    Ok(RunAnswer {
        now,
        mode: run.mode,
        model_version: run.model_version.clone(),
        entries: run.entries,
        reports: run.reports,
        candidate_pairs: run.candidate_pairs,
        links: run.links,
        reviews: run.reviews,
        written: run.written,
        unchanged: run.unchanged,
        kept_reviewed: run.kept_reviewed,
        removed: run.removed,
        files,
        partitions: None,
    })
}

/// The run an event asks for: `detail.mode` (`incremental`, `full`, `estimate`); none is the hourly run.
fn mode_of(detail: Option<&Detail>) -> Result<LinkageMode, FunctionError> {
    match detail.and_then(|d| d.mode.as_deref()) {
        None => Ok(LinkageMode::Incremental),
        Some(name) => LinkageMode::parse(name)
            .ok_or_else(|| FunctionError::invalid_event("detail.mode must be one of: incremental, full, estimate")),
    }
}
