//! Reports over HTTP beyond creation: corrections and status changes under optimistic concurrency, idempotent
//! creation, uniqueness of case numbers, and the limits of the request format.

use serde_json::{Value, json};

use crate::http::{Server, client, report_body};

async fn create(server: &Server, token: &str, body: &Value) -> (reqwest::StatusCode, Value) {
    let res = client().post(server.url("/v1/reports")).bearer_auth(token).json(body).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn patch(
    server: &Server,
    token: &str,
    id: &str,
    if_match: Option<&str>,
    body: &Value,
) -> (reqwest::StatusCode, Value, Option<String>) {
    let mut req = client().patch(server.url(&format!("/v1/reports/{id}"))).bearer_auth(token).json(body);
    if let Some(v) = if_match {
        req = req.header("If-Match", v);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let etag = res.headers().get("etag").map(|v| v.to_str().unwrap().to_owned());
    (status, res.json().await.unwrap_or(Value::Null), etag)
}

async fn status_changes_and_corrections_need_the_current_version(server: Server) {
    let token = server.health_center_token();
    let (_, created) = create(&server, &token, &report_body()).await;
    let id = created["report_id"].as_str().unwrap().to_owned();

    // Without If-Match: 428. With it: 200, the new version as ETag.
    let change = json!({"status": "hospitalized", "effective_date": "2021-02-03"});
    assert_eq!(patch(&server, &token, &id, None, &change).await.0, 428);
    let (status, view, etag) = patch(&server, &token, &id, Some("\"1\""), &change).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(view["status_history"][0]["status"], "hospitalized");

    // A stale version gets 412 and changes nothing.
    let (status, _, _) = patch(&server, &token, &id, Some("1"), &json!({"occupation": "cook"})).await;
    assert_eq!(status, 412);
    let got = server.get_json(&format!("/v1/reports/{id}"), &token).await;
    assert_eq!((got["version"].clone(), got["occupation"].clone()), (json!(2), Value::Null));

    // Corrections are validated like a new report; a null clears a field.
    let (status, view, _) = patch(&server, &token, &id, Some("2"), &json!({"occupation": "cook", "email": null})).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (view["occupation"].clone(), view["email"].clone(), view["version"].clone()),
        (json!("cook"), Value::Null, json!(3))
    );
    let (status, err, _) = patch(&server, &token, &id, Some("3"), &json!({"passport_number": "X"})).await;
    assert_eq!((status.as_u16(), err["fields"][0]["field"].as_str()), (400, Some("passport_number")));
    // An unknown key is refused without being repeated: it may itself be personal data.
    let (status, err, _) = patch(&server, &token, &id, Some("3"), &json!({"TZ9081726": "x"})).await;
    assert_eq!((status.as_u16(), err["fields"][0]["field"].as_str()), (400, Some("body")));
    assert!(!err.to_string().contains("TZ9081726"), "{err}");
}

async fn impossible_transitions_are_refused_with_422(server: Server) {
    let token = server.health_center_token();
    let (_, created) = create(&server, &token, &report_body()).await; // diagnosed 2021-02-02
    let id = created["report_id"].as_str().unwrap().to_owned();

    let (status, err, _) =
        patch(&server, &token, &id, Some("1"), &json!({"status": "home_care", "effective_date": "2021-02-01"})).await;
    assert_eq!((status.as_u16(), err["error"].as_str()), (422, Some("impossible_change")));
    assert_eq!(
        patch(&server, &token, &id, Some("1"), &json!({"status": "died", "effective_date": "2021-02-04"})).await.0,
        200
    );
    let (status, err, _) =
        patch(&server, &token, &id, Some("2"), &json!({"status": "released", "effective_date": "2021-02-05"})).await;
    assert_eq!((status.as_u16(), err["fields"][0]["field"].as_str()), (422, Some("status")));
    // A status without its date is malformed.
    assert_eq!(patch(&server, &token, &id, Some("2"), &json!({"status": "released"})).await.0, 400);
}

async fn another_health_centre_cannot_patch(server: Server) {
    let (_, created) = create(&server, &server.health_center_token(), &report_body()).await;
    let id = created["report_id"].as_str().unwrap().to_owned();
    let oita = server.token("health_center", Some("440001"));
    let (status, _, _) = patch(&server, &oita, &id, Some("1"), &json!({"occupation": "cook"})).await;
    assert_eq!(status, 404);
}

async fn an_idempotency_key_replays_the_first_answer_and_never_creates_twice(server: Server) {
    let token = server.health_center_token();
    let send = |body: Value, key: &'static str| {
        let (url, token) = (server.url("/v1/reports"), token.clone());
        async move {
            let request = client().post(url).bearer_auth(token).header("Idempotency-Key", key).json(&body);
            request.send().await.unwrap()
        }
    };
    let first = send(report_body(), "retry-7f3a").await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send(report_body(), "retry-7f3a").await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);

    let mut other = report_body();
    other["occupation"] = json!("teacher");
    let reused = send(other, "retry-7f3a").await;
    assert_eq!(reused.status(), 422);
    assert_eq!(reused.json::<Value>().await.unwrap()["fields"][0]["field"], "Idempotency-Key");

    // One report was created in all: the store holds one report id among its keys.
    let keys = server.store_keys().await;
    let reports = keys.iter().filter(|k| uuid::Uuid::parse_str(k).is_ok()).count();
    assert_eq!(reports, 1, "{keys:?}");
}

async fn a_case_number_is_filed_once_per_health_centre(server: Server) {
    let token = server.health_center_token();
    let mut body = report_body();
    body["case_number"] = json!("2021-0042");
    assert_eq!(create(&server, &token, &body).await.0, 201);
    let (status, err) = create(&server, &token, &body).await;
    assert_eq!((status.as_u16(), err["fields"][0]["field"].as_str()), (409, Some("case_number")));
}

async fn malformed_requests_get_4xx_naming_the_problem(server: Server) {
    let token = server.health_center_token();
    let url = server.url("/v1/reports");
    let http = client();

    let res = http
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(report_body().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let res = http
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_json");
    let mut unknown = report_body();
    unknown["favourite_colour"] = json!("red");
    let res = http.post(&url).bearer_auth(&token).json(&unknown).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let mut huge = report_body();
    huge["occupation"] = json!("x".repeat(70 * 1024));
    let res = http.post(&url).bearer_auth(&token).json(&huge).send().await.unwrap();
    assert_eq!(res.status(), 413);
    let err: Value = res.json().await.unwrap();
    assert!(err["fields"][0]["problem"].as_str().unwrap().contains("65536"), "{err}");
    let res = http.post(&url).bearer_auth(&token).json(&json!([1, 2])).send().await.unwrap();
    assert_eq!(res.status(), 400);
    // None of these wrote anything.
    assert!(server.store_keys().await.is_empty());
}

// The suite above, on the embedded store and on DynamoDB Local.
on_both_stores!(
    embedded: Server::start(&[], &[]),
    dynamodb: Server::start_on_dynamodb();
    status_changes_and_corrections_need_the_current_version,
    impossible_transitions_are_refused_with_422,
    another_health_centre_cannot_patch,
    an_idempotency_key_replays_the_first_answer_and_never_creates_twice,
    a_case_number_is_filed_once_per_health_centre,
    malformed_requests_get_4xx_naming_the_problem,
);
