//! A stand-in for the graph export (docs/export-format.md): writes `manifest.json`, `json/<id>.json` and
//! `csv/<id>.csv` for `ALL` and the 47 prefectures, with realistic shapes (waves of cases by population,
//! a weekly rhythm, severe cases and deaths following cases, stocks of inpatients, sex/age weeks with small
//! counts suppressed). Deterministic: the same seed writes the same bytes. The real export replaces it in tests
//! of the page once it lands; until then the page is built and tested against exactly this format.

use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate};
use domain::prefecture::{PrefectureCode, national_population_2020};
use serde_json::{Map, Value, json};

/// The first and last date of the generated daily series (the ministry's series start on 2020-01-16).
pub const FIRST_DATE: &str = "2020-01-16";
pub const LAST_DATE: &str = "2021-09-30";

pub const DAILY: &[(&str, &str, &str)] = &[
    ("newly_confirmed_cases_daily", "新規陽性者数", "Newly confirmed cases"),
    (
        "newly_confirmed_cases_per_100_thousand_population_daily",
        "新規陽性者数（人口10万人あたり）",
        "Newly confirmed cases per 100,000 population",
    ),
    ("confirmed_cases_cumulative_daily", "陽性者数（累積）", "Confirmed cases (cumulative)"),
    ("severe_cases_daily", "重症者数", "Severe cases"),
    ("deaths_cumulative_daily", "死亡者数（累積）", "Deaths (cumulative)"),
    ("number_of_deaths_daily", "死亡者数（日別）", "Deaths (daily)"),
    (
        "requiring_inpatient_care_etc_daily",
        "入院治療等を要する者等",
        "Requiring inpatient care, discharged or released, to be confirmed",
    ),
];

pub const SEX_AGE: &[(&str, &str, &str)] = &[
    (
        "newly_confirmed_cases_detail_weekly",
        "性別・年代別新規陽性者数（週別）",
        "Newly confirmed cases by sex and age (weekly)",
    ),
    (
        "confirmed_cases_detail_cumulative_weekly",
        "性別・年代別陽性者数（累積）",
        "Confirmed cases by sex and age (cumulative)",
    ),
    ("severe_cases_detail_weekly", "性別・年代別重症者数（週別）", "Severe cases by sex and age (weekly)"),
    ("deaths_detail_cumulative_weekly", "性別・年代別死亡者数（累積）", "Deaths by sex and age (cumulative)"),
];

/// The manifest's order: the published order of `docs/export-format.md`.
pub const ORDER: &[&str] = &[
    "newly_confirmed_cases_daily",
    "newly_confirmed_cases_per_100_thousand_population_daily",
    "newly_confirmed_cases_detail_weekly",
    "confirmed_cases_cumulative_daily",
    "confirmed_cases_detail_cumulative_weekly",
    "severe_cases_daily",
    "severe_cases_detail_weekly",
    "deaths_cumulative_daily",
    "number_of_deaths_daily",
    "deaths_detail_cumulative_weekly",
    "requiring_inpatient_care_etc_daily",
];

const AGE_BANDS: &[(&str, &str, &str)] = &[
    ("0-9", "10歳未満", "Under 10"),
    ("10-19", "10代", "10s"),
    ("20-29", "20代", "20s"),
    ("30-39", "30代", "30s"),
    ("40-49", "40代", "40s"),
    ("50-59", "50代", "50s"),
    ("60-69", "60代", "60s"),
    ("70-79", "70代", "70s"),
    ("80+", "80歳以上", "80 and over"),
];

/// Share of cases by age band (sums to 1), and of severe cases and deaths (older).
const CASE_AGE_SHARE: [f64; 9] = [0.05, 0.10, 0.24, 0.16, 0.15, 0.12, 0.07, 0.06, 0.05];
const SEVERE_AGE_SHARE: [f64; 9] = [0.0, 0.005, 0.02, 0.05, 0.12, 0.20, 0.25, 0.23, 0.125];
const DEATH_AGE_SHARE: [f64; 9] = [0.0, 0.0, 0.002, 0.005, 0.013, 0.04, 0.10, 0.26, 0.58];

/// Pilot prefectures switched to HER-SYS in the fixture (the rest read municipality line lists).
const SWITCHED: &[(&str, &str)] = &[("Tokyo", "2021-04-01"), ("Osaka", "2021-06-01"), ("Fukuoka", "2021-07-01")];

