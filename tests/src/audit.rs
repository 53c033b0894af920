//! The linked entry and the audit of views of personal data, end to end on the real server, on both stores: a report
//! linked at once by its passport number shows its entry (`linked_entry`), another health centre gets 404, every view
//! of the entry appends an audit event that an operator reads by health centre and period (`GET /v1/audit`) and `hersys
//! audit` lists; answers conform to `openapi.json`; no personal value in the audit, the errors or the server's log.

use serde_json::{Value, json};

use crate::fixtures;
use crate::http::{Server, client, hersys_embedded, report_body};
use crate::openapi::{check_answer, document};

/// The sample report's person entering on 2021-01-20 (the report says diagnosed 2021-02-02).
fn entry_body() -> Value {
    json!({
        "entry_id": "NRT-2021-0001", "passport_number": fixtures::PASSPORT, "nationality": "VNM",
        "family_name": "NGUYEN", "given_names": "THI HOA", "date_of_birth": "1992-07-15", "sex": "F",
        "entry_date": "2021-01-20", "port_of_entry": "NRT", "entry_test_result": "negative",
    })
}

async fn a_linked_report_shows_its_entry_and_every_view_is_audited(server: Server) {
    let doc = document();
    let http = client();
    let (hc, operator) = (server.health_center_token(), server.token("operator", None));
    let other = server.token("health_center", Some("440001"));

    // A report before any entry: no link, nothing audited.
    let unlinked = server.file_sample_report(&hc).await["report_id"].as_str().unwrap().to_owned();
    let res = http.get(server.url(&format!("/v1/reports/{unlinked}"))).bearer_auth(&hc).send().await.unwrap();
    let (status, body) = check_answer(&doc, "get", "/v1/reports/{id}", res).await;
    assert_eq!((status, &body["linked_entry"], &body["linked_follow_up"]), (200, &Value::Null, &Value::Null));

    let res = http
        .post(server.url("/v1/entries"))
        .bearer_auth(server.token("quarantine", None))
        .json(&json!([entry_body()]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut second = report_body();
    second["case_number"] = json!("2021-0002");
    let res = http.post(server.url("/v1/reports")).bearer_auth(&hc).json(&second).send().await.unwrap();
    let linked = res.json::<Value>().await.unwrap()["report_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/reports/{linked}");

    // The owner sees the entry, twice (two events); another centre gets 404 and nothing is audited for it.
    for _ in 0..2 {
        let res = http.get(server.url(&path)).bearer_auth(&hc).send().await.unwrap();
        let (status, body) = check_answer(&doc, "get", "/v1/reports/{id}", res).await;
        assert_eq!(status, 200);
        let entry = &body["linked_entry"];
        assert_eq!(entry["entry_id"], "NRT-2021-0001");
        assert_eq!(entry["entry_date"], "2021-01-20");
        assert_eq!(entry["port_of_entry"], "NRT");
        assert_eq!(entry["entry_test_result"], "negative");
        assert_eq!(entry["nationality"], "VNM");
        assert_eq!(entry["days_from_entry_to_diagnosis"], 13);
        assert_eq!(entry["match"]["method"], "exact_passport_hash");
        assert_eq!(entry["match"]["band"], "link");
        assert_eq!(entry["match"]["model_version"], Value::Null);
        assert_eq!(body["linked_follow_up"], Value::Null);
    }
    let res = http.get(server.url(&path)).bearer_auth(&other).send().await.unwrap();
    assert_eq!(check_answer(&doc, "get", "/v1/reports/{id}", res).await.0, 404);

    // The operator's audit of the health centre's day: the two views, ids only.
    let audit_path = "/v1/audit";
    let query = [("health_center", "131016"), ("from", "2000-01-01"), ("to", "2100-12-31")];
    let res = http.get(server.url(audit_path)).query(&query).bearer_auth(&operator).send().await.unwrap();
    let (status, audit) = check_answer(&doc, "get", audit_path, res).await;
    assert_eq!(status, 200, "{audit}");
    let events = audit["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{audit}");
    for e in events {
        assert_eq!(e["report_id"], linked.as_str());
        assert_eq!(e["records_shown"], json!(["NRT-2021-0001"]));
        assert_eq!(e["route"], "GET /v1/reports/{id}");
        assert_eq!((e["role"].as_str(), e["health_center_code"].as_str()), (Some("health_center"), Some("131016")));
        assert!(e["subject"].as_str().is_some_and(|s| !s.is_empty()));
    }
    // Pages of one follow each other.
    let res = http
        .get(server.url(audit_path))
        .query(&query)
        .query(&[("limit", "1")])
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    let (_, first) = check_answer(&doc, "get", audit_path, res).await;
    let next = first["next"].as_str().unwrap().to_owned();
    assert!(next.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "URL-safe: {next}");
    // Pasted into a URL as it is, without encoding.
    let pasted = format!("{audit_path}?health_center=131016&from=2000-01-01&to=2100-12-31&limit=1&next={next}");
    let res = http.get(server.url(&pasted)).bearer_auth(&operator).send().await.unwrap();
    let (_, second_page) = check_answer(&doc, "get", audit_path, res).await;
    assert_eq!([&first["events"][0], &second_page["events"][0]], [&events[0], &events[1]]);
    // Another centre's audit is empty; a health centre may not read the audit; bad queries name their field.
    let res = http
        .get(server.url(audit_path))
        .query(&[("health_center", "440001"), ("from", "2000-01-01"), ("to", "2100-12-31")])
        .bearer_auth(&operator)
        .send()
        .await
        .unwrap();
    assert_eq!(check_answer(&doc, "get", audit_path, res).await.1["events"], json!([]));
    let res = http.get(server.url(audit_path)).query(&query).bearer_auth(&hc).send().await.unwrap();
    assert_eq!(check_answer(&doc, "get", audit_path, res).await.0, 403);
    for (bad, field) in [
        (vec![("from", "2021-01-01"), ("to", "2021-01-02")], "health_center"),
        (vec![("health_center", "131016"), ("to", "2021-01-02")], "from"),
        (vec![("health_center", "131016"), ("from", "2021-01-03"), ("to", "2021-01-02")], "to"),
        (vec![("health_center", "131016"), ("from", "2021-01-01"), ("to", "2021-01-02"), ("next", "x#y")], "next"),
        (vec![("health_center", "131016"), ("from", "2021-01-01"), ("to", "2021-01-02"), ("limit", "0")], "limit"),
    ] {
        let res = http.get(server.url(audit_path)).query(&bad).bearer_auth(&operator).send().await.unwrap();
        let (status, err) = check_answer(&doc, "get", audit_path, res).await;
        assert_eq!((status, err["fields"][0]["field"].as_str()), (400, Some(field)), "{err}");
    }

    // No personal value in the audit or the server's log.
    let text = format!("{audit}{}", server.log_holding("request done", 1).await);
    for secret in [fixtures::PASSPORT, "9081726", fixtures::NAME, "NGUYEN", "THI HOA", "1992-07-15", "グエン"] {
        assert!(!text.contains(secret), "a personal value in the audit or the log ({} chars)", secret.len());
    }
    if server.is_embedded() {
        hersys_audit_lists(&server, &linked);
    }
}

/// `hersys audit --json` on the server's data directory lists the same events.
fn hersys_audit_lists(server: &Server, report: &str) {
    let out = hersys_embedded().args(["audit", "--json", "--data-dir"]).arg(server.data_dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["report_id"] == report && l["records_shown"] == json!(["NRT-2021-0001"])));
}

on_both_stores!(
    embedded: Server::start(&[], &[]),
    dynamodb: Server::start_on_dynamodb();
    a_linked_report_shows_its_entry_and_every_view_is_audited,
);

/// An audit log that cannot be written (as when its table is unreachable): our own port, not a fake of AWS.
struct UnwritableAudit;

#[async_trait::async_trait]
impl domain::ports::AuditLog for UnwritableAudit {
    async fn append_audit(&self, _: &domain::audit::AuditEvent) -> Result<(), domain::StoreError> {
        Err(domain::StoreError::Unavailable("PutItem: the audit is unreachable".to_owned()))
    }
    async fn audit_events(
        &self,
        _: &domain::audit::AuditQuery,
    ) -> Result<domain::audit::AuditPage, domain::StoreError> {
        Err(domain::StoreError::Unavailable("Query: the audit is unreachable".to_owned()))
    }
}

/// No unaudited view: when the audit event cannot be written, the view of a linked report fails; a report without
/// a linked entry shows nothing to audit and is still answered.
async fn a_view_that_cannot_be_audited_is_refused(stack: crate::fixtures::StackApp) {
    use domain::app::AppError;
    use domain::audit::Viewer;
    let mut wiring = stack.wiring.clone();
    wiring.ports.audit = std::sync::Arc::new(UnwritableAudit);
    let app = wiring.app();
    wiring
        .ports
        .entries
        .put_entries(&[fixtures::entry("NRT-2021-0001", fixtures::PASSPORT)], chrono::Utc::now())
        .await
        .unwrap();
    let linked = app.cases.create_report(&fixtures::report_input()).await.unwrap().value.id;
    let mut without = fixtures::report_input();
    without.passport_number = None;
    without.case_number = Some("2021-0002".to_owned());
    let unlinked = app.cases.create_report(&without).await.unwrap().value.id;
    let viewer = Viewer {
        subject: "user-1".to_owned(),
        role: "health_center".to_owned(),
        health_center_code: "131016".to_owned(),
        route: "GET /v1/reports/{id}".to_owned(),
    };
    assert!(wiring.ports.links.get_decision(&linked).await.unwrap().is_some(), "linked at once by the passport number");
    assert!(matches!(app.audit.view_report(&linked, &viewer).await, Err(AppError::Store(_))));
    let view = app.audit.view_report(&unlinked, &viewer).await.unwrap();
    assert!(view.linked_entry.is_none());
    // With the product's audit the same view is answered.
    assert!(stack.app().audit.view_report(&linked, &viewer).await.unwrap().linked_entry.is_some());
}

mod unwritable {
    use super::*;
    use crate::fixtures::Stack;

    on_both_stores!(
        embedded: crate::fixtures::app_on(Stack::Embedded).await,
        dynamodb: crate::fixtures::app_on(Stack::Aws).await;
        a_view_that_cannot_be_audited_is_refused,
    );
}
