//! The hourly run: what was written since the last run, linked through the stored index with the stored model.

use super::*;

impl Linkage {
    /// The hourly run: the reports written since the last run, and the reports within the window after each entry
    /// written since then, are decided again against their candidates read through the index. Nothing else is read.
    pub(super) async fn link_incrementally(
        &self,
        now: Instant,
        model: &StoredModel,
        state: &LinkageState,
    ) -> Result<LinkageRun, AppError> {
        let until = self.clock.now();
        let started = std::time::Instant::now();
        let options = self.linkage_options();
        let window = options.window_days;
        let mut written = self.written_since(state, until).await?;
        let (new_entries, new_reports) = (std::mem::take(&mut written.entries), std::mem::take(&mut written.reports));
        let read_ms = started.elapsed().as_millis();
        let mut indexed = Vec::with_capacity(new_entries.len());
        self.index_entries_keeping(&new_entries, |day, keys| indexed.push((day, keys.to_vec()))).await?;
        self.index_reports(&new_reports).await?;
        let index_ms = started.elapsed().as_millis();

        let affected = self.affected_reports(&new_entries, &indexed, &new_reports, window).await?;
        let affected_ms = started.elapsed().as_millis();
        let scorer = Model::from_params(&model.params);
        let mut run = LinkageRun::new("incremental", &model.version, new_entries.len(), new_reports.len());
        let affected_reports = affected.len();
        for chunk in affected.chunks(RELINK_CHUNK) {
            let chunk: Vec<&CaseReport> = chunk.iter().collect();
            self.relink_all(&chunk, &scorer, &model.version, &options, now, &mut run).await?;
        }
        self.link_index.put_linkage_state(&self.state_after(until, written)).await?;
        // Cumulative milliseconds at the end of each phase: read, filed in the index, affected reports found, decided.
        let decided_ms = started.elapsed().as_millis();
        tracing::info!(
            new_entries = run.entries,
            new_reports = run.reports,
            affected_reports,
            read_ms,
            index_ms,
            affected_ms,
            decided_ms,
            candidate_pairs = run.candidate_pairs,
            written = run.written,
            unchanged = run.unchanged,
            kept_reviewed = run.kept_reviewed,
            removed = run.removed,
            "incremental linkage run done"
        );
        Ok(run)
    }

    /// The reports to decide again: the new ones, and those a new entry may change (filed under one of its keys,
    /// `indexed`, within the window after it), read in batches.
    async fn affected_reports(
        &self,
        new_entries: &[EntryRecord],
        indexed: &[(i32, Vec<String>)],
        new_reports: &[CaseReport],
        window: i32,
    ) -> Result<Vec<CaseReport>, AppError> {
        let mut affected: BTreeMap<ReportId, Option<CaseReport>> =
            new_reports.iter().map(|r| (r.id.clone(), Some(r.clone()))).collect();
        if let (Some(first), Some(last)) =
            (new_entries.iter().map(|e| e.entry_date).min(), new_entries.iter().map(|e| e.entry_date).max())
        {
            let to = last + chrono::Days::new(window.max(0) as u64);
            let mut filed: HashMap<String, Vec<(NaiveDate, ReportId)>> = HashMap::new();
            for (key, day, id) in self.link_index.report_keys_between(first, to).await? {
                filed.entry(key).or_default().push((day, id));
            }
            for (entry_day, keys) in indexed {
                for key in keys {
                    for (day, id) in filed.get(key).into_iter().flatten() {
                        if linkage::in_window(*entry_day, Day::from_date(*day).number, window) {
                            affected.entry(id.clone()).or_insert(None);
                        }
                    }
                }
            }
        }
        let missing: Vec<ReportId> = affected.iter().filter(|(_, r)| r.is_none()).map(|(id, _)| id.clone()).collect();
        for chunk in missing.chunks(READ_CHUNK) {
            for r in self.reports.get_reports(chunk).await? {
                affected.insert(r.id.clone(), Some(r));
            }
        }
        Ok(affected.into_values().flatten().collect())
    }

