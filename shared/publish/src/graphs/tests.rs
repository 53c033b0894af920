//! The rendered files against the ministry's real files (headers, date forms, number forms) and the contract.

use chrono::{NaiveDate, TimeZone, Utc};
use domain::graphs::{AgeBand, SexBand};
use domain::graphs::{CaseFact, Sources, Tally, build_series};
use domain::prefecture::PrefectureCode;
use domain::report::{Status, StatusChange};

use serde_json::{Value, json};

use super::*;

const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/mhlw/2023-02-16_wide_format/");

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn real_header(file: &str) -> String {
    let text = std::fs::read_to_string(format!("{REAL}{file}")).unwrap();
    text.lines().next().unwrap().to_owned()
}

fn fact(code: u8, day: &str, history: &[(Status, &str)]) -> CaseFact {
    CaseFact {
        prefecture: PrefectureCode::new(code).unwrap(),
        published: d(day),
        sex: Some(SexBand::Female),
        age: Some(AgeBand::of_age(42)),
        status_history: Some(
            history.iter().map(|(s, day)| StatusChange { status: *s, effective_date: d(day) }).collect(),
        ),
        died_on: None,
    }
}

fn sample() -> GraphSeries {
    let mut t = Tally::new();
    for _ in 0..2459 {
        t.add(&fact(13, "2021-01-08", &[(Status::Hospitalized, "2021-01-08")]));
    }
    t.add(&fact(44, "2021-01-09", &[]));
    let mut sources = Sources::default();
    PrefectureCode::all().for_each(|p| sources.set(p, Some(d("2020-01-01"))));
    build_series(&t, &Tally::new(), &sources, d("2021-01-31"))
}

#[test]
fn daily_headers_are_the_ministrys_byte_for_byte() {
    let g = sample();
    for (id, file) in [
        (SeriesId::NewDaily, "newly_confirmed_cases_daily.csv"),
        (SeriesId::SevereDaily, "severe_cases_daily.csv"),
        (SeriesId::DeathsCumulativeDaily, "deaths_cumulative_daily.csv"),
        (SeriesId::NewPer100k, "newly_confirmed_cases_per_100_thousand_population_daily__2023-05-08.csv"),
        (SeriesId::InpatientDaily, "requiring_inpatient_care_etc_daily__2023-03-02.csv"),
    ] {
        let csv = String::from_utf8(daily_csv(g.daily(id).unwrap()).unwrap()).unwrap();
        assert_eq!(csv.lines().next().unwrap(), real_header(file), "{file}");
    }
}

#[test]
fn daily_rows_use_the_ministrys_date_and_number_forms() {
    let g = sample();
    let csv = String::from_utf8(daily_csv(g.daily(SeriesId::NewDaily).unwrap()).unwrap()).unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert!(!csv.contains('\r'));
    assert!(csv.ends_with('\n'));
    let row = csv.lines().find(|l| l.starts_with("2021/1/8,")).unwrap();
    assert_eq!(row.split(',').nth(1), Some("2459"));
    assert_eq!(row.split(',').nth(1 + 13), Some("2459"));
    assert_eq!(row.split(',').count(), 49);
    // Per 100k: Tokyo 17.5 as in the ministry's file; zeros as `0`; whole values without `.0`.
    let csv = String::from_utf8(daily_csv(g.daily(SeriesId::NewPer100k).unwrap()).unwrap()).unwrap();
    let row: Vec<&str> = csv.lines().find(|l| l.starts_with("2021/1/8,")).unwrap().split(',').collect();
    assert_eq!(row[1 + 13], "17.5");
    assert_eq!(row[1 + 1], "0");
    assert_eq!(number_text(100, true), "10");
    assert_eq!(number_text(1, true), "0.1");
    // The inpatient file: three columns per area.
    let csv = String::from_utf8(daily_csv(g.daily(SeriesId::InpatientDaily).unwrap()).unwrap()).unwrap();
    let row: Vec<&str> = csv.lines().find(|l| l.starts_with("2021/1/9,")).unwrap().split(',').collect();
    assert_eq!(row.len(), 1 + 48 * 3);
    assert_eq!(&row[1..4], &["2459", "0", "1"]);
}

