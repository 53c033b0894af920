//! Follow-up records of the entrants' follow-up system end to end: `POST /v1/follow-ups` on the real binary on both
//! stores, the re-send rule under concurrent writers on both stores, and `hersys import follow-ups`.

use std::path::Path;
use std::process::Command;

use domain::follow_up::{FollowUpInput, FollowUpStatus, FollowUpWrite};
use serde_json::{Value, json};

use crate::fixtures::{self, Stack, StackApp};
use crate::http::{Server, client, hersys_bin, hersys_embedded};

/// Personal values of the records below; no answer or log line may hold any of them.
const SECRETS: [&str; 5] = ["TZ7081726", "7081726", "TZ#70817", "TRAN", "VAN BINH"];

fn record(id: &str, check_in: &str, status: &str) -> Value {
    json!({
        "follow_up_id": id, "passport_number": "TZ7081726", "nationality": "VNM",
        "family_name": "tran", "given_names": "Van Binh", "date_of_birth": "1990-02-03", "sex": "M",
        "entry_date": "2021-01-20", "follow_up_from": "2021-01-21", "follow_up_until": "2021-02-03",
        "stay_prefecture_code": "13", "sponsor_code": "SP-1", "last_check_in_date": check_in,
        "symptoms_reported_on": null, "status": status
    })
}

fn assert_no_secret(text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "the answer or log holds personal data ({} chars): {text}", secret.len());
    }
}

async fn post(server: &Server, role: &str, body: Value) -> (u16, Value, String) {
    let res = client()
        .post(server.url("/v1/follow-ups"))
        .header("content-type", "application/json")
        .bearer_auth(server.token(role, None))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_no_secret(&text);
    (status, serde_json::from_str(&text).unwrap_or(Value::Null), text)
}

fn outcomes(body: &Value) -> Vec<&str> {
    body["results"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect()
}

/// Created, then each kind of re-send: newer replaces, identical changes nothing, older is refused as stale, another
/// person under the id is a conflict; a repeated id within a batch and bad fields are refused naming the field.
async fn a_resend_replaces_only_when_newer(server: Server) {
    let mut bad = record("F3", "2021-01-25", "active");
    bad["passport_number"] = json!("TZ#7081726");
    bad["status"] = json!("lost");
    let (status, body, text) =
        post(&server, "follow_up", json!([record("F1", "2021-01-25", "active"), record("F2", "", "active"), bad]))
            .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(outcomes(&body), ["created", "created", "rejected"], "{text}");
    let fields: Vec<&str> =
        body["results"][2]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["passport_number", "status"]);
    assert_eq!(body["results"][2]["follow_up_id"], "F3");

    let mut other_person = record("F2", "2021-01-29", "active");
    other_person["date_of_birth"] = json!("1990-02-04");
    let batch = json!([
        record("F1", "2021-01-28", "unreachable"),
        record("F1", "2021-01-29", "active"),
        record("F2", "", "active"),
    ]);
    let (status, body, text) = post(&server, "follow_up", batch).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(outcomes(&body), ["replaced", "rejected", "unchanged"], "{text}");
    assert_eq!(body["results"][1]["fields"][0]["field"], "follow_up_id");
    assert_eq!(
        (&body["received"], &body["replaced"], &body["unchanged"], &body["rejected"]),
        (&json!(3), &json!(1), &json!(1), &json!(1))
    );
    let (_, body, text) = post(&server, "follow_up", json!([other_person])).await;
    assert_eq!((outcomes(&body), &body["conflicts"]), (vec!["conflict"], &json!(1)), "{text}");

    // An older view arriving late is refused; the stored one stays.
    let (_, body, text) = post(&server, "follow_up", json!([record("F1", "2021-01-26", "active")])).await;
    assert_eq!((outcomes(&body), &body["stale"]), (vec!["stale"], &json!(1)), "{text}");
    let (_, body, _) = post(&server, "follow_up", json!([record("F1", "2021-01-28", "unreachable")])).await;
    assert_eq!(outcomes(&body), ["unchanged"], "the newer one is what is stored");

    // Only the follow-up system may post.
    for role in ["quarantine", "analyst", "operator"] {
        let (status, body, _) = post(&server, role, json!([record("F9", "", "active")])).await;
        assert_eq!((status, &body["error"]), (403, &json!("forbidden")), "{role}");
    }

    assert!(
        !server.store_keys().await.iter().any(|k| k.contains("TZ7081726") || k.contains("TRAN")),
        "keys hold only keyed hashes and ids"
    );
    // The five accepted batches were logged (counts only), and nothing personal with them.
    assert_no_secret(&server.log_holding("follow-ups received", 5).await);
}

