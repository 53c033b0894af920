//! The function handlers on AWS-shaped events: through `hersys invoke` (the real binary, embedded store) and
//! directly on the AWS wiring against the emulators (DynamoDB Local, moto's S3).

use std::path::PathBuf;

use aws_adapters::TableNames;
use platform::AwsResources;
use serde_json::{Value, json};

use crate::fixtures;
use crate::http::{Server, data_dir_with_a_store, hersys_embedded};

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra/events")
}

fn invoke(function: &str, event: &std::path::Path, data_dir: &std::path::Path) -> Value {
    // On the embedded store, whatever emulators the environment names.
    let out = hersys_embedded()
        .args(["invoke", function, "--event"])
        .arg(event)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "hersys invoke {function} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn invoke_runs_a_scheduled_function_as_of_the_events_time() {
    let data = data_dir_with_a_store();
    let event = events_dir().join("scheduled-reissue.json");
    let sent: Value = serde_json::from_str(&std::fs::read_to_string(&event).unwrap()).unwrap();
    let out = invoke("reissue", &event, data.path());
    assert_eq!(out["now"], sent["time"], "the handler's now is the event's time");
    assert_eq!(out["due"], 0);
}

#[test]
fn invoke_runs_the_http_function_on_an_api_gateway_event() {
    let data = data_dir_with_a_store();
    let out = invoke("http-api", &events_dir().join("api-health.json"), data.path());
    assert_eq!(out["statusCode"], 200);
    let body: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["status"], "ok");
}