/// Small, fast, deterministic pseudo-random numbers (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One area's daily figures.
#[derive(Clone, Default)]
struct Area {
    cases: Vec<i64>,
    severe: Vec<i64>,
    deaths: Vec<i64>,
    requiring: Vec<i64>,
    discharged: Vec<i64>,
    to_confirm: Vec<i64>,
}

fn dates() -> Vec<NaiveDate> {
    let first = date(FIRST_DATE);
    let last = date(LAST_DATE);
    (0..=(last - first).num_days()).map(|d| first + Duration::days(d)).collect()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// New cases per 100,000 a day, by day index: Japan's five waves up to autumn 2021, roughly.
fn wave_rate(day: f64, pref_scale: f64) -> f64 {
    let waves = [(80.0, 14.0, 0.45), (200.0, 20.0, 1.1), (360.0, 22.0, 4.5), (470.0, 20.0, 4.8), (575.0, 16.0, 17.0)];
    waves
        .iter()
        .map(|&(peak, width, height)| height * (-(day - peak).powi(2) / (2.0 * width * width)).exp())
        .sum::<f64>()
        * pref_scale
}

fn simulate(population: u64, pref_scale: f64, rng: &mut Rng, n: usize) -> Area {
    let per = population as f64 / 100_000.0;
    let mut a = Area::default();
    for d in 0..n {
        let weekday = (d + 3) % 7; // 2020-01-16 is a Thursday; 0 = Monday
        let rhythm = if weekday == 0 {
            0.6
        } else if weekday == 1 {
            0.85
        } else {
            1.05
        };
        let mean = wave_rate(d as f64, pref_scale) * per * rhythm;
        let noisy = mean * (0.8 + 0.4 * rng.next_f64());
        a.cases.push((noisy + rng.next_f64() - 0.5).round().max(0.0) as i64);
    }
    let sum_window = |v: &[i64], end: usize, len: usize| -> i64 { v[end.saturating_sub(len - 1)..=end].iter().sum() };
    let mut discharged_total = 0i64;
    let mut deaths_total = 0i64;
    for d in 0..n {
        let recent = sum_window(&a.cases, d, 14) as f64;
        a.severe.push((recent * 0.012 + rng.next_f64() * 0.6).round() as i64);
        let lagged = if d >= 14 { a.cases[d - 14] as f64 } else { 0.0 };
        let death = (lagged * 0.012 + rng.next_f64() - 0.5).round().max(0.0) as i64;
        a.deaths.push(death);
        deaths_total += death;
        let released = if d >= 10 { a.cases[d - 10] } else { 0 };
        discharged_total += (released - death).max(0);
        let requiring = sum_window(&a.cases, d, 10);
        a.requiring.push(requiring);
        a.discharged.push(discharged_total);
        a.to_confirm.push((requiring as f64 * 0.03 * rng.next_f64()).round() as i64);
    }
    let _ = deaths_total;
    a
}

fn sum_areas(areas: &[Area]) -> Area {
    let n = areas.first().map_or(0, |a| a.cases.len());
    let add = |f: fn(&Area) -> &Vec<i64>| (0..n).map(|d| areas.iter().map(|a| f(a)[d]).sum()).collect::<Vec<i64>>();
    Area {
        cases: add(|a| &a.cases),
        severe: add(|a| &a.severe),
        deaths: add(|a| &a.deaths),
        requiring: add(|a| &a.requiring),
        discharged: add(|a| &a.discharged),
        to_confirm: add(|a| &a.to_confirm),
    }
}

fn cumulative(v: &[i64]) -> Vec<i64> {
    v.iter()
        .scan(0, |acc, x| {
            *acc += x;
            Some(*acc)
        })
        .collect()
}

fn per_100k(v: &[i64], population: u64) -> Vec<f64> {
    v.iter().map(|&x| (x as f64 * 100_000.0 / population as f64 * 10.0).round() / 10.0).collect()
}

/// Weeks from Sunday to Saturday, from 2020-05-10 to the last full week.
fn weeks(days: &[NaiveDate]) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out = Vec::new();
    let mut from = date("2020-05-10");
    let last = *days.last().unwrap();
    while from + Duration::days(6) <= last {
        out.push((from, from + Duration::days(6)));
        from += Duration::days(7);
    }
    out
}

