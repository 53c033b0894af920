//! The HTTP API end to end: the real `hersys` binary serving on a loopback port, driven over HTTP.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};

use crate::fixtures;

/// Builds the `hersys` binary once per test run (cargo builds it only if stale) and returns its path: beside this
/// test binary's `deps/` folder, in the profile and target folder the tests were built in.
///
/// `--workspace` on purpose: it resolves features exactly as `cargo test --workspace` does, so the two builds share
/// every artifact instead of rebuilding each other's dependencies.
pub fn hersys_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut build = Command::new(cargo);
        build.args(["build", "--quiet", "--workspace", "--bins"]).current_dir(&root);
        // Cargo gives a test process its package's variables (CARGO_PKG_*, CARGO_MANIFEST_DIR, ...); build scripts
        // that watch such variables would otherwise see a changed environment and rebuild. The caller's own
        // configuration (CARGO_HOME, CARGO_TARGET_DIR, CARGO_BUILD_TARGET, ...) stays: it chose where the tests went.
        for (name, _) in std::env::vars() {
            if is_package_variable(&name) {
                build.env_remove(name);
            }
        }
        // The tests' own profile: dev (CI, a plain `cargo test`), or release for `cargo test --release`.
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let status = build.status().expect("running cargo build");
        assert!(status.success(), "building hersys failed");
        let exe = std::env::current_exe().expect("the test binary's path");
        // <target>/[<triple>/]<profile>/deps/<test binary>
        let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("the test binary is in deps/");
        profile_dir.join("hersys")
    })
    .clone()
}

/// Whether cargo set `name` for this test process (its package's variables), rather than the caller.
fn is_package_variable(name: &str) -> bool {
    const CALLERS: [&str; 9] = [
        "CARGO_HOME",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_",
        "CARGO_PROFILE_",
        "CARGO_TERM_",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_INCREMENTAL",
    ];
    name == "OUT_DIR" || (name.starts_with("CARGO_") && !CALLERS.iter().any(|prefix| name.starts_with(prefix)))
}

/// The `hersys-bench` binary (generators and benchmarks), built beside `hersys` by [`hersys_bin`].
pub fn hersys_bench_bin() -> PathBuf {
    hersys_bin().with_file_name("hersys-bench")
}

/// The real binary on the embedded store: the emulators' endpoints removed from its environment (`AWS_ENDPOINT_URL`
/// alone would switch it to the AWS adapters, like `--aws`). Tests that want the emulators use `hersys_bin`.
pub fn hersys_embedded() -> Command {
    let mut cmd = Command::new(hersys_bin());
    cmd.env_remove("AWS_ENDPOINT_URL").env_remove("AWS_ENDPOINT_URL_DYNAMODB");
    cmd
}

/// A fresh data dir holding a store, made as a user makes one: `hersys serve` started on it (on the embedded store,
/// on a free port, no schedules) and stopped once it listens. Commands other than `serve` and `import` refuse a data
/// dir without a store.
pub fn data_dir_with_a_store() -> tempfile::TempDir {
    let data_dir = tempfile::tempdir().unwrap();
    let mut child = hersys_embedded()
        .args(["serve", "--port", "0", "--no-schedules", "--data-dir"])
        .arg(data_dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting hersys serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("listening"), "hersys serve did not start: {line:?}");
    data_dir
}

/// A running `hersys serve` on a free port, with its own data dir; killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
    pub data_dir: tempfile::TempDir,
    log: PathBuf,
    /// Set when the server runs on DynamoDB Local.
    pub tables: Option<aws_adapters::TableNames>,
    /// The first line the server printed (where it listens).
    pub start_line: String,
}

impl Server {
    pub fn start(extra_args: &[&str], envs: &[(&str, &str)]) -> Server {
        let data_dir = tempfile::tempdir().unwrap();
        let log = data_dir.path().join("server.log");
        // The emulators' endpoints would switch `serve` to the AWS adapters: only a test that asks gets them.
        let mut cmd = hersys_embedded();
        cmd.args(["serve", "--port", "0", "--no-schedules", "--data-dir"])
            .arg(data_dir.path())
            .args(extra_args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .env("RUST_LOG", "debug");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("starting hersys serve");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("hersys serve did not say where it listens: {line:?}"))
            .to_owned();
        Server { child, base, data_dir, log, tables: None, start_line: line }
    }

