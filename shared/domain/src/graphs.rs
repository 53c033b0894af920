//! Public graph series computed from reports. This first series, new cases per day, is counted as the ministry
//! counts: by publication date (公表日); a report not yet published is not counted.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::prefecture::PrefectureCode;
use crate::report::CaseReport;

/// Daily counts per prefecture, every day from the first to the last date with a case (zeros included).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DailySeries {
    /// date -> counts indexed by prefecture number - 1.
    pub days: BTreeMap<NaiveDate, [u64; 47]>,
}

impl DailySeries {
    pub fn last_date(&self) -> Option<NaiveDate> {
        self.days.keys().next_back().copied()
    }
}

pub fn daily_new_cases<'a>(reports: impl IntoIterator<Item = &'a CaseReport>) -> DailySeries {
    let mut days: BTreeMap<NaiveDate, [u64; 47]> = BTreeMap::new();
    for r in reports {
        if let Some(day) = r.publication_date {
            days.entry(day).or_insert([0; 47])[usize::from(r.prefecture.number() - 1)] += 1;
        }
    }
    // Fill the gaps: the ministry's files list every day.
    if let (Some(&first), Some(&last)) = (days.keys().next(), days.keys().next_back()) {
        for day in first.iter_days().take_while(|d| *d <= last) {
            days.entry(day).or_insert([0; 47]);
        }
    }
    DailySeries { days }
}

/// The ministry's date form, `2020/1/16`.
pub fn mhlw_date(d: NaiveDate) -> String {
    format!("{}/{}/{}", d.year(), d.month(), d.day())
}

/// The ministry's wide open-data layout: UTF-8 with BOM, `Date,ALL,Hokkaido,...,Okinawa`, LF line ends.
pub fn wide_csv(series: &DailySeries) -> Vec<u8> {
    let mut out = String::from("\u{feff}Date,ALL");
    for p in PrefectureCode::all() {
        out.push(',');
        out.push_str(p.info().name_en);
    }
    out.push('\n');
    for (day, counts) in &series.days {
        out.push_str(&mhlw_date(*day));
        out.push(',');
        out.push_str(&counts.iter().sum::<u64>().to_string());
        for c in counts {
            out.push(',');
            out.push_str(&c.to_string());
        }
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_the_ministry_file() {
        let csv = String::from_utf8(wide_csv(&DailySeries::default())).unwrap();
        assert!(csv.starts_with("\u{feff}Date,ALL,Hokkaido,Aomori,"));
        assert!(csv.trim_end().ends_with(",Kagoshima,Okinawa"));
    }

    #[test]
    fn counts_by_publication_date_and_fills_gaps() {
        let mut r = crate::report::tests::sample_report();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let mut reports = vec![];
        for day in ["2021-01-01", "2021-01-01", "2021-01-03"] {
            r.publication_date = Some(d(day));
            reports.push(r.clone());
        }
        r.publication_date = None;
        reports.push(r.clone());
        let s = daily_new_cases(&reports);
        assert_eq!(s.days.len(), 3);
        assert_eq!(s.days[&d("2021-01-01")][12], 2); // Tokyo is 13
        assert_eq!(s.days[&d("2021-01-02")].iter().sum::<u64>(), 0);
        let csv = String::from_utf8(wide_csv(&s)).unwrap();
        assert!(csv.contains("\n2021/1/1,2,"));
        assert!(csv.contains("\n2021/1/2,0,"));
    }
}
