//! The full run in one process: every entry, report and decision read, a new model estimated when there is none,
//! every report decided, the statistics recomputed.

use super::*;

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
        let options = self.linkage_options();
        // The index: what was written since the last run (read before everything else, so that all of it is among
        // what this run decides), or everything when the index has no state yet.
        let written = match &state {
            Some(s) => {
                let mut written = self.written_since(s, until).await?;
                self.index_entries(&written.entries).await?;
                self.index_reports(&written.reports).await?;
                (written.entries, written.reports) = (Vec::new(), Vec::new());
                Some(written)
            }
            None => None,
        };
        let mut entries = self.entries.all_entries().await?;
        entries.sort_by(|a, b| a.entry_id.cmp(&b.entry_id));
        let reports = self.all_reports().await?;
        let follow_ups = self.follow_ups.all_follow_ups().await?;
        let stored: HashMap<ReportId, LinkDecision> =
            self.links.all_decisions().await?.into_iter().map(|d| (d.report_id.clone(), d)).collect();
        let written = match written {
            Some(written) => written,
            None => {
                self.index_entries(&entries).await?;
                self.index_reports(&reports).await?;
                // The overlap's ids, of those this run read (one written after its read is the next run's).
                let read: HashSet<&str> = entries.iter().map(|e| e.entry_id.as_str()).collect();
                let recent = self.entries.entry_ids_written_since(until - WRITE_OVERLAP, until).await?;
                Written {
                    entry_ids: recent.into_iter().filter(|id| read.contains(id.as_str())).collect(),
                    report_ids: reports
                        .iter()
                        .filter(|r| r.updated_at >= until - WRITE_OVERLAP)
                        .map(|r| r.id.as_str().to_owned())
                        .collect(),
                    ..Written::default()
                }
            }
        };

        let (mut link_entries, mut entry_of) = (Vec::with_capacity(entries.len()), Vec::with_capacity(entries.len()));
        for (i, e) in entries.iter().enumerate() {
            if let Some(l) = entry_link(e) {
                link_entries.push(l);
                entry_of.push(i);
            }
        }
        let (mut link_reports, mut report_of) = (Vec::with_capacity(reports.len()), Vec::with_capacity(reports.len()));
        for (i, r) in reports.iter().enumerate() {
            if let Some(l) = report_link(r) {
                link_reports.push(l);
                report_of.push(i);
            }
        }
        let candidate_reports = link_reports.iter().filter(|r| r.is_candidate()).count();
        let options = estimate_options(options, link_entries.len(), candidate_reports);
        // Seconds of CPU at national scale: computed on rayon's pool, never on the async worker polling this run
        // (which, under `hersys serve`, also answers the API).
        tracing::info!(entries = link_entries.len(), reports = link_reports.len(), "linkage scoring started");
        let given = model.as_ref().map(|m| Model::from_params(&m.params));
        // Shared with the pool's closure (and a second scoring, rarely): not copied.
        let (link_entries, link_reports) = (Arc::new(link_entries), Arc::new(link_reports));
        let (mut decisions, mut scorer, mut engine) = {
            let (e, r, o, g) = (link_entries.clone(), link_reports.clone(), options.clone(), given.clone());
            off_the_async_workers("the linkage scoring", move || linkage::link_with(&e, &r, g.as_ref(), &o)).await?
        };
        let model = match model {
            Some(model) => model,
            None => {
                let counts = (link_entries.len(), candidate_reports, engine.candidate_pairs);
                // Decide with the model as stored (its numbers as read back), as every later run will.
                let stored_model = self.store_new_model(now, counts, scorer.params()).await?;
                if stored_model.params != scorer.params() {
                    let (e, r, o) = (link_entries.clone(), link_reports.clone(), options.clone());
                    let m = Model::from_params(&stored_model.params);
                    (decisions, scorer, engine) =
                        off_the_async_workers("the linkage scoring", move || linkage::link_with(&e, &r, Some(&m), &o))
                            .await?;
                }
                tracing::info!(version = %stored_model.version, "linkage model estimated");
                stored_model
            }
        };
        drop(scorer);
        tracing::info!(candidate_pairs = engine.candidate_pairs, "linkage scoring done");

        let mode = if given.is_some() { "full" } else { "estimate" };
        let mut run = LinkageRun::new(mode, &model.version, entries.len(), reports.len());
        run.candidate_pairs = engine.candidate_pairs;
        let mut decided: HashMap<ReportId, Option<LinkDecision>> = HashMap::new();
        for d in &decisions {
            let Some(report) = report_of.get(d.report).and_then(|&i| reports.get(i)) else { continue };
            let entry = |i: usize| entry_of.get(i).and_then(|&j| entries.get(j));
            if let Some(decision) = link_decision(report, d, entry, now, &model.version) {
                decided.insert(report.id.clone(), Some(decision));
            }
        }
        // Reports this run did not link: their earlier unreviewed scored decision goes.
        for id in stored.keys() {
            decided.entry(id.clone()).or_insert(None);
        }
        let mut current = stored.clone();
        let mut decided: Vec<(ReportId, Option<LinkDecision>)> = decided.into_iter().collect();
        decided.sort_by(|a, b| a.0.cmp(&b.0));
        for chunk in decided.chunks(RELINK_CHUNK) {
            let items: Vec<_> = chunk.iter().map(|(id, d)| (id, stored.get(id), d.as_ref())).collect();
            for ((id, decision), outcome) in chunk.iter().zip(self.settle_all(&items, &mut run).await?) {
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
        self.link_index.put_linkage_state(&self.state_after(until, written)).await?;

        // A pass over every entry and report: CPU too, so off the async worker as the scoring.
        let summary = off_the_async_workers("the linkage statistics", move || {
            summarise(now, &entries, &reports, &current, &follow_ups)
        })
        .await?;
        self.links.put_summary(&summary).await?;
        run.summary = Some(summary);
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
        Ok(run)
    }
}