fn input(id: &str, check_in: Option<String>) -> FollowUpInput {
    FollowUpInput {
        follow_up_id: Some(id.into()),
        passport_number: Some("TZ7081726".into()),
        nationality: Some("VNM".into()),
        family_name: Some("TRAN".into()),
        given_names: None,
        date_of_birth: Some("1990-02-03".into()),
        sex: Some("M".into()),
        entry_date: Some("2021-01-20".into()),
        follow_up_from: Some("2021-01-21".into()),
        follow_up_until: Some("2021-02-03".into()),
        stay_prefecture_code: None,
        sponsor_code: None,
        last_check_in_date: check_in,
        symptoms_reported_on: None,
        status: Some("active".into()),
    }
}

/// Twelve writers send twelve views of one follow-up at once, in a shuffled order: whatever the interleaving, the
/// newest is what stays, exactly one write created the record, and every older view that lost is `replaced` (it was
/// newer than what it met) or `stale`, never a lost update.
async fn concurrent_resends_keep_the_newest(stack: StackApp) {
    let (app, ports) = (stack.app(), stack.wiring.ports);
    let days: Vec<u32> = vec![7, 2, 12, 5, 9, 1, 11, 3, 8, 4, 10, 6];
    let writers = days.iter().map(|day| {
        let app = app.clone();
        let date = chrono::NaiveDate::from_ymd_opt(2021, 1, 20).unwrap() + chrono::Days::new(u64::from(*day));
        let one = input("FC1", Some(date.to_string()));
        tokio::spawn(async move { app.linkage.ingest_follow_ups(&[one]).await.unwrap().remove(0) })
    });
    let mut writes = Vec::new();
    for w in writers.collect::<Vec<_>>() {
        writes.push(w.await.unwrap().outcome.unwrap());
    }
    assert_eq!(writes.iter().filter(|w| **w == FollowUpWrite::Created).count(), 1, "{writes:?}");
    assert!(
        writes.iter().all(|w| matches!(w, FollowUpWrite::Created | FollowUpWrite::Replaced | FollowUpWrite::Stale))
    );
    let stored = ports.follow_ups.get_follow_up("FC1").await.unwrap().unwrap();
    // The newest view: day 12 after 2021-01-20.
    assert_eq!(stored.last_check_in_date.unwrap().to_string(), "2021-02-01");
    assert_eq!(stored.status, FollowUpStatus::Active);
    let by_passport = ports.follow_ups.follow_ups_by_passport(&stored.person.passport_hash).await.unwrap();
    assert_eq!(by_passport.len(), 1);
}

on_both_stores!(
    embedded: Server::start(&[], &[]),
    dynamodb: Server::start_on_dynamodb();
    a_resend_replaces_only_when_newer,
);

mod concurrent {
    use super::*;
    on_both_stores!(
        embedded: fixtures::app_on(Stack::Embedded).await,
        dynamodb: fixtures::app_on(Stack::Aws).await;
        concurrent_resends_keep_the_newest,
    );
}

fn write_csv(path: &Path, check_in: &str) {
    let header = domain::follow_up::COLUMNS.join(",");
    let rows = [
        format!(
            "G1,TZ7081726,VNM,TRAN,VAN BINH,1990-02-03,M,2021-01-20,2021-01-21,2021-02-03,13,SP-1,{check_in},,active"
        ),
        "G2,TZ7081727,PHL,SANTOS,MARIA,1985-03-01,F,2021-01-21,2021-01-22,2021-02-04,27,,,,active".to_owned(),
        "G3,TZ#7081728,USA,SMITH,JOHN,1970-12-31,M,2021-01-22,2021-01-22,2021-02-05,,,,,done".to_owned(),
    ];
    std::fs::write(path, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
}

fn import(file: &Path, data_dir: &Path, aws_envs: Option<&[(&str, String)]>) -> Value {
    let mut cmd = if aws_envs.is_some() { Command::new(hersys_bin()) } else { hersys_embedded() };
    cmd.args(["import", "follow-ups"]).arg(file).arg("--data-dir").arg(data_dir).arg("--json");
    if let Some(envs) = aws_envs {
        cmd.arg("--aws").envs(envs.iter().map(|(k, v)| (k, v)));
    }
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "hersys import follow-ups failed: {stderr}");
    assert_no_secret(&stdout);
    assert_no_secret(&stderr);
    serde_json::from_str(&stdout).unwrap()
}