    /// Decides reports again against their candidates read through the index (none for a report that is no
    /// candidate) and settles each decision against the stored one, counting them in `run`. Reads in batches: the
    /// reports' stored decisions at once, each report's candidate ids through the index, then the candidates' entry
    /// records at once. Answers the decisions stored once settled (`None`: none), in the order of `reports`.
    pub(in crate::app) async fn relink_all(
        &self,
        reports: &[&CaseReport],
        scorer: &Model,
        model_version: &str,
        options: &Options,
        now: Instant,
        run: &mut LinkageRun,
    ) -> Result<Vec<Option<LinkDecision>>, AppError> {
        let ids: Vec<ReportId> = reports.iter().map(|r| r.id.clone()).collect();
        let mut stored: HashMap<ReportId, LinkDecision> = HashMap::with_capacity(reports.len());
        for chunk in ids.chunks(READ_CHUNK) {
            stored.extend(self.links.decisions_of(chunk).await?.into_iter().map(|d| (d.report_id.clone(), d)));
        }
        let links: Vec<Option<LinkReport>> =
            reports.iter().map(|r| report_link(r).filter(LinkReport::is_candidate)).collect();
        let candidate_ids = self.candidate_ids(reports, &links, options.window_days).await?;
        let entries = self.entries_of(&candidate_ids).await?;
        let wanted = links.into_iter().zip(candidate_ids);
        let mut decided: Vec<(Option<LinkDecision>, Option<LinkDecision>)> = Vec::with_capacity(reports.len());
        for (report, (link, candidate_ids)) in reports.iter().zip(wanted) {
            // In entry-id order, as the full run numbers them; only entries the engine can read.
            let (candidates, views): (Vec<&EntryRecord>, Vec<LinkEntry>) = candidate_ids
                .iter()
                .filter_map(|id| entries.get(id))
                .filter_map(|e| entry_link(e).map(|view| (e, view)))
                .unzip();
            let decision = link.and_then(|r| {
                run.candidate_pairs += candidates.len();
                linkage::decide_one(&r, &views, scorer, options)
                    .and_then(|d| link_decision(report, &d, |i| candidates.get(i).copied(), now, model_version))
            });
            decided.push((stored.remove(&report.id), decision));
        }
        let items: Vec<_> =
            reports.iter().zip(&decided).map(|(r, (old, new))| (&r.id, old.as_ref(), new.as_ref())).collect();
        let outcomes = self.settle_all(&items, run).await?;
        // The decision stored once settled.
        let mut settled = Vec::with_capacity(reports.len());
        for ((report, (stored, decision)), outcome) in reports.iter().zip(decided).zip(outcomes) {
            settled.push(match outcome {
                Settled::Removed => None,
                Settled::Written => decision,
                Settled::Kept => match (&decision, &stored) {
                    (None, _) => stored,
                    (Some(new), Some(old)) if old.is_reviewed() || old.same_outcome(new) => stored,
                    // The write met a decision a health centre answered in between: the store has it.
                    _ => self.links.get_decision(&report.id).await?,
                },
            });
        }
        Ok(settled)
    }

    /// The entry records of these ids (each read once, in batches), by id.
    pub(in crate::app) async fn entries_of(
        &self,
        ids: &[Vec<String>],
    ) -> Result<HashMap<String, EntryRecord>, AppError> {
        let mut all: Vec<&String> = ids.iter().flatten().collect();
        all.sort_unstable();
        all.dedup();
        let mut entries = HashMap::with_capacity(all.len());
        for chunk in all.chunks(READ_CHUNK) {
            let chunk: Vec<String> = chunk.iter().map(|id| (*id).clone()).collect();
            entries.extend(self.entries.get_entries(&chunk).await?.into_iter().map(|e| (e.entry_id.clone(), e)));
        }
        Ok(entries)
    }

    /// Stores a newly estimated model as the next version, with what it was estimated on (entries, candidate
    /// reports, candidate pairs), and answers it as read back: every run decides with the stored numbers.
    pub(in crate::app) async fn store_new_model(
        &self,
        now: Instant,
        (entries, reports, candidate_pairs): (usize, usize, usize),
        params: linkage::score::ModelParams,
    ) -> Result<StoredModel, AppError> {
        let estimated = StoredModel {
            version: StoredModel::next_version(self.link_index.current_model().await?.as_ref()),
            estimated_at: now,
            entries: entries as u64,
            reports: reports as u64,
            candidate_pairs: candidate_pairs as u64,
            params,
        };
        self.link_index.put_model(&estimated).await?;
        Ok(self.link_index.current_model().await?.unwrap_or(estimated))
    }

    /// Each report's candidate entry ids through the stored index (none where `links` has no candidate view): the
    /// entries filed under one of its keys within the window before its diagnosis, leaving out a key that files more
    /// than [`linkage::MAX_BLOCK`] of them (the full run's rule); sorted, each once. One index read for all.
    pub(in crate::app) async fn candidate_ids(
        &self,
        reports: &[&CaseReport],
        links: &[Option<LinkReport>],
        window: i32,
    ) -> Result<Vec<Vec<String>>, AppError> {
        let mut lookups: Vec<KeyLookup> = Vec::new();
        let mut counts: Vec<usize> = Vec::with_capacity(reports.len());
        for (report, link) in reports.iter().zip(links) {
            let before = lookups.len();
            if let Some(r) = link {
                let to = report.diagnosis_date;
                let from = to - chrono::Days::new(window.max(0) as u64);
                lookups.extend(linkage::report_block_keys(r).iter().map(|&k| KeyLookup {
                    key: self.hasher.block_key(k),
                    from,
                    to,
                }));
            }
            counts.push(lookups.len() - before);
        }
        let found = self.link_index.entries_by_keys(&lookups, linkage::MAX_BLOCK + 1).await?;
        if found.len() != lookups.len() {
            return Err(
                StoreError::Unavailable("the linkage index answered another number of lookups".to_owned()).into()
            );
        }
        let mut found = found.into_iter();
        Ok(counts
            .into_iter()
            .map(|n| {
                let mut ids: Vec<String> =
                    found.by_ref().take(n).filter(|block| block.len() <= linkage::MAX_BLOCK).flatten().collect();
                ids.sort_unstable();
                ids.dedup();
                ids
            })
            .collect())
    }
}
