//! The linkage statistics as CSV files (four on the linkage with entry records, two on the follow-up records), for
//! the public (beside the graph files, small counts hidden)
//! and for an analyst (`hersys link --summary`: the same files, names, headers and precision, every count shown).

use chrono::NaiveDate;
use domain::linkage_records::LinkageSummary;
use domain::linkage_statistics::Summary;
use domain::linkage_statistics::follow_up::FollowUpSummary;
use domain::linkage_statistics::{DaysRow, EntrantsRow, PrefectureRow, ShareWithInterval};
use serde::Serialize;

use crate::{Audience, CSV, Cell, File, RenderError, csv_bytes, csv_writer};

pub const ENTRANTS_WEEKLY: &str = "csv/linkage_entrants_weekly.csv";
pub const NEGATIVE_THEN_DIAGNOSED_28D: &str = "csv/linkage_negative_then_diagnosed_28d.csv";
pub const DAYS_ENTRY_TO_DIAGNOSIS: &str = "csv/linkage_days_entry_to_diagnosis.csv";
pub const PREFECTURES: &str = "csv/linkage_prefectures.csv";
pub const FOLLOW_UP: &str = "csv/linkage_follow_up.csv";
pub const DAYS_SYMPTOMS_TO_DIAGNOSIS: &str = "csv/linkage_days_symptoms_to_diagnosis.csv";

/// The files' paths in the order they are written (and named by the manifest).
pub const PATHS: [&str; 6] = [
    ENTRANTS_WEEKLY,
    NEGATIVE_THEN_DIAGNOSED_28D,
    DAYS_ENTRY_TO_DIAGNOSIS,
    PREFECTURES,
    FOLLOW_UP,
    DAYS_SYMPTOMS_TO_DIAGNOSIS,
];

/// The tables the files show, borrowed from the stored summary of a scheduled run or from the statistics
/// `hersys link` computes from files (both are built from the same row types by `domain::linkage_statistics`; the
/// offline tool has no follow-up records, so no follow-up tables).
#[derive(Debug, Clone, Copy)]
pub struct LinkageTables<'a> {
    pub entrants: &'a [EntrantsRow],
    pub negative_then_diagnosed_28d: &'a ShareWithInterval,
    pub days_entry_to_diagnosis: &'a [DaysRow],
    pub prefectures: &'a [PrefectureRow],
    pub follow_up: Option<&'a FollowUpSummary>,
}

impl<'a> From<&'a LinkageSummary> for LinkageTables<'a> {
    fn from(s: &'a LinkageSummary) -> Self {
        LinkageTables {
            entrants: &s.entrants,
            negative_then_diagnosed_28d: &s.negative_then_diagnosed_28d,
            days_entry_to_diagnosis: &s.days_entry_to_diagnosis,
            prefectures: &s.prefectures,
            follow_up: Some(&s.follow_up),
        }
    }
}

impl<'a> From<&'a Summary> for LinkageTables<'a> {
    fn from(s: &'a Summary) -> Self {
        LinkageTables {
            entrants: &s.entrants,
            negative_then_diagnosed_28d: &s.negative_then_diagnosed,
            days_entry_to_diagnosis: &s.days_to_diagnosis,
            prefectures: &s.prefectures,
            follow_up: None,
        }
    }
}

// One struct per file's row; the header constants name the same columns in the same order (a test checks it).

const ENTRANTS_HEADER: [&str; 4] = ["week_start", "port_of_entry", "nationality", "entrants"];

#[derive(Serialize)]
struct EntrantsLine<'a> {
    week_start: NaiveDate,
    port_of_entry: &'a str,
    nationality: &'a str,
    entrants: Cell,
}

const WINDOW_HEADER: [&str; 5] = ["negative_entrants", "diagnosed_within_28_days", "share", "ci95_low", "ci95_high"];

#[derive(Serialize)]
struct WindowLine {
    negative_entrants: Cell,
    diagnosed_within_28_days: Cell,
    share: Cell,
    ci95_low: Cell,
    ci95_high: Cell,
}

const DAYS_HEADER: [&str; 2] = ["days_entry_to_diagnosis", "reports"];

#[derive(Serialize)]
struct DaysLine {
    days_entry_to_diagnosis: i64,
    reports: Cell,
}

const PREFECTURES_HEADER: [&str; 6] =
    ["prefecture_code", "reports", "with_passport", "linked", "share_with_passport", "share_linked"];

#[derive(Serialize)]
struct PrefectureLine<'a> {
    prefecture_code: &'a str,
    reports: Cell,
    with_passport: Cell,
    linked: Cell,
    share_with_passport: Cell,
    share_linked: Cell,
}

const FOLLOW_UP_HEADER: [&str; 9] = [
    "under_follow_up",
    "diagnosed_during_or_within_14_days",
    "share",
    "ci95_low",
    "ci95_high",
    "symptoms_before_diagnosis",
    "share_symptoms_before_diagnosis",
    "unreachable",
    "share_unreachable",
];

