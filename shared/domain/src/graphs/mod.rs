//! The ministry's public graph series, computed from case facts. Both sources of a prefecture's numbers map to one
//! input type, [`CaseFact`]: HER-SYS reports ([`CaseFact::from_report`]) and the municipality-published line lists
//! ([`linelist`]). New cases are counted as the ministry counts: by publication date (公表日); a report not yet
//! published is not counted anywhere.
//!
//! [`Tally`] accumulates facts one at a time (constant memory in the number of facts: a few counters per day and
//! prefecture); [`build_series`] merges the two sources' tallies per prefecture at its switch date and returns
//! typed tables ([`DailySeries`], [`SexAgeSeries`]). Rendering (CSV, JSON) is the export function's business.

mod facts;
pub mod linelist;
mod series;
pub mod state;
mod suppress;
mod tally;

use chrono::{Datelike, NaiveDate};

pub use facts::{AgeBand, CaseFact, SexBand};
pub use series::{
    DailySeries, Discrepancy, DiscrepancyRow, GraphSeries, SeriesId, SexAgeSeries, Sources, Week, build_series,
};
pub use suppress::{is_small_count, suppress};
pub use tally::Tally;

/// The ministry's date form, `2020/1/16`.
pub fn mhlw_date(d: NaiveDate) -> String {
    format!("{}/{}/{}", d.year(), d.month(), d.day())
}

/// Areas in the ministry's order: `ALL` (index 0), then the 47 prefectures in JIS order (index = code).
pub const AREAS: usize = 48;
