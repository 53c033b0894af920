//! The graph export's files: per series the ministry's CSV and the page's JSON, a discrepancy CSV per switched
//! prefecture, and the manifest (`docs/export-format.md`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::graphs::{AgeBand, DailySeries, Discrepancy, GraphSeries, SeriesId, SexAgeSeries, SexBand, mhlw_date};
use domain::linkage_records::LinkageSummary;
use domain::prefecture::PrefectureCode;
use domain::time::Instant;
use serde::Serialize;

use crate::manifest::{DiscrepancyEntry, HeadlineShare, Label, LinkageEntry, Manifest, SeriesEntry, SourceEntry};
use crate::{Audience, CSV, File, HIDDEN, JSON, RenderError, csv_bytes, csv_writer};

/// The series in their published order (`docs/export-format.md`).
pub const ORDER: [SeriesId; 11] = [
    SeriesId::NewDaily,
    SeriesId::NewPer100k,
    SeriesId::NewDetailWeekly,
    SeriesId::CumulativeDaily,
    SeriesId::CumulativeDetailWeekly,
    SeriesId::SevereDaily,
    SeriesId::SevereDetailWeekly,
    SeriesId::DeathsCumulativeDaily,
    SeriesId::DeathsDaily,
    SeriesId::DeathsDetailCumulativeWeekly,
    SeriesId::InpatientDaily,
];

pub(crate) fn title(id: SeriesId) -> (&'static str, &'static str) {
    match id {
        SeriesId::NewDaily => ("新規陽性者数", "Newly confirmed cases"),
        SeriesId::NewPer100k => ("人口10万人あたりの新規陽性者数", "Newly confirmed cases per 100,000 population"),
        SeriesId::NewDetailWeekly => {
            ("性別・年代別新規陽性者数（週別）", "Newly confirmed cases by sex and age (weekly)")
        }
        SeriesId::CumulativeDaily => ("累積陽性者数", "Confirmed cases (cumulative)"),
        SeriesId::CumulativeDetailWeekly => ("性別・年代別累積陽性者数", "Confirmed cases by sex and age (cumulative)"),
        SeriesId::SevereDaily => ("重症者数", "Severe cases"),
        SeriesId::SevereDetailWeekly => ("性別・年代別重症者数（週別）", "Severe cases by sex and age (weekly)"),
        SeriesId::DeathsCumulativeDaily => ("死亡者数（累積）", "Deaths (cumulative)"),
        SeriesId::DeathsDaily => ("死亡者数（日別）", "Number of deaths (daily)"),
        SeriesId::DeathsDetailCumulativeWeekly => {
            ("性別・年代別死亡者数（累積）", "Deaths by sex and age (cumulative)")
        }
        SeriesId::InpatientDaily => ("入院治療等を要する者等", "Requiring inpatient care etc."),
    }
}

/// Daily columns: (JSON id, ja, en, CSV header).
pub(crate) fn columns(id: SeriesId) -> Vec<(&'static str, &'static str, &'static str)> {
    match id {
        SeriesId::InpatientDaily => vec![
            ("requiring_inpatient_care", "入院治療等を要する者", "Requiring inpatient care"),
            (
                "discharged_or_released",
                "退院又は療養解除となった者",
                "Discharged from hospital or released from treatment",
            ),
            ("to_be_confirmed", "確認中", "To be confirmed"),
        ],
        SeriesId::NewPer100k => vec![("value", "人口10万人あたり", "Per 100,000 population")],
        _ => vec![("value", "人数", "Persons")],
    }
}

pub(crate) fn age_label(band: AgeBand) -> (&'static str, &'static str) {
    const LABELS: [(&str, &str); 9] = [
        ("10歳未満", "Under 10"),
        ("10代", "10s"),
        ("20代", "20s"),
        ("30代", "30s"),
        ("40代", "40s"),
        ("50代", "50s"),
        ("60代", "60s"),
        ("70代", "70s"),
        ("80歳以上", "80 and over"),
    ];
    LABELS[band.index().min(8)]
}

/// `ALL`, then the English prefecture names in JIS order.
pub(crate) fn area_names() -> Vec<&'static str> {
    std::iter::once("ALL").chain(PrefectureCode::all().map(|p| p.info().name_en)).collect()
}

/// A count, or tenths with one decimal as the ministry writes them (`17.5`, `10` for 10.0, `0`).
pub(crate) fn number_text(v: i64, tenths: bool) -> String {
    if !tenths || v % 10 == 0 {
        (if tenths { v / 10 } else { v }).to_string()
    } else {
        format!("{}.{}", v / 10, (v % 10).abs())
    }
}

/// The ministry's week form `2020/05/10~2020/05/16` (zero-padded, unlike its day dates).
pub(crate) fn week_text(from: NaiveDate, to: NaiveDate) -> String {
    format!("{}~{}", from.format("%Y/%m/%d"), to.format("%Y/%m/%d"))
}

