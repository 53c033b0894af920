//! Views of personal data and their audit: the report with the entry record it is linked to, and the
//! audit events that every such view appends before it is answered.

use crate::audit::{AuditEvent, AuditPage, AuditQuery, Viewer, time_key};
use crate::entry::EntryRecord;
use crate::error::{FieldError, Problem, ValidationError};
use crate::follow_up::{FollowUpRecord, follow_up_of};
use crate::linkage_records::LinkDecision;
use crate::ports::Versioned;
use crate::report::{CaseReport, ReportId};

use std::sync::Arc;

use super::{AppError, Ports};
use crate::ports::{AuditLog, EntryStore, FollowUpStore, LinkStore, ReportStore};
use crate::time::Clock;

/// The most events one page of the audit holds.
pub const MAX_AUDIT_PAGE: usize = 1000;

/// The entry record a report is linked to (a link-band decision, or a confirmed review), with that decision.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkedEntry {
    pub entry: EntryRecord,
    pub decision: LinkDecision,
}

/// A report as its health centre reads it: the report, its linked entry and the entrant follow-up record it
/// reaches ([`crate::follow_up::follow_up_of`]), if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportView {
    pub report: Versioned<CaseReport>,
    pub linked_entry: Option<LinkedEntry>,
    pub linked_follow_up: Option<FollowUpRecord>,
}

impl LinkedEntry {
    /// Days from the entry date to the report's diagnosis date (never negative: a link is on or before it).
    pub fn days_from_entry_to_diagnosis(&self, report: &CaseReport) -> i64 {
        (report.diagnosis_date - self.entry.entry_date).num_days()
    }
}

/// The audited views of personal data: a report with what it is linked to, and the audit log itself.
#[derive(Clone)]
pub struct Audit {
    audit: Arc<dyn AuditLog>,
    reports: Arc<dyn ReportStore>,
    entries: Arc<dyn EntryStore>,
    follow_ups: Arc<dyn FollowUpStore>,
    links: Arc<dyn LinkStore>,
    clock: Arc<dyn Clock>,
}

impl Audit {
    pub fn new(ports: &Ports) -> Audit {
        Audit {
            audit: ports.audit.clone(),
            reports: ports.reports.clone(),
            entries: ports.entries.clone(),
            follow_ups: ports.follow_ups.clone(),
            links: ports.links.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// A report of `viewer`'s health centre (another centre's report is "not found", and nothing of its link is
    /// read) with its linked entry record. Showing the entry's values is audited first: if the audit cannot be
    /// written, the view fails.
    pub async fn view_report(&self, id: &ReportId, viewer: &Viewer) -> Result<ReportView, AppError> {
        let report = self.reports.get_report(id).await?.ok_or(AppError::NotFound)?;
        if report.value.health_center_code != viewer.health_center_code {
            return Err(AppError::NotFound);
        }
        let linked_entry = self.linked_entry(id).await?;
        let linked_follow_up = self.linked_follow_up(&report.value, linked_entry.as_ref().map(|l| &l.entry)).await?;
        let shown: Vec<String> = linked_entry
            .iter()
            .map(|l| l.entry.entry_id.clone())
            .chain(linked_follow_up.iter().map(|f| f.follow_up_id.clone()))
            .collect();
        if !shown.is_empty() {
            self.audit_view(viewer, id, shown).await?;
        }
        Ok(ReportView { report, linked_entry, linked_follow_up })
    }

    /// The follow-up record a report reaches: through its linked entry, else by its own passport number. Read by
    /// the passport's keyed hash (an index), never a scan.
    async fn linked_follow_up(
        &self,
        report: &CaseReport,
        linked_entry: Option<&EntryRecord>,
    ) -> Result<Option<FollowUpRecord>, AppError> {
        let Some(hash) = linked_entry.map(|e| &e.passport_hash).or(report.passport_hash.as_ref()) else {
            return Ok(None);
        };
        let candidates = self.follow_ups.follow_ups_by_passport(hash).await?;
        Ok(follow_up_of(report, linked_entry, &candidates).cloned())
    }

    /// The entry record of a report's link decision, read by report id and entry id (keys, not scans). `None`
    /// without a decision, for a pending or rejected review, and (logged) when the entry record is missing.
    async fn linked_entry(&self, id: &ReportId) -> Result<Option<LinkedEntry>, AppError> {
        let Some(decision) = self.links.get_decision(id).await?.filter(LinkDecision::counts_as_link) else {
            return Ok(None);
        };
        match self.entries.get_entry(&decision.entry_id).await? {
            Some(entry) => Ok(Some(LinkedEntry { entry, decision })),
            None => {
                tracing::warn!(report_id = %id, entry_id = %decision.entry_id, "linked entry record not found");
                Ok(None)
            }
        }
    }

    /// Appends the audit event of a view of `records` (entry and follow-up ids) through `viewer`'s route.
    pub async fn audit_view(&self, viewer: &Viewer, report: &ReportId, records: Vec<String>) -> Result<(), AppError> {
        let event = AuditEvent {
            event_id: uuid::Uuid::now_v7().to_string(),
            at: self.clock.now(),
            subject: viewer.subject.clone(),
            role: viewer.role.clone(),
            health_center_code: viewer.health_center_code.clone(),
            report_id: report.clone(),
            records_shown: records,
            route: viewer.route.clone(),
        };
        self.audit.append_audit(&event).await.map_err(|e| {
            tracing::error!(report_id = %report, error = %e, "audit event not written: the view is refused");
            AppError::from(e)
        })
    }

    /// One page of a health centre's audit events (at most [`MAX_AUDIT_PAGE`]).
    pub async fn audit_events(&self, query: &AuditQuery) -> Result<AuditPage, AppError> {
        let mut problems = Vec::new();
        if query.from >= query.until {
            problems.push(FieldError::new("to", Problem::Invalid("must not be before from")));
        }
        // A cursor is the sort key of an event of this period (DynamoDB refuses a start key outside the range).
        if let Some(after) = &query.after {
            let (from, until) = (time_key(query.from), time_key(query.until));
            let shaped = after.split_once('#').is_some_and(|(t, id)| t.len() == from.len() && !id.is_empty());
            if !shaped || after.as_str() < from.as_str() || after.as_str() >= until.as_str() {
                problems.push(FieldError::new("next", Problem::Invalid("is not a page cursor of this query")));
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid(ValidationError(problems)));
        }
        let query = AuditQuery { limit: query.limit.clamp(1, MAX_AUDIT_PAGE), ..query.clone() };
        Ok(self.audit.audit_events(&query).await?)
    }
}
