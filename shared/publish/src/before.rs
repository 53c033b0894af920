//! The public files as they were rendered before this crate (hand-built CSV strings and untyped `json!`), kept
//! as the tests' reference: the typed rendering must give the same bytes.

use std::fmt::Write as _;

use chrono::NaiveDate;
use domain::app::{published, published_share};
use domain::graphs::{AgeBand, DailySeries, Discrepancy, GraphSeries, SeriesId, SexAgeSeries, SexBand, mhlw_date};
use domain::links::LinkageSummary;
use domain::prefecture::PrefectureCode;
use domain::time::Instant;
use serde_json::{Map, Value, json};

use crate::graphs::{ORDER, age_label, area_names, columns, discrepancy_path, number_text, title, week_text};
use crate::{CSV, JSON};

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The wide layout: `Date,ALL,Hokkaido,...` or, with several columns, `(ALL) Requiring inpatient care,...`.
pub(crate) fn daily_csv(s: &DailySeries) -> Vec<u8> {
    let cols = columns(s.id);
    let mut out = String::from("\u{feff}Date");
    for area in area_names() {
        if cols.len() == 1 {
            out.push(',');
            out.push_str(area);
        } else {
            for (_, _, en) in &cols {
                out.push_str(&format!(",({area}) {en}"));
            }
        }
    }
    out.push('\n');
    for (t, day) in s.dates.iter().enumerate() {
        out.push_str(&mhlw_date(*day));
        for area in &s.areas {
            for col in area {
                out.push(',');
                out.push_str(&number_text(col[t], s.tenths));
            }
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// Two header rows (area over each of its 18 columns; then sex and age band), one row per week, `*` for a
/// suppressed cell.
pub(crate) fn sex_age_csv(s: &SexAgeSeries) -> Vec<u8> {
    let mut first = String::from("\u{feff}Week");
    let mut second = String::new();
    for area in area_names() {
        for sex in SexBand::ALL {
            for band in AgeBand::all() {
                first.push(',');
                first.push_str(area);
                let sex = if sex == SexBand::Male { "Male" } else { "Female" };
                second.push_str(&format!(",{sex} {}", age_label(band).1));
            }
        }
    }
    let mut out = format!("{first}\n{second}\n");
    for (t, week) in s.periods.iter().enumerate() {
        out.push_str(&week_text(week.from, week.to));
        for area in &s.areas {
            for sex in area {
                for cell in &sex[t] {
                    out.push(',');
                    match cell {
                        Some(v) => out.push_str(&v.to_string()),
                        None => out.push('*'),
                    }
                }
            }
        }
        out.push('\n');
    }
    out.into_bytes()
}

fn title_json(id: SeriesId) -> Value {
    let (ja, en) = title(id);
    json!({ "ja": ja, "en": en })
}

pub(crate) fn daily_json(s: &DailySeries) -> Value {
    let cols = columns(s.id);
    let mut areas = Map::new();
    for (name, area) in area_names().into_iter().zip(&s.areas) {
        let mut per_col = Map::new();
        for ((id, _, _), values) in cols.iter().zip(area) {
            let values: Vec<Value> =
                values.iter().map(|&v| if s.tenths { json!(v as f64 / 10.0) } else { json!(v) }).collect();
            per_col.insert((*id).to_owned(), Value::Array(values));
        }
        areas.insert(name.to_owned(), Value::Object(per_col));
    }
    json!({
        "id": s.id.as_str(),
        "title": title_json(s.id),
        "shape": "daily",
        "dates": s.dates.iter().map(|d| iso(*d)).collect::<Vec<_>>(),
        "columns": cols
            .iter()
            .map(|(id, ja, en)| json!({ "id": id, "label": { "ja": ja, "en": en } }))
            .collect::<Vec<_>>(),
        "areas": areas,
    })
}

pub(crate) fn sex_age_json(s: &SexAgeSeries) -> Value {
    let mut areas = Map::new();
    for (name, area) in area_names().into_iter().zip(&s.areas) {
        let mut by_sex = Map::new();
        for (sex, periods) in SexBand::ALL.iter().zip(area) {
            by_sex.insert(sex.id().to_owned(), json!(periods.iter().map(|row| row.to_vec()).collect::<Vec<_>>()));
        }
        areas.insert(name.to_owned(), Value::Object(by_sex));
    }
    json!({
        "id": s.id.as_str(),
        "title": title_json(s.id),
        "shape": "sex_age",
        "periods": s.periods.iter().map(|w| json!({ "from": iso(w.from), "to": iso(w.to) })).collect::<Vec<_>>(),
        "sexes": SexBand::ALL.iter().map(|s| s.id()).collect::<Vec<_>>(),
        "age_bands": AgeBand::all().map(|b| {
            let (ja, en) = age_label(b);
            json!({ "id": b.id(), "label": { "ja": ja, "en": en } })
        }).collect::<Vec<_>>(),
        "areas": areas,
    })
}

/// `Date,HER-SYS,Line list,Difference` (HER-SYS minus line list), one row per day of the overlap.
pub(crate) fn discrepancy_csv(d: &Discrepancy) -> Vec<u8> {
    let mut out = String::from("\u{feff}Date,HER-SYS,Line list,Difference\n");
    for r in &d.rows {
        out.push_str(&format!("{},{},{},{}\n", mhlw_date(r.date), r.hersys, r.linelist, r.hersys - r.linelist));
    }
    out.into_bytes()
}

fn to_json_bytes(v: &Value) -> Vec<u8> {
    // A Value always serialises.
    serde_json::to_vec(v).unwrap_or_default()
}

/// The manifest's `linkage` entry: when the statistics were computed, the headline share (negative-tested
/// entrants diagnosed within 28 days) with counts of 1 to 4, and everything computed from them, as `null`, and the
/// CSV files the linkage function writes beside the graph files.
fn linkage_entry(s: &LinkageSummary) -> Value {
    let p = &s.negative_then_diagnosed_28d;
    let share = |v: f64| json!(published_share(v, p.count, p.total));
    json!({
        "computed_at": s.computed_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "negative_then_diagnosed_28d": {
            "negative_entrants": published(p.total),
            "diagnosed_within_28_days": published(p.count),
            "share": share(p.share),
            "ci95_low": share(p.ci95_low),
            "ci95_high": share(p.ci95_high),
        },
        "csv": summary_csv(s).into_iter().map(|(path, _)| path).collect::<Vec<_>>(),
    })
}

/// Every file of an export: per series a CSV and a JSON, a discrepancy CSV per switched prefecture, and the
/// manifest (last), which also names the linkage statistics when there are any.
pub(crate) fn files(
    g: &GraphSeries,
    now: Instant,
    as_of: NaiveDate,
    linkage: Option<&LinkageSummary>,
) -> Vec<crate::File> {
    let mut files = Vec::new();
    let mut entries = Vec::new();
    for id in ORDER {
        let csv = format!("csv/{}.csv", id.as_str());
        let json_path = format!("json/{}.json", id.as_str());
        let (shape, last, csv_bytes, json_value) = if let Some(s) = g.daily(id) {
            ("daily", s.last_date(), daily_csv(s), daily_json(s))
        } else if let Some(s) = g.sex_age(id) {
            ("sex_age", s.last_date(), sex_age_csv(s), sex_age_json(s))
        } else {
            continue;
        };
        files.push(crate::File { path: csv.clone(), content_type: CSV, bytes: csv_bytes });
        files.push(crate::File { path: json_path.clone(), content_type: JSON, bytes: to_json_bytes(&json_value) });
        let mut entry = json!({
            "id": id.as_str(), "title": title_json(id), "shape": shape, "csv": csv, "json": json_path,
            "last_date": last.map(iso),
        });
        if id == SeriesId::NewDaily {
            entry["per_100k"] = json!(SeriesId::NewPer100k.as_str());
        }
        entries.push(entry);
    }
    let mut discrepancies = Vec::new();
    for d in &g.discrepancies {
        let path = discrepancy_path(d);
        files.push(crate::File { path: path.clone(), content_type: CSV, bytes: discrepancy_csv(d) });
        discrepancies.push(json!({ "prefecture": d.prefecture.info().name_en, "csv": path }));
    }
    let mut sources = Map::new();
    for p in PrefectureCode::all() {
        let from = g.sources.hersys_from(p);
        let source = if from.is_some_and(|f| f <= as_of) { "hersys" } else { "linelist" };
        sources.insert(p.info().name_en.to_owned(), json!({ "source": source, "hersys_from": from.map(iso) }));
    }
    let mut manifest = json!({
        "generated_at": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "series": entries,
        "sources": sources,
        "discrepancies": discrepancies,
    });
    if let Some(s) = linkage {
        manifest["linkage"] = linkage_entry(s);
    }
    files.push(crate::File { path: "manifest.json".to_owned(), content_type: JSON, bytes: to_json_bytes(&manifest) });
    files
}

fn count_text(n: u64) -> String {
    published(n).map_or_else(|| "*".to_owned(), |n| n.to_string())
}

fn share_text(share: f64, count: u64, base: u64) -> String {
    published_share(share, count, base).map_or_else(|| "*".to_owned(), |v| format!("{v:.6}"))
}

/// The summary as the public CSV files beside the graph export (path, text): counts only, with counts of 1 to 4 and
/// the shares and intervals computed from them shown as `*` (primary suppression; the operator's API answer, for
/// analysts, is not suppressed).
pub(crate) fn summary_csv(s: &LinkageSummary) -> Vec<(String, String)> {
    let mut entrants = String::from("week_start,port_of_entry,nationality,entrants\n");
    for r in &s.entrants {
        let _ = writeln!(entrants, "{},{},{},{}", r.week_start, r.port_of_entry, r.nationality, count_text(r.entrants));
    }
    let p = &s.negative_then_diagnosed_28d;
    let interval = |v: f64| share_text(v, p.count, p.total);
    let window = format!(
        "negative_entrants,diagnosed_within_28_days,share,ci95_low,ci95_high\n{},{},{},{},{}\n",
        count_text(p.total),
        count_text(p.count),
        interval(p.share),
        interval(p.ci95_low),
        interval(p.ci95_high)
    );
    let mut days = String::from("days_entry_to_diagnosis,reports\n");
    for r in &s.days_entry_to_diagnosis {
        let _ = writeln!(days, "{},{}", r.days, count_text(r.reports));
    }
    let mut prefectures =
        String::from("prefecture_code,reports,with_passport,linked,share_with_passport,share_linked\n");
    for r in &s.prefectures {
        let _ = writeln!(
            prefectures,
            "{},{},{},{},{},{}",
            r.prefecture_code,
            count_text(r.reports),
            count_text(r.with_passport),
            count_text(r.linked),
            share_text(r.share_with_passport, r.with_passport, r.reports),
            share_text(r.share_linked, r.linked, r.reports)
        );
    }
    vec![
        ("csv/linkage_entrants_weekly.csv".to_owned(), entrants),
        ("csv/linkage_negative_then_diagnosed_28d.csv".to_owned(), window),
        ("csv/linkage_days_entry_to_diagnosis.csv".to_owned(), days),
        ("csv/linkage_prefectures.csv".to_owned(), prefectures),
    ]
}
