//! The linkage statistics analysts use (issue 5), as a pure function of entries, reports and links: entrants by
//! entry week, port and nationality; of entrants with a negative entry test, how many were diagnosed within 28
//! days of entry, the share and its 95% Wilson interval; the distribution of days from entry to diagnosis; and by
//! prefecture, the share of reports carrying a passport number and the share linked. Counts only: no personal
//! data goes in or out.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, Days, NaiveDate};

use crate::entry::EntryTestResult;
use crate::links::{DaysRow, EntrantsRow, PrefectureRow, ShareWithInterval};

/// The reporting requirement's window: diagnosed within this many days of entry (inclusive).
pub const WINDOW_DAYS: i64 = 28;

/// What the statistics need of an entry record.
#[derive(Debug, Clone, Copy)]
pub struct StatEntry<'a> {
    pub entry_date: NaiveDate,
    pub port_of_entry: &'a str,
    pub nationality: &'a str,
    pub test_result: EntryTestResult,
}

/// What the statistics need of a report.
#[derive(Debug, Clone, Copy)]
pub struct StatReport<'a> {
    pub diagnosis_date: NaiveDate,
    pub prefecture_code: &'a str,
    pub has_passport: bool,
}

/// A share with its 95% Wilson score interval (0 and (0, 0) when `total` is 0).
pub fn proportion(count: u64, total: u64) -> ShareWithInterval {
    let (ci95_low, ci95_high) = wilson_interval(count, total, 1.959_963_984_540_054);
    ShareWithInterval {
        count,
        total,
        share: if total == 0 { 0.0 } else { count as f64 / total as f64 },
        ci95_low,
        ci95_high,
    }
}

/// The statistics, in the row types the stored summary keeps ([`crate::links::LinkageSummary`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub entrants: Vec<EntrantsRow>,
    /// Entrants with a negative entry test diagnosed within [`WINDOW_DAYS`] of entry.
    pub negative_then_diagnosed: ShareWithInterval,
    /// Days from entry to diagnosis and linked reports, ascending by days.
    pub days_to_diagnosis: Vec<DaysRow>,
    pub prefectures: Vec<PrefectureRow>,
}

