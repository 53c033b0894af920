//! What the graph export remembers between runs, so that a daily run reads only the reports written since the
//! last one instead of all history.
//!
//! Three things make that exact:
//! - the tallies themselves ([`ExportState`], one object replaced whole: S3 in AWS, a row locally);
//! - per report, the fact the tally counted for it ([`CountedFact`], kept in the graph-source store), so that a
//!   changed report's old contribution is taken out before its new one goes in ([`Tally::replace`]);
//! - the watermark: the next run reads reports written at or after `watermark - OVERLAP`. Re-reading the overlap
//!   is harmless (a report whose fact equals its counted fact changes nothing) and covers writes that were stamped
//!   before a run started but became visible after it read (in-flight requests, index propagation, clock skew).
//!
//! The state and the counted facts live in different stores, so they cannot be written in one transaction.
//! Instead the state carries its own journal (`pending`): the counted facts of the changes it contains. A run
//! saves the state first, then records `pending`; the next run records any `pending` left over before it reads a
//! single counted fact. A crash anywhere leaves either the old state with the old counted facts, or the new state
//! whose journal brings the counted facts up to it.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::facts::CaseFact;
use super::tally::Tally;
use crate::report::ReportId;
use crate::time::Instant;

/// How far before the last run's start the next run reads again.
pub const OVERLAP: Duration = Duration::minutes(15);

/// Bumped whenever the meaning of a fact or the tally changes: a state of another format is not read, and the
/// next run rebuilds everything.
const FORMAT: &[u8; 8] = b"HGXS0001";

/// The fact counted for one report (`None`: the report counts nowhere, e.g. not yet published).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedFact {
    pub report: ReportId,
    pub fact: Option<CaseFact>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportState {
    /// Every published HER-SYS report, switched prefecture or not (a switch date may be set or moved at any time;
    /// the series pick per day which tally a prefecture's numbers come from).
    pub hersys: Tally,
    /// The imported line lists.
    pub linelist: Tally,
    /// The line lists' import generation `linelist` was counted from; another one means they are counted again.
    pub linelist_generation: u64,
    /// When the run that wrote this state started reading reports.
    pub watermark: Instant,
    /// Counted facts of the changes in `hersys` not yet known to be recorded.
    pub pending: Vec<CountedFact>,
}

/// Why a stored state is not used (the run then rebuilds everything).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("the stored export state has another format")]
    OtherFormat,
    #[error("the stored export state could not be decoded")]
    Corrupt,
}

impl ExportState {
    /// The first state, before any report was read.
    pub fn empty(watermark: Instant) -> Self {
        Self { hersys: Tally::new(), linelist: Tally::new(), linelist_generation: 0, watermark, pending: Vec::new() }
    }

    /// Where the next run starts reading.
    pub fn read_from(&self) -> Instant {
        self.watermark - OVERLAP
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = FORMAT.to_vec();
        // Serialising plain data into a Vec cannot fail; an empty tail would be refused on reading anyway.
        out.extend(postcard::to_stdvec(self).unwrap_or_default());
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StateError> {
        let body = bytes.strip_prefix(FORMAT.as_slice()).ok_or(StateError::OtherFormat)?;
        postcard::from_bytes(body).map_err(|_| StateError::Corrupt)
    }
}

/// A counted fact as stored (compact binary; a fact holds no personal identifier, only prefecture, dates and
/// sex/age bands).
pub fn encode_fact(fact: &CaseFact) -> Vec<u8> {
    postcard::to_stdvec(fact).unwrap_or_default()
}

pub fn decode_fact(bytes: &[u8]) -> Result<CaseFact, StateError> {
    postcard::from_bytes(bytes).map_err(|_| StateError::Corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphs::{AgeBand, SexBand};
    use crate::prefecture::PrefectureCode;
    use crate::report::{Status, StatusChange};
    use chrono::{NaiveDate, TimeZone, Utc};

    fn fact(day: u32) -> CaseFact {
        let d = |n| NaiveDate::from_ymd_opt(2021, 2, n).unwrap();
        CaseFact {
            prefecture: PrefectureCode::new(44).unwrap(),
            published: d(day),
            sex: Some(SexBand::Female),
            age: Some(AgeBand::of_age(34)),
            status_history: Some(vec![
                StatusChange { status: Status::Hospitalized, effective_date: d(day) },
                StatusChange { status: Status::Released, effective_date: d(day + 9) },
            ]),
            died_on: None,
        }
    }

    #[test]
    fn a_state_survives_its_bytes_and_refuses_another_format() {
        let at = Utc.with_ymd_and_hms(2021, 3, 1, 0, 0, 0).unwrap();
        let mut state = ExportState::empty(at);
        state.hersys.add(&fact(3));
        state.linelist.add(&fact(4));
        state.linelist_generation = 7;
        state.pending.push(CountedFact { report: ReportId::generate(), fact: Some(fact(3)) });
        state.pending.push(CountedFact { report: ReportId::generate(), fact: None });
        let bytes = state.to_bytes();
        assert_eq!(ExportState::from_bytes(&bytes), Ok(state.clone()));
        assert_eq!(state.read_from(), at - Duration::minutes(15));

        let mut other = bytes.clone();
        other[7] = b'9';
        assert_eq!(ExportState::from_bytes(&other), Err(StateError::OtherFormat));
        assert_eq!(ExportState::from_bytes(&bytes[..bytes.len() / 2]), Err(StateError::Corrupt));
    }

    #[test]
    fn a_fact_survives_its_bytes_compactly() {
        let bytes = encode_fact(&fact(3));
        assert_eq!(decode_fact(&bytes), Ok(fact(3)));
        assert!(bytes.len() < 80, "{} bytes", bytes.len());
    }

    #[test]
    fn replacing_a_counted_fact_equals_counting_the_new_one_only() {
        let mut changed = Tally::new();
        changed.add(&fact(3));
        assert!(changed.replace(Some(&fact(3)), Some(&fact(5))));
        assert!(!changed.replace(Some(&fact(5)), Some(&fact(5))));
        let mut direct = Tally::new();
        direct.add(&fact(5));
        assert_eq!(changed.first_day(), direct.first_day());
        assert_eq!(changed.last_day(), direct.last_day());
        let series = |t: &Tally| {
            crate::graphs::build_series(
                t,
                &Tally::new(),
                &Default::default(),
                NaiveDate::from_ymd_opt(2021, 3, 31).unwrap(),
            )
        };
        assert_eq!(series(&changed), series(&direct));

        // Unpublished again: it counts nowhere.
        assert!(changed.replace(Some(&fact(5)), None));
        assert_eq!(changed.facts(), 0);
        assert_eq!(changed.first_day(), None);
    }
}