/// Splits weekly totals into sex × age cells (male, female), rounding by the largest remainder.
fn split(total: i64, shares: &[f64; 9], male_share: f64) -> [[i64; 9]; 2] {
    let mut out = [[0; 9]; 2];
    let mut cells: Vec<(usize, usize, f64)> = Vec::new();
    for (b, s) in shares.iter().enumerate() {
        cells.push((0, b, total as f64 * s * male_share));
        cells.push((1, b, total as f64 * s * (1.0 - male_share)));
    }
    let mut assigned = 0;
    for &(sex, b, v) in &cells {
        out[sex][b] = v.floor() as i64;
        assigned += out[sex][b];
    }
    cells.sort_by(|x, y| (y.2 - y.2.floor()).total_cmp(&(x.2 - x.2.floor())));
    for &(sex, b, _) in cells.iter().take((total - assigned).max(0) as usize) {
        out[sex][b] += 1;
    }
    out
}

/// Cells of 1 to 4 become null; then, within each sex's row, a lone suppressed cell takes its smallest
/// unsuppressed neighbour with it (secondary suppression), so that no masked cell follows from a row total.
fn suppress(cells: &[[i64; 9]; 2]) -> [Vec<Option<i64>>; 2] {
    cells.map(|row| {
        let mut out: Vec<Option<i64>> =
            row.iter().map(|&v| if (1..=4).contains(&v) { None } else { Some(v) }).collect();
        if out.iter().filter(|v| v.is_none()).count() == 1 {
            let smallest = out.iter().enumerate().filter_map(|(i, v)| v.filter(|&x| x > 0).map(|x| (x, i))).min();
            if let Some((_, i)) = smallest {
                out[i] = None;
            }
        }
        out
    })
}