/// Wilson score interval for `count` successes in `total` trials at normal quantile `z`; (0, 0) when `total` is 0.
pub fn wilson_interval(count: u64, total: u64, z: f64) -> (f64, f64) {
    if total == 0 {
        return (0.0, 0.0);
    }
    let n = total as f64;
    let p = count as f64 / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

fn week_start(d: NaiveDate) -> NaiveDate {
    d - Days::new(u64::from(d.weekday().num_days_from_monday()))
}

/// Computes the summary. `links` are (report index, entry index) pairs; pairs pointing outside the slices are
/// ignored.
pub fn summarise(entries: &[StatEntry<'_>], reports: &[StatReport<'_>], links: &[(usize, usize)]) -> Summary {
    let mut entrants: BTreeMap<(NaiveDate, &str, &str), u64> = BTreeMap::new();
    let mut negative = 0u64;
    for e in entries {
        *entrants.entry((week_start(e.entry_date), e.port_of_entry, e.nationality)).or_default() += 1;
        if e.test_result == EntryTestResult::Negative {
            negative += 1;
        }
    }
    let mut diagnosed_after_negative: HashSet<usize> = HashSet::new();
    let mut days: BTreeMap<i64, u64> = BTreeMap::new();
    let mut linked_reports: HashSet<usize> = HashSet::new();
    for &(r, e) in links {
        let (Some(report), Some(entry)) = (reports.get(r), entries.get(e)) else { continue };
        if !linked_reports.insert(r) {
            continue; // a report counts once
        }
        let d = (report.diagnosis_date - entry.entry_date).num_days();
        *days.entry(d).or_default() += 1;
        if entry.test_result == EntryTestResult::Negative && (0..=WINDOW_DAYS).contains(&d) {
            diagnosed_after_negative.insert(e);
        }
    }
    let mut by_prefecture: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    for (i, r) in reports.iter().enumerate() {
        let row = by_prefecture.entry(r.prefecture_code).or_default();
        row.0 += 1;
        row.1 += u64::from(r.has_passport);
        row.2 += u64::from(linked_reports.contains(&i));
    }
    Summary {
        entrants: entrants
            .into_iter()
            .map(|((week_start, port, nat), n)| EntrantsRow {
                week_start,
                port_of_entry: port.to_owned(),
                nationality: nat.to_owned(),
                entrants: n,
            })
            .collect(),
        negative_then_diagnosed: proportion(diagnosed_after_negative.len() as u64, negative),
        days_to_diagnosis: days.into_iter().map(|(days, reports)| DaysRow { days, reports }).collect(),
        prefectures: by_prefecture
            .into_iter()
            .map(|(code, (n, with, linked))| PrefectureRow {
                prefecture_code: code.to_owned(),
                reports: n,
                with_passport: with,
                linked,
                share_with_passport: with as f64 / n as f64,
                share_linked: linked as f64 / n as f64,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn wilson_interval_matches_published_values() {
        // Newcombe (1998), table I: 81 of 263 → 0.2553 to 0.3662; 0 of 10 → 0 to 0.2775.
        let (lo, hi) = wilson_interval(81, 263, 1.959_963_984_540_054);
        assert!((lo - 0.2553).abs() < 5e-4 && (hi - 0.3662).abs() < 5e-4, "{lo} {hi}");
        let (lo, hi) = wilson_interval(0, 10, 1.959_963_984_540_054);
        assert!(lo.abs() < 1e-12 && (hi - 0.2775).abs() < 5e-4, "{lo} {hi}");
        assert_eq!(wilson_interval(0, 0, 1.96), (0.0, 0.0));
    }

    #[test]
    fn summary_counts_weeks_window_days_and_prefectures() {
        let entries = [
            StatEntry {
                entry_date: d("2021-06-07"),
                port_of_entry: "NRT",
                nationality: "CHN",
                test_result: EntryTestResult::Negative,
            },
            StatEntry {
                entry_date: d("2021-06-13"),
                port_of_entry: "NRT",
                nationality: "CHN",
                test_result: EntryTestResult::Negative,
            },
            StatEntry {
                entry_date: d("2021-06-14"),
                port_of_entry: "KIX",
                nationality: "VNM",
                test_result: EntryTestResult::Negative,
            },
            StatEntry {
                entry_date: d("2021-06-14"),
                port_of_entry: "KIX",
                nationality: "VNM",
                test_result: EntryTestResult::NotTested,
            },
        ];
        let reports = [
            StatReport { diagnosis_date: d("2021-06-10"), prefecture_code: "13", has_passport: true },
            StatReport { diagnosis_date: d("2021-08-01"), prefecture_code: "13", has_passport: true },
            StatReport { diagnosis_date: d("2021-06-20"), prefecture_code: "27", has_passport: false },
            StatReport { diagnosis_date: d("2021-06-20"), prefecture_code: "27", has_passport: false },
        ];
        // report 0: 3 days after a negative test (counts); report 1: 49 days (outside the window);
        // report 2: 6 days after an untested entry (not in the denominator); report 3: not linked.
        let s = summarise(&entries, &reports, &[(0, 0), (1, 1), (2, 3), (2, 2)]);
        assert_eq!(s.entrants.len(), 2);
        assert_eq!((s.entrants[0].week_start, s.entrants[0].entrants), (d("2021-06-07"), 2));
        assert_eq!((s.entrants[1].week_start, s.entrants[1].entrants), (d("2021-06-14"), 2));
        assert_eq!((s.negative_then_diagnosed.count, s.negative_then_diagnosed.total), (1, 3));
        assert!(s.negative_then_diagnosed.ci95_low < 1.0 / 3.0 && s.negative_then_diagnosed.ci95_high > 1.0 / 3.0);
        assert_eq!(
            s.days_to_diagnosis.iter().map(|r| (r.days, r.reports)).collect::<Vec<_>>(),
            vec![(3, 1), (6, 1), (49, 1)]
        );
        assert_eq!(s.prefectures[0].prefecture_code, "13");
        assert_eq!((s.prefectures[0].share_with_passport, s.prefectures[0].share_linked), (1.0, 1.0));
        assert_eq!((s.prefectures[1].share_with_passport, s.prefectures[1].share_linked), (0.0, 0.5));
    }
}
