//! The follow-up statistics, as a pure function of follow-up records and the diagnoses linked to them: of entrants
//! under follow-up, how many were reported as cases during their follow-up or within [`AFTER_DAYS`] days after it;
//! among those cases, how many had reported symptoms before the diagnosis (and how many days before), and how many
//! had stopped answering (`unreachable`). Counts only: no personal data goes in or out.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{DaysRow, ShareWithInterval, proportion};
use crate::follow_up::FollowUpStatus;

/// Days after the last day of a follow-up within which a diagnosis still counts as "during or just after" it: the
/// incubation period's usual upper bound.
pub const AFTER_DAYS: u64 = 14;

/// What the statistics need of a follow-up record.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
/// ignored. The same counting as a [`FollowUpTally`] (the index stands for the follow-up's id).
pub fn summarise(follow_ups: &[StatFollowUp], diagnoses: &[(usize, NaiveDate)]) -> FollowUpSummary {
    let mut tally = FollowUpTally { under_follow_up: follow_ups.len() as u64, ..FollowUpTally::default() };
    for &(i, diagnosed) in diagnoses {
        if let Some(f) = follow_ups.get(i) {
            tally.add_diagnosis(&i.to_string(), f, diagnosed);
        }
    }
    tally.summary()
}

/// The follow-up statistics' counts before they become shares, added up exactly across the partitions of a full
/// re-link ([`FollowUpTally::add`]): follow-ups counted, and for each follow-up reached by a diagnosis in its window,
/// the earliest such diagnosis. Keyed by follow-up id (the follow-up system's record id, not personal data).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowUpTally {
    pub under_follow_up: u64,
    cases: BTreeMap<String, (StatFollowUp, NaiveDate)>,
}

impl FollowUpTally {
    /// A report diagnosed on `diagnosed` that reaches follow-up `id`: a case if within the follow-up's window.
    pub fn add_diagnosis(&mut self, id: &str, f: &StatFollowUp, diagnosed: NaiveDate) {
        let window_end = f.follow_up_until.checked_add_days(Days::new(AFTER_DAYS)).unwrap_or(NaiveDate::MAX);
        if diagnosed < f.follow_up_from || diagnosed > window_end {
            return;
        }
        self.cases.entry(id.to_owned()).and_modify(|(_, d)| *d = (*d).min(diagnosed)).or_insert((*f, diagnosed));
    }

    /// Adds another tally (of disjoint follow-ups for the count; any reports for the cases) to this one.
    pub fn add(&mut self, other: FollowUpTally) {
        self.under_follow_up += other.under_follow_up;
        for (id, (f, diagnosed)) in other.cases {
            self.cases.entry(id).and_modify(|(_, d)| *d = (*d).min(diagnosed)).or_insert((f, diagnosed));
        }
    }

    pub fn summary(&self) -> FollowUpSummary {
        let cases = self.cases.len() as u64;
        let mut symptomatic = 0u64;
        let mut unreachable = 0u64;
        let mut days: BTreeMap<i64, u64> = BTreeMap::new();
        for (f, diagnosed) in self.cases.values() {
            if f.status == FollowUpStatus::Unreachable {
                unreachable += 1;
            }
            if let Some(symptoms) = f.symptoms_reported_on.filter(|s| s <= diagnosed) {
                symptomatic += 1;
                *days.entry((*diagnosed - symptoms).num_days()).or_default() += 1;
            }
        }
        FollowUpSummary {
            under_follow_up: self.under_follow_up,
            diagnosed_during_or_within_14d: proportion(cases, self.under_follow_up),
            symptoms_before_diagnosis: proportion(symptomatic, cases),
            days_symptoms_to_diagnosis: days.into_iter().map(|(days, reports)| DaysRow { days, reports }).collect(),
            unreachable: proportion(unreachable, cases),
        }
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
    fn tallies_add_up_keeping_each_follow_up_s_earliest_diagnosis() {
        let f = follow_up(Some("2021-01-25"), FollowUpStatus::Active);
        let (mut a, mut b) = (FollowUpTally::default(), FollowUpTally::default());
        (a.under_follow_up, b.under_follow_up) = (1, 2);
        a.add_diagnosis("F1", &f, date("2021-01-29"));
        b.add_diagnosis("F1", &f, date("2021-01-24"));
        b.add_diagnosis("F2", &f, date("2021-03-01")); // outside the window
        a.add(b);
        let s = a.summary();
        assert_eq!((s.under_follow_up, s.diagnosed_during_or_within_14d.count), (3, 1));
        // Symptoms on the 25th, after the earliest diagnosis (the 24th): not "before diagnosis".
        assert_eq!(s.symptoms_before_diagnosis.count, 0);
    }

    #[test]
    fn nothing_to_count_gives_zeros() {
        let s = FollowUpSummary::default();
        assert_eq!((s.under_follow_up, s.diagnosed_during_or_within_14d.share), (0, 0.0));
        assert!(s.days_symptoms_to_diagnosis.is_empty());
    }
}
