//! The public dashboard on the real `hersys serve`: its files and the export directory are served without
//! authentication, `/export/` refuses paths leaving it and lists no directory, and (in headless Chromium, the
//! `browser` phase of infra/test) the page draws every series of a fixture export with tables matching the data.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::export_fixture;
use crate::http::{Server, client};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A server whose data dir holds a fixture export.
fn server_with_export() -> (Server, Value) {
    let server = Server::start(&[], &[]);
    let manifest = export_fixture::write(&server.data_dir.path().join("export"), 20211001);
    (server, manifest)
}

/// Sends `GET path` exactly as written (no client-side normalisation of `..`) and returns the status and body.
fn raw_get(server: &Server, path: &str) -> (u16, String) {
    let addr = server.base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

/// `hersys serve --demo`: a first run shows real shape. Oita's whole real line list (8,096 cases, 2020/3/3 to
/// 2021/10/1) and four pilot prefectures from generated HER-SYS reports, every series exported, the page served.
#[tokio::test]
async fn the_demo_starts_with_the_oita_line_list_and_pilot_prefectures_exported() {
    let server = Server::start(&["--demo"], &[]);
    let http = client();
    let get = |path: &str| http.get(server.url(path)).send();
    let manifest: Value = get("/export/manifest.json").await.unwrap().json().await.unwrap();
    let series = manifest["series"].as_array().unwrap();
    assert_eq!(series.len(), 11, "every published series");
    for s in series {
        // Daily series end on the list's last day; weekly ones on the last complete Sunday-Saturday week.
        let want = if s["shape"] == "daily" { "2021-10-01" } else { "2021-09-25" };
        assert_eq!(s["last_date"], want, "{}", s["id"]);
    }
    assert_eq!(manifest["sources"]["Oita"]["source"], "linelist");
    assert_eq!(manifest["sources"]["Tokyo"]["source"], "hersys");
    let daily: Value = get("/export/json/newly_confirmed_cases_daily.json").await.unwrap().json().await.unwrap();
    let total =
        |area: &str| daily["areas"][area]["value"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).sum::<u64>();
    assert_eq!(total("Oita"), 8_096);
    for pilot in ["Tokyo", "Kanagawa", "Osaka", "Fukuoka"] {
        assert!(total(pilot) > 1_000, "{pilot}: {}", total(pilot));
    }
    let severe: Value = get("/export/json/severe_cases_daily.json").await.unwrap().json().await.unwrap();
    assert!(
        severe["areas"]["Tokyo"]["value"].as_array().unwrap().iter().any(|v| v.as_u64().unwrap() > 0),
        "HER-SYS status histories give severe cases"
    );
    assert_eq!(get("/").await.unwrap().status(), 200);
    assert!(server.data_dir.path().join("demo/demo.done").exists(), "the demo lives in DATA_DIR/demo");

    // Generated entrants, some reported after entry, linked by the scheduled linkage: the linkage section shows.
    let linkage = &manifest["linkage"];
    assert!(linkage["computed_at"].is_string(), "{linkage}");
    assert!(linkage["negative_then_diagnosed_28d"]["negative_entrants"].as_u64().unwrap() > 2_000, "{linkage}");
    let prefectures = get("/export/csv/linkage_prefectures.csv").await.unwrap().text().await.unwrap();
    let tokyo = prefectures.lines().find(|l| l.starts_with("13,")).unwrap_or_else(|| panic!("{prefectures}"));
    let linked: u64 = tokyo.split(',').nth(3).unwrap().parse().unwrap();
    assert!(linked >= 20, "{prefectures}");
}

#[tokio::test]
async fn the_page_and_the_export_are_served_without_authentication() {
    let (server, manifest) = server_with_export();
    let http = client();
    let page = http.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("dashboard.js") && html.contains("<html lang=\"ja\">"));
    for (path, kind) in [
        ("/dashboard.js", "text/javascript"),
        ("/charts.js", "text/javascript"),
        ("/i18n.js", "text/javascript"),
        ("/dashboard.css", "text/css"),
    ] {
        let res = http.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with(kind), "{path}");
    }
    // A bad bearer token does not matter here: the dashboard is public (the API still refuses it).
    let res = http.get(server.url("/export/manifest.json")).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let served: Value = res.json().await.unwrap();
    assert_eq!(served, manifest);
    let csv = http.get(server.url("/export/csv/newly_confirmed_cases_daily.csv")).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(csv.text().await.unwrap().starts_with("\u{feff}Date,ALL,Hokkaido"));
    let api = http
        .get(server.url("/v1/reports/01a21737-eb06-70fc-ab33-3d21a725c792"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401);
    // The API's routes are as they were.
    assert_eq!(http.get(server.url("/v1/health")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_export_route_refuses_traversal_and_lists_no_directory() {
    let (server, _) = server_with_export();
    let data = server.data_dir.path();
    let secret = std::fs::read_to_string(data.join("jwt.key")).unwrap();
    // A link inside the export that leads out of it.
    #[cfg(unix)]
    std::os::unix::fs::symlink(data.join("jwt.key"), data.join("export/json/leak.json")).unwrap();
    for path in [
        "/export/../jwt.key",
        "/export/json/../../jwt.key",
        "/export/%2e%2e/jwt.key",
        "/export/..%2fjwt.key",
        "/export/json/..%2F..%2Fjwt.key",
        "/export/..%5cjwt.key",
        "/export/%2fetc%2fpasswd",
        "/export//etc/passwd",
        "/export/json/leak.json",
        "/export/json",
        "/export/json/",
        "/export/",
        "/export",
        "/export/.",
        "/export/nothing.json",
    ] {
        let (status, body) = raw_get(&server, path);
        assert!(status == 404 || status == 400, "{path}: {status}");
        assert!(!body.contains(secret.trim()), "{path} leaked the key");
        assert!(
            !body.contains("manifest.json") && !body.contains("newly_confirmed"),
            "{path} listed a directory: {body}"
        );
    }
    let (status, _) = raw_get(&server, "/export/json/severe_cases_daily.json");
    assert_eq!(status, 200);
    // Read-only.
    let res = client().put(server.url("/export/manifest.json")).body("{}").send().await.unwrap();
    assert!(res.status() == 405 || res.status() == 404, "{}", res.status());
    let res = client().delete(server.url("/export/manifest.json")).send().await.unwrap();
    assert!(res.status() == 405 || res.status() == 404, "{}", res.status());
    assert!(data.join("export/manifest.json").is_file());
}

/// The page's prefecture list (i18n.js) is the domain's census table: JIS order, English key, Japanese name.
#[test]
fn the_pages_prefecture_list_is_the_domains() {
    let js = std::fs::read_to_string(root().join("shared/dashboard/static/i18n.js")).unwrap();
    let rows: Vec<(String, String, String)> = js
        .lines()
        .filter_map(|l| l.trim().strip_prefix("[\"")?.strip_suffix("\"],").map(str::to_owned))
        .map(|l| {
            let parts: Vec<&str> = l.split("\", \"").collect();
            (parts[0].to_owned(), parts[1].to_owned(), parts[2].to_owned())
        })
        .collect();
    let want: Vec<(String, String, String)> = domain::prefecture::PrefectureCode::all()
        .map(|p| (p.as_jis(), p.info().name_en.to_owned(), p.info().name_ja.to_owned()))
        .collect();
    assert_eq!(rows, want);
}

/// Headless Chromium on the page (tests/browser/dashboard.mjs). Needs Debian's `chromium` and `playwright-core`
/// in `.tools/node` (infra/test's setup installs both); fails, never skips, without them. Runs in infra/test's
/// own `browser` phase. `DASHBOARD_SCREENSHOTS=docs` (relative to the repository) keeps the screenshots there.
mod browser {
    use super::*;

    fn playwright_prefix() -> PathBuf {
        std::env::var_os("HERSYS_PLAYWRIGHT_PREFIX").map_or_else(|| root().join(".tools/node"), PathBuf::from)
    }

    fn chromium() -> PathBuf {
        std::env::var_os("HERSYS_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
    }

    /// Runs tests/browser/dashboard.mjs on `server` and returns its output; fails on any failed check.
    fn run_page_checks(server: &Server, scenario: &str, screenshots: &Path) -> String {
        let chromium = chromium();
        assert!(
            chromium.is_file(),
            "{} is missing: run ./infra/test (its setup installs Debian's chromium)",
            chromium.display()
        );
        let prefix = playwright_prefix();
        for package in ["playwright-core", "axe-core"] {
            assert!(
                prefix.join("node_modules").join(package).join("package.json").is_file(),
                "{package} is missing in {}: run ./infra/test (its setup installs it)",
                prefix.display()
            );
        }
        let out = Command::new("node")
            .arg(root().join("tests/browser/dashboard.mjs"))
            .env("BASE_URL", &server.base)
            .env("CHROMIUM", &chromium)
            .env("PLAYWRIGHT_PREFIX", &prefix)
            .env("SCREENSHOTS", screenshots)
            .env("SCENARIO", scenario)
            .output()
            .expect("running node");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        println!("{stdout}");
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "the browser checks failed:\n{stdout}");
        assert!(stdout.contains(" passed, 0 failed"));
        stdout
    }

    #[test]
    fn the_dashboard_draws_every_series_of_the_export_and_its_tables_match_the_data() {
        let (server, _) = server_with_export();
        let shots = tempfile::tempdir().unwrap();
        let shot_dir: PathBuf =
            std::env::var_os("DASHBOARD_SCREENSHOTS").map_or_else(|| shots.path().to_owned(), |d| root().join(d));
        run_page_checks(&server, "full", &shot_dir);
        for shot in ["dashboard.png", "dashboard-phone.png"] {
            let size = std::fs::metadata(shot_dir.join(shot)).map(|m| m.len()).unwrap_or(0);
            assert!(size > 10_000, "{shot}: {size} bytes");
        }
        check_png_width(&shot_dir.join("dashboard-phone.png"), 720);
    }

    /// The page on the real export (not the fixture): `hersys serve --demo` exports Oita's real line list and
    /// generated HER-SYS reports with the export function's own code.
    #[test]
    fn the_dashboard_draws_the_real_export_of_the_demo() {
        let server = Server::start(&["--demo"], &[]);
        let shots = tempfile::tempdir().unwrap();
        run_page_checks(&server, "demo", shots.path());
    }

    #[test]
    fn the_dashboard_says_so_for_empty_and_missing_series() {
        let server = Server::start(&[], &[]);
        export_fixture::write_sparse(&server.data_dir.path().join("export"));
        let shots = tempfile::tempdir().unwrap();
        run_page_checks(&server, "sparse", shots.path());
    }

    /// The phone screenshot is 360 CSS pixels wide (at device scale 2).
    fn check_png_width(path: &Path, want: u32) {
        let bytes = std::fs::read(path).unwrap();
        let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        assert_eq!(width, want);
    }
}