fn counts(summary: &Value) -> [u64; 7] {
    ["rows", "created", "replaced", "unchanged", "stale", "conflicts", "rejected"]
        .map(|k| summary[k].as_u64().unwrap_or_else(|| panic!("{k} in {summary}")))
}

/// A newer export replaces, the same again changes nothing, an older one after it is refused as stale.
fn imports_move_forward_only(dir: &Path, data: &Path, aws_envs: Option<&[(&str, String)]>) {
    let (older, newer) = (dir.join("older.csv"), dir.join("newer.csv"));
    write_csv(&older, "2021-01-24");
    write_csv(&newer, "2021-01-27");
    let first = import(&older, data, aws_envs);
    assert_eq!(counts(&first), [3, 2, 0, 0, 0, 0, 1], "{first}");
    assert_eq!(first["first_rejected"], json!([{"line": 4, "fields": ["passport_number", "status"]}]));
    assert_eq!(counts(&import(&newer, data, aws_envs)), [3, 0, 1, 1, 0, 0, 1]);
    assert_eq!(counts(&import(&newer, data, aws_envs)), [3, 0, 0, 2, 0, 0, 1]);
    let late = import(&older, data, aws_envs);
    assert_eq!(counts(&late), [3, 0, 0, 1, 1, 0, 1], "{late}");
    assert_eq!(late["first_stale_or_conflicts"], json!([{"line": 2}]));
}

#[test]
fn import_follow_ups_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    imports_move_forward_only(dir.path(), &dir.path().join("data"), None);
    let missing = dir.path().join("missing.csv");
    std::fs::write(&missing, "follow_up_id,status\nG1,active\n").unwrap();
    let out = hersys_embedded().args(["import", "follow-ups"]).arg(&missing).arg("--data-dir").arg(dir.path()).output();
    let out = out.unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("passport_number"));
}

#[tokio::test]
async fn import_follow_ups_with_aws_stores_in_dynamodb() {
    let tables = aws_adapters::TableNames::with_prefix(&format!("f{}", uuid::Uuid::new_v4().simple()));
    let mut envs: Vec<(&str, String)> = vec![
        ("AWS_ENDPOINT_URL_DYNAMODB", crate::emulators::endpoint("AWS_ENDPOINT_URL_DYNAMODB")),
        ("AWS_ENDPOINT_URL", crate::emulators::endpoint("AWS_ENDPOINT_URL")),
    ];
    envs.extend(tables.env_vars().into_iter().map(|(k, v)| (k, v.to_owned())));
    let dir = tempfile::tempdir().unwrap();
    imports_move_forward_only(dir.path(), dir.path(), Some(&envs));
    let sdk = crate::emulators::sdk_config().await;
    let stores = aws_adapters::DynamoStores::new(aws_sdk_dynamodb::Client::new(&sdk), tables);
    use domain::ports::FollowUpStore;
    let g1 = stores.get_follow_up("G1").await.unwrap().unwrap();
    assert_eq!(g1.last_check_in_date.unwrap().to_string(), "2021-01-27");
}

/// A follow-up input of the scenario below: passport, entry day, first and last day, first symptoms, status.
fn follow_up(
    id: &str,
    passport: &str,
    entry: &str,
    span: (&str, &str),
    symptoms: Option<&str>,
    status: &str,
) -> FollowUpInput {
    let mut i = input(id, Some(span.0.to_owned()));
    i.passport_number = Some(passport.into());
    i.entry_date = Some(entry.into());
    (i.follow_up_from, i.follow_up_until) = (Some(span.0.into()), Some(span.1.into()));
    i.symptoms_reported_on = symptoms.map(str::to_owned);
    i.status = Some(status.into());
    i
}

fn entry_input(id: &str, passport: &str, entry: &str) -> domain::entry::EntryInput {
    domain::entry::EntryInput {
        entry_id: Some(id.into()),
        passport_number: Some(passport.into()),
        nationality: Some("VNM".into()),
        family_name: Some("TRAN".into()),
        given_names: None,
        date_of_birth: Some("1990-02-03".into()),
        sex: Some("M".into()),
        entry_date: Some(entry.into()),
        port_of_entry: Some("NRT".into()),
        entry_test_result: Some("negative".into()),
        test_date: None,
    }
}

