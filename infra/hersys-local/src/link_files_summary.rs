//! `hersys link ... --summary DIR`: the linkage statistics (`domain::linkage_statistics`) as CSV files,
//! computed from the files and the links just made. Counts only, no personal data. The files are the published
//! `csv/linkage_*.csv` (same renderer, `publish::linkage`: names, headers, precision), with one stated difference:
//! counts of 1 to 4 are shown, not hidden, as this is an analyst's copy.

use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;
use domain::entry::EntryTestResult;
use domain::linkage_statistics::{self as stats, StatEntry, StatReport};
use linkage_engine::dates::Day;
use publish::Audience;

struct EntryRow {
    date: NaiveDate,
    port: String,
    nationality: String,
    result: EntryTestResult,
}

struct ReportRow {
    date: NaiveDate,
    prefecture: String,
    has_passport: bool,
}

fn read<T>(path: &Path, wanted: &[&str], mut row: impl FnMut(&[&str]) -> Option<T>) -> anyhow::Result<Vec<T>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let header = reader.headers()?.clone();
    let cols: Vec<usize> = wanted
        .iter()
        .map(|w| header.iter().position(|h| h == *w).with_context(|| format!("{}: no column {w}", path.display())))
        .collect::<anyhow::Result<_>>()?;
    let mut out = Vec::new();
    let mut rec = csv::StringRecord::new();
    while reader.read_record(&mut rec)? {
        let fields: Vec<&str> = cols.iter().map(|&c| rec.get(c).unwrap_or("").trim()).collect();
        if let Some(v) = row(&fields) {
            out.push(v);
        }
    }
    Ok(out)
}

/// The same date rule as the linkage's readers (so that rows are skipped alike and positions agree).
fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(Day::parse(s)?.number)
}

/// Writes the four summary files into `dir` (named as the published ones, without their `csv/` folder). `links`
/// are (report row, entry row) positions among the rows the linkage kept (rows with a valid entry or diagnosis
/// date), which these readers keep alike.
pub fn write(dir: &Path, entries: &Path, reports: &Path, links: &[(usize, usize)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let entry_rows = read(entries, &["entry_date", "port_of_entry", "nationality", "entry_test_result"], |f| {
        Some(EntryRow {
            date: date(f[0])?,
            port: f[1].to_owned(),
            nationality: f[2].to_owned(),
            result: EntryTestResult::parse("entry_test_result", f[3]).unwrap_or(EntryTestResult::NotTested),
        })
    })?;
    let report_rows = read(reports, &["diagnosis_date", "prefecture_code", "passport_number"], |f| {
        Some(ReportRow { date: date(f[0])?, prefecture: f[1].to_owned(), has_passport: !f[2].is_empty() })
    })?;
    let stat_entries: Vec<StatEntry<'_>> = entry_rows
        .iter()
        .map(|e| StatEntry {
            entry_date: e.date,
            port_of_entry: &e.port,
            nationality: &e.nationality,
            test_result: e.result,
        })
        .collect();
    let stat_reports: Vec<StatReport<'_>> = report_rows
        .iter()
        .map(|r| StatReport { diagnosis_date: r.date, prefecture_code: &r.prefecture, has_passport: r.has_passport })
        .collect();
    let s = stats::summarise(&stat_entries, &stat_reports, links);

    // The published files, unsuppressed: same names, headers and precision as `csv/linkage_*.csv` in the export.
    for file in publish::linkage::files((&s).into(), Audience::Analyst)? {
        let name = Path::new(&file.path).file_name().with_context(|| format!("no file name in {}", file.path))?;
        let path = dir.join(name);
        std::fs::write(&path, &file.bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    let p = s.negative_then_diagnosed;
    eprintln!(
        "summary -> {}: of {} tested negative, {} diagnosed within {} days ({:.3}%, 95% CI {:.3}% to {:.3}%)",
        dir.display(),
        crate::plural::counted(p.total, "entrant", "entrants"),
        p.count,
        stats::WINDOW_DAYS,
        100.0 * p.share,
        100.0 * p.ci95_low,
        100.0 * p.ci95_high
    );
    Ok(())
}
