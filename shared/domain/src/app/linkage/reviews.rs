//! The health centres' review queue: the pending reviews with their reports and candidates (each view audited),
//! and a health centre's answer.

use super::*;

/// A pending review as its health centre reads it: the decision, the report, and its candidates.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewCase {
    pub decision: LinkDecision,
    pub report: CaseReport,
    /// Best first; a candidate whose entry record is missing is left out.
    pub candidates: Vec<CandidateEntry>,
}

/// One candidate entry of a review, its record, and the level of each compared field (field, level).
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateEntry {
    pub candidate: ReviewCandidate,
    pub entry: EntryRecord,
    pub levels: [(&'static str, &'static str); 5],
}

/// A health centre's answer to a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewAnswer {
    /// The report is this candidate entry's person.
    Confirm { entry_id: String },
    /// None of the candidates is.
    Reject,
}

impl Linkage {
    /// The statistics of the last scheduled run ([`LinkageSummary::empty`] before the first).
    pub async fn linkage_summary(&self) -> Result<LinkageSummary, AppError> {
        Ok(self.links.get_summary().await?.unwrap_or_else(LinkageSummary::empty))
    }

    /// The pending reviews of a health centre's reports.
    pub async fn review_queue(&self, health_center: &str) -> Result<Vec<LinkDecision>, AppError> {
        Ok(self.links.review_queue(health_center).await?)
    }

    /// The pending reviews of `viewer`'s health centre, each with the report and its candidate entries, best first,
    /// and how each compared field agreed (the scorer's own comparison, [`linkage::compare`]). Reports and entries
    /// are read by their keys. Each review shown appends an audit event first: no unaudited view.
    pub async fn review_cases(&self, viewer: &Viewer) -> Result<Vec<ReviewCase>, AppError> {
        let mut cases = Vec::new();
        for decision in self.links.review_queue(&viewer.health_center_code).await? {
            let Some(report) = self.reports.get_report(&decision.report_id).await? else {
                tracing::warn!(report_id = %decision.report_id, "a pending review's report is missing");
                continue;
            };
            let report = report.value;
            let report_fields = report_link(&report);
            let mut candidates = Vec::new();
            for candidate in decision.review_candidates() {
                let Some(entry) = self.entries.get_entry(&candidate.entry_id).await? else {
                    tracing::warn!(report_id = %decision.report_id, entry_id = %candidate.entry_id,
                        "a review candidate's entry record is missing");
                    continue;
                };
                let pattern = match (&report_fields, entry_link(&entry)) {
                    (Some(r), Some(e)) => linkage::compare(r, &e).pattern(),
                    // A side the engine cannot read compares as missing throughout.
                    _ => 0,
                };
                candidates.push(CandidateEntry { candidate, entry, levels: linkage::score::field_levels(pattern) });
            }
            let shown = candidates.iter().map(|c| c.entry.entry_id.clone()).collect();
            self.audit.audit_view(viewer, &decision.report_id, shown).await?;
            cases.push(ReviewCase { decision, report, candidates });
        }
        Ok(cases)
    }

    /// Confirms or rejects a pending review of a report of `health_center` (another tenant's report, or a report
    /// without a decision, is "not found"; a decision that is not pending is a conflict).
    pub async fn answer_review(
        &self,
        report: &ReportId,
        health_center: &str,
        reviewer: &str,
        answer: ReviewAnswer,
    ) -> Result<LinkDecision, AppError> {
        let decision = self.links.get_decision(report).await?.ok_or(AppError::NotFound)?;
        if decision.health_center_code != health_center {
            return Err(AppError::NotFound);
        }
        if !decision.is_pending() {
            return Err(AppError::Conflict("review"));
        }
        let (status, entry_id) = match answer {
            ReviewAnswer::Confirm { entry_id } => {
                if !decision.review_candidates().iter().any(|c| c.entry_id == entry_id) {
                    return Err(AppError::Impossible(ValidationError(vec![FieldError::new(
                        "entry_id",
                        Problem::Invalid("must be the entry id of one of the review's candidates"),
                    )])));
                }
                (ReviewStatus::Confirmed, Some(entry_id))
            }
            ReviewAnswer::Reject => (ReviewStatus::Rejected, None),
        };
        let review = Review { status, by: Some(reviewer.to_owned()), at: Some(self.clock.now()), entry_id };
        let stored = self.links.record_review(report, &review).await.map_err(|e| match e {
            StoreError::VersionConflict { .. } => AppError::Conflict("review"),
            other => other.into(),
        })?;
        tracing::info!(report_id = %report, status = status.as_str(), "linkage review answered");
        Ok(stored)
    }
}