/// Reports reach follow-ups through their linked entry (the same passport and entry date) or, with no entry record,
/// by their own passport number; the scheduled linkage counts the follow-up statistics and publishes them, small
/// counts hidden.
async fn the_linkage_counts_entrants_under_follow_up_who_became_cases(stack: StackApp) {
    let app = stack.app();
    let entries = [entry_input("EA", "FA1000001", "2021-01-20"), entry_input("EC", "FC1000003", "2021-01-15")];
    app.linkage.ingest_entries(&entries).await.unwrap();
    let follow_ups = [
        // Diagnosed on 2021-02-02, symptoms three days before: a case, through its entry.
        follow_up("FA", "FA1000001", "2021-01-20", ("2021-01-21", "2021-02-03"), Some("2021-01-30"), "active"),
        // Diagnosed on 2021-02-10, within 14 days after the last day; stopped answering.
        follow_up("FC", "FC1000003", "2021-01-15", ("2021-01-16", "2021-01-29"), None, "unreachable"),
        // No entry record: reached by the report's own passport number; symptoms five days before.
        follow_up("FX", "FX1000004", "2021-01-18", ("2021-01-19", "2021-02-01"), Some("2021-01-31"), "completed"),
        // The same passport's later arrival, after the diagnosis: not the one reached.
        follow_up("FY", "FX1000004", "2021-02-20", ("2021-02-21", "2021-03-06"), None, "completed"),
        // Never diagnosed.
        follow_up("FN", "FN1000005", "2021-01-18", ("2021-01-19", "2021-02-01"), None, "completed"),
    ];
    let written = app.linkage.ingest_follow_ups(&follow_ups).await.unwrap();
    assert!(written.iter().all(|r| r.outcome == Ok(FollowUpWrite::Created)), "{written:?}");
    for (passport, diagnosed) in [("FA1000001", "2021-02-02"), ("FC1000003", "2021-02-10"), ("FX1000004", "2021-02-05")]
    {
        let mut report = fixtures::report_input();
        report.passport_number = Some(passport.into());
        report.name = Some("TRAN VAN BINH".into());
        report.date_of_birth = Some("1990-02-03".into());
        report.sex = Some("M".into());
        report.diagnosis_date = Some(diagnosed.into());
        (report.report_date, report.publication_date) = (Some(diagnosed.into()), None);
        report.onset_date = None;
        report.entry_date = None;
        app.cases.create_report(&report).await.unwrap();
    }
    let event = json!({ "detail-type": "Scheduled Event", "time": "2021-02-20T01:00:00Z", "detail": {} });
    linkage::handle(&stack.linkage_function(), event).await.unwrap();

    let s = app.linkage.linkage_summary().await.unwrap().follow_up;
    assert_eq!(s.under_follow_up, 5);
    let counts = |p: &domain::linkage_statistics::ShareWithInterval| (p.count, p.total);
    assert_eq!(counts(&s.diagnosed_during_or_within_14d), (3, 5), "{s:?}");
    assert_eq!(counts(&s.symptoms_before_diagnosis), (2, 3));
    let days: Vec<(i64, u64)> = s.days_symptoms_to_diagnosis.iter().map(|r| (r.days, r.reports)).collect();
    assert_eq!(days, [(3, 1), (5, 1)]);
    assert_eq!(counts(&s.unreachable), (1, 3));

    // Published with the other linkage files; every count here is 1 to 4, hidden, but the base of five.
    let csv = stack.published("csv/linkage_follow_up.csv").await.unwrap();
    assert_eq!(csv.lines().nth(1), Some("5,*,*,*,*,*,*,*,*"), "{csv}");
    let days = stack.published("csv/linkage_days_symptoms_to_diagnosis.csv").await.unwrap();
    assert_eq!(days, "days_symptoms_to_diagnosis,reports\n3,*\n5,*\n");
}

mod statistics {
    use super::*;
    on_both_stores!(
        embedded: fixtures::app_on(Stack::Embedded).await,
        dynamodb: fixtures::app_on(Stack::Aws).await;
        the_linkage_counts_entrants_under_follow_up_who_became_cases,
    );
}

