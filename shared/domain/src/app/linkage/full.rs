//! The full run in one process: every entry, report and decision read, a new model estimated when there is none,
//! every report decided, the statistics recomputed.

use super::*;
use crate::follow_up::FollowUpRecord;
use linkage_engine::RunStats;

/// Every record a full run reads.
struct Everything {
    /// By entry id.
    entries: Vec<EntryRecord>,
    /// By report id.
    reports: Vec<CaseReport>,
    follow_ups: Vec<FollowUpRecord>,
    /// The stored decisions, by report.
    stored: HashMap<ReportId, LinkDecision>,
}

/// The records as the engine takes them (those it can link), with where each came from in [`Everything`].
struct EngineInput {
    /// Shared with the scoring's closure on rayon's pool (and a second scoring, rarely): not copied.
    entries: Arc<Vec<LinkEntry>>,
    entry_of: Vec<usize>,
    reports: Arc<Vec<LinkReport>>,
    report_of: Vec<usize>,
    candidate_reports: usize,
}

impl EngineInput {
    fn of(all: &Everything) -> EngineInput {
        let (mut entries, mut entry_of) = (Vec::with_capacity(all.entries.len()), Vec::new());
        for (i, e) in all.entries.iter().enumerate() {
            if let Some(l) = entry_link(e) {
                entries.push(l);
                entry_of.push(i);
            }
        }
        let (mut reports, mut report_of) = (Vec::with_capacity(all.reports.len()), Vec::new());
        for (i, r) in all.reports.iter().enumerate() {
            if let Some(l) = report_link(r) {
                reports.push(l);
                report_of.push(i);
            }
        }
        let candidate_reports = reports.iter().filter(|r| r.is_candidate()).count();
        EngineInput { entries: Arc::new(entries), entry_of, reports: Arc::new(reports), report_of, candidate_reports }
    }

    /// Scores every report with `model` (estimated when `None`), on rayon's pool: seconds of CPU at national scale,
    /// never on the async worker polling this run (which, under `hersys serve`, also answers the API).
    async fn score(
        &self,
        model: Option<Model>,
        options: &Options,
    ) -> Result<(Vec<Decision>, Model, RunStats), AppError> {
        let (e, r, o) = (self.entries.clone(), self.reports.clone(), options.clone());
        off_the_async_workers("the linkage scoring", move || linkage::link_with(&e, &r, model.as_ref(), &o)).await
    }
}

impl Linkage {
    /// The full run: reads every entry, report and decision, files what was written since the last run in the
    /// index (everything on a first run), estimates a new model when `model` is `None`, decides every report, and
    /// recomputes the statistics.
    pub(super) async fn link_fully(
        &self,
        now: Instant,
        model: Option<StoredModel>,
        state: Option<LinkageState>,
    ) -> Result<LinkageRun, AppError> {
        let until = self.clock.now();
        // The index: what was written since the last run, filed before everything else is read (so that all of it
        // is among what this run decides); or, when the index has no state yet, everything read.
        let filed = match &state {
            Some(s) => Some(self.file_written_since(s, until).await?),
            None => None,
        };
        let all = self.read_everything().await?;
        let written = match filed {
            Some(written) => written,
            None => self.file_everything(&all, until).await?,
        };
        let input = EngineInput::of(&all);
        let options = estimate_options(self.linkage_options(), input.entries.len(), input.candidate_reports);
        let mode = if model.is_some() { "full" } else { "estimate" };
        tracing::info!(entries = input.entries.len(), reports = input.reports.len(), "linkage scoring started");
        let (decisions, stats, model) = self.score_everything(now, model, &input, &options).await?;
        tracing::info!(candidate_pairs = stats.candidate_pairs, "linkage scoring done");

        let mut run = LinkageRun::new(mode, &model.version, all.entries.len(), all.reports.len());
        run.candidate_pairs = stats.candidate_pairs;
        let current = self.settle_everything(&all, &input, &decisions, now, &model.version, &mut run).await?;
        self.link_index.put_linkage_state(&self.state_after(until, written)).await?;

        // A pass over every entry and report: CPU too, so off the async worker as the scoring.
        let Everything { entries, reports, follow_ups, .. } = all;
        let summary = off_the_async_workers("the linkage statistics", move || {
            summarise(now, &entries, &reports, &current, &follow_ups)
        })
        .await?;
        self.links.put_summary(&summary).await?;
        run.summary = Some(summary);
        log_run(&run);
        Ok(run)
    }

    /// Files in the index what was written since the last run (`state`) until `until`, and gives the overlap's ids
    /// for the next run (without the records, which this run reads again with everything else).
    async fn file_written_since(&self, state: &LinkageState, until: Instant) -> Result<Written, AppError> {
        let mut written = self.written_since(state, until).await?;
        self.index_entries(&written.entries).await?;
        self.index_reports(&written.reports).await?;
        (written.entries, written.reports) = (Vec::new(), Vec::new());
        Ok(written)
    }