/// The wide layout: `Date,ALL,Hokkaido,...` or, with several columns, `(ALL) Requiring inpatient care,...`.
pub fn daily_csv(s: &DailySeries) -> Result<Vec<u8>, RenderError> {
    let cols = columns(s.id);
    let mut header = vec!["Date".to_owned()];
    for area in area_names() {
        if cols.len() == 1 {
            header.push(area.to_owned());
        } else {
            header.extend(cols.iter().map(|(_, _, en)| format!("({area}) {en}")));
        }
    }
    let mut writer = csv_writer(true);
    writer.write_record(&header)?;
    for (t, day) in s.dates.iter().enumerate() {
        let values = s.areas.iter().flatten().map(|col| number_text(col[t], s.tenths));
        writer.write_record(std::iter::once(mhlw_date(*day)).chain(values))?;
    }
    csv_bytes(writer)
}

/// Two header rows (area over each of its 18 columns; then sex and age band), one row per week, `*` for a
/// suppressed cell.
pub fn sex_age_csv(s: &SexAgeSeries) -> Result<Vec<u8>, RenderError> {
    let mut areas = vec!["Week".to_owned()];
    let mut bands = vec![String::new()];
    for area in area_names() {
        for sex in SexBand::ALL {
            let sex = if sex == SexBand::Male { "Male" } else { "Female" };
            for band in AgeBand::all() {
                areas.push(area.to_owned());
                bands.push(format!("{sex} {}", age_label(band).1));
            }
        }
    }
    let mut writer = csv_writer(true);
    writer.write_record(&areas)?;
    writer.write_record(&bands)?;
    for (t, week) in s.periods.iter().enumerate() {
        let cells = s.areas.iter().flatten().flat_map(|sex| &sex[t]).map(|cell| match cell {
            Some(v) => v.to_string(),
            None => HIDDEN.to_owned(),
        });
        writer.write_record(std::iter::once(week_text(week.from, week.to)).chain(cells))?;
    }
    csv_bytes(writer)
}

fn label(id: SeriesId) -> Label {
    let (ja, en) = title(id);
    Label { en, ja }
}

// The series' JSON, typed. Fields in alphabetical order and maps as `BTreeMap`s: see `manifest`'s note.

#[derive(Serialize)]
struct DailyJson<'a> {
    /// Area name → column id → one value per date.
    areas: BTreeMap<&'static str, BTreeMap<&'static str, Values<'a>>>,
    columns: Vec<ColumnJson>,
    dates: &'a [NaiveDate],
    id: &'static str,
    shape: &'static str,
    title: Label,
}

#[derive(Serialize)]
struct ColumnJson {
    id: &'static str,
    label: Label,
}

/// Counts as integers; a series kept in tenths (per 100,000) as decimals (`17.5`).
#[derive(Serialize)]
#[serde(untagged)]
enum Values<'a> {
    Counts(&'a [i64]),
    Decimals(Vec<f64>),
}

/// One sex's rows of an area: one row of age bands per period.
type SexRows<'a> = &'a [[Option<u64>; AgeBand::COUNT]];

#[derive(Serialize)]
struct SexAgeJson<'a> {
    age_bands: Vec<AgeBandJson>,
    /// Area name → sex id → one row of age bands per period (`null` for a suppressed cell).
    areas: BTreeMap<&'static str, BTreeMap<&'static str, SexRows<'a>>>,
    id: &'static str,
    periods: Vec<PeriodJson>,
    sexes: Vec<&'static str>,
    shape: &'static str,
    title: Label,
}

#[derive(Serialize)]
struct AgeBandJson {
    id: String,
    label: Label,
}

#[derive(Serialize)]
struct PeriodJson {
    from: NaiveDate,
    to: NaiveDate,
}

pub fn daily_json(s: &DailySeries) -> Result<Vec<u8>, RenderError> {
    let cols = columns(s.id);
    let areas = area_names()
        .into_iter()
        .zip(&s.areas)
        .map(|(name, area)| {
            let per_col = cols
                .iter()
                .zip(area)
                .map(|((id, _, _), values)| {
                    let values = if s.tenths {
                        Values::Decimals(values.iter().map(|&v| v as f64 / 10.0).collect())
                    } else {
                        Values::Counts(values)
                    };
                    (*id, values)
                })
                .collect();
            (name, per_col)
        })
        .collect();
    let json = DailyJson {
        areas,
        columns: cols.iter().map(|&(id, ja, en)| ColumnJson { id, label: Label { en, ja } }).collect(),
        dates: &s.dates,
        id: s.id.as_str(),
        shape: "daily",
        title: label(s.id),
    };
    Ok(serde_json::to_vec(&json)?)
}

