//! The one input of every series: what a case contributes, whichever source it comes from.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::prefecture::PrefectureCode;
use crate::report::{CaseReport, Sex, Status, StatusChange};

/// The sexes of the ministry's sex/age tables. Other and unknown sexes count in totals only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SexBand {
    Male,
    Female,
}

impl SexBand {
    pub const ALL: [SexBand; 2] = [SexBand::Male, SexBand::Female];

    pub fn id(self) -> &'static str {
        match self {
            SexBand::Male => "male",
            SexBand::Female => "female",
        }
    }
}

/// Ten-year age bands, `0-9` to `70-79`, and `80+`. Unknown or undisclosed ages count in totals only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AgeBand(u8);

impl AgeBand {
    pub const COUNT: usize = 9;

    /// The band of an age in whole years.
    pub fn of_age(years: u32) -> Self {
        Self(u8::try_from((years / 10).min(8)).unwrap_or(8))
    }

    /// Band 0 (`0-9`) to 8 (`80+`).
    pub fn new(index: usize) -> Option<Self> {
        u8::try_from(index).ok().filter(|i| usize::from(*i) < Self::COUNT).map(Self)
    }

    pub fn all() -> impl Iterator<Item = AgeBand> {
        (0..9).map(AgeBand)
    }

    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// `0-9`, `10-19`, ..., `80+`.
    pub fn id(self) -> String {
        match self.0 {
            8 => "80+".to_owned(),
            n => format!("{}-{}", n * 10, n * 10 + 9),
        }
    }
}

/// Cells of a sex/age table per area and day: sex × age band, plus one for cases that are in neither (other or
/// unknown sex, unknown age).
pub(crate) const DETAIL: usize = 2 * AgeBand::COUNT;
pub(crate) const CELLS: usize = DETAIL + 1;

/// One case as the series see it. Serialisable: the export remembers the fact it counted per report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFact {
    pub prefecture: PrefectureCode,
    /// 公表日: the day the case counts as a new case.
    pub published: NaiveDate,
    pub sex: Option<SexBand>,
    pub age: Option<AgeBand>,
    /// The dated statuses (home care, hotel, hospital, severe, released, died, to be confirmed), oldest first.
    /// `None` when the source does not follow cases (line lists): such a case counts in no stock series.
    pub status_history: Option<Vec<StatusChange>>,
    /// The day of death, if the case died of it and the source says when.
    pub died_on: Option<NaiveDate>,
}

impl CaseFact {
    /// The fact of a HER-SYS report; `None` while it is not published. Age is taken at the diagnosis date.
    pub fn from_report(report: &CaseReport) -> Option<Self> {
        let published = report.publication_date?;
        let sex = match report.sex {
            Sex::Male => Some(SexBand::Male),
            Sex::Female => Some(SexBand::Female),
            Sex::Other => None,
        };
        let age = whole_years(report.date_of_birth, report.diagnosis_date).map(AgeBand::of_age);
        let died_on = report.status_history.iter().find(|c| c.status == Status::Died).map(|c| c.effective_date);
        Some(Self {
            prefecture: report.prefecture,
            published,
            sex,
            age,
            status_history: Some(report.status_history.clone()),
            died_on,
        })
    }

    /// The cell of this case in a day's sex/age row: `sex * 9 + age`, or the last cell when either is unknown.
    pub(crate) fn cell(&self) -> usize {
        match (self.sex, self.age) {
            (Some(SexBand::Male), Some(a)) => a.index(),
            (Some(SexBand::Female), Some(a)) => AgeBand::COUNT + a.index(),
            _ => DETAIL,
        }
    }
}

/// Age in whole years on `day`; `None` if born after it.
fn whole_years(born: NaiveDate, day: NaiveDate) -> Option<u32> {
    let mut years = day.year() - born.year();
    if (day.month(), day.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn age_bands_and_ids() {
        assert_eq!(AgeBand::of_age(0).id(), "0-9");
        assert_eq!(AgeBand::of_age(19).id(), "10-19");
        assert_eq!(AgeBand::of_age(80).id(), "80+");
        assert_eq!(AgeBand::of_age(104).id(), "80+");
        assert_eq!(whole_years(d("1990-04-01"), d("2021-03-31")), Some(30));
        assert_eq!(whole_years(d("1990-04-01"), d("2021-04-01")), Some(31));
        assert_eq!(whole_years(d("2021-04-02"), d("2021-04-01")), None);
    }

    #[test]
    fn a_report_becomes_a_fact_once_published() {
        let mut r = crate::report::tests::sample_report();
        r.publication_date = None;
        assert_eq!(CaseFact::from_report(&r), None);
        r.publication_date = Some(d("2021-02-04"));
        r.sex = Sex::Female;
        r.date_of_birth = d("1990-04-01");
        r.diagnosis_date = d("2021-02-03");
        r.status_history = vec![
            StatusChange { status: Status::Hospitalized, effective_date: d("2021-02-03") },
            StatusChange { status: Status::Died, effective_date: d("2021-02-10") },
        ];
        let f = CaseFact::from_report(&r).unwrap();
        assert_eq!(f.sex, Some(SexBand::Female));
        assert_eq!(f.age.map(AgeBand::id).as_deref(), Some("30-39"));
        assert_eq!(f.died_on, Some(d("2021-02-10")));
        assert_eq!(f.cell(), 9 + 3);
        r.sex = Sex::Other;
        assert_eq!(CaseFact::from_report(&r).unwrap().cell(), DETAIL);
    }
}