    /// `hersys serve --aws` on the emulators, with tables of its own.
    pub fn start_on_dynamodb() -> Server {
        let ddb = crate::emulators::endpoint("AWS_ENDPOINT_URL_DYNAMODB");
        let moto = crate::emulators::endpoint("AWS_ENDPOINT_URL");
        let tables = aws_adapters::TableNames::with_prefix(&format!("s{}", uuid::Uuid::new_v4().simple()));
        let mut envs = vec![("AWS_ENDPOINT_URL_DYNAMODB", ddb.as_str()), ("AWS_ENDPOINT_URL", moto.as_str())];
        envs.extend(tables.env_vars());
        let mut server = Server::start(&["--aws"], &envs);
        server.tables = Some(tables);
        server
    }

    /// Every key and index value the server's store holds, whichever store it is.
    pub async fn store_keys(&self) -> Vec<String> {
        match &self.tables {
            None => embedded::SqliteStores::open(&self.data_dir.path().join("hersys.sqlite3"))
                .unwrap()
                .all_key_values()
                .unwrap(),
            Some(tables) => {
                let sdk = crate::emulators::sdk_config().await;
                aws_adapters::DynamoStores::new(aws_sdk_dynamodb::Client::new(&sdk), tables.clone())
                    .all_key_values()
                    .await
                    .unwrap()
            }
        }
    }