    async fn read_everything(&self) -> Result<Everything, AppError> {
        let mut entries = self.entries.all_entries().await?;
        entries.sort_by(|a, b| a.entry_id.cmp(&b.entry_id));
        let reports = self.all_reports().await?;
        let follow_ups = self.follow_ups.all_follow_ups().await?;
        let stored = self.links.all_decisions().await?.into_iter().map(|d| (d.report_id.clone(), d)).collect();
        Ok(Everything { entries, reports, follow_ups, stored })
    }

    /// Files every record read in the index (the index's first run), and gives the overlap's ids of those this run
    /// read (one written after its read is the next run's).
    async fn file_everything(&self, all: &Everything, until: Instant) -> Result<Written, AppError> {
        self.index_entries(&all.entries).await?;
        self.index_reports(&all.reports).await?;
        let read: HashSet<&str> = all.entries.iter().map(|e| e.entry_id.as_str()).collect();
        let recent = self.entries.entry_ids_written_since(until - WRITE_OVERLAP, until).await?;
        Ok(Written {
            entry_ids: recent.into_iter().filter(|id| read.contains(id.as_str())).collect(),
            report_ids: all
                .reports
                .iter()
                .filter(|r| r.updated_at >= until - WRITE_OVERLAP)
                .map(|r| r.id.as_str().to_owned())
                .collect(),
            ..Written::default()
        })
    }

    /// Scores every report with the stored `model`; without one, estimates a model, stores it as a new version and
    /// decides with it as stored (its numbers as read back), as every later run will.
    async fn score_everything(
        &self,
        now: Instant,
        model: Option<StoredModel>,
        input: &EngineInput,
        options: &Options,
    ) -> Result<(Vec<Decision>, RunStats, StoredModel), AppError> {
        let given = model.as_ref().map(|m| Model::from_params(&m.params));
        let (decisions, scorer, stats) = input.score(given, options).await?;
        if let Some(model) = model {
            return Ok((decisions, stats, model));
        }
        let counts = (input.entries.len(), input.candidate_reports, stats.candidate_pairs);
        let stored = self.store_new_model(now, counts, scorer.params()).await?;
        tracing::info!(version = %stored.version, "linkage model estimated");
        if stored.params == scorer.params() {
            return Ok((decisions, stats, stored));
        }
        let (decisions, _, stats) = input.score(Some(Model::from_params(&stored.params)), options).await?;
        Ok((decisions, stats, stored))
    }

    /// Settles every report's new decision against its stored one (a stored one this run did not link goes, unless
    /// reviewed), `RELINK_CHUNK` reports at a time, and gives the decisions as stored afterwards.
    async fn settle_everything(
        &self,
        all: &Everything,
        input: &EngineInput,
        decisions: &[Decision],
        now: Instant,
        model_version: &str,
        run: &mut LinkageRun,
    ) -> Result<HashMap<ReportId, LinkDecision>, AppError> {
        let mut decided: HashMap<ReportId, Option<LinkDecision>> = HashMap::new();
        for d in decisions {
            let Some(report) = input.report_of.get(d.report).and_then(|&i| all.reports.get(i)) else { continue };
            let entry = |i: usize| input.entry_of.get(i).and_then(|&j| all.entries.get(j));
            if let Some(decision) = link_decision(report, d, entry, now, model_version) {
                decided.insert(report.id.clone(), Some(decision));
            }
        }
        for id in all.stored.keys() {
            decided.entry(id.clone()).or_insert(None);
        }
        let mut current = all.stored.clone();
        let mut decided: Vec<(ReportId, Option<LinkDecision>)> = decided.into_iter().collect();
        decided.sort_by(|a, b| a.0.cmp(&b.0));
        for chunk in decided.chunks(RELINK_CHUNK) {
            let items: Vec<_> = chunk.iter().map(|(id, d)| (id, all.stored.get(id), d.as_ref())).collect();
            for ((id, decision), outcome) in chunk.iter().zip(self.settle_all(&items, run).await?) {
                match (outcome, decision) {
                    (Settled::Written, Some(d)) => {
                        current.insert(id.clone(), d.clone());
                    }
                    (Settled::Removed, _) => {
                        current.remove(id);
                    }
                    _ => {}
                }
            }
        }
        Ok(current)
    }
}

/// The line a full run logs when it is done (counts only).
fn log_run(run: &LinkageRun) {
    tracing::info!(
        mode = run.mode,
        model = %run.model_version,
        entries = run.entries,
        reports = run.reports,
        candidate_pairs = run.candidate_pairs,
        links = run.links,
        reviews = run.reviews,
        written = run.written,
        unchanged = run.unchanged,
        kept_reviewed = run.kept_reviewed,
        removed = run.removed,
        "linkage run done"
    );
}