/// Writes the fixture export into `dir` (creating `json/` and `csv/`). Returns the manifest.
pub fn write(dir: &Path, seed: u64) -> Value {
    std::fs::create_dir_all(dir.join("json")).unwrap();
    std::fs::create_dir_all(dir.join("csv")).unwrap();
    let days = dates();
    let n = days.len();
    let mut rng = Rng(seed | 1);
    let prefs: Vec<_> = PrefectureCode::all().map(|p| p.info()).collect();
    let areas: Vec<Area> = prefs
        .iter()
        .map(|p| {
            // Cities carry more of each wave than the countryside.
            let density = (p.population_2020 as f64 / 2_000_000.0).powf(0.45);
            let scale = density * (0.7 + 0.6 * rng.next_f64());
            simulate(p.population_2020, scale, &mut rng, n)
        })
        .collect();
    let national = sum_areas(&areas);
    let mut all: Vec<(&str, u64, &Area)> = vec![("ALL", national_population_2020(), &national)];
    all.extend(prefs.iter().zip(&areas).map(|(p, a)| (p.name_en, p.population_2020, a)));

    let iso: Vec<String> = days.iter().map(|d| d.format("%Y-%m-%d").to_string()).collect();
    let value_col = json!([{"id": "value", "label": {"ja": "人数", "en": "Persons"}}]);
    let per_col = json!([{"id": "value", "label": {"ja": "人口10万人あたり", "en": "Per 100,000"}}]);
    let inpatient_cols = json!([
        {"id": "requiring_inpatient_care", "label": {"ja": "入院治療等を要する者", "en": "Requiring inpatient care"}},
        {"id": "discharged_or_released", "label": {
            "ja": "退院又は療養解除となった者", "en": "Discharged from hospital or released from treatment"
        }},
        {"id": "to_be_confirmed", "label": {"ja": "確認中", "en": "To be confirmed"}},
    ]);

    let mut series_files: Vec<(String, Value, String)> = Vec::new();
    for &(id, ja, en) in DAILY {
        let mut by_area = Map::new();
        let mut csv_rows: Vec<Vec<String>> = vec![Vec::new(); n];
        let mut header = vec!["Date".to_owned()];
        for &(key, population, a) in &all {
            let (value, columns): (Value, Vec<Vec<String>>) = match id {
                "newly_confirmed_cases_daily" => int_column(&a.cases),
                "newly_confirmed_cases_per_100_thousand_population_daily" => {
                    let v = per_100k(&a.cases, population);
                    (json!({"value": v}), vec![v.iter().map(|x| format!("{x:.1}")).collect()])
                }
                "confirmed_cases_cumulative_daily" => int_column(&cumulative(&a.cases)),
                "severe_cases_daily" => int_column(&a.severe),
                "deaths_cumulative_daily" => int_column(&cumulative(&a.deaths)),
                "number_of_deaths_daily" => int_column(&a.deaths),
                _ => (
                    json!({
                        "requiring_inpatient_care": a.requiring,
                        "discharged_or_released": a.discharged,
                        "to_be_confirmed": a.to_confirm,
                    }),
                    [&a.requiring, &a.discharged, &a.to_confirm]
                        .iter()
                        .map(|v| v.iter().map(i64::to_string).collect())
                        .collect(),
                ),
            };
            by_area.insert(key.to_owned(), value);
            if columns.len() == 3 {
                header.push(format!("({key}) Requiring inpatient care"));
                header.push(format!("({key}) Discharged from hospital or released from treatment"));
                header.push(format!("({key}) To be confirmed"));
            } else {
                header.push(key.to_owned());
            }
            for (d, row) in csv_rows.iter_mut().enumerate() {
                row.extend(columns.iter().map(|c| c[d].clone()));
            }
        }
        let columns = match id {
            "requiring_inpatient_care_etc_daily" => inpatient_cols.clone(),
            "newly_confirmed_cases_per_100_thousand_population_daily" => per_col.clone(),
            _ => value_col.clone(),
        };
        let body = json!({
            "id": id, "title": {"ja": ja, "en": en}, "shape": "daily",
            "dates": iso, "columns": columns, "areas": by_area,
        });
        let mut csv = format!("\u{feff}{}\n", header.join(","));
        for (d, row) in days.iter().zip(&csv_rows) {
            csv.push_str(&format!("{}/{}/{},{}\n", d.year(), d.month(), d.day(), row.join(",")));
        }
        series_files.push((id.to_owned(), body, csv));
    }

    let weeks = weeks(&days);
    let index = |d: NaiveDate| (d - days[0]).num_days() as usize;
    for &(id, ja, en) in SEX_AGE {
        let mut by_area = Map::new();
        let mut csv_cells: Vec<Vec<String>> = vec![Vec::new(); weeks.len()];
        let mut head1 = vec!["Week".to_owned()];
        let mut head2 = vec![String::new()];
        for (k, &(key, _, a)) in all.iter().enumerate() {
            let (source, shares) = match id {
                "severe_cases_detail_weekly" => (&a.severe, &SEVERE_AGE_SHARE),
                "deaths_detail_cumulative_weekly" => (&a.deaths, &DEATH_AGE_SHARE),
                _ => (&a.cases, &CASE_AGE_SHARE),
            };
            let male_share = 0.52 + 0.04 * ((k % 5) as f64 / 5.0);
            let mut running = [[0i64; 9]; 2];
            let mut male = Vec::new();
            let mut female = Vec::new();
            for (w, &(from, to)) in weeks.iter().enumerate() {
                // Severe cases are a stock: the week's figure is its last day's; the others are the week's sum.
                let total: i64 = if id == "severe_cases_detail_weekly" {
                    source[index(to)]
                } else {
                    source[index(from)..=index(to)].iter().sum()
                };
                let mut cells = split(total, shares, male_share);
                if id.contains("cumulative") {
                    for s in 0..2 {
                        for b in 0..9 {
                            running[s][b] += cells[s][b];
                        }
                    }
                    cells = running;
                }
                let [m, f] = suppress(&cells);
                for row in [&m, &f] {
                    csv_cells[w].extend(row.iter().map(|v| v.map_or("*".to_owned(), |x| x.to_string())));
                }
                male.push(m);
                female.push(f);
            }
            by_area.insert(key.to_owned(), json!({"male": male, "female": female}));
            for sex in ["Male", "Female"] {
                for &(_, _, band) in AGE_BANDS {
                    head1.push(key.to_owned());
                    head2.push(format!("{sex} {band}"));
                }
            }
        }
        let body = json!({
            "id": id, "title": {"ja": ja, "en": en}, "shape": "sex_age",
            "periods": weeks
                .iter()
                .map(|(f, t)| json!({"from": f.format("%Y-%m-%d").to_string(), "to": t.format("%Y-%m-%d").to_string()}))
                .collect::<Vec<_>>(),
            "sexes": ["male", "female"],
            "age_bands": AGE_BANDS
                .iter()
                .map(|(id, ja, en)| json!({"id": id, "label": {"ja": ja, "en": en}}))
                .collect::<Vec<_>>(),
            "areas": by_area,
        });
        let mut csv = format!("\u{feff}{}\n{}\n", head1.join(","), head2.join(","));
        for ((from, to), row) in weeks.iter().zip(&csv_cells) {
            csv.push_str(&format!("{}~{},{}\n", from.format("%Y/%m/%d"), to.format("%Y/%m/%d"), row.join(",")));
        }
        series_files.push((id.to_owned(), body, csv));
    }

    let mut entries = Vec::new();
    for &id in ORDER {
        let (_, body, csv) = series_files.iter().find(|(s, _, _)| s == id).unwrap();
        std::fs::write(dir.join(format!("json/{id}.json")), serde_json::to_vec(body).unwrap()).unwrap();
        std::fs::write(dir.join(format!("csv/{id}.csv")), csv).unwrap();
        let last_date = match body["shape"].as_str() {
            Some("daily") => body["dates"].as_array().and_then(|d| d.last()).cloned().unwrap_or(Value::Null),
            _ => body["periods"].as_array().and_then(|p| p.last()).map_or(Value::Null, |p| p["to"].clone()),
        };
        let mut entry = json!({
            "id": id, "title": body["title"], "shape": body["shape"],
            "csv": format!("csv/{id}.csv"), "json": format!("json/{id}.json"), "last_date": last_date,
        });
        if id == "newly_confirmed_cases_daily" {
            entry["per_100k"] = json!("newly_confirmed_cases_per_100_thousand_population_daily");
        }
        entries.push(entry);
    }
    let mut sources = Map::new();
    for p in &prefs {
        let switched = SWITCHED.iter().find(|(name, _)| *name == p.name_en);
        sources.insert(
            p.name_en.to_owned(),
            match switched {
                Some((_, from)) => json!({"source": "hersys", "hersys_from": from}),
                None => json!({"source": "linelist", "hersys_from": null}),
            },
        );
    }
    // The linkage function's statistics, as the export's manifest names them (`publish::graphs` `linkage_entry`).
    let linkage_csv = [
        "csv/linkage_entrants_weekly.csv",
        "csv/linkage_negative_then_diagnosed_28d.csv",
        "csv/linkage_days_entry_to_diagnosis.csv",
        "csv/linkage_prefectures.csv",
    ];
    for path in linkage_csv {
        std::fs::write(dir.join(path), "header\n").unwrap();
    }
    let linkage = json!({
        "computed_at": "2021-10-01T00:00:00Z",
        "negative_then_diagnosed_28d": {
            "negative_entrants": 48213, "diagnosed_within_28_days": 312,
            "share": 0.006471, "ci95_low": 0.005796, "ci95_high": 0.007225
        },
        "csv": linkage_csv,
    });
    let manifest =
        json!({"generated_at": "2021-10-01T00:00:00Z", "series": entries, "sources": sources, "linkage": linkage});
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    manifest
}