    /// Whether the server runs on the embedded store (not DynamoDB Local).
    pub fn is_embedded(&self) -> bool {
        self.tables.is_none()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A token from `hersys token`, signed with this server's key.
    pub fn token(&self, role: &str, health_center: Option<&str>) -> String {
        let mut cmd = Command::new(hersys_bin());
        cmd.args(["token", "--role", role, "--data-dir"]).arg(self.data_dir.path());
        if let Some(hc) = health_center {
            cmd.args(["--health-center", hc]);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "hersys token: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// A token of the health centre that files the sample reports (131016, Minato, Tokyo).
    pub fn health_center_token(&self) -> String {
        self.token("health_center", Some("131016"))
    }

    /// `GET path` with `token`: the answer's JSON, whatever its status.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        client().get(self.url(path)).bearer_auth(token).send().await.unwrap().json().await.unwrap()
    }

    /// `POST /v1/reports` of [`report_body`] with `token`: the answer's JSON, whatever its status.
    pub async fn file_sample_report(&self, token: &str) -> Value {
        let request = client().post(self.url("/v1/reports")).bearer_auth(token).json(&report_body());
        request.send().await.unwrap().json().await.unwrap()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The server's log once it holds at least `count` lines containing `needle` (polled for up to 10 s; panics
    /// otherwise). An absence check on the log starts here: it first proves that the log holds what the requests
    /// wrote, so that it cannot pass on an empty or unflushed log.
    pub async fn log_holding(&self, needle: &str, count: usize) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.log_text();
            let found = text.lines().filter(|line| line.contains(needle)).count();
            if found >= count {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server's log holds {found} lines with {needle:?}, not {count}:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

pub fn report_body() -> Value {
    json!({
        "health_center_code": "131016", "prefecture_code": "13", "municipality_code": "131016",
        "case_type": "patient", "sex": "F", "date_of_birth": "1992-07-15",
        "name": fixtures::NAME, "name_kana": fixtures::NAME_KANA,
        "phone": fixtures::PHONE_DOMESTIC, "email": fixtures::EMAIL, "preferred_language": "en",
        "report_date": "2021-02-03", "diagnosis_date": "2021-02-02", "onset_date": "2021-01-31",
        "publication_date": "2021-02-03", "nationality": "VNM", "entry_date": "2021-01-20",
        "passport_number": "ｔｚ９０８-１７２６"
    })
}

/// A first run: the start line says where the dashboard is, and an empty store says how to get demo data.
#[tokio::test]
async fn the_start_line_names_the_dashboard_and_an_empty_store_points_to_the_demo() {
    let server = Server::start(&[], &[]);
    assert!(server.start_line.contains(&format!("dashboard at {}/", server.base)), "{}", server.start_line);
    let page = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200, "the dashboard is where the start line says");
    let hint = || server.log_text();
    assert!(hint().contains("hersys serve --demo"), "{}", hint());

    // With a report stored, a second server on the same data says nothing of the demo.
    let token = server.health_center_token();
    assert!(server.file_sample_report(&token).await["report_id"].is_string());
    let log = server.data_dir.path().join("second.log");
    let mut second = hersys_embedded()
        .args(["serve", "--port", "0", "--no-schedules", "--data-dir"])
        .arg(server.data_dir.path())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(second.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let _ = second.kill();
    let _ = second.wait();
    assert!(line.contains("dashboard at http://"), "{line}");
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(!stderr.contains("--demo"), "{stderr}");
}

#[tokio::test]
async fn the_server_answers_its_health_route() {
    let server = Server::start(&[], &[]);
    let res = client().get(server.url("/v1/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-request-id"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

async fn a_report_is_created_normalised_and_read_back(server: Server) {
    let http = client();
    let token = server.health_center_token();
    let res = http.post(server.url("/v1/reports")).bearer_auth(&token).json(&report_body()).send().await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["version"], 1);
    let id = created["report_id"].as_str().unwrap();

    let got = server.get_json(&format!("/v1/reports/{id}"), &token).await;
    assert_eq!(got["passport_number"], fixtures::PASSPORT);
    assert_eq!(got["phone"], fixtures::PHONE_E164);
    assert_eq!(got["prefecture_code"], "13");
    assert_eq!(got["version"], 1);

    let missing = http
        .get(server.url("/v1/reports/01a21737-eb06-70fc-ab33-3d21a725c792"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

async fn bad_input_is_refused_naming_each_field_without_echoing_values(server: Server) {
    let http = client();
    let token = server.health_center_token();
    let mut body = report_body();
    body["passport_number"] = json!("TZ#9081726");
    body["phone"] = json!("12-34");
    body["onset_date"] = json!("2021-02-05");
    let res = http.post(server.url("/v1/reports")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let text = res.text().await.unwrap();
    let err: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(err["error"], "invalid_request");
    let fields: Vec<&str> = err["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    for f in ["passport_number", "phone", "onset_date"] {
        assert!(fields.contains(&f), "{f} not named in {text}");
    }
    assert!(!text.contains("9081726") && !text.contains("12-34"), "the answer echoes input: {text}");

    // Dates are exactly YYYY-MM-DD, as the contract says (chrono alone would read these).
    let mut body = report_body();
    body["date_of_birth"] = json!("1985-1-1");
    body["diagnosis_date"] = json!("2021-2-2");
    let res = http.post(server.url("/v1/reports")).bearer_auth(&token).json(&body).send().await.unwrap();
    let err: Value = res.json().await.unwrap();
    let fields: Vec<&str> = err["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!((err["error"].as_str(), fields), (Some("invalid_request"), vec!["date_of_birth", "diagnosis_date"]));

    // Wrong JSON types name the field, not the value.
    let res = http
        .post(server.url("/v1/reports"))
        .bearer_auth(&token)
        .json(&json!({"passport_number": 9081726}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"], "invalid_request", "a field that breaks a rule, its type included");
    assert_eq!(err["fields"][0]["field"], "passport_number");
    assert!(!err.to_string().contains("9081726"));

    // Nothing was stored by the refused requests.
    assert!(server.store_keys().await.is_empty());
}

/// A full request's log, at debug level, holds no personal value: not the passport (in any form), phone, e-mail,
/// name or reading.
async fn a_full_requests_log_holds_no_personal_data(server: Server) {
    let http = client();
    let token = server.health_center_token();
    // The person's entry record first, so that the report is linked at once and its view shows (and audits) it.
    let entry = json!([{
        "entry_id": "NRT-2021-0001", "passport_number": fixtures::PASSPORT, "nationality": "VNM",
        "family_name": "NGUYEN", "given_names": "THI HOA", "date_of_birth": "1992-07-15", "sex": "F",
        "entry_date": "2021-01-20", "port_of_entry": "NRT", "entry_test_result": "negative",
    }]);
    let quarantine = server.token("quarantine", None);
    let res = http.post(server.url("/v1/entries")).bearer_auth(&quarantine).json(&entry).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = http.post(server.url("/v1/reports")).bearer_auth(&token).json(&report_body()).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let id = created["report_id"].as_str().unwrap();
    let view: Value = http
        .get(server.url(&format!("/v1/reports/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["linked_entry"]["entry_id"], "NRT-2021-0001", "the view shows the linked entry");
    let audit = [("health_center", "131016"), ("from", "2000-01-01"), ("to", "2100-12-31")];
    let operator = server.token("operator", None);
    let res = http.get(server.url("/v1/audit")).query(&audit).bearer_auth(&operator).send().await.unwrap();
    assert_eq!(res.status(), 200);
    http.get(server.url("/v1/linkage/review")).bearer_auth(&token).send().await.unwrap();
    let mut bad = report_body();
    bad["passport_number"] = json!("TZ#9081726");
    http.post(server.url("/v1/reports")).bearer_auth(&token).json(&bad).send().await.unwrap();

    // The six requests above, each with its line: the log is complete before anything is looked for in it.
    let log = server.log_holding("request done", 6).await;
    assert!(log.contains(id), "the log should show the request's report id: {log}");
    let lines: Vec<Value> = log.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(
        lines.iter().filter(|l| l["message"] == "request done").all(|l| l["span"]["request_id"].is_string()),
        "every request line carries its request id"
    );
    for secret in [
        fixtures::PASSPORT,
        "9081726",
        "９０８",
        fixtures::PHONE_E164,
        "8765-4321",
        "87654321",
        fixtures::EMAIL,
        "nguyen.thi",
        fixtures::NAME,
        "NGUYEN",
        "グエン",
    ] {
        assert!(!log.contains(secret), "the log holds personal data ({} chars)", secret.len());
    }
}

async fn a_health_centre_reads_and_files_only_its_own_reports(server: Server) {
    let http = client();
    let minato = server.health_center_token();
    let oita = server.token("health_center", Some("440001"));
    let quarantine = server.token("quarantine", None);

    let created = server.file_sample_report(&minato).await;
    let path = format!("/v1/reports/{}", created["report_id"].as_str().unwrap());

    // Another health centre sees no such report; another role is forbidden; no token is unauthenticated.
    assert_eq!(http.get(server.url(&path)).bearer_auth(&oita).send().await.unwrap().status(), 404);
    assert_eq!(http.get(server.url(&path)).bearer_auth(&quarantine).send().await.unwrap().status(), 403);
    assert_eq!(http.get(server.url(&path)).send().await.unwrap().status(), 401);
    assert_eq!(http.get(server.url(&path)).bearer_auth("not-a-token").send().await.unwrap().status(), 401);

    // Filing for another health centre is refused and writes nothing.
    let res = http.post(server.url("/v1/reports")).bearer_auth(&oita).json(&report_body()).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let refused: Value = res.json().await.unwrap();
    assert_eq!(
        (refused["error"].as_str(), refused["fields"][0]["field"].as_str()),
        (Some("forbidden"), Some("health_center_code"))
    );
    assert_eq!(
        http.post(server.url("/v1/reports"))
            .bearer_auth(&quarantine)
            .json(&report_body())
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // A body without a health-centre code is filed for the caller's.
    let mut body = report_body();
    body.as_object_mut().unwrap().remove("health_center_code");
    let own: Value =
        http.post(server.url("/v1/reports")).bearer_auth(&oita).json(&body).send().await.unwrap().json().await.unwrap();
    let got: Value = http
        .get(server.url(&format!("/v1/reports/{}", own["report_id"].as_str().unwrap())))
        .bearer_auth(&oita)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["health_center_code"], "440001");
}

/// Answers no route handler writes (a method the route lacks, a token the server refuses) have the error shape, an
/// `x-request-id` and a log line, as every answer does.
#[tokio::test]
async fn every_refusal_has_the_error_shape_a_request_id_and_a_log_line() {
    let server = Server::start(&[], &[]);
    let http = client();
    let res = http.delete(server.url("/v1/reports")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    assert!(res.headers().contains_key("x-request-id"));
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "error": "method_not_allowed" }));

    // A token signed with another server's key, as a mistyped data dir gives.
    let other = Server::start(&[], &[]);
    let foreign = other.health_center_token();
    let res = http
        .get(server.url("/v1/reports/r1"))
        .bearer_auth(&foreign)
        .header("x-request-id", "foreign-key-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["x-request-id"], "foreign-key-1");
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "error": "unauthenticated" }));
    let log = server.log_holding("foreign-key-1", 1).await;
    let line = log.lines().find(|l| l.contains("foreign-key-1")).unwrap();
    assert!(line.contains("request done") && line.contains("401"), "{line}");
}

// The suite above, on the embedded store and on DynamoDB Local (the log proof included: the AWS SDK's own logging
// must not carry personal data either).
on_both_stores!(
    embedded: Server::start(&[], &[]),
    dynamodb: Server::start_on_dynamodb();
    a_report_is_created_normalised_and_read_back,
    bad_input_is_refused_naming_each_field_without_echoing_values,
    a_full_requests_log_holds_no_personal_data,
    a_health_centre_reads_and_files_only_its_own_reports,
);