pub fn sex_age_json(s: &SexAgeSeries) -> Result<Vec<u8>, RenderError> {
    let areas = area_names()
        .into_iter()
        .zip(&s.areas)
        .map(|(name, area)| (name, SexBand::ALL.iter().zip(area).map(|(sex, rows)| (sex.id(), &rows[..])).collect()))
        .collect();
    let json = SexAgeJson {
        age_bands: AgeBand::all()
            .map(|b| {
                let (ja, en) = age_label(b);
                AgeBandJson { id: b.id(), label: Label { en, ja } }
            })
            .collect(),
        areas,
        id: s.id.as_str(),
        periods: s.periods.iter().map(|w| PeriodJson { from: w.from, to: w.to }).collect(),
        sexes: SexBand::ALL.iter().map(|s| s.id()).collect(),
        shape: "sex_age",
        title: label(s.id),
    };
    Ok(serde_json::to_vec(&json)?)
}

/// One day of a discrepancy report: HER-SYS against the prefecture's line list.
#[derive(Serialize)]
struct DiscrepancyLine {
    date: String,
    hersys: i64,
    linelist: i64,
    /// HER-SYS minus line list.
    difference: i64,
}

const DISCREPANCY_HEADER: [&str; 4] = ["Date", "HER-SYS", "Line list", "Difference"];

/// `Date,HER-SYS,Line list,Difference` (HER-SYS minus line list), one row per day of the overlap.
pub fn discrepancy_csv(d: &Discrepancy) -> Result<Vec<u8>, RenderError> {
    let mut writer = csv_writer(true);
    writer.write_record(DISCREPANCY_HEADER)?;
    for r in &d.rows {
        writer.serialize(DiscrepancyLine {
            date: mhlw_date(r.date),
            hersys: r.hersys,
            linelist: r.linelist,
            difference: r.hersys - r.linelist,
        })?;
    }
    csv_bytes(writer)
}

pub fn discrepancy_path(d: &Discrepancy) -> String {
    format!("discrepancy/{}.csv", d.prefecture.info().name_en)
}

fn utc_seconds(t: Instant) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The manifest's `linkage` entry: when the statistics were computed, the headline share (negative-tested
/// entrants diagnosed within 28 days) as published, and the CSV files the linkage function writes beside the
/// graph files.
fn linkage_entry(s: &LinkageSummary) -> LinkageEntry {
    let p = &s.negative_then_diagnosed_28d;
    let public = Audience::Public;
    let share = |v: f64| public.share(v, p.count, p.total);
    LinkageEntry {
        computed_at: s.computed_at.map(utc_seconds),
        csv: crate::linkage::PATHS.to_vec(),
        negative_then_diagnosed_28d: HeadlineShare {
            ci95_high: share(p.ci95_high),
            ci95_low: share(p.ci95_low),
            diagnosed_within_28_days: public.count(p.count),
            negative_entrants: public.count(p.total),
            share: share(p.share),
        },
    }
}

/// Every file of an export: per series a CSV and a JSON, a discrepancy CSV per switched prefecture, and the
/// manifest (last), which also names the linkage statistics when there are any.
pub fn files(
    g: &GraphSeries,
    now: Instant,
    as_of: NaiveDate,
    linkage: Option<&LinkageSummary>,
) -> Result<Vec<File>, RenderError> {
    let mut files = Vec::new();
    let mut series = Vec::new();
    for id in ORDER {
        let csv = format!("csv/{}.csv", id.as_str());
        let json = format!("json/{}.json", id.as_str());
        let (shape, last_date, csv_bytes, json_bytes) = if let Some(s) = g.daily(id) {
            ("daily", s.last_date(), daily_csv(s)?, daily_json(s)?)
        } else if let Some(s) = g.sex_age(id) {
            ("sex_age", s.last_date(), sex_age_csv(s)?, sex_age_json(s)?)
        } else {
            continue;
        };
        files.push(File { path: csv.clone(), content_type: CSV, bytes: csv_bytes });
        files.push(File { path: json.clone(), content_type: JSON, bytes: json_bytes });
        series.push(SeriesEntry {
            csv,
            id: id.as_str(),
            json,
            last_date,
            per_100k: (id == SeriesId::NewDaily).then_some(SeriesId::NewPer100k.as_str()),
            shape,
            title: label(id),
        });
    }
    let mut discrepancies = Vec::new();
    for d in &g.discrepancies {
        let path = discrepancy_path(d);
        files.push(File { path: path.clone(), content_type: CSV, bytes: discrepancy_csv(d)? });
        discrepancies.push(DiscrepancyEntry { csv: path, prefecture: d.prefecture.info().name_en });
    }
    let sources = PrefectureCode::all()
        .map(|p| {
            let from = g.sources.hersys_from(p);
            let source = if from.is_some_and(|f| f <= as_of) { "hersys" } else { "linelist" };
            (p.info().name_en, SourceEntry { hersys_from: from, source })
        })
        .collect();
    let manifest = Manifest {
        discrepancies,
        generated_at: utc_seconds(now),
        linkage: linkage.map(linkage_entry),
        series,
        sources,
    };
    files.push(File { path: "manifest.json".to_owned(), content_type: JSON, bytes: serde_json::to_vec(&manifest)? });
    Ok(files)
}

#[cfg(test)]
mod tests;