#[test]
fn sex_age_files_have_two_header_rows_weeks_and_stars() {
    let g = sample();
    let s = g.sex_age(SeriesId::NewDetailWeekly).unwrap();
    let csv = String::from_utf8(sex_age_csv(s).unwrap()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("\u{feff}Week,ALL,ALL,"));
    assert!(lines[1].starts_with(",Male Under 10,Male 10s,"));
    assert_eq!(lines[0].split(',').count(), 1 + 48 * 18);
    assert_eq!(lines[1].split(',').count(), 1 + 48 * 18);
    // 2021/1/3 is a Sunday: one complete week to 2021/1/9.
    assert!(lines[2].starts_with("2021/01/03~2021/01/09,"), "{}", &lines[2][..40]);
    // Oita's single case (female 40s) is `*`, and so is at least one other Oita cell.
    let cells: Vec<&str> = lines[2].split(',').collect();
    let oita = &cells[1 + 44 * 18..1 + 45 * 18];
    assert_eq!(oita[9 + 4], "*");
    assert!(oita.iter().filter(|c| **c == "*").count() >= 2);
}

#[test]
fn json_and_manifest_follow_the_contract() {
    let g = sample();
    let now = Utc.with_ymd_and_hms(2021, 1, 31, 15, 0, 0).unwrap();
    let files = files(&g, now, d("2021-02-01"), None).unwrap();
    let get = |path: &str| -> Value {
        serde_json::from_slice(&files.iter().find(|f| f.path == path).unwrap().bytes).unwrap()
    };
    let daily = get("json/newly_confirmed_cases_daily.json");
    assert_eq!(daily["shape"], "daily");
    assert_eq!(daily["dates"][0], "2021-01-08");
    assert_eq!(daily["areas"]["Tokyo"]["value"][0], 2459);
    assert_eq!(daily["areas"]["ALL"]["value"].as_array().unwrap().len(), daily["dates"].as_array().unwrap().len());
    let rate = get("json/newly_confirmed_cases_per_100_thousand_population_daily.json");
    assert_eq!(rate["areas"]["Tokyo"]["value"][0], 17.5);
    let inpatient = get("json/requiring_inpatient_care_etc_daily.json");
    assert_eq!(inpatient["columns"][1]["id"], "discharged_or_released");
    let detail = get("json/newly_confirmed_cases_detail_weekly.json");
    assert_eq!(detail["shape"], "sex_age");
    assert_eq!(detail["periods"][0], json!({"from": "2021-01-03", "to": "2021-01-09"}));
    assert_eq!(detail["age_bands"][0]["id"], "0-9");
    assert_eq!(detail["age_bands"][8]["label"]["ja"], "80歳以上");
    assert_eq!(detail["areas"]["Oita"]["female"][0][4], Value::Null);
    // Oita = ALL - Tokyo across areas, so Tokyo's cell is hidden too (secondary suppression).
    assert_eq!(detail["areas"]["Tokyo"]["female"][0][4], Value::Null);
    let manifest = get("manifest.json");
    assert_eq!(files.last().unwrap().path, "manifest.json");
    assert_eq!(manifest["generated_at"], "2021-01-31T15:00:00Z");
    let ids: Vec<&str> = manifest["series"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 11);
    assert_eq!(manifest["series"][0]["per_100k"], "newly_confirmed_cases_per_100_thousand_population_daily");
    assert_eq!(manifest["series"][0]["last_date"], "2021-01-09");
    assert_eq!(manifest["series"][0]["csv"], "csv/newly_confirmed_cases_daily.csv");
    assert_eq!(manifest["sources"]["Oita"], json!({"source": "hersys", "hersys_from": "2020-01-01"}));
    assert!(manifest.get("linkage").is_none(), "no linkage run yet: no entry");
    for entry in manifest["series"].as_array().unwrap() {
        for key in ["csv", "json"] {
            assert!(files.iter().any(|f| f.path == entry[key].as_str().unwrap()), "{entry}");
        }
    }
}

#[test]
fn the_manifest_names_the_linkage_statistics_with_small_counts_hidden() {
    use domain::linkage_records::LinkageSummary;
    use domain::linkage_statistics::ShareWithInterval;
    let now = Utc.with_ymd_and_hms(2021, 1, 31, 15, 0, 0).unwrap();
    let manifest_of = |count: u64, total: u64| -> Value {
        let mut s = LinkageSummary::empty();
        s.computed_at = Some(now);
        s.negative_then_diagnosed_28d =
            ShareWithInterval { count, total, share: count as f64 / total as f64, ci95_low: 0.01, ci95_high: 0.2 };
        let files = files(&sample(), now, d("2021-02-01"), Some(&s)).unwrap();
        serde_json::from_slice(&files.last().unwrap().bytes).unwrap()
    };
    let shown = manifest_of(10, 200);
    let entry = &shown["linkage"];
    assert_eq!(entry["computed_at"], "2021-01-31T15:00:00Z");
    assert_eq!(
        entry["negative_then_diagnosed_28d"],
        json!({
            "negative_entrants": 200, "diagnosed_within_28_days": 10, "share": 0.05, "ci95_low": 0.01, "ci95_high": 0.2
        })
    );
    assert_eq!(entry["csv"].as_array().unwrap().len(), 6);
    assert!(entry["csv"].as_array().unwrap().iter().all(|p| p.as_str().unwrap().starts_with("csv/linkage_")));
    // Three diagnosed: the count and everything computed from it are hidden; the base is not.
    let hidden = manifest_of(3, 200);
    assert_eq!(
        hidden["linkage"]["negative_then_diagnosed_28d"],
        json!({
            "negative_entrants": 200, "diagnosed_within_28_days": null,
            "share": null, "ci95_low": null, "ci95_high": null
        })
    );
}

