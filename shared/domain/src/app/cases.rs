//! Reports and their processing numbers: the health centres' side of a case. The operations on processing numbers
//! are in [`super::processing`]; the exact linkage step a report with a passport number gets at once is in
//! [`super::linkage`]'s `exact.rs`.

use std::sync::Arc;

use super::{AppError, Ports, Settings};
use crate::cycle::{AppLink, Policy};
use crate::error::StoreError;
use crate::keyed_hash::KeyedHasher;
use crate::ports::{
    CounterStore, CycleStore, EntryStore, LinkStore, Metrics, Notifier, NumberVault, ReportStore, Versioned,
};
use crate::report::{CaseReport, PatchError, ReportId, ReportInput, ReportPatch};
use crate::time::{Clock, japan_date};

/// The reports and processing-numbers service: what the HTTP API's report and processing-number routes and the
/// re-issuer call.
#[derive(Clone)]
pub struct Cases {
    pub(super) reports: Arc<dyn ReportStore>,
    pub(super) cycles: Arc<dyn CycleStore>,
    /// Operator statistics and redemption-attempt limits.
    pub(super) counters: Arc<dyn CounterStore>,
    pub(super) notifier: Arc<dyn Notifier>,
    pub(super) vault: Arc<dyn NumberVault>,
    /// The exact step's: the entries with a report's passport hash, and where its decision goes.
    pub(super) entries: Arc<dyn EntryStore>,
    pub(super) links: Arc<dyn LinkStore>,
    pub(super) linkage_window_days: i32,
    pub(super) hasher: KeyedHasher,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) policy: Policy,
    pub(super) app_link: AppLink,
    pub(super) metrics: Arc<dyn Metrics>,
}

impl Cases {
    pub fn new(ports: &Ports, settings: &Settings) -> Cases {
        Cases {
            reports: ports.reports.clone(),
            cycles: ports.cycles.clone(),
            counters: ports.counters.clone(),
            notifier: ports.notifier.clone(),
            vault: ports.vault.clone(),
            entries: ports.entries.clone(),
            links: ports.links.clone(),
            linkage_window_days: settings.linkage_window_days,
            hasher: settings.hasher.clone(),
            clock: ports.clock.clone(),
            policy: settings.policy,
            app_link: settings.app_link.clone(),
            metrics: ports.metrics.clone(),
        }
    }
}

impl Cases {
    /// Validates and stores a new report at version 1.
    pub async fn create_report(&self, input: &ReportInput) -> Result<Versioned<CaseReport>, AppError> {
        let now = self.clock.now();
        let report = CaseReport::from_input(input, ReportId::generate(), &self.hasher, now, japan_date(now))?;
        self.reports.create_report(&report).await.map_err(|e| match e {
            // Report ids are fresh UUIDs: a clash is the (health centre, case number) pair already taken.
            StoreError::AlreadyExists => AppError::Conflict("case_number"),
            other => other.into(),
        })?;
        tracing::info!(
            report_id = %report.id,
            prefecture = report.prefecture.number(),
            has_passport = report.passport_number.is_some(),
            "report created"
        );
        self.link_exactly(&report, now).await;
        Ok(Versioned { value: report, version: 1 })
    }

    pub async fn get_report(&self, id: &ReportId) -> Result<Versioned<CaseReport>, AppError> {
        self.reports.get_report(id).await?.ok_or(AppError::NotFound)
    }

    /// Corrects fields and/or records a status change of a report of `health_center` (another tenant's report
    /// is "not found"), if the stored version is still `expected_version`.
    pub async fn patch_report(
        &self,
        id: &ReportId,
        health_center: &str,
        expected_version: u64,
        patch: &ReportPatch,
    ) -> Result<Versioned<CaseReport>, AppError> {
        let current = self.get_report(id).await?;
        if current.value.health_center_code != health_center {
            return Err(AppError::NotFound);
        }
        if current.version != expected_version {
            return Err(AppError::Stale { expected: expected_version });
        }
        let now = self.clock.now();
        let next = current.value.apply_patch(patch, &self.hasher, now, japan_date(now)).map_err(|e| match e {
            PatchError::Invalid(v) => AppError::Invalid(v),
            PatchError::Impossible(v) => AppError::Impossible(v),
        })?;
        let version = self.reports.update_report(&next, expected_version).await?;
        tracing::info!(
            report_id = %next.id,
            version,
            status_change = patch.status.is_some(),
            corrections = patch.corrections.len(),
            "report updated"
        );
        // A passport number added or corrected later (or a corrected diagnosis date) gets the exact step at once,
        // as on creation, rather than waiting for the hourly run.
        let old = &current.value;
        if next.passport_hash.is_some()
            && (next.passport_hash != old.passport_hash || next.diagnosis_date != old.diagnosis_date)
        {
            self.link_exactly(&next, now).await;
        }
        Ok(Versioned { value: next, version })
    }
}
