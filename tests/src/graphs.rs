//! The graph export end to end on the real `hersys` binary: the real Oita line list against the ministry's
//! published series (the acceptance test of the public graphs), the switch to HER-SYS through the API, and the
//! discrepancy report.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::http::{Server, client, hersys_embedded, report_body};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data").join(rel)
}

/// Runs `hersys ARGS --data-dir DIR` on the embedded store; returns stdout.
fn hersys(args: &[&str], data_dir: &Path) -> String {
    let out = hersys_embedded().args(args).arg("--data-dir").arg(data_dir).output().unwrap();
    assert!(out.status.success(), "hersys {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A wide CSV as date -> column name -> cell.
fn read_wide(path: &Path) -> HashMap<String, HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("UTF-8 with BOM");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (
                cells[0].to_owned(),
                header.iter().zip(&cells).skip(1).map(|(h, c)| (h.to_string(), c.to_string())).collect(),
            )
        })
        .collect()
}

/// The public graphs' acceptance: the exported Oita column of new cases equals the ministry's series on at least 603 of
/// its 614 days (the agreement the line list itself has; its README explains the other 11).
#[test]
fn the_real_oita_line_list_reproduces_the_ministrys_series() {
    let dir = tempfile::tempdir().unwrap();
    let file = data("linelist/oita/440001oitacovid19patients__2021-10-01.csv");
    let summary: Value =
        serde_json::from_str(&hersys(&["import", "linelist", file.to_str().unwrap(), "--json"], dir.path())).unwrap();
    assert_eq!(summary["rows"], 8096);
    assert_eq!(summary["imported"], 8096);
    assert_eq!(summary["rejected"], 0);
    // Importing the same list again replaces, never adds.
    hersys(&["import", "linelist", file.to_str().unwrap()], dir.path());
    hersys(&["export", "--now", "2021-10-01T03:00:00Z"], dir.path());

    let exported = read_wide(&dir.path().join("export/csv/newly_confirmed_cases_daily.csv"));
    let ministry =
        std::fs::read_to_string(data("mhlw/2021-10-01_long_format/newly_confirmed_cases_daily.csv")).unwrap();
    let mut days = 0;
    let mut equal = 0;
    for line in ministry.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if cells[1] != "Oita" {
            continue;
        }
        days += 1;
        let ours = exported.get(cells[0]).map_or(0, |row| row["Oita"].parse::<i64>().unwrap());
        if ours == cells[2].trim().parse::<i64>().unwrap() {
            equal += 1;
        }
    }
    assert_eq!(days, 614);
    assert!(equal >= 603, "equal on {equal} of {days} days");
    let total: i64 = exported.values().map(|row| row["Oita"].parse::<i64>().unwrap()).sum();
    assert_eq!(total, 8096, "every case once, duplicate numbers in the list included");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("export/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["sources"]["Oita"], json!({"source": "linelist", "hersys_from": null}));
}

