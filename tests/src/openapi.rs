//! The API's contract, `shared/api/openapi.json`, against the real server: the document is OpenAPI 3.1 JSON whose
//! references all resolve, the server serves it, every operation it documents is routed, and real answers (status,
//! content type, body, headers) are what it documents. The fuzzing counterpart is infra/test's `api-fuzz` phase.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::http::{Server, client, report_body};

const DOCUMENT: &str = include_str!("../../shared/api/openapi.json");

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Operations documented in the OpenAPI whose implementation has not landed yet. While an operation is listed here, the
/// routing test tolerates its absence (and says so on stderr); once it is routed, remove it from this list so that
/// losing the route fails the test. Never add an operation that is already routed.
const PENDING: &[(&str, &str)] = &[];

pub(crate) fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("shared/api/openapi.json is not valid JSON")
}

/// Resolves a local `$ref` ("#/components/...") against the document.
fn resolve<'a>(doc: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("non-local $ref {r}"));
            resolve(doc, doc.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {r}")))
        }
        None => node,
    }
}

/// Every (method, path, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths is an object") {
        for (method, op) in item.as_object().expect("a path item is an object") {
            if METHODS.contains(&method.as_str()) {
                ops.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    ops
}

/// A JSON Schema 2020-12 validator for a schema of the document; its `$ref`s resolve within the document.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let wrapped = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": doc["components"],
    });
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&wrapped)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}: {schema}"))
}

fn assert_valid(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let v = validator(doc, schema);
    let errors: Vec<String> = v.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} does not match its schema: {errors:?}\ninstance: {instance}");
}