/// The report view carries the follow-up record the report reaches, through its linked entry or, without one, by its
/// own passport number; another centre sees nothing; both views are audited with the records' ids; the answers
/// conform to openapi.json.
async fn the_report_shows_the_follow_up_it_reaches(server: Server) {
    use crate::openapi::{check_answer, document};
    let (doc, http) = (document(), client());
    let hc = server.health_center_token();
    let entry = json!([{
        "entry_id": "NRT-FU-1", "passport_number": "TZ7081726", "nationality": "VNM", "family_name": "TRAN",
        "given_names": "VAN BINH", "date_of_birth": "1990-02-03", "sex": "M", "entry_date": "2021-01-20",
        "port_of_entry": "NRT", "entry_test_result": "negative", "test_date": "2021-01-20"
    }]);
    let res = http.post(server.url("/v1/entries")).bearer_auth(server.token("quarantine", None)).json(&entry);
    assert_eq!(res.send().await.unwrap().status(), 200);
    let mut symptomatic = record("FV1", "2021-01-30", "active");
    symptomatic["symptoms_reported_on"] = json!("2021-01-29");
    // FV2: another entrant with no entry record here.
    let mut no_entry = record("FV2", "2021-01-26", "unreachable");
    no_entry["passport_number"] = json!("TZ7081799");
    let (status, body, text) = post(&server, "follow_up", json!([symptomatic, no_entry])).await;
    assert_eq!((status, outcomes(&body)), (200, vec!["created", "created"]), "{text}");

    let mut ids = Vec::new();
    for passport in ["TZ7081726", "TZ7081799"] {
        let mut report = crate::http::report_body();
        report["passport_number"] = json!(passport);
        report["case_number"] = json!(format!("FU-{passport}"));
        (report["name"], report["date_of_birth"], report["sex"]) =
            (json!("TRAN VAN BINH"), json!("1990-02-03"), json!("M"));
        let res = http.post(server.url("/v1/reports")).bearer_auth(&hc).json(&report).send().await.unwrap();
        let created: Value = res.json().await.unwrap();
        ids.push(created["report_id"].as_str().unwrap_or_else(|| panic!("{created}")).to_owned());
    }
    let view = |id: &str| {
        let request = http.get(server.url(&format!("/v1/reports/{id}"))).bearer_auth(&hc);
        async { check_answer(&doc, "get", "/v1/reports/{id}", request.send().await.unwrap()).await }
    };
    let (status, through_entry) = view(&ids[0]).await;
    assert_eq!(status, 200, "{through_entry}");
    assert_eq!(through_entry["linked_entry"]["entry_id"], "NRT-FU-1");
    let f = &through_entry["linked_follow_up"];
    assert_eq!(
        (&f["follow_up_id"], &f["reached_through"], &f["status"]),
        (&json!("FV1"), &json!("entry"), &json!("active"))
    );
    assert_eq!((&f["symptoms_reported_on"], &f["stay_prefecture_code"]), (&json!("2021-01-29"), &json!("13")));
    // The sample report's diagnosis (2021-02-02) is 12 days after the follow-up began (2021-01-21).
    assert_eq!(f["days_from_follow_up_start_to_diagnosis"], 12);
    let (_, by_passport) = view(&ids[1]).await;
    assert_eq!(by_passport["linked_entry"], Value::Null);
    let f = &by_passport["linked_follow_up"];
    assert_eq!((&f["follow_up_id"], &f["reached_through"]), (&json!("FV2"), &json!("passport_number")));
    let other = server.token("health_center", Some("440001"));
    let res = http.get(server.url(&format!("/v1/reports/{}", ids[0]))).bearer_auth(&other).send().await.unwrap();
    assert_eq!(res.status(), 404);

    let query = [("health_center", "131016"), ("from", "2000-01-01"), ("to", "2100-12-31")];
    let res = http.get(server.url("/v1/audit")).query(&query).bearer_auth(server.token("operator", None));
    let audit: Value = res.send().await.unwrap().json().await.unwrap();
    let shown: Vec<&Value> = audit["events"].as_array().unwrap().iter().map(|e| &e["records_shown"]).collect();
    assert_eq!(shown, [&json!(["NRT-FU-1", "FV1"]), &json!(["FV2"])], "{audit}");
    // The owner's view shows the report's own values; the audit and the log hold none.
    assert_no_secret(&format!("{audit}{}", server.log_holding("request done", 1).await));
}

mod report_view {
    use super::*;
    on_both_stores!(
        embedded: Server::start(&[], &[]),
        dynamodb: Server::start_on_dynamodb();
        the_report_shows_the_follow_up_it_reaches,
    );
}