fn int_column(v: &[i64]) -> (Value, Vec<Vec<String>>) {
    (json!({ "value": v }), vec![v.iter().map(i64::to_string).collect()])
}

/// A sparse export, of the shapes a young or partial export can have: a five-day series with only `ALL` and Tokyo,
/// an empty daily series (`last_date` null), a sex/age series without periods, a manifest entry whose JSON is
/// missing (its title holding markup, which must show as text), no `per_100k` and no sources.
pub fn write_sparse(dir: &Path) -> Value {
    std::fs::create_dir_all(dir.join("json")).unwrap();
    let persons = json!([{"id": "value", "label": {"ja": "人数", "en": "Persons"}}]);
    let files = [
        json!({"id": "newly_confirmed_cases_daily", "title": {"ja": "新規陽性者数", "en": "Newly confirmed cases"},
               "shape": "daily",
               "dates": ["2020-01-16", "2020-01-17", "2020-01-18", "2020-01-19", "2020-01-20"], "columns": persons,
               "areas": {"ALL": {"value": [1, 0, 2, 3, 1]}, "Tokyo": {"value": [1, 0, 1, 1, 0]}}}),
        json!({"id": "severe_cases_daily", "title": {"ja": "重症者数", "en": "Severe cases"}, "shape": "daily",
               "dates": [], "columns": persons, "areas": {}}),
        json!({"id": "deaths_detail_cumulative_weekly",
               "title": {"ja": "性別・年代別死亡者数（累積）", "en": "Deaths by sex and age (cumulative)"},
               "shape": "sex_age", "periods": [], "sexes": ["male", "female"], "age_bands": [], "areas": {}}),
    ];
    let mut entries: Vec<Value> = files
        .iter()
        .map(|f| {
            let id = f["id"].as_str().unwrap();
            std::fs::write(dir.join(format!("json/{id}.json")), serde_json::to_vec(f).unwrap()).unwrap();
            let last = f["dates"].as_array().and_then(|d| d.last()).cloned().unwrap_or(Value::Null);
            json!({
                "id": id, "title": f["title"], "shape": f["shape"],
                "csv": format!("csv/{id}.csv"), "json": format!("json/{id}.json"), "last_date": last
            })
        })
        .collect();
    entries.push(json!({
        "id": "number_of_deaths_daily", "title": {"ja": "死亡者数 <b>x</b>", "en": "Deaths <b>x</b>"}, "shape": "daily",
        "csv": "csv/number_of_deaths_daily.csv", "json": "json/number_of_deaths_daily.json", "last_date": null
    }));
    let manifest = json!({"generated_at": "2020-01-21T00:00:00Z", "series": entries, "sources": {}});
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    manifest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_follows_the_export_format() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = write(dir.path(), 7);
        assert_eq!(manifest["series"].as_array().unwrap().len(), ORDER.len());
        let read = |id: &str| -> Value {
            serde_json::from_slice(&std::fs::read(dir.path().join(format!("json/{id}.json"))).unwrap()).unwrap()
        };
        let new = read("newly_confirmed_cases_daily");
        let n = new["dates"].as_array().unwrap().len();
        assert_eq!(new["dates"][0], FIRST_DATE);
        assert_eq!(new["areas"].as_object().unwrap().len(), 48);
        // ALL is the sum of the prefectures, day by day, and there are waves worth drawing.
        let all: Vec<i64> = serde_json::from_value(new["areas"]["ALL"]["value"].clone()).unwrap();
        assert_eq!(all.len(), n);
        for d in [0, n / 2, n - 1] {
            let sum: i64 =
                PrefectureCode::all().map(|p| new["areas"][p.info().name_en]["value"][d].as_i64().unwrap()).sum();
            assert_eq!(all[d], sum);
        }
        assert!(*all.iter().max().unwrap() > 10_000, "the fifth wave should pass 10,000 a day");
        // Per-100k values carry one decimal.
        let per = read("newly_confirmed_cases_per_100_thousand_population_daily");
        let v = per["areas"]["Tokyo"]["value"][n - 40].as_f64().unwrap();
        assert_eq!((v * 10.0).round() / 10.0, v);
        // Sex/age: one row per period, one cell per band, small counts suppressed as null.
        let detail = read("newly_confirmed_cases_detail_weekly");
        let periods = detail["periods"].as_array().unwrap().len();
        assert_eq!(detail["periods"][0]["from"], "2020-05-10");
        let tottori = detail["areas"]["Tottori"]["female"].as_array().unwrap();
        assert_eq!(tottori.len(), periods);
        assert_eq!(tottori[0].as_array().unwrap().len(), 9);
        let cells: Vec<Option<i64>> =
            tottori.iter().flat_map(|w| serde_json::from_value::<Vec<Option<i64>>>(w.clone()).unwrap()).collect();
        assert!(cells.iter().any(Option::is_none));
        assert!(cells.iter().flatten().all(|v| !(1..=4).contains(v)));
        // The CSV is the wide layout: BOM, Date,ALL,Hokkaido..., yyyy/m/d.
        let csv = std::fs::read_to_string(dir.path().join("csv/newly_confirmed_cases_daily.csv")).unwrap();
        assert!(csv.starts_with("\u{feff}Date,ALL,Hokkaido,Aomori,"));
        assert!(csv.lines().nth(1).unwrap().starts_with("2020/1/16,"));
        // Deterministic.
        let again = tempfile::tempdir().unwrap();
        write(again.path(), 7);
        assert_eq!(
            std::fs::read(dir.path().join("json/severe_cases_daily.json")).unwrap(),
            std::fs::read(again.path().join("json/severe_cases_daily.json")).unwrap()
        );
    }
}