#[derive(Serialize)]
struct FollowUpLine {
    under_follow_up: Cell,
    diagnosed_during_or_within_14_days: Cell,
    share: Cell,
    ci95_low: Cell,
    ci95_high: Cell,
    symptoms_before_diagnosis: Cell,
    share_symptoms_before_diagnosis: Cell,
    unreachable: Cell,
    share_unreachable: Cell,
}

const SYMPTOM_DAYS_HEADER: [&str; 2] = ["days_symptoms_to_diagnosis", "reports"];

#[derive(Serialize)]
struct SymptomDaysLine {
    days_symptoms_to_diagnosis: i64,
    reports: Cell,
}

fn csv_file<R: Serialize>(path: &str, header: &[&str], rows: impl IntoIterator<Item = R>) -> Result<File, RenderError> {
    let mut writer = csv_writer(false);
    writer.write_record(header)?;
    for row in rows {
        writer.serialize(row)?;
    }
    Ok(File { path: path.to_owned(), content_type: CSV, bytes: csv_bytes(writer)? })
}

/// The files (in [`PATHS`] order; the two follow-up files only when the tables have follow-up statistics). For
/// [`Audience::Public`], counts of 1 to 4 and the shares and intervals computed from them are `*` (primary
/// suppression).
pub fn files(t: LinkageTables<'_>, audience: Audience) -> Result<Vec<File>, RenderError> {
    let entrants = t.entrants.iter().map(|r| EntrantsLine {
        week_start: r.week_start,
        port_of_entry: &r.port_of_entry,
        nationality: &r.nationality,
        entrants: audience.count_cell(r.entrants),
    });
    let p = t.negative_then_diagnosed_28d;
    let interval = |v: f64| audience.share_cell(v, p.count, p.total);
    let window = WindowLine {
        negative_entrants: audience.count_cell(p.total),
        diagnosed_within_28_days: audience.count_cell(p.count),
        share: interval(p.share),
        ci95_low: interval(p.ci95_low),
        ci95_high: interval(p.ci95_high),
    };
    let days = t
        .days_entry_to_diagnosis
        .iter()
        .map(|r| DaysLine { days_entry_to_diagnosis: r.days, reports: audience.count_cell(r.reports) });
    let prefectures = t.prefectures.iter().map(|r| PrefectureLine {
        prefecture_code: &r.prefecture_code,
        reports: audience.count_cell(r.reports),
        with_passport: audience.count_cell(r.with_passport),
        linked: audience.count_cell(r.linked),
        share_with_passport: audience.share_cell(r.share_with_passport, r.with_passport, r.reports),
        share_linked: audience.share_cell(r.share_linked, r.linked, r.reports),
    });
    let mut files = vec![
        csv_file(ENTRANTS_WEEKLY, &ENTRANTS_HEADER, entrants)?,
        csv_file(NEGATIVE_THEN_DIAGNOSED_28D, &WINDOW_HEADER, [window])?,
        csv_file(DAYS_ENTRY_TO_DIAGNOSIS, &DAYS_HEADER, days)?,
        csv_file(PREFECTURES, &PREFECTURES_HEADER, prefectures)?,
    ];
    if let Some(f) = t.follow_up {
        files.extend(follow_up_files(f, audience)?);
    }
    Ok(files)
}

/// The follow-up statistics' two files. A share is hidden with its count or its base, as everywhere.
fn follow_up_files(f: &FollowUpSummary, audience: Audience) -> Result<[File; 2], RenderError> {
    let cases = &f.diagnosed_during_or_within_14d;
    let interval = |v: f64| audience.share_cell(v, cases.count, cases.total);
    let (symptoms, unreachable) = (&f.symptoms_before_diagnosis, &f.unreachable);
    let line = FollowUpLine {
        under_follow_up: audience.count_cell(f.under_follow_up),
        diagnosed_during_or_within_14_days: audience.count_cell(cases.count),
        share: interval(cases.share),
        ci95_low: interval(cases.ci95_low),
        ci95_high: interval(cases.ci95_high),
        symptoms_before_diagnosis: audience.count_cell(symptoms.count),
        share_symptoms_before_diagnosis: audience.share_cell(symptoms.share, symptoms.count, symptoms.total),
        unreachable: audience.count_cell(unreachable.count),
        share_unreachable: audience.share_cell(unreachable.share, unreachable.count, unreachable.total),
    };
    let days = f
        .days_symptoms_to_diagnosis
        .iter()
        .map(|r| SymptomDaysLine { days_symptoms_to_diagnosis: r.days, reports: audience.count_cell(r.reports) });
    Ok([
        csv_file(FOLLOW_UP, &FOLLOW_UP_HEADER, [line])?,
        csv_file(DAYS_SYMPTOMS_TO_DIAGNOSIS, &SYMPTOM_DAYS_HEADER, days)?,
    ])
}

/// Where `hersys link` writes its review band beside the links it writes to `links` (`LINKS.csv` →
/// `LINKS.review.csv`), and where `hersys-bench evaluate` reads it.
pub fn review_band_path(links: &std::path::Path) -> std::path::PathBuf {
    let stem = links.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "LINKS".to_owned());
    links.with_file_name(format!("{stem}.review.csv"))
}

#[cfg(test)]
mod tests;
