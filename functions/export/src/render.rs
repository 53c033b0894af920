//! The export's files, rendered from the domain's typed tables (the edge: the domain knows no CSV or JSON). The
//! formats are the contract of `docs/export-format.md`.

use chrono::NaiveDate;
use domain::app::{published, published_share, summary_csv};
use domain::graphs::{AgeBand, DailySeries, Discrepancy, GraphSeries, SeriesId, SexAgeSeries, SexBand, mhlw_date};
use domain::links::LinkageSummary;
use domain::prefecture::PrefectureCode;
use domain::time::Instant;
use serde_json::{Map, Value, json};

/// The series in the order.
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

/// One file to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

const CSV: &str = "text/csv; charset=utf-8";
const JSON: &str = "application/json";

fn title(id: SeriesId) -> (&'static str, &'static str) {
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
fn columns(id: SeriesId) -> Vec<(&'static str, &'static str, &'static str)> {
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

fn age_label(band: AgeBand) -> (&'static str, &'static str) {
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
fn area_names() -> Vec<&'static str> {
    std::iter::once("ALL").chain(PrefectureCode::all().map(|p| p.info().name_en)).collect()
}

/// A count, or tenths with one decimal as the ministry writes them (`17.5`, `10` for 10.0, `0`).
fn number_text(v: i64, tenths: bool) -> String {
    if !tenths || v % 10 == 0 {
        (if tenths { v / 10 } else { v }).to_string()
    } else {
        format!("{}.{}", v / 10, (v % 10).abs())
    }
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The ministry's week form `2020/05/10~2020/05/16` (zero-padded, unlike its day dates).
fn week_text(from: NaiveDate, to: NaiveDate) -> String {
    format!("{}~{}", from.format("%Y/%m/%d"), to.format("%Y/%m/%d"))
}

/// The wide layout: `Date,ALL,Hokkaido,...` or, with several columns, `(ALL) Requiring inpatient care,...`.
pub fn daily_csv(s: &DailySeries) -> Vec<u8> {
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
pub fn sex_age_csv(s: &SexAgeSeries) -> Vec<u8> {
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

pub fn daily_json(s: &DailySeries) -> Value {
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
        "columns": cols.iter().map(|(id, ja, en)| json!({ "id": id, "label": { "ja": ja, "en": en } })).collect::<Vec<_>>(),
        "areas": areas,
    })
}

pub fn sex_age_json(s: &SexAgeSeries) -> Value {
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
pub fn discrepancy_csv(d: &Discrepancy) -> Vec<u8> {
    let mut out = String::from("\u{feff}Date,HER-SYS,Line list,Difference\n");
    for r in &d.rows {
        out.push_str(&format!("{},{},{},{}\n", mhlw_date(r.date), r.hersys, r.linelist, r.hersys - r.linelist));
    }
    out.into_bytes()
}

pub fn discrepancy_path(d: &Discrepancy) -> String {
    format!("discrepancy/{}.csv", d.prefecture.info().name_en)
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
pub fn files(g: &GraphSeries, now: Instant, as_of: NaiveDate, linkage: Option<&LinkageSummary>) -> Vec<File> {
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
        files.push(File { path: csv.clone(), content_type: CSV, bytes: csv_bytes });
        files.push(File { path: json_path.clone(), content_type: JSON, bytes: to_json_bytes(&json_value) });
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
        files.push(File { path: path.clone(), content_type: CSV, bytes: discrepancy_csv(d) });
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
    files.push(File { path: "manifest.json".to_owned(), content_type: JSON, bytes: to_json_bytes(&manifest) });
    files
}

#[cfg(test)]
mod tests;