#[test]
fn invoke_refuses_an_event_without_a_time_naming_the_field() {
    let data = data_dir_with_a_store();
    let event = data.path().join("bad.json");
    std::fs::write(&event, r#"{"detail-type":"Scheduled Event","detail":{}}"#).unwrap();
    let out = hersys_embedded()
        .args(["invoke", "export", "--event"])
        .arg(&event)
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("time"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The export through the AWS wiring: reports in DynamoDB Local, CSV and manifest in moto's S3.
#[tokio::test]
async fn export_writes_the_ministry_csv_to_s3() {
    let sdk = crate::emulators::sdk_config().await;
    let tables: TableNames = crate::emulators::fresh_tables(&sdk).await;
    let bucket = format!("export-{}", uuid::Uuid::new_v4().simple());
    let s3 = aws_adapters::s3_client(&sdk, true);
    aws_adapters::create_bucket(&s3, &bucket, "ap-northeast-1").await.unwrap();
    let state_bucket = format!("state-{}", uuid::Uuid::new_v4().simple());
    aws_adapters::create_bucket(&s3, &state_bucket, "ap-northeast-1").await.unwrap();
    let config = crate::fixtures::config();
    let resources = AwsResources {
        tables,
        export_bucket: Some(bucket.clone()),
        export_state_bucket: Some(state_bucket),
        full_export_state_machine: None,
    };
    let wiring = platform::aws_wiring_with(&config, &sdk, resources).unwrap();
    let app = export::Services::new(&wiring).unwrap();

    // Both prefectures take HER-SYS reports as their source (no line lists here).
    for code in [13, 44] {
        let p = domain::prefecture::PrefectureCode::new(code).unwrap();
        wiring.graph_sources().set_hersys_from(p, Some(fixtures::date("2021-01-01"))).await.unwrap();
    }
    for (prefecture, published) in [("13", "2021-02-03"), ("13", "2021-02-03"), ("44", "2021-02-01")] {
        let mut r = fixtures::report_in(prefecture, None);
        r.publication_date = Some(fixtures::date(published));
        wiring.ports.reports.create_report(&r).await.unwrap();
    }
    let out = export::handle(&app, json!({ "time": "2021-02-04T00:00:00Z" })).await.unwrap();
    // The page's 5 files, 11 series × (CSV + JSON), two discrepancy files (switched prefectures), the manifest.
    assert_eq!(out["files"].as_array().unwrap().len(), 30, "{out}");
    assert_eq!(out["full"], true, "the first run counts everything: {out}");
    let page = s3.get_object().bucket(&bucket).key("index.html").send().await.unwrap();
    assert_eq!(page.content_type(), Some("text/html; charset=utf-8"));
    let html = String::from_utf8(page.body.collect().await.unwrap().to_vec()).unwrap();
    assert!(
        html.contains(r#"<meta name="hersys-data-base" content="./">"#),
        "the page beside the data reads its own directory"
    );

    let object = s3.get_object().bucket(&bucket).key("csv/newly_confirmed_cases_daily.csv").send().await.unwrap();
    let csv = String::from_utf8(object.body.collect().await.unwrap().to_vec()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("\u{feff}Date,ALL,Hokkaido"));
    // 2021/2/1: Oita (44th column after ALL) has 1; 2021/2/3: Tokyo has 2.
    let row = |date: &str| {
        lines.iter().find(|l| l.starts_with(date)).unwrap().split(',').map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(row("2021/2/1,")[1], "1");
    assert_eq!(row("2021/2/1,")[1 + 44], "1");
    assert_eq!(row("2021/2/2,")[1], "0");
    assert_eq!(row("2021/2/3,")[1 + 13], "2");
    let manifest = s3.get_object().bucket(&bucket).key("manifest.json").send().await.unwrap();
    let manifest: Value = serde_json::from_slice(&manifest.body.collect().await.unwrap().to_vec()).unwrap();
    assert_eq!(manifest["series"][0]["last_date"], "2021-02-03");

    // The next scheduled run starts from the state the first one left in the state bucket: nothing was written
    // since (the reports' write times are the fixtures' 2021-02-03, before the first run), so nothing is read.
    let again = export::handle(&app, json!({ "time": "2021-02-04T01:00:00Z" })).await.unwrap();
    assert_eq!((again["full"].as_bool(), again["reports_read"].as_u64()), (Some(false), Some(0)), "{again}");
}

/// `hersys serve --aws` against the emulators: the same routes, stored in DynamoDB Local.
#[tokio::test]
async fn serve_with_aws_adapters_stores_in_dynamodb() {
    let server = Server::start_on_dynamodb();
    let http = reqwest::Client::new();
    let res = http
        .post(server.url("/v1/reports"))
        .bearer_auth(server.token("health_center", Some("440001")))
        .json(&json!({
            "health_center_code": "440001", "prefecture_code": "44", "municipality_code": "442011",
            "case_type": "patient", "sex": "M", "date_of_birth": "1980-01-01", "name": "OITA TARO",
            "report_date": "2021-02-03", "diagnosis_date": "2021-02-02"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", server.log_text());
    let id = res.json::<Value>().await.unwrap()["report_id"].as_str().unwrap().to_owned();

    assert!(server.store_keys().await.contains(&id), "the report is in DynamoDB Local");
}

/// An API Gateway HTTP API event for `method path`, as the JWT authorizer passes it on: with the verified claims.
fn api_event(method: &str, path: &str, claims: &[(&str, &str)], body: Option<&Value>) -> Value {
    let mut event: Value =
        serde_json::from_str(&std::fs::read_to_string(events_dir().join("api-health.json")).unwrap()).unwrap();
    event["routeKey"] = json!("ANY /v1/{proxy+}");
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    let claims: serde_json::Map<String, Value> = claims.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    event["requestContext"]["authorizer"] = json!({ "jwt": { "claims": claims, "scopes": null } });
    if let Some(body) = body {
        event["body"] = json!(body.to_string());
        event["isBase64Encoded"] = json!(false);
        event["headers"]["content-type"] = json!("application/json");
    }
    event
}

fn invoke_event(event: &Value, data_dir: &std::path::Path) -> Value {
    let file = data_dir.join(format!("event-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, event.to_string()).unwrap();
    invoke("http-api", &file, data_dir)
}

/// In AWS the identity is the authorizer's claims: the http-api function turns them into the caller and the same
/// tenancy rules hold.
#[test]
fn the_ingest_function_takes_the_caller_from_the_authorizers_claims() {
    let data = data_dir_with_a_store();
    let minato = [("sub", "hc-user-1"), ("role", "health_center"), ("health_center_code", "131016")];
    let created =
        invoke_event(&api_event("POST", "/v1/reports", &minato, Some(&crate::http::report_body())), data.path());
    assert_eq!(created["statusCode"], 201, "{created}");
    let id = serde_json::from_str::<Value>(created["body"].as_str().unwrap()).unwrap()["report_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let own = invoke_event(&api_event("GET", &format!("/v1/reports/{id}"), &minato, None), data.path());
    assert_eq!(own["statusCode"], 200);
    let oita = [("sub", "hc-user-2"), ("role", "health_center"), ("health_center_code", "440001")];
    assert_eq!(
        invoke_event(&api_event("GET", &format!("/v1/reports/{id}"), &oita, None), data.path())["statusCode"],
        404
    );
    let bad = [("sub", "x"), ("role", "superuser")];
    assert_eq!(
        invoke_event(&api_event("GET", &format!("/v1/reports/{id}"), &bad, None), data.path())["statusCode"],
        401
    );
}

/// The environment variable names a function gets in template.yaml (its `Environment: Variables:` keys).
pub(crate) fn template_env(resource: &str) -> Vec<String> {
    let template = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")).unwrap();
    let start = template.find(&format!("\n  {resource}:\n")).unwrap_or_else(|| panic!("{resource} not in template"));
    let is_sibling = |l: &&str| l.starts_with("  ") && !l.starts_with("   ") && !l.trim().is_empty();
    let lines: Vec<&str> = template[start + 1..].lines().skip(1).take_while(|l| !is_sibling(l)).collect();
    let at =
        lines.iter().position(|l| l.trim() == "Variables:").unwrap_or_else(|| panic!("{resource} has no environment"));
    let indent = lines[at + 1].len() - lines[at + 1].trim_start().len();
    lines[at + 1..]
        .iter()
        .take_while(|l| l.len() - l.trim_start().len() == indent)
        .filter_map(|l| l.trim().split_once(':').map(|(k, _)| k.to_owned()))
        .collect()
}

/// Fresh emulator tables, but only those the function's template entry names (the others left unset, as in
/// Lambda), and the buckets it names.
async fn resources_as_deployed(sdk: &aws_config::SdkConfig, resource: &str) -> AwsResources {
    let env = template_env(resource);
    let all = crate::emulators::fresh_tables(sdk).await;
    let tables = TableNames::from_fn(|table| {
        let named = env.iter().any(|e| e == table.env_var());
        if named { all.get(table).to_owned() } else { String::new() }
    });
    let s3 = aws_adapters::s3_client(sdk, true);
    let bucket = |var: &str| {
        let wanted = env.iter().any(|e| e == var);
        let name = format!("b{}", uuid::Uuid::new_v4().simple());
        wanted.then_some(name)
    };
    let (export_bucket, export_state_bucket) = (bucket("EXPORT_BUCKET"), bucket("EXPORT_STATE_BUCKET"));
    for b in [&export_bucket, &export_state_bucket].into_iter().flatten() {
        aws_adapters::create_bucket(&s3, b, "ap-northeast-1").await.unwrap();
    }
    AwsResources { tables, export_bucket, export_state_bucket, full_export_state_machine: None }
}

/// Each scheduled function runs with exactly what template.yaml gives it: a table or bucket its code uses but its
/// template entry lacks fails here, not in AWS.
#[tokio::test]
async fn scheduled_functions_run_with_the_tables_and_buckets_the_template_gives_them() {
    let sdk = crate::emulators::sdk_config().await;
    let config = crate::fixtures::config();
    let event = json!({ "time": "2021-02-04T00:00:00Z" });
    // Each function's services are built as its cold start builds them (`main.rs`): a missing bucket fails here.
    let wiring = platform::aws_wiring_with(&config, &sdk, resources_as_deployed(&sdk, "ExportFunction").await).unwrap();
    let services = export::Services::new(&wiring).expect("the export's services with its template environment");
    export::handle(&services, event.clone()).await.expect("export with its template environment");
    export::handle(&services, event.clone()).await.expect("a second, incremental export");
    let wiring =
        platform::aws_wiring_with(&config, &sdk, resources_as_deployed(&sdk, "LinkageFunction").await).unwrap();
    let services = linkage::Services::new(&wiring).expect("the linkage's services with its template environment");
    linkage::handle(&services, event.clone()).await.expect("linkage with its template environment");
    // The hourly function has no state bucket: it cannot build the graph export, and refuses a full re-link's step
    // (those go to FullLinkageFunction), naming the setting.
    let missing = export::Services::new(&wiring).err().expect("no export without the state bucket");
    assert!(missing.to_string().contains("EXPORT_STATE_BUCKET"), "{missing}");
    let step = json!({ "full_linkage": { "step": "start", "input": {} } });
    let refused = linkage::handle(&services, step).await.unwrap_err();
    assert!(refused.to_string().contains("EXPORT_STATE_BUCKET"), "{refused}");
    let wiring =
        platform::aws_wiring_with(&config, &sdk, resources_as_deployed(&sdk, "ReissueFunction").await).unwrap();
    reissue::handle(&wiring.cases(), event).await.expect("reissue with its template environment");
}

/// As deployed, the functions read the HMAC key from Secrets Manager (here moto's) at cold start: the value comes
/// back whole, and a missing secret fails with the service's error code, naming neither the secret nor its value.
#[tokio::test]
async fn the_hmac_secret_is_read_from_secrets_manager() {
    let sdk = crate::emulators::sdk_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let name = format!("hmac-{}", uuid::Uuid::new_v4().simple());
    let value = "k".repeat(64);
    let created = client.create_secret().name(&name).secret_string(&value).send().await.unwrap();
    let arn = created.arn().unwrap().to_owned();
    assert_eq!(aws_adapters::fetch_secret(&client, &arn).await.unwrap(), value.as_bytes());
    let err = aws_adapters::fetch_secret(&client, &format!("{name}-missing")).await.unwrap_err();
    assert!(err.contains("ResourceNotFound"), "{err}");
    assert!(!err.contains(&name) && !err.contains(&value), "{err}");
}
