//! The follow-up statistics, as a pure function of follow-up records and the diagnoses linked to them: of entrants
//! under follow-up, how many were reported as cases during their follow-up or within [`AFTER_DAYS`] days after it;
//! among those cases, how many had reported symptoms before the diagnosis (and how many days before), and how many
//! had stopped answering (`unreachable`). Counts only: no personal data goes in or out.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::follow_up::FollowUpStatus;
use crate::links::{DaysRow, ShareWithInterval};

use super::stats::proportion;

/// Days after the last day of a follow-up within which a diagnosis still counts as "during or just after" it: the
/// incubation period's usual upper bound.
pub const AFTER_DAYS: u64 = 14;

/// What the statistics need of a follow-up record.
#[derive(Debug, Clone, Copy)]
pub struct StatFollowUp {
    pub follow_up_from: NaiveDate,
    pub follow_up_until: NaiveDate,
    pub symptoms_reported_on: Option<NaiveDate>,
    pub status: FollowUpStatus,
}

/// The follow-up statistics of a linkage run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpSummary {
    /// Follow-up records: entrants under (or after) follow-up.
    pub under_follow_up: u64,
    /// Of them, reported as cases from the first day of follow-up to [`AFTER_DAYS`] days after its last.
    pub diagnosed_during_or_within_14d: ShareWithInterval,
    /// Among those cases, those who had reported symptoms on or before the day of diagnosis.
    pub symptoms_before_diagnosis: ShareWithInterval,
    /// For those, days from the first reported symptoms to the diagnosis, ascending by days.
    pub days_symptoms_to_diagnosis: Vec<DaysRow>,
    /// Among those cases, those whose follow-up had become `unreachable`.
    pub unreachable: ShareWithInterval,
}

impl Default for FollowUpSummary {
    fn default() -> Self {
        summarise(&[], &[])
    }
}

/// Computes the statistics. `diagnoses` are (follow-up index, diagnosis date) of the reports linked to a follow-up;
/// a follow-up with several counts once, by its earliest diagnosis in the window. Indexes outside the slice are
/// ignored.
pub fn summarise(follow_ups: &[StatFollowUp], diagnoses: &[(usize, NaiveDate)]) -> FollowUpSummary {
    let mut first: BTreeMap<usize, NaiveDate> = BTreeMap::new();
    for &(i, diagnosed) in diagnoses {
        let Some(f) = follow_ups.get(i) else { continue };
        let window_end = f.follow_up_until.checked_add_days(Days::new(AFTER_DAYS)).unwrap_or(NaiveDate::MAX);
        if diagnosed < f.follow_up_from || diagnosed > window_end {
            continue;
        }
        first.entry(i).and_modify(|d| *d = (*d).min(diagnosed)).or_insert(diagnosed);
    }
    let cases = first.len() as u64;
    let mut symptomatic = 0u64;
    let mut unreachable = 0u64;
    let mut days: BTreeMap<i64, u64> = BTreeMap::new();
    for (&i, &diagnosed) in &first {
        let Some(f) = follow_ups.get(i) else { continue };
        if f.status == FollowUpStatus::Unreachable {
            unreachable += 1;
        }
        if let Some(symptoms) = f.symptoms_reported_on.filter(|s| *s <= diagnosed) {
            symptomatic += 1;
            *days.entry((diagnosed - symptoms).num_days()).or_default() += 1;
        }
    }
    FollowUpSummary {
        under_follow_up: follow_ups.len() as u64,
        diagnosed_during_or_within_14d: proportion(cases, follow_ups.len() as u64),
        symptoms_before_diagnosis: proportion(symptomatic, cases),
        days_symptoms_to_diagnosis: days.into_iter().map(|(days, reports)| DaysRow { days, reports }).collect(),
        unreachable: proportion(unreachable, cases),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn follow_up(symptoms: Option<&str>, status: FollowUpStatus) -> StatFollowUp {
        StatFollowUp {
            follow_up_from: date("2021-01-21"),
            follow_up_until: date("2021-02-03"),
            symptoms_reported_on: symptoms.map(date),
            status,
        }
    }

    #[test]
    fn cases_in_the_window_count_once_with_their_symptoms_and_status() {
        use FollowUpStatus::{Active, Completed, Unreachable};
        let follow_ups = [
            follow_up(Some("2021-01-25"), Active), // 0: diagnosed twice, counted once (earliest)
            follow_up(None, Unreachable),          // 1: diagnosed on the last day of the window
            follow_up(Some("2021-02-10"), Completed), // 2: symptoms after the diagnosis do not count
            follow_up(Some("2021-01-22"), Completed), // 3: diagnosed a day after the window: not a case
            follow_up(None, Active),               // 4: diagnosed before the follow-up began: not a case
            follow_up(None, Active),               // 5: never diagnosed
        ];
        let diagnoses = [
            (0, date("2021-01-29")),
            (0, date("2021-01-27")),
            (1, date("2021-02-17")),
            (2, date("2021-02-01")),
            (3, date("2021-02-18")),
            (4, date("2021-01-20")),
            (99, date("2021-01-27")),
        ];
        let s = summarise(&follow_ups, &diagnoses);
        assert_eq!(s.under_follow_up, 6);
        assert_eq!((s.diagnosed_during_or_within_14d.count, s.diagnosed_during_or_within_14d.total), (3, 6));
        assert_eq!((s.symptoms_before_diagnosis.count, s.symptoms_before_diagnosis.total), (1, 3));
        assert_eq!(s.days_symptoms_to_diagnosis, vec![DaysRow { days: 2, reports: 1 }]);
        assert_eq!((s.unreachable.count, s.unreachable.total), (1, 3));
        assert!(s.unreachable.ci95_low < 1.0 / 3.0 && 1.0 / 3.0 < s.unreachable.ci95_high);
    }

    #[test]
    fn nothing_to_count_gives_zeros() {
        let s = FollowUpSummary::default();
        assert_eq!((s.under_follow_up, s.diagnosed_during_or_within_14d.share), (0, 0.0));
        assert!(s.days_symptoms_to_diagnosis.is_empty());
    }
}
