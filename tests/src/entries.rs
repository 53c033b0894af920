//! Entry records end to end: `POST /v1/entries` on the real binary, `ingest_entries` on both stores, and
//! `hersys import entries` on the embedded store and on DynamoDB Local.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use aws_adapters::TableNames;
use domain::entry::{EntryInput, RecordOutcome};
use domain::ports::EntryStore;
use serde_json::{Value, json};

use crate::fixtures::{self, Stack, StackApp};
use crate::http::{Server, client, hersys_bench_bin, hersys_bin, hersys_embedded};

/// Personal values of the records below; no answer or log line may hold any of them.
const SECRETS: [&str; 6] = [fixtures::PASSPORT, "9081726", "TZ#90817", "NGUYEN", "THI HOA", "HOANG"];

fn record(entry_id: &str, passport: &str) -> Value {
    json!({
        "entry_id": entry_id, "passport_number": passport, "nationality": "VNM",
        "family_name": "nguyen", "given_names": "Thi Hoa", "date_of_birth": "1992-07-15", "sex": "F",
        "entry_date": "2021-01-20", "port_of_entry": "NRT", "entry_test_result": "negative", "test_date": "2021-01-20"
    })
}

/// Two valid records, one with a bad passport number, one without an entry id and with a bad sex.
fn mixed_batch() -> Value {
    let mut bad_passport = record("E3", "TZ#9081726");
    bad_passport["family_name"] = json!("hoang");
    let mut anonymous = record("", "TZ9081729");
    anonymous.as_object_mut().unwrap().remove("entry_id");
    anonymous["sex"] = json!("female");
    json!([record("E1", fixtures::PASSPORT), record("E2", "TZ9081727"), bad_passport, anonymous])
}

fn assert_no_secret(text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "the answer or log holds personal data ({} chars): {text}", secret.len());
    }
}

async fn post(server: &Server, token: Option<&str>, content_type: &str, body: String) -> (u16, Value, String) {
    let mut req = client().post(server.url("/v1/entries")).header("content-type", content_type).body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_no_secret(&text);
    (status, serde_json::from_str(&text).unwrap_or(Value::Null), text)
}

fn stores(server: &Server) -> embedded::SqliteStores {
    embedded::SqliteStores::open(&server.data_dir.path().join("hersys.sqlite3")).unwrap()
}

#[tokio::test]
async fn a_mixed_batch_stores_the_valid_records_names_the_invalid_ones_and_a_resend_changes_nothing() {
    let server = Server::start(&[], &[]);
    let token = server.token("quarantine", None);
    let (status, body, text) = post(&server, Some(&token), "application/json", mixed_batch().to_string()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        (&body["received"], &body["created"], &body["unchanged"], &body["conflicts"], &body["rejected"]),
        (&json!(4), &json!(2), &json!(0), &json!(0), &json!(2)),
        "{text}"
    );
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0], json!({"index": 0, "entry_id": "E1", "outcome": "created"}));
    assert_eq!(results[2]["entry_id"], "E3");
    assert_eq!(results[2]["outcome"], "rejected");
    assert_eq!(results[2]["fields"][0]["field"], "passport_number");
    assert!(results[3].get("entry_id").is_none(), "{text}");
    let fields: Vec<&str> =
        results[3]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["entry_id", "sex"]);

    let stored = stores(&server);
    let e1 = stored.get_entry("E1").await.unwrap().unwrap();
    assert_eq!(e1.passport_number.expose(), fixtures::PASSPORT);
    assert_eq!(e1.family_name.expose(), "NGUYEN");
    assert!(
        !stored.all_key_values().unwrap().iter().any(|k| k.contains(fixtures::PASSPORT)),
        "keys hold only keyed hashes"
    );
    assert!(stored.get_entry("E3").await.unwrap().is_none());

    // The same batch again: nothing changes, and the answer says so.
    let (status, again, text) = post(&server, Some(&token), "application/json", mixed_batch().to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(
        (&again["created"], &again["unchanged"], &again["rejected"]),
        (&json!(0), &json!(2), &json!(2)),
        "{text}"
    );
    assert_eq!(again["results"][0]["outcome"], "unchanged");

    // Another record under a stored id is a conflict; the stored one is kept.
    let (_, changed, _) =
        post(&server, Some(&token), "application/json", json!([record("E1", "TZ1111111")]).to_string()).await;
    assert_eq!(changed["conflicts"], 1);
    assert_eq!(changed["results"][0]["outcome"], "conflict");
    // It names the field that differs, not its value.
    assert_eq!(changed["results"][0]["fields"][0]["field"], "passport_number", "{changed}");
    assert_eq!(changed["results"][0]["fields"].as_array().map(Vec::len), Some(1), "{changed}");
    assert!(!changed.to_string().contains("TZ1111111"), "{changed}");
    assert_eq!(stored.get_entry("E1").await.unwrap().unwrap(), e1);

    // The three batches were logged (counts only), and nothing personal with them.
    assert_no_secret(&server.log_holding("entries received", 3).await);
}

