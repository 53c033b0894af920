//! The exact step: a report with a passport number is linked at once to the entry with the same keyed hash.

use super::*;
use crate::app::Cases;

impl Cases {
    /// The exact step, when a report with a passport number is created (or its passport number or diagnosis date is
    /// corrected): the entry with the same keyed hash nearest before (or on) the diagnosis date, within the window,
    /// is linked at once (the next hourly run scores the report as any other). A
    /// decision a health centre reviewed is kept. Never fails the caller: problems are logged.
    pub(in crate::app) async fn link_exactly(&self, report: &CaseReport, now: Instant) {
        let Some(hash) = &report.passport_hash else { return };
        let entries = match self.entries.entries_by_passport(hash).await {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!(report_id = %report.id, error = %e, "exact linkage skipped: entry lookup failed");
                return;
            }
        };
        let diagnosis = Day::from_date(report.diagnosis_date).number;
        let Some(entry) = entries
            .iter()
            .filter(|e| linkage::in_window(Day::from_date(e.entry_date).number, diagnosis, self.linkage_window_days))
            .max_by(|a, b| a.entry_date.cmp(&b.entry_date).then_with(|| b.entry_id.cmp(&a.entry_id)))
        else {
            return;
        };
        let decision = LinkDecision {
            report_id: report.id.clone(),
            health_center_code: report.health_center_code.clone(),
            entry_id: entry.entry_id.clone(),
            score: f64::from(Thresholds::default().link),
            band: LinkBand::Link,
            method: EXACT_METHOD.to_owned(),
            agreeing_fields: vec!["passport".to_owned()],
            decided_at: now,
            review: None,
            candidates: Vec::new(),
            model_version: None,
        };
        match self.links.put_decision(&decision).await {
            Ok(_) => {
                let (report_id, entry_id) = (&report.id, &entry.entry_id);
                tracing::info!(%report_id, %entry_id, "report linked by exact passport hash")
            }
            Err(e) => tracing::warn!(report_id = %report.id, error = %e, "exact linkage not stored"),
        }
    }
}