fn collect_refs<'a>(node: &'a Value, out: &mut Vec<&'a str>) {
    match node {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => out.push(r),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_1_and_every_reference_resolves() {
    let doc = document();
    let version = doc["openapi"].as_str().expect("an openapi field");
    assert!(version.starts_with("3.1."), "openapi {version}, wanted 3.1.x");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert!(!operations(&doc).is_empty());

    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in refs {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("non-local $ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }
    // Every component schema compiles as JSON Schema 2020-12, and every operation has an id and answers.
    for schema in doc["components"]["schemas"].as_object().unwrap().values() {
        let _compiled = validator(&doc, schema);
    }
    for (method, path, op) in operations(&doc) {
        assert!(op["operationId"].is_string(), "{method} {path} has no operationId");
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} documents no answer");
    }
}

/// The examples in the document are what a client would copy: they must be valid against their own schemas.
#[test]
fn the_documents_examples_match_their_schemas() {
    let doc = document();
    for (method, path, op) in operations(&doc) {
        let Some(content) = op.pointer("/requestBody/content").and_then(Value::as_object) else { continue };
        for (media, body) in content {
            if let Some(example) = body.get("example") {
                assert_valid(&doc, &body["schema"], example, &format!("the {media} example of {method} {path}"));
            }
        }
    }
}

/// A token for the first role an operation admits (`x-roles`), or none for an operation without security.
fn token_for(server: &Server, op: &Value) -> Option<String> {
    if op.get("security").and_then(Value::as_array).is_some_and(|s| s.is_empty()) {
        return None;
    }
    let role = op["x-roles"][0].as_str().unwrap_or("health_center");
    Some(if role == "health_center" { server.health_center_token() } else { server.token(role, None) })
}

/// A documented answer to a real request: its status is documented for the operation, and its content type,
/// body and headers match what the document says of that status.
pub(crate) async fn check_answer(doc: &Value, method: &str, path: &str, res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let op = &doc["paths"][path][method];
    let documented = op["responses"].get(status.to_string()).unwrap_or_else(|| {
        panic!("{method} {path} answered {status}, which the document does not list: {}", op["responses"])
    });
    let documented = resolve(doc, documented);
    let what = format!("{method} {path} → {status}");
    if let Some(headers) = documented.get("headers").and_then(Value::as_object) {
        for (name, header) in headers {
            let header = resolve(doc, header);
            let value = res
                .headers()
                .get(name.as_str())
                .unwrap_or_else(|| panic!("{what}: no {name} header"))
                .to_str()
                .unwrap()
                .to_owned();
            assert_valid(doc, &header["schema"], &Value::String(value), &format!("{what}: header {name}"));
        }
    }
    let content_type = res.headers().get(CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let text = res.text().await.unwrap();
    let Some(content) = documented.get("content").and_then(Value::as_object) else {
        assert!(text.is_empty(), "{what}: a body where the document says none");
        return (status, Value::Null);
    };
    let media = content_type.split(';').next().unwrap_or_default().trim().to_owned();
    let body_doc = content
        .get(&media)
        .unwrap_or_else(|| panic!("{what}: content type {content_type:?}, documented {:?}", content.keys()));
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: body is not JSON ({e}): {text}"));
    assert_valid(doc, &body_doc["schema"], &body, &format!("{what}: body"));
    (status, body)
}

/// Each documented operation reaches a handler: not the router's fallback (`404 {"error":"not_found"}` for an
/// unknown path) nor axum's `405` for a known path with an unknown method. Path parameters name a real report,
/// so that a handler's own 404 cannot be mistaken for the fallback.
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let doc = document();
    let server = Server::start(&[], &[]);
    let http = client();
    let created: Value = http
        .post(server.url("/v1/reports"))
        .bearer_auth(server.health_center_token())
        .json(&report_body())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["report_id"].as_str().unwrap().to_owned();
    let cycle: Value = http
        .post(server.url(&format!("/v1/reports/{id}/processing-numbers")))
        .bearer_auth(server.health_center_token())
        .json(&json!({"channel": "sms"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cycle_id = cycle["cycle_id"].as_str().unwrap().to_owned();

    let mut missing = Vec::new();
    for (method, path, op) in operations(&doc) {
        let url = server.url(&path.replace("{id}", &id).replace("{cycle_id}", &cycle_id));
        let mut req = http.request(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), url);
        if let Some(token) = token_for(&server, &op) {
            req = req.bearer_auth(token);
        }
        if op.get("requestBody").is_some() {
            // An empty JSON body of the documented kind: enough to reach the handler, which may then refuse it.
            let empty = if op.pointer("/requestBody/content/application~1json/schema/type") == Some(&json!("array")) {
                json!([])
            } else {
                json!({})
            };
            req = req.json(&empty);
        }
        if method == "patch" {
            req = req.header("If-Match", "1");
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        let fallback = (status == 404 && body == json!({"error": "not_found"})) || status == 405;
        if !fallback {
            if PENDING.contains(&(method.as_str(), path.as_str())) {
                eprintln!("{method} {path} is routed now: remove it from PENDING in tests/src/openapi.rs");
            }
        } else if PENDING.contains(&(method.as_str(), path.as_str())) {
            eprintln!("{method} {path}: documented, not routed yet (pending)");
        } else {
            missing.push(format!("{} {path} ({status})", method.to_uppercase()));
        }
    }
    assert!(missing.is_empty(), "documented but not routed: {missing:?}");
}

/// Representative real answers validate against the document: create (201 with ETag and Location), read (200),
/// invalid fields (400 `invalid_request`), a wrong JSON type (400 `invalid_request`), no token (401), another role
/// (403), an unknown report (404), the health route and the document itself.
#[tokio::test]
async fn real_answers_conform_to_the_document() {
    let doc = document();
    let server = Server::start(&[], &[]);
    let http = client();
    let token = server.health_center_token();

    let (status, _) =
        check_answer(&doc, "get", "/v1/health", http.get(server.url("/v1/health")).send().await.unwrap()).await;
    assert_eq!(status, 200);

    let res = http.get(server.url("/v1/openapi.json")).send().await.unwrap();
    let (status, served) = check_answer(&doc, "get", "/v1/openapi.json", res).await;
    assert_eq!(status, 200);
    assert_eq!(served, doc, "the server serves another document than shared/api/openapi.json");

    let res = http.post(server.url("/v1/reports")).bearer_auth(&token).json(&report_body()).send().await.unwrap();
    let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    let (status, created) = check_answer(&doc, "post", "/v1/reports", res).await;
    assert_eq!(status, 201);
    let id = created["report_id"].as_str().unwrap();
    assert_eq!(location.as_deref(), Some(format!("/v1/reports/{id}").as_str()));

    let res = http.get(server.url(&format!("/v1/reports/{id}"))).bearer_auth(&token).send().await.unwrap();
    let (status, view) = check_answer(&doc, "get", "/v1/reports/{id}", res).await;
    assert_eq!(status, 200);
    assert_eq!(view["report_id"], id);
    // A report with only the required fields answers nulls for the rest, which the view schema must allow.
    let mut minimal = report_body();
    let keep = [
        "prefecture_code",
        "municipality_code",
        "case_type",
        "sex",
        "date_of_birth",
        "name",
        "report_date",
        "diagnosis_date",
    ];
    minimal.as_object_mut().unwrap().retain(|k, _| keep.contains(&k.as_str()));
    let res = http.post(server.url("/v1/reports")).bearer_auth(&token).json(&minimal).send().await.unwrap();
    let (status, small) = check_answer(&doc, "post", "/v1/reports", res).await;
    assert_eq!(status, 201);
    let res = http
        .get(server.url(&format!("/v1/reports/{}", small["report_id"].as_str().unwrap())))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, view) = check_answer(&doc, "get", "/v1/reports/{id}", res).await;
    assert_eq!(status, 200);
    assert!(view["passport_number"].is_null() && view["diagnosis_method"].is_null());

    let mut bad = report_body();
    bad["passport_number"] = json!("TZ#9081726");
    bad["onset_date"] = json!("2021-02-05");
    let res = http.post(server.url("/v1/reports")).bearer_auth(&token).json(&bad).send().await.unwrap();
    let (status, err) = check_answer(&doc, "post", "/v1/reports", res).await;
    assert!(status == 400 || status == 422, "{status}");
    assert!(!err["fields"].as_array().unwrap().is_empty());

    let res = http.post(server.url("/v1/reports")).bearer_auth(&token).json(&json!({"sex": 1})).send().await.unwrap();
    let (status, err) = check_answer(&doc, "post", "/v1/reports", res).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_request")));

    let res = http.post(server.url("/v1/reports")).json(&report_body()).send().await.unwrap();
    assert_eq!(check_answer(&doc, "post", "/v1/reports", res).await.0, 401);
    let res = http.get(server.url(&format!("/v1/reports/{id}"))).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(check_answer(&doc, "get", "/v1/reports/{id}", res).await.0, 401);

    let quarantine = server.token("quarantine", None);
    let res = http.get(server.url(&format!("/v1/reports/{id}"))).bearer_auth(&quarantine).send().await.unwrap();
    assert_eq!(check_answer(&doc, "get", "/v1/reports/{id}", res).await.0, 403);

    let res = http
        .get(server.url("/v1/reports/01a21737-eb06-70fc-ab33-3d21a725c792"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(check_answer(&doc, "get", "/v1/reports/{id}", res).await.0, 404);

    // A status change with the ETag just read (200), the same change again on the old version (412), none (428).
    let path = format!("/v1/reports/{id}");
    let etag = http.get(server.url(&path)).bearer_auth(&token).send().await.unwrap().headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let change = json!({"status": "hospitalized", "effective_date": "2021-02-03"});
    let res =
        http.patch(server.url(&path)).bearer_auth(&token).header("If-Match", &etag).json(&change).send().await.unwrap();
    let (status, changed) = check_answer(&doc, "patch", "/v1/reports/{id}", res).await;
    assert_eq!(status, 200);
    assert_eq!(changed["status_history"][0]["status"], "hospitalized");
    let res =
        http.patch(server.url(&path)).bearer_auth(&token).header("If-Match", &etag).json(&change).send().await.unwrap();
    assert_eq!(check_answer(&doc, "patch", "/v1/reports/{id}", res).await.0, 412);
    let res = http.patch(server.url(&path)).bearer_auth(&token).json(&change).send().await.unwrap();
    assert_eq!(check_answer(&doc, "patch", "/v1/reports/{id}", res).await.0, 428);

    // An entry batch: one good record and one refused, each with its outcome.
    let entries =
        doc.pointer("/paths/~1v1~1entries/post/requestBody/content/application~1json/example").unwrap().clone();
    let mut batch = entries.as_array().unwrap().clone();
    batch.push(json!({"entry_id": "NRT-2", "passport_number": "TZ#"}));
    let res = http.post(server.url("/v1/entries")).bearer_auth(&quarantine).json(&batch).send().await.unwrap();
    let (status, outcome) = check_answer(&doc, "post", "/v1/entries", res).await;
    assert_eq!(status, 200);
    assert_eq!((outcome["created"].as_u64(), outcome["rejected"].as_u64()), (Some(1), Some(1)));
    let res = http.post(server.url("/v1/entries")).bearer_auth(&token).json(&batch).send().await.unwrap();
    assert_eq!(check_answer(&doc, "post", "/v1/entries", res).await.0, 403);
}

/// The processing-number routes' real answers validate against the document: issue (201), list (200), a bad
/// redemption (400), a locked-out device (429 with Retry-After), the wrong role (403), stats (200), cancel (200)
/// and cancelling again (409).
#[tokio::test]
async fn processing_number_answers_conform_to_the_document() {
    let doc = document();
    let server = Server::start(&[], &[]);
    let http = client();
    let token = server.health_center_token();
    let created = server.file_sample_report(&token).await;
    let id = created["report_id"].as_str().unwrap();
    let path = "/v1/reports/{id}/processing-numbers";
    let url = server.url(&format!("/v1/reports/{id}/processing-numbers"));

    let res = http.post(&url).bearer_auth(&token).json(&json!({"channel": "email"})).send().await.unwrap();
    let (status, cycle) = check_answer(&doc, "post", path, res).await;
    assert_eq!(
        (status, cycle["state"].as_str(), cycle["numbers"][0]["state"].as_str()),
        (201, Some("active"), Some("live"))
    );
    let res = http.post(&url).bearer_auth(&token).json(&json!({"channel": "fax"})).send().await.unwrap();
    assert_eq!(check_answer(&doc, "post", path, res).await.0, 400);

    let res = http.get(&url).bearer_auth(&token).send().await.unwrap();
    let (status, list) = check_answer(&doc, "get", path, res).await;
    assert_eq!((status, list["cycles"].as_array().unwrap().len()), (200, 1));

    let app = server.token("app_backend", None);
    let redeem = "/v1/processing-numbers/redeem";
    for i in 0..10 {
        let guess = json!({"processing_number": format!("{:08}", 20_000_000 + i), "client_id": "device-1"});
        let res = http.post(server.url(redeem)).bearer_auth(&app).json(&guess).send().await.unwrap();
        let (status, err) = check_answer(&doc, "post", redeem, res).await;
        assert_eq!((status, err["error"].as_str()), (400, Some("invalid_processing_number")));
    }
    let res = http
        .post(server.url(redeem))
        .bearer_auth(&app)
        .json(&json!({"processing_number": "12345678", "client_id": "device-1"}))
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(check_answer(&doc, "post", redeem, res).await.0, 429);
    let res = http
        .post(server.url(redeem))
        .bearer_auth(&token)
        .json(&json!({"processing_number": "12345678"}))
        .send()
        .await
        .unwrap();
    assert_eq!(check_answer(&doc, "post", redeem, res).await.0, 403);

    let stats = "/v1/processing-numbers/stats";
    let res = http.get(server.url(stats)).bearer_auth(server.token("operator", None)).send().await.unwrap();
    let (status, body) = check_answer(&doc, "get", stats, res).await;
    assert_eq!(
        (status, body["totals"]["issued"].as_u64(), body["totals"]["redemption_failures"].as_u64()),
        (200, Some(1), Some(10))
    );

    let cancel_path = "/v1/reports/{id}/processing-numbers/{cycle_id}/cancel";
    let cancel_url =
        server.url(&format!("/v1/reports/{id}/processing-numbers/{}/cancel", cycle["cycle_id"].as_str().unwrap()));
    let res = http.post(&cancel_url).bearer_auth(&token).send().await.unwrap();
    let (status, cancelled) = check_answer(&doc, "post", cancel_path, res).await;
    assert_eq!((status, cancelled["state"].as_str()), (200, Some("cancelled")));
    let res = http.post(&cancel_url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(check_answer(&doc, "post", cancel_path, res).await.0, 409);
}