/// The switch through the API (operator only), HER-SYS reports counted from the switch date, the line list
/// before it, and the discrepancy report over the overlap.
#[tokio::test]
async fn a_switched_prefecture_takes_hersys_from_its_date_and_gets_a_discrepancy_report() {
    let server = Server::start(&[], &[]);
    let dir = server.data_dir.path();
    let list = dir.join("tokyo.csv");
    std::fs::write(
        &list,
        "No,全国地方公共団体コード,都道府県名,公表_年月日,患者_年代,患者_性別,extra\n\
         1,130001,東京都,2021-02-01,30代,女性,x\n2,130001,東京都,2021-02-02,非公表,男性,x\n\
         3,130001,東京都,2021-02-03,80歳以上,女性,x\n4,130001,東京都,2021-02-03,10歳未満,男性,x\n",
    )
    .unwrap();
    hersys(&["import", "linelist", list.to_str().unwrap()], dir);

    let http = client();
    let hc = server.health_center_token();
    for published in ["2021-02-02", "2021-02-03", "2021-02-04"] {
        let mut body = report_body();
        body.as_object_mut().unwrap().remove("passport_number");
        body["publication_date"] = json!(published);
        body["report_date"] = json!("2021-02-01");
        body["diagnosis_date"] = json!("2021-02-01");
        body["onset_date"] = json!("2021-01-31");
        let res = http.post(server.url("/v1/reports")).bearer_auth(&hc).json(&body).send().await.unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
    // Only an operator sets the switch; the prefecture is named by its code.
    let put = |token: String, pref: &str, body: Value| {
        http.put(server.url(&format!("/v1/graph-sources/{pref}"))).bearer_auth(token).json(&body).send()
    };
    assert_eq!(
        put(server.health_center_token(), "13", json!({"hersys_from": "2021-02-03"})).await.unwrap().status(),
        403
    );
    assert_eq!(
        put(server.token("operator", None), "99", json!({"hersys_from": "2021-02-03"})).await.unwrap().status(),
        400
    );
    assert_eq!(
        put(server.token("operator", None), "13", json!({"hersys_from": "next week"})).await.unwrap().status(),
        400
    );
    let res = put(server.token("operator", None), "13", json!({"hersys_from": "2021-02-03"})).await.unwrap();
    assert_eq!(res.status(), 200);
    let set: Value = res.json().await.unwrap();
    assert_eq!(set, json!({"prefecture": "13", "name": "Tokyo", "source": "hersys", "hersys_from": "2021-02-03"}));
    let listed: Value = http
        .get(server.url("/v1/graph-sources"))
        .bearer_auth(server.token("analyst", None))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["prefectures"].as_array().unwrap().len(), 47);
    assert_eq!(listed["prefectures"][12]["hersys_from"], "2021-02-03");

    hersys(&["export", "--now", "2021-02-05T03:00:00Z"], dir);
    let daily = read_wide(&dir.join("export/csv/newly_confirmed_cases_daily.csv"));
    // 2/1, 2/2 from the line list (1, 1); from 2/3 HER-SYS (1, 1).
    let tokyo: Vec<(&str, &str)> =
        ["2021/2/1", "2021/2/2", "2021/2/3", "2021/2/4"].iter().map(|d| (*d, daily[*d]["Tokyo"].as_str())).collect();
    assert_eq!(tokyo, vec![("2021/2/1", "1"), ("2021/2/2", "1"), ("2021/2/3", "1"), ("2021/2/4", "1")]);
    let discrepancy = std::fs::read_to_string(dir.join("export/discrepancy/Tokyo.csv")).unwrap();
    assert_eq!(discrepancy, "\u{feff}Date,HER-SYS,Line list,Difference\n2021/2/2,1,1,0\n2021/2/3,1,2,-1\n");
    let manifest: Value = serde_json::from_slice(&std::fs::read(dir.join("export/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["sources"]["Tokyo"], json!({"source": "hersys", "hersys_from": "2021-02-03"}));
    assert_eq!(manifest["discrepancies"][0]["csv"], "discrepancy/Tokyo.csv");

    // Cleared: Tokyo is back on its line list.
    let res = put(server.token("operator", None), "13", json!({"hersys_from": null})).await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["source"], "linelist");
}

/// `hersys graph-source set` does what the API does.
#[test]
fn the_cli_sets_and_lists_switch_dates() {
    let dir = crate::http::data_dir_with_a_store();
    hersys(&["graph-source", "set", "440001", "--hersys-from", "2021-09-01"], dir.path());
    assert!(hersys(&["graph-source", "list"], dir.path()).contains("44 Oita: HER-SYS from 2021-09-01"));
    hersys(&["graph-source", "set", "44", "--clear"], dir.path());
    assert!(!hersys(&["graph-source", "list"], dir.path()).contains("Oita"));
}

/// Every file of a directory, by its path relative to the directory.
fn files_under(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// `hersys export --full --partitions 3` publishes the very bytes `hersys export --full` does.
#[test]
fn a_partitioned_full_export_publishes_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::http::hersys_bench_bin())
        .args(["gen", "reports", "3000", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    hersys(&["export", "--full", "--now", "2021-10-01T00:00:00Z"], dir.path());
    let single = files_under(&dir.path().join("export"));
    std::fs::remove_dir_all(dir.path().join("export")).unwrap();
    let answer: Value = serde_json::from_str(
        hersys(&["export", "--full", "--partitions", "3", "--now", "2021-10-01T00:00:00Z"], dir.path()).trim(),
    )
    .unwrap();
    assert_eq!((answer["partitions"].as_u64(), answer["reports_read"].as_u64()), (Some(3), Some(3000)), "{answer}");
    let partitioned = files_under(&dir.path().join("export"));
    assert!(single.len() > 40, "{} files", single.len());
    assert_eq!(single.keys().collect::<Vec<_>>(), partitioned.keys().collect::<Vec<_>>());
    for (path, bytes) in &single {
        assert!(partitioned[path] == *bytes, "{} differs", path.display());
    }
}
