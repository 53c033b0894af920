//! The linkage statistics analysts use, as a pure function of entries, reports and links: entrants by
//! entry week, port and nationality; of entrants with a negative entry test, how many were diagnosed within 28
//! days of entry, the share and its 95% Wilson interval; the distribution of days from entry to diagnosis; and by
//! prefecture, the share of reports carrying a passport number and the share linked. Counts only: no personal
//! data goes in or out.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use chrono::{Datelike, Days, NaiveDate};

use crate::entry::EntryTestResult;

pub mod follow_up;

/// Entrants of one ISO week (Monday), port and nationality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntrantsRow {
    pub week_start: chrono::NaiveDate,
    pub port_of_entry: String,
    pub nationality: String,
    pub entrants: u64,
}

/// A share with its 95% Wilson interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShareWithInterval {
    pub count: u64,
    pub total: u64,
    pub share: f64,
    pub ci95_low: f64,
    pub ci95_high: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaysRow {
    pub days: i64,
    pub reports: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefectureRow {
    pub prefecture_code: String,
    pub reports: u64,
    pub with_passport: u64,
    pub linked: u64,
    pub share_with_passport: f64,
    pub share_linked: f64,
}

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

/// The statistics, in the row types the stored summary keeps ([`crate::linkage_records::LinkageSummary`]).
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
/// ignored. The same counting as a [`Tally`] (the index stands for an entry's id).
pub fn summarise(entries: &[StatEntry<'_>], reports: &[StatReport<'_>], links: &[(usize, usize)]) -> Summary {
    let mut tally = Tally::default();
    for e in entries {
        tally.add_entry(e);
    }
    let mut link_of: BTreeMap<usize, usize> = BTreeMap::new();
    for &(r, e) in links {
        if r < reports.len() && e < entries.len() {
            link_of.entry(r).or_insert(e); // a report counts once
        }
    }
    for (i, r) in reports.iter().enumerate() {
        let link = link_of.get(&i).map(|&e| (e.to_string(), &entries[e]));
        tally.add_report(r, link.as_ref().map(|(id, e)| (id.as_str(), *e)));
    }
    tally.summary()
}

/// The statistics' counts before they become shares: what a partition of a full re-link computes over its share of
/// the entries and reports, so that the partitions' tallies added up ([`Tally::add`]) give exactly the tally of a
/// single pass. Holds no personal data: entry ids (the quarantine system's record ids) of the entrants counted as
/// "negative, then diagnosed", and counts. Kept privately between the steps: its counts are not suppressed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub entries: u64,
    pub reports: u64,
    /// Reports linked to a stored entry (a report counts once).
    pub links: u64,
    negative_entries: u64,
    entrants: BTreeMap<(NaiveDate, String, String), u64>,
    days: BTreeMap<i64, u64>,
    /// Per prefecture code: reports, with a passport number, linked.
    prefectures: BTreeMap<String, [u64; 3]>,
    /// Entrants with a negative test diagnosed within the window: a set, since two reports may link one entry.
    negative_diagnosed: BTreeSet<String>,
}

impl Tally {
    pub fn add_entry(&mut self, e: &StatEntry<'_>) {
        self.entries += 1;
        let key = (week_start(e.entry_date), e.port_of_entry.to_owned(), e.nationality.to_owned());
        *self.entrants.entry(key).or_default() += 1;
        if e.test_result == EntryTestResult::Negative {
            self.negative_entries += 1;
        }
    }

    /// A report, with the entry it is linked to (its id and what the statistics need of it), if any.
    pub fn add_report(&mut self, r: &StatReport<'_>, link: Option<(&str, &StatEntry<'_>)>) {
        self.reports += 1;
        let row = self.prefectures.entry(r.prefecture_code.to_owned()).or_default();
        row[0] += 1;
        row[1] += u64::from(r.has_passport);
        row[2] += u64::from(link.is_some());
        let Some((entry_id, entry)) = link else { return };
        self.links += 1;
        let d = (r.diagnosis_date - entry.entry_date).num_days();
        *self.days.entry(d).or_default() += 1;
        if entry.test_result == EntryTestResult::Negative && (0..=WINDOW_DAYS).contains(&d) {
            self.negative_diagnosed.insert(entry_id.to_owned());
        }
    }

    /// Adds another tally (of disjoint entries and reports) to this one.
    pub fn add(&mut self, other: Tally) {
        (self.entries, self.reports, self.links) =
            (self.entries + other.entries, self.reports + other.reports, self.links + other.links);
        self.negative_entries += other.negative_entries;
        for (key, n) in other.entrants {
            *self.entrants.entry(key).or_default() += n;
        }
        for (days, n) in other.days {
            *self.days.entry(days).or_default() += n;
        }
        for (code, row) in other.prefectures {
            let mine = self.prefectures.entry(code).or_default();
            for (m, o) in mine.iter_mut().zip(row) {
                *m += o;
            }
        }
        self.negative_diagnosed.extend(other.negative_diagnosed);
    }

    pub fn summary(&self) -> Summary {
        Summary {
            entrants: self
                .entrants
                .iter()
                .map(|((week_start, port, nat), &n)| EntrantsRow {
                    week_start: *week_start,
                    port_of_entry: port.clone(),
                    nationality: nat.clone(),
                    entrants: n,
                })
                .collect(),
            negative_then_diagnosed: proportion(self.negative_diagnosed.len() as u64, self.negative_entries),
            days_to_diagnosis: self.days.iter().map(|(&days, &reports)| DaysRow { days, reports }).collect(),
            prefectures: self
                .prefectures
                .iter()
                .map(|(code, &[n, with, linked])| PrefectureRow {
                    prefecture_code: code.clone(),
                    reports: n,
                    with_passport: with,
                    linked,
                    share_with_passport: with as f64 / n as f64,
                    share_linked: linked as f64 / n as f64,
                })
                .collect(),
        }
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

    #[test]
    fn tallies_of_disjoint_parts_add_up_to_the_tally_of_the_whole() {
        let entry = |date: &str, port: &'static str, test_result| StatEntry {
            entry_date: d(date),
            port_of_entry: port,
            nationality: "VNM",
            test_result,
        };
        let negative = EntryTestResult::Negative;
        let entries = [entry("2021-06-07", "NRT", negative), entry("2021-06-08", "KIX", negative)];
        let report = |date: &str, code: &'static str| StatReport {
            diagnosis_date: d(date),
            prefecture_code: code,
            has_passport: true,
        };
        let reports = [report("2021-06-10", "13"), report("2021-06-12", "13"), report("2021-06-20", "27")];
        // Reports 0 and 1 link entry "a" (in different parts: the entrant counts once); report 2 links "b".
        let links = [Some(("a", &entries[0])), Some(("a", &entries[0])), Some(("b", &entries[1]))];
        let mut whole = Tally::default();
        let mut parts = [Tally::default(), Tally::default()];
        for (i, e) in entries.iter().enumerate() {
            whole.add_entry(e);
            parts[i % 2].add_entry(e);
        }
        for (i, (r, link)) in reports.iter().zip(links).enumerate() {
            whole.add_report(r, link);
            parts[(i + 1) % 2].add_report(r, link);
        }
        let [mut first, second] = parts;
        first.add(second);
        assert_eq!(first, whole);
        let s = first.summary();
        assert_eq!((s.negative_then_diagnosed.count, s.negative_then_diagnosed.total), (2, 2));
        assert_eq!((first.links, s.prefectures[0].linked, s.days_to_diagnosis.len()), (3, 2, 3));
    }
}