#[tokio::test]
async fn ndjson_works_and_a_bad_line_is_named_by_number() {
    let server = Server::start(&[], &[]);
    let token = server.token("quarantine", None);
    // Blank lines are skipped but counted: a result's index is its line's number minus one.
    let lines = [record("N1", "TZ9081731"), record("N2", "TZ9081732")].map(|r| r.to_string()).join("\n\n\n") + "\n\n";
    let (status, body, text) = post(&server, Some(&token), "application/x-ndjson; charset=utf-8", lines).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(body["created"], 2);
    let indexes: Vec<_> =
        body["results"].as_array().unwrap().iter().map(|r| (r["entry_id"].clone(), r["index"].clone())).collect();
    assert_eq!(indexes, vec![(json!("N1"), json!(0)), (json!("N2"), json!(3))], "{text}");
    assert!(stores(&server).get_entry("N2").await.unwrap().is_some());

    let broken = format!(
        "{}\n{{\"entry_id\": \"N4\", \"passport_number\": \"{}\"\n",
        record("N3", "TZ9081733"),
        fixtures::PASSPORT
    );
    let (status, body, text) = post(&server, Some(&token), "application/x-ndjson", broken).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(body["error"], "invalid_json");
    assert_eq!(body["fields"][0]["field"], "line 2");
    assert!(stores(&server).get_entry("N3").await.unwrap().is_none(), "a malformed body stores nothing");

    // The same in a JSON array names the record.
    let broken = format!(
        "[{}, {{\"entry_id\": \"N4\", \"passport_number\": {}}}]",
        record("N3", "TZ9081733"),
        fixtures::PASSPORT
    );
    let (status, body, _) = post(&server, Some(&token), "application/json", broken).await;
    assert_eq!(status, 400);
    assert_eq!(body["fields"][0]["field"], "[1]");

    // Records of the wrong shape are refused one by one, naming the field.
    let (status, body, text) = post(
        &server,
        Some(&token),
        "application/json",
        json!([{"entry_id": "N5", "passport_number": 9081726}, "E6"]).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(body["rejected"], 2);
    assert_eq!(body["results"][0]["entry_id"], "N5");
    assert_eq!(body["results"][0]["fields"][0]["field"], "passport_number");
    assert_eq!(body["results"][1]["fields"][0]["field"], "record");

    let (status, body, _) = post(&server, Some(&token), "text/csv", "entry_id\nE1\n".into()).await;
    assert_eq!(status, 415);
    assert_eq!(body["error"], "unsupported_media_type");
}

#[tokio::test]
async fn more_than_1000_records_are_refused_naming_the_limit() {
    let server = Server::start(&[], &[]);
    let token = server.token("quarantine", None);
    let batch: Vec<Value> = (0..1001).map(|i| record(&format!("L{i}"), &format!("TZ{:07}", i))).collect();
    let (status, body, text) =
        post(&server, Some(&token), "application/json", Value::from(batch.clone()).to_string()).await;
    assert_eq!(status, 400, "{text}");
    assert_eq!(body["fields"][0]["field"], "body");
    assert!(text.contains("1000"), "{text}");
    let ndjson = batch.iter().map(Value::to_string).collect::<Vec<_>>().join("\n");
    let (status, _, text) = post(&server, Some(&token), "application/x-ndjson", ndjson).await;
    assert_eq!(status, 400);
    assert!(text.contains("1000"), "{text}");
    assert!(stores(&server).get_entry("L0").await.unwrap().is_none());

    // Exactly 1000 is fine.
    let (status, body, _) =
        post(&server, Some(&token), "application/json", Value::from(batch[..1000].to_vec()).to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(body["created"], 1000);
}

#[tokio::test]
async fn only_the_quarantine_role_may_post_entries() {
    let server = Server::start(&[], &[]);
    let body = mixed_batch().to_string();
    let (status, err, _) = post(&server, Some(&server.health_center_token()), "application/json", body.clone()).await;
    assert_eq!((status, &err["error"]), (403, &json!("forbidden")));
    let (status, _, _) = post(&server, Some(&server.token("analyst", None)), "application/json", body.clone()).await;
    assert_eq!(status, 403);
    let (status, err, _) = post(&server, None, "application/json", body.clone()).await;
    assert_eq!((status, &err["error"]), (401, &json!("unauthenticated")));
    let (status, _, _) = post(&server, Some("not-a-token"), "application/json", body).await;
    assert_eq!(status, 401);
    assert!(stores(&server).get_entry("E1").await.unwrap().is_none());
}

fn input(entry_id: &str, passport: &str) -> EntryInput {
    EntryInput {
        entry_id: Some(entry_id.into()),
        passport_number: Some(passport.into()),
        nationality: Some("VNM".into()),
        family_name: Some("NGUYEN".into()),
        given_names: Some("THI HOA".into()),
        date_of_birth: Some("1992-07-15".into()),
        sex: Some("F".into()),
        entry_date: Some("2021-01-20".into()),
        port_of_entry: Some("NRT".into()),
        entry_test_result: Some("not_tested".into()),
        test_date: None,
    }
}

/// The same id twice in a batch is settled in input order, identically on both stores.
async fn repeats_in_a_batch(stack: StackApp) {
    let (app, ports) = (stack.app(), stack.wiring.ports);
    app.linkage.ingest_entries(&[input("R9", "TZ0000009")]).await.unwrap();
    let batch = [
        input("R1", "TZ1234501"),
        input("R1", "TZ1234501"),
        input("R1", "TZ9999999"),
        input("R9", "TZ1111111"),
        input("R9", "TZ1111111"),
    ];
    let out = app.linkage.ingest_entries(&batch).await.unwrap();
    let outcomes: Vec<&str> = out.results.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(outcomes, ["created", "unchanged", "conflict", "conflict", "conflict"]);
    assert_eq!(ports.entries.get_entry("R1").await.unwrap().unwrap().passport_number.expose(), "TZ1234501");
    let again = app.linkage.ingest_entries(&batch).await.unwrap();
    assert!(matches!(again.results[0].outcome, RecordOutcome::Unchanged));
}

on_both_stores!(
    embedded: fixtures::app_on(Stack::Embedded).await,
    dynamodb: fixtures::app_on(Stack::Aws).await;
    repeats_in_a_batch,
);

/// A small export: five good rows (one repeated identically), one refused, one that conflicts.
fn write_csv(path: &Path) {
    let header = domain::entry::COLUMNS.join(",");
    let rows = [
        "C1,TZ9081741,VNM,NGUYEN,THI HOA,1992-07-15,F,2021-01-20,NRT,negative,2021-01-20",
        "C2,TZ9081742,PHL,SANTOS,MARIA,1985-03-01,F,2021-01-21,HND,positive,2021-01-22",
        "C3,TZ#9081743,USA,SMITH,JOHN,1970-12-31,M,2021-01-22,KIX,not_tested,",
        "C4,TZ9081744,KOR,KIM,MIN-JUN,2020-01-01,X,2021-01-23,FUK,not_tested,",
        "C1,TZ9081741,VNM,NGUYEN,THI HOA,1992-07-15,F,2021-01-20,NRT,negative,2021-01-20",
        "C2,TZ9081799,PHL,SANTOS,MARIA,1985-03-01,F,2021-01-21,HND,positive,2021-01-22",
        "C5,TZ9081745,\"CHN\",LI,\"WEI\",1999-09-09,M,2021-01-24,CTS,negative,2021-01-24",
    ];
    std::fs::write(path, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
}

fn import(file: &Path, data_dir: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Value {
    let mut cmd = if extra.contains(&"--aws") { Command::new(hersys_bin()) } else { hersys_embedded() };
    cmd.args(["import", "entries"]).arg(file).arg("--data-dir").arg(data_dir).arg("--json").args(extra);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "hersys import failed: {stderr}");
    assert_no_secret(&stdout);
    assert_no_secret(&stderr);
    serde_json::from_str(&stdout).unwrap()
}

fn assert_first_import(summary: &Value) {
    assert_eq!(
        (&summary["rows"], &summary["created"], &summary["unchanged"], &summary["conflicts"], &summary["rejected"]),
        (&json!(7), &json!(4), &json!(1), &json!(1), &json!(1)),
        "{summary}"
    );
    // Line numbers count the header as line 1.
    assert_eq!(summary["first_rejected"], json!([{"line": 4, "fields": ["passport_number"]}]));
    // A conflict names the fields that differ from the stored record.
    assert_eq!(summary["first_conflicts"], json!([{"line": 7, "fields": ["passport_number"]}]));
}

async fn assert_stored(entries: &dyn EntryStore) {
    for id in ["C1", "C2", "C4", "C5"] {
        assert!(entries.get_entry(id).await.unwrap().is_some(), "{id} stored");
    }
    assert!(entries.get_entry("C3").await.unwrap().is_none());
    assert_eq!(entries.get_entry("C2").await.unwrap().unwrap().passport_number.expose(), "TZ9081742");
}

#[tokio::test]
async fn import_stores_a_csv_on_the_embedded_store_and_again_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("entries.csv");
    write_csv(&file);
    let data = dir.path().join("data");
    assert_first_import(&import(&file, &data, &[], &[]));
    let again = import(&file, &data, &[], &[]);
    assert_eq!(
        (&again["created"], &again["unchanged"], &again["rejected"]),
        (&json!(0), &json!(5), &json!(1)),
        "{again}"
    );
    let stores = embedded::SqliteStores::open(&data.join("hersys.sqlite3")).unwrap();
    assert_stored(&stores).await;
}

/// The bulk path (passport index dropped during the import, built again at its end) answers exactly as the
/// row-by-row path, and leaves the index in the file.
#[tokio::test]
async fn import_with_the_passport_index_rebuilt_answers_alike_and_leaves_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("entries.csv");
    write_csv(&file);
    let data = dir.path().join("data");
    assert_first_import(&import(&file, &data, &["--passport-index", "rebuild"], &[]));
    let again = import(&file, &data, &["--passport-index", "rebuild"], &[]);
    assert_eq!(
        (&again["created"], &again["unchanged"], &again["conflicts"], &again["rejected"]),
        (&json!(0), &json!(5), &json!(1), &json!(1)),
        "{again}"
    );

    // Looked at before any opening of the store, which would create a missing index itself.
    let db = data.join("hersys.sqlite3");
    let raw = rusqlite::Connection::open(&db).unwrap();
    let indexes: i64 = raw
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'entries_by_passport'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 1);
    drop(raw);

    let stores = embedded::SqliteStores::open(&db).unwrap();
    assert_stored(&stores).await;
    // The import's secret: HMAC_SECRET if the environment has one, else the key it made in the data dir.
    let secret = std::env::var("HMAC_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| std::fs::read_to_string(data.join("hmac.key")).unwrap().trim().to_owned());
    let hasher = domain::keyed_hash::KeyedHasher::new(secret.as_bytes()).unwrap();
    let passport = domain::pii::PassportNumber::parse("p", "TZ9081742").unwrap();
    let found = stores.entries_by_passport(&hasher.passport(&passport)).await.unwrap();
    assert_eq!(found.iter().map(|e| e.entry_id.as_str()).collect::<Vec<_>>(), ["C2"]);
}

#[tokio::test]
async fn import_streams_a_generated_file_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gen.csv");
    let out = Command::new(hersys_bench_bin())
        .args(["gen", "entries", "1234", "--invalid-every", "100", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = import(&file, &dir.path().join("data"), &["--chunk-size", "100"], &[]);
    assert_eq!(
        (&summary["rows"], &summary["created"], &summary["rejected"]),
        (&json!(1234), &json!(1222), &json!(12)),
        "{summary}"
    );
    assert_eq!(summary["first_rejected"].as_array().unwrap().len(), 10);
    assert_eq!(summary["first_rejected"][0]["line"], 101);
}

#[test]
fn import_refuses_a_file_without_the_columns_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let hersys = hersys_embedded;
    let file = dir.path().join("bad.csv");
    std::fs::write(&file, "entry_id,sex\nE1,M\n").unwrap();
    let out = hersys().args(["import", "entries"]).arg(&file).arg("--data-dir").arg(dir.path()).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("passport_number"));
    let out = hersys()
        .args(["import", "entries"])
        .arg(dir.path().join("absent.csv"))
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn import_with_aws_stores_in_dynamodb() {
    let ddb = crate::emulators::endpoint("AWS_ENDPOINT_URL_DYNAMODB");
    let moto = crate::emulators::endpoint("AWS_ENDPOINT_URL");
    let prefix = format!("i{}", uuid::Uuid::new_v4().simple());
    let tables = TableNames::with_prefix(&prefix);
    let mut envs = vec![("AWS_ENDPOINT_URL_DYNAMODB", ddb.as_str()), ("AWS_ENDPOINT_URL", moto.as_str())];
    envs.extend(tables.env_vars());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("entries.csv");
    write_csv(&file);
    // The import creates the tables itself, as `serve --aws` does against emulators.
    assert_first_import(&import(&file, dir.path(), &["--aws"], &envs));
    let again = import(&file, dir.path(), &["--aws"], &envs);
    assert_eq!((&again["created"], &again["unchanged"]), (&json!(0), &json!(5)), "{again}");

    let sdk = crate::emulators::sdk_config().await;
    let stores = Arc::new(aws_adapters::DynamoStores::new(aws_sdk_dynamodb::Client::new(&sdk), tables));
    assert_stored(stores.as_ref()).await;
}