/// The sample with a discrepancy report (Oita, one day each way) and, optionally, the linkage statistics.
fn every_kind_of_file(linkage: Option<(u64, u64)>) -> (GraphSeries, Option<domain::linkage_records::LinkageSummary>) {
    use domain::graphs::{Discrepancy, DiscrepancyRow};
    let mut g = sample();
    g.discrepancies.push(Discrepancy {
        prefecture: PrefectureCode::new(44).unwrap(),
        rows: vec![
            DiscrepancyRow { date: d("2021-01-08"), hersys: 3, linelist: 5 },
            DiscrepancyRow { date: d("2021-01-09"), hersys: 1, linelist: 0 },
        ],
    });
    let summary = linkage.map(|(count, total)| {
        let mut s = domain::linkage_records::LinkageSummary::empty();
        s.computed_at = Some(Utc.with_ymd_and_hms(2021, 1, 31, 14, 0, 0).unwrap());
        s.negative_then_diagnosed_28d = domain::linkage_statistics::ShareWithInterval {
            count,
            total,
            share: count as f64 / total as f64,
            ci95_low: 0.01,
            ci95_high: 0.2,
        };
        s
    });
    (g, summary)
}

/// SHA-256 (`crate::digest_of`: every path, content type and bytes) of what the untyped rendering this crate
/// replaced (`json!` and string building in `functions/export/src/render.rs`) wrote for the same inputs: the typed
/// renderer writes the same bytes, file for file. With linkage statistics the manifest also names the two follow-up
/// files added since (`linkage::PATHS`): those two pins were taken again then, the files' own bytes unchanged.
const BEFORE: [(Option<(u64, u64)>, &str); 3] = [
    (None, "51a8c6ff8f1d829f732979a18a2048408e647d616c89e58ebd607d685c9bc850"),
    (Some((10, 200)), "af5fa20bd96d75e379571a8300630fa63e13e41fe8c37fc16eb36b808690740a"),
    (Some((3, 200)), "b9eb7d4826ff7c22c68eefdfe43e201e46434fe09292df53c0127eaa0d3277a2"),
];

#[test]
fn every_file_and_the_manifest_are_the_bytes_of_the_untyped_rendering_they_replace() {
    let now = Utc.with_ymd_and_hms(2021, 1, 31, 15, 0, 0).unwrap();
    for (linkage, before) in BEFORE {
        let (g, summary) = every_kind_of_file(linkage);
        // Half the prefectures still on their line lists: both kinds of source entry.
        let typed = files(&g, now, d("2021-02-01"), summary.as_ref()).unwrap();
        assert_eq!(crate::digest_of(&typed), before, "linkage {linkage:?}");
        assert!(typed.iter().any(|f| f.path == "discrepancy/Oita.csv"));
    }
    // A prefecture without a switch date, and one switched after the export's day: `linelist`.
    let (mut g, _) = every_kind_of_file(None);
    g.sources.set(PrefectureCode::new(1).unwrap(), None);
    g.sources.set(PrefectureCode::new(2).unwrap(), Some(d("2021-03-01")));
    let typed = files(&g, now, d("2021-02-01"), None).unwrap();
    assert_eq!(
        crate::digest_of(&typed[typed.len() - 1..]),
        "e1a8a934fefd29f871346e49fc3aeca0337e61c20c31c7b0620cd0c6b5ece6ae",
        "the manifest, as the untyped rendering wrote it"
    );
    let manifest: Value = serde_json::from_slice(&typed.last().unwrap().bytes).unwrap();
    assert_eq!(manifest["sources"]["Hokkaido"], json!({"source": "linelist", "hersys_from": null}));
    assert_eq!(manifest["sources"]["Aomori"], json!({"source": "linelist", "hersys_from": "2021-03-01"}));
}

#[test]
fn the_discrepancy_report_is_the_ministrys_dialect() {
    let (g, _) = every_kind_of_file(None);
    let csv = String::from_utf8(discrepancy_csv(g.discrepancies.last().unwrap()).unwrap()).unwrap();
    assert_eq!(csv, "\u{feff}Date,HER-SYS,Line list,Difference\n2021/1/8,3,5,-2\n2021/1/9,1,0,1\n");
}
