//! The graph export's operations: computing every series from both sources, importing line lists, and the
//! per-prefecture switch to HER-SYS. Rendering and writing the files is the export function's job.

use chrono::NaiveDate;

use super::{App, AppError};
use crate::graphs::linelist::LineListCase;
use crate::graphs::{build_series, CaseFact, GraphSeries, Tally};
use crate::prefecture::PrefectureCode;
use crate::time::{japan_date, Instant};

impl App {
    /// Every public series as of `now` (its Japan date is the last day shown at most). HER-SYS reports are read
    /// only for prefectures that have a switch date; a prefecture's line list is read always (its days before the
    /// switch, and the discrepancy report over the overlap).
    pub async fn graph_series(&self, now: Instant) -> Result<GraphSeries, AppError> {
        let sources = self.graph_sources.hersys_from().await?;
        let mut hersys = Tally::new();
        let mut linelist = Tally::new();
        for prefecture in PrefectureCode::all() {
            if sources.hersys_from(prefecture).is_some() {
                // One prefecture's reports at a time: memory is bounded by the largest prefecture, not the nation.
                for report in self.reports.reports_by_prefecture(prefecture).await? {
                    if let Some(fact) = CaseFact::from_report(&report) {
                        hersys.add(&fact);
                    }
                }
            }
            for case in self.graph_sources.linelist_cases(prefecture).await? {
                linelist.add(&case.fact());
            }
        }
        tracing::info!(hersys_cases = hersys.facts(), linelist_cases = linelist.facts(), "graph sources read");
        Ok(build_series(&hersys, &linelist, &sources, japan_date(now)))
    }

    /// Stores line-list cases (created or replaced by prefecture and number).
    pub async fn import_linelist(&self, cases: &[LineListCase]) -> Result<(), AppError> {
        Ok(self.graph_sources.put_linelist_cases(cases).await?)
    }

    /// From `from` on (or, with `None`, never), the prefecture's series come from HER-SYS reports.
    pub async fn set_hersys_from(&self, prefecture: PrefectureCode, from: Option<NaiveDate>) -> Result<(), AppError> {
        self.graph_sources.set_hersys_from(prefecture, from).await?;
        tracing::info!(prefecture = prefecture.number(), switched = from.is_some(), "graph source set");
        Ok(())
    }

    pub async fn graph_source_settings(&self) -> Result<crate::graphs::Sources, AppError> {
        Ok(self.graph_sources.hersys_from().await?)
    }
}
