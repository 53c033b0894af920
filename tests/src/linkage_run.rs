//! The linkage in the product, end to end on both stores: reports created through the app (the exact step links at
//! once), entry records stored, the scheduled function run on an event, decisions and bands checked against known
//! truth, a health centre's confirm and reject surviving re-runs, re-runs idempotent, and the summary's numbers.

use domain::app::{App, EXACT_METHOD, ReviewAnswer};
use domain::entry::{EntryRecord, EntryTestResult};
use domain::linkage_records::{LinkBand, ReviewStatus};
use domain::pii::{PassportNumber, PersonName};
use domain::report::{ReportId, ReportInput, ReportPatch, Sex};
use serde_json::{Value, json};

use crate::fixtures::{self, SECRET, Stack, StackApp, date};

#[allow(clippy::too_many_arguments)]
fn entry(
    id: &str,
    passport: &str,
    nat: &str,
    family: &str,
    given: &str,
    dob: &str,
    sex: Sex,
    entry_date: &str,
    test: EntryTestResult,
) -> EntryRecord {
    let passport = PassportNumber::parse("passport_number", passport).unwrap();
    EntryRecord {
        entry_id: id.to_owned(),
        passport_hash: fixtures::hasher().passport(&passport),
        passport_number: passport,
        nationality: nat.to_owned(),
        family_name: PersonName::parse("family_name", family).unwrap(),
        given_names: Some(PersonName::parse("given_names", given).unwrap()),
        date_of_birth: date(dob),
        sex,
        entry_date: date(entry_date),
        port_of_entry: "NRT".to_owned(),
        entry_test_result: test,
        test_date: None,
    }
}

/// Other travellers, none of them a report's person: distinct names, dates of birth and passport numbers.
fn filler(n: usize) -> Vec<EntryRecord> {
    const FAMILY: [&str; 12] =
        ["WANG", "LI", "CHEN", "PARK", "CHOI", "TRAN", "PHAM", "GARCIA", "JOHNSON", "SANTOS", "REYES", "SATO"];
    const GIVEN: [&str; 10] = ["WEI", "JING", "SEOYEON", "MINH", "ANH", "MARIA", "DAVID", "EMILY", "JOSE", "HARUTO"];
    const NAT: [&str; 6] = ["CHN", "KOR", "VNM", "USA", "PHL", "TWN"];
    (0..n)
        .map(|i| {
            let dob = format!("{}-{:02}-{:02}", 1950 + (i * 7) % 50, 1 + (i * 5) % 12, 1 + (i * 11) % 28);
            let day = format!("2021-01-{:02}", 1 + i % 25);
            let sex = if i % 2 == 0 { Sex::Male } else { Sex::Female };
            entry(
                &format!("F-{i:04}"),
                // Seven digits, distinct for every i (7919 is prime to 10^7).
                &format!("Q{}{:07}", (b'A' + (i % 26) as u8) as char, (3_000_000 + i * 7919) % 10_000_000),
                NAT[i % NAT.len()],
                FAMILY[i % FAMILY.len()],
                GIVEN[(i / FAMILY.len()) % GIVEN.len()],
                &dob,
                sex,
                &day,
                EntryTestResult::NotTested,
            )
        })
        .collect()
}

fn truth_entries() -> Vec<EntryRecord> {
    use EntryTestResult::{Negative, NotTested};
    vec![
        // A: the same person entered three times; the entry nearest before the diagnosis (2021-02-02) is A-2.
        entry("A-1", fixtures::PASSPORT, "VNM", "NGUYEN", "THI HOA", "1992-07-15", Sex::Female, "2020-12-01", Negative),
        entry("A-2", fixtures::PASSPORT, "VNM", "NGUYEN", "THI HOA", "1992-07-15", Sex::Female, "2021-01-20", Negative),
        entry("A-3", fixtures::PASSPORT, "VNM", "NGUYEN", "THI HOA", "1992-07-15", Sex::Female, "2021-02-10", Negative),
        // B: typed with the letter O for the digit 0 on the report.
        entry("B-1", "M01234567", "KOR", "KIM", "MINJUN", "1985-03-09", Sex::Male, "2021-01-25", Negative),
        // C: no passport number on the report; name (order swapped) and date of birth agree.
        entry("C-1", "561234987", "USA", "ABERNATHY", "JOHN", "1979-11-23", Sex::Male, "2020-11-01", Negative),
        // D and E: twins each (consecutive passports, same date of birth); the reports name the family only, so
        // both twins score alike and the decision goes to review.
        entry("D-1", "PA1000001", "PHL", "DELACRUZ", "JOSE MIGUEL", "1990-04-04", Sex::Male, "2021-01-10", NotTested),
        entry("D-2", "PA1000002", "PHL", "DELACRUZ", "JUAN CARLOS", "1990-04-04", Sex::Male, "2021-01-10", NotTested),
        entry("E-1", "TH7000001", "THA", "SRISUK", "ANONG", "1988-08-18", Sex::Female, "2021-01-12", NotTested),
        entry("E-2", "TH7000002", "THA", "SRISUK", "BUSABA", "1988-08-18", Sex::Female, "2021-01-12", NotTested),
    ]
}

fn input(
    hc: &str,
    passport: Option<&str>,
    nat: &str,
    name: &str,
    dob: &str,
    sex: &str,
    diagnosis: &str,
) -> ReportInput {
    let mut i = fixtures::report_input();
    i.health_center_code = Some(hc.into());
    i.passport_number = passport.map(str::to_owned);
    i.nationality = Some(nat.into());
    i.name = Some(name.into());
    i.name_kana = None;
    i.date_of_birth = Some(dob.into());
    i.sex = Some(sex.into());
    i.diagnosis_date = Some(diagnosis.into());
    i.onset_date = None;
    i.entry_date = None;
    i
}

struct Reports {
    a: ReportId,
    b: ReportId,
    c: ReportId,
    d: ReportId,
    e: ReportId,
    none: ReportId,
}

async fn create_reports(app: &App) -> Reports {
    let create = |i: ReportInput| async move { app.cases.create_report(&i).await.unwrap().value.id };
    Reports {
        a: create(input("131016", Some(fixtures::PASSPORT), "VNM", "NGUYEN THI HOA", "1992-07-15", "F", "2021-02-02"))
            .await,
        b: create(input("131016", Some("MO1234567"), "KOR", "KIM MINJUN", "1985-03-09", "M", "2021-02-01")).await,
        c: create(input("131016", None, "USA", "JOHN ABERNATHY", "1979-11-23", "M", "2021-02-01")).await,
        d: create(input("131016", None, "PHL", "DELACRUZ", "1990-04-04", "M", "2021-02-01")).await,
        e: create(input("271004", None, "THA", "SRISUK", "1988-08-18", "F", "2021-02-01")).await,
        none: create(input("131016", None, "NZL", "WHAKAARI TAMATEA", "1966-06-06", "M", "2021-02-01")).await,
    }
}

async fn run(function: &linkage::Services, time: &str) -> Value {
    linkage::handle(function, json!({ "detail-type": "Scheduled Event", "time": time, "detail": {} })).await.unwrap()
}

/// The run of an event whose detail names a mode (`full`, `estimate`).
async fn run_mode(function: &linkage::Services, time: &str, mode: &str) -> Value {
    let event = json!({ "detail-type": "Scheduled Event", "time": time, "detail": { "mode": mode } });
    linkage::handle(function, event).await.unwrap()
}

/// The whole scenario on one stack.
async fn scenario(stack: &StackApp) {
    let (app, ports, function) = (&stack.app(), &stack.wiring.ports, stack.linkage_function());
    let mut entries = filler(300);
    entries.extend(truth_entries());
    ports.entries.put_entries(&entries, chrono::Utc::now()).await.unwrap();
    let r = create_reports(app).await;

    // The exact step linked report A at once, to the entry nearest before its diagnosis.
    let a = ports.links.get_decision(&r.a).await.unwrap().expect("linked on creation");
    assert_eq!((a.entry_id.as_str(), a.band, a.method.as_str()), ("A-2", LinkBand::Link, EXACT_METHOD));
    assert!(ports.links.get_decision(&r.c).await.unwrap().is_none(), "no passport, no exact step");

    // The first run has no model yet: it estimates one (v1) and links in full.
    let out = run(&function, "2021-02-04T01:00:00Z").await;
    assert_eq!((out["entries"].as_u64(), out["reports"].as_u64()), (Some(309), Some(6)), "{out}");
    assert_eq!((out["mode"].as_str(), out["model_version"].as_str()), (Some("estimate"), Some("v1")), "{out}");
    let decision = |id: &ReportId| {
        let links = ports.links.clone();
        let id = id.clone();
        async move { links.get_decision(&id).await.unwrap() }
    };
    let a = decision(&r.a).await.unwrap();
    assert_eq!((a.entry_id.as_str(), a.band), ("A-2", LinkBand::Link));
    assert!(
        a.agreeing_fields.iter().any(|f| f == "passport") && a.agreeing_fields.iter().any(|f| f == "date_of_birth"),
        "{:?}",
        a.agreeing_fields
    );
    let b = decision(&r.b).await.unwrap();
    assert_eq!((b.entry_id.as_str(), b.band), ("B-1", LinkBand::Link), "O for 0: {b:?}");
    assert!(b.agreeing_fields.iter().any(|f| f.starts_with("passport_")), "{:?}", b.agreeing_fields);
    let c = decision(&r.c).await.unwrap();
    assert_eq!(c.entry_id, "C-1", "no passport: name and date of birth");
    assert!(!c.agreeing_fields.iter().any(|f| f.starts_with("passport")));
    let d = decision(&r.d).await.unwrap();
    assert!(d.entry_id.starts_with("D-") && d.band == LinkBand::Review && d.is_pending(), "{d:?}");
    let e = decision(&r.e).await.unwrap();
    assert!(e.entry_id.starts_with("E-") && e.is_pending(), "{e:?}");
    assert!(decision(&r.none).await.is_none(), "a person who never entered is not linked");

    // Each health centre sees its own queue.
    let queue: Vec<ReportId> =
        app.linkage.review_queue("131016").await.unwrap().into_iter().map(|d| d.report_id).collect();
    assert!(queue.contains(&r.d) && !queue.contains(&r.e), "{queue:?}");
    assert_eq!(app.linkage.review_queue("271004").await.unwrap().len(), 1);

    assert_eq!(c.model_version.as_deref(), Some("v1"), "a decision records its model version");

    // Re-running changes nothing; the hourly run reads nothing new.
    let again = run(&function, "2021-02-04T02:00:00Z").await;
    assert_eq!((again["written"].as_u64(), again["removed"].as_u64()), (Some(0), Some(0)), "{again}");
    assert_eq!((again["mode"].as_str(), again["entries"].as_u64()), (Some("incremental"), Some(0)), "{again}");

    // D's review offers both twins, best first: its own entry, then the other twin.
    let twins: Vec<&str> = d.candidates.iter().map(|c| c.entry_id.as_str()).collect();
    assert_eq!(twins.first(), Some(&d.entry_id.as_str()), "{twins:?}");
    assert!(twins.contains(&"D-1") && twins.contains(&"D-2") && twins.len() <= 3, "{twins:?}");
    assert!(d.candidates.windows(2).all(|w| w[0].score >= w[1].score));
    let other_twin = twins[1].to_owned();

    // Answers: another tenant's report is not found; an entry that is not a candidate is refused; D confirmed with
    // the other twin, E rejected; answering twice is a conflict.
    let confirm = |entry_id: &str| ReviewAnswer::Confirm { entry_id: entry_id.to_owned() };
    assert!(matches!(
        app.linkage.answer_review(&r.e, "131016", "user-1", confirm("E-1")).await,
        Err(domain::app::AppError::NotFound)
    ));
    assert!(matches!(
        app.linkage.answer_review(&r.d, "131016", "user-1", confirm("A-2")).await,
        Err(domain::app::AppError::Impossible(_))
    ));
    let confirmed = app.linkage.answer_review(&r.d, "131016", "user-1", confirm(&other_twin)).await.unwrap();
    assert_eq!(confirmed.review.as_ref().unwrap().status, ReviewStatus::Confirmed);
    assert_eq!(confirmed.entry_id, other_twin, "the reviewer's pick is the link");
    app.linkage.answer_review(&r.e, "271004", "user-2", ReviewAnswer::Reject).await.unwrap();
    assert!(matches!(
        app.linkage.answer_review(&r.d, "131016", "user-1", ReviewAnswer::Reject).await,
        Err(domain::app::AppError::Conflict(_))
    ));
    assert!(app.linkage.review_queue("131016").await.unwrap().is_empty());

    // A later run never overturns them: neither a full one (which also recomputes the statistics) nor a new model.
    let third = run_mode(&function, "2021-02-04T03:00:00Z", "full").await;
    assert!(third["kept_reviewed"].as_u64().unwrap() >= 2, "{third}");
    assert_eq!((third["mode"].as_str(), third["model_version"].as_str()), (Some("full"), Some("v1")), "{third}");
    let fourth = run_mode(&function, "2021-02-04T04:00:00Z", "estimate").await;
    assert!(fourth["kept_reviewed"].as_u64().unwrap() >= 2, "{fourth}");
    assert_eq!(fourth["model_version"].as_str(), Some("v2"), "{fourth}");
    let d_after = decision(&r.d).await.unwrap();
    assert_eq!(
        (d_after.entry_id.as_str(), d_after.review.unwrap().status),
        (confirmed.entry_id.as_str(), ReviewStatus::Confirmed)
    );
    assert_eq!(decision(&r.e).await.unwrap().review.unwrap().status, ReviewStatus::Rejected);

    // The summary: 6 reports, 2 with a passport; links A, B, C and the confirmed D; of 5 entrants with a negative
    // test, A-2 (13 days) and B-1 (7 days) were diagnosed within 28 days (C-1 was 92 days before).
    let s = app.linkage.linkage_summary().await.unwrap();
    assert_eq!((s.entries, s.reports), (309, 6));
    assert_eq!(s.links, 4, "{s:?}");
    assert_eq!((s.reviews_pending, s.reviews_confirmed, s.reviews_rejected), (0, 1, 1));
    assert_eq!((s.negative_then_diagnosed_28d.count, s.negative_then_diagnosed_28d.total), (2, 5));
    assert!(s.negative_then_diagnosed_28d.ci95_low < 0.4 && s.negative_then_diagnosed_28d.ci95_high > 0.4);
    assert!(s.days_entry_to_diagnosis.iter().any(|r| r.days == 13 && r.reports == 1));
    let tokyo = s.prefectures.iter().find(|p| p.prefecture_code == "13").unwrap();
    assert_eq!((tokyo.reports, tokyo.with_passport, tokyo.linked), (6, 2, 4));
    assert_eq!(s.entrants.iter().map(|r| r.entrants).sum::<u64>(), 309);

    // No personal value in the function's answers nor in the stored summary and decisions.
    let mut text = format!("{out}{again}{third}{fourth}{}", serde_json::to_string(&s).unwrap());
    for d in ports.links.all_decisions().await.unwrap() {
        text.push_str(&serde_json::to_string(&d).unwrap());
    }
    for secret in [
        fixtures::PASSPORT,
        "M01234567",
        "MO1234567",
        "NGUYEN",
        "ABERNATHY",
        "DELACRUZ",
        "SRISUK",
        "1992-07-15",
        "1979-11-23",
    ] {
        assert!(!text.contains(secret), "a personal value in the linkage's output");
    }
}

/// A passport number added by a later correction (PATCH) is linked at once, as on creation.
#[tokio::test]
async fn a_passport_number_added_later_is_linked_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixtures::config();
    let (wiring, _stores) = embedded::embedded_wiring(dir.path(), platform::settings(&config).unwrap()).unwrap();
    let (app, ports) = (wiring.app(), &wiring.ports);
    ports.entries.put_entries(&truth_entries(), chrono::Utc::now()).await.unwrap();
    let created = app
        .cases
        .create_report(&input("131016", None, "VNM", "NGUYEN THI HOA", "1992-07-15", "F", "2021-02-02"))
        .await
        .unwrap();
    assert!(ports.links.get_decision(&created.value.id).await.unwrap().is_none(), "no passport yet");
    let patch = ReportPatch {
        corrections: vec![("passport_number".to_owned(), Some(fixtures::PASSPORT.to_owned()))],
        status: None,
    };
    app.cases.patch_report(&created.value.id, "131016", 1, &patch).await.unwrap();
    let linked = ports.links.get_decision(&created.value.id).await.unwrap().expect("linked by the correction");
    assert_eq!((linked.entry_id.as_str(), linked.method.as_str()), ("A-2", EXACT_METHOD));
}

/// The scenario on either stack, and the public statistics it published (the data dir's `export/`, or the bucket).
async fn the_scheduled_linkage_runs_end_to_end(stack: StackApp) {
    scenario(&stack).await;
    let csv = stack.published("csv/linkage_prefectures.csv").await.unwrap();
    // Public: counts of 1 to 4 (2 with a passport, 4 linked) and the shares computed from them are `*`.
    assert_eq!(csv, "prefecture_code,reports,with_passport,linked,share_with_passport,share_linked\n13,6,*,*,*,*\n");
    let window = stack.published("csv/linkage_negative_then_diagnosed_28d.csv").await.unwrap();
    assert_eq!(window, "negative_entrants,diagnosed_within_28_days,share,ci95_low,ci95_high\n5,*,*,*,*\n");
    for file in ["linkage_entrants_weekly.csv", "linkage_days_entry_to_diagnosis.csv"] {
        assert!(stack.published(&format!("csv/{file}")).await.is_some(), "{file}");
    }
}

on_both_stores!(
    embedded: fixtures::app_on(Stack::Embedded).await,
    dynamodb: fixtures::app_on(Stack::Aws).await;
    the_scheduled_linkage_runs_end_to_end,
);

fn entry_json(e: &EntryRecord) -> Value {
    json!({
        "entry_id": e.entry_id, "passport_number": e.passport_number.expose(), "nationality": e.nationality,
        "family_name": e.family_name.expose(), "given_names": e.given_names.as_ref().map(|n| n.expose()),
        "date_of_birth": e.date_of_birth.to_string(), "sex": e.sex.as_str(), "entry_date": e.entry_date.to_string(),
        "port_of_entry": e.port_of_entry, "entry_test_result": e.entry_test_result.as_str(),
    })
}

/// The three routes on the real server, their answers checked against `openapi.json`; the run in between is
/// `hersys invoke linkage` on the same data directory. No personal value in the answers or the server's log.
#[tokio::test]
async fn the_linkage_routes_serve_the_summary_and_the_review_queue() {
    use crate::http::{Server, client, hersys_embedded, report_body};
    use crate::openapi::{check_answer, document};
    let doc = document();
    let server = Server::start(&[], &[]);
    let http = client();
    let (hc, analyst) = (server.health_center_token(), server.token("analyst", None));

    // Before any run: an empty summary.
    let res = http.get(server.url("/v1/linkage/summary")).bearer_auth(&analyst).send().await.unwrap();
    let (status, body) = check_answer(&doc, "get", "/v1/linkage/summary", res).await;
    assert_eq!((status, &body["computed_at"]), (200, &Value::Null));
    let res = http.get(server.url("/v1/linkage/summary")).bearer_auth(&hc).send().await.unwrap();
    assert_eq!(check_answer(&doc, "get", "/v1/linkage/summary", res).await.0, 403);

    let mut entries = filler(300);
    entries.extend(truth_entries());
    let batch: Vec<Value> = entries.iter().map(entry_json).collect();
    let res = http
        .post(server.url("/v1/entries"))
        .bearer_auth(server.token("quarantine", None))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut twin = report_body();
    for (k, v) in [
        ("name", json!("DELACRUZ")),
        ("name_kana", Value::Null),
        ("passport_number", Value::Null),
        ("date_of_birth", json!("1990-04-04")),
        ("sex", json!("M")),
        ("nationality", json!("PHL")),
        ("entry_date", Value::Null),
    ] {
        twin[k] = v;
    }
    let created: Value =
        http.post(server.url("/v1/reports")).bearer_auth(&hc).json(&twin).send().await.unwrap().json().await.unwrap();
    let id = created["report_id"].as_str().unwrap().to_owned();

    let out = hersys_embedded()
        .args(["invoke", "linkage", "--event"])
        .arg(events_dir().join("scheduled-linkage.json"))
        .arg("--data-dir")
        .arg(server.data_dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["reviews"], 1, "{run}");
    // `hersys links` says so in words that agree with the number: "1 review", not "1 reviews".
    let listed = hersys_embedded()
        .args(["links", "--out"])
        .arg(server.data_dir.path().join("links.csv"))
        .arg("--data-dir")
        .arg(server.data_dir.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success() && said.trim_end().ends_with(", 1 review)"), "{said}");

    // The queue: this report only for its health centre, nothing for another; both sides of the review, the twins
    // as candidates, best first, with the scorer's level of each field.
    let res = http.get(server.url("/v1/linkage/review")).bearer_auth(&hc).send().await.unwrap();
    let (status, queue) = check_answer(&doc, "get", "/v1/linkage/review", res).await;
    assert_eq!(status, 200);
    assert_eq!(queue["reviews"].as_array().unwrap().len(), 1);
    let review = &queue["reviews"][0];
    assert_eq!(review["report_id"], id.as_str());
    assert_eq!(review["review_status"], "pending");
    assert_eq!(review["report"]["name"], "DELACRUZ");
    assert_eq!(
        (&review["report"]["date_of_birth"], &review["report"]["passport_number"]),
        (&json!("1990-04-04"), &Value::Null)
    );
    let candidates = review["candidates"].as_array().unwrap();
    let ids: Vec<&str> = candidates.iter().map(|c| c["entry_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"D-1") && ids.contains(&"D-2") && ids.len() <= 3, "{ids:?}");
    assert_eq!(ids[0], review["entry_id"].as_str().unwrap(), "the best candidate first");
    let twin = candidates.iter().find(|c| c["entry_id"] == "D-2").unwrap();
    assert_eq!((twin["family_name"].as_str(), twin["given_names"].as_str()), (Some("DELACRUZ"), Some("JUAN CARLOS")));
    assert_eq!((twin["passport_number"].as_str(), twin["port_of_entry"].as_str()), (Some("PA1000002"), Some("NRT")));
    assert_eq!(twin["agreement"]["date_of_birth"], "exact");
    assert_eq!(twin["agreement"]["passport"], "missing", "the report has no passport number");
    assert_eq!(twin["agreement"]["sex"], "agree");
    let other = server.token("health_center", Some("271004"));
    let res = http.get(server.url("/v1/linkage/review")).bearer_auth(&other).send().await.unwrap();
    assert_eq!(check_answer(&doc, "get", "/v1/linkage/review", res).await.1["reviews"], json!([]));

    // The view was audited: who, which report, which candidates; the empty queue of the other centre was not.
    let operator = server.token("operator", None);
    let audit_of = |hc: &'static str| {
        let request = http.get(server.url("/v1/audit")).bearer_auth(&operator);
        request.query(&[("health_center", hc), ("from", "2000-01-01"), ("to", "2100-12-31")]).send()
    };
    let (status, audit) = check_answer(&doc, "get", "/v1/audit", audit_of("131016").await.unwrap()).await;
    assert_eq!(status, 200);
    let events = audit["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{audit}");
    assert_eq!(
        (events[0]["route"].as_str(), events[0]["report_id"].as_str()),
        (Some("GET /v1/linkage/review"), Some(id.as_str()))
    );
    assert_eq!(events[0]["records_shown"], json!(ids));
    assert_eq!(check_answer(&doc, "get", "/v1/audit", audit_of("271004").await.unwrap()).await.1["events"], json!([]));

    // Answers: another tenant 404, a bad body 400, no candidate or another entry 422, confirm 200, again 409.
    let path = format!("/v1/linkage/review/{id}");
    let post = |token: &str, body: Value| http.post(server.url(&path)).bearer_auth(token).json(&body).send();
    let answer = |res| check_answer(&doc, "post", "/v1/linkage/review/{id}", res);
    let (status, _) = answer(post(&other, json!({"decision": "confirm", "entry_id": "D-2"})).await.unwrap()).await;
    assert_eq!(status, 404);
    let (status, err) = answer(post(&hc, json!({"decision": "maybe"})).await.unwrap()).await;
    // A value outside the allowed ones is a field's rule, with the allowed values listed.
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_request")), "{err}");
    assert_eq!(err["fields"][0], json!({"field": "decision", "problem": "must be one of: confirm, reject"}));
    for body in [
        json!({"decision": "confirm"}),
        json!({"decision": "confirm", "entry_id": "C-1"}),
        json!({"decision": "reject", "entry_id": "D-2"}),
    ] {
        let (status, err) = answer(post(&hc, body).await.unwrap()).await;
        assert_eq!((status, err["fields"][0]["field"].as_str()), (422, Some("entry_id")), "{err}");
        assert_eq!(err["error"], "invalid_review_answer", "a review answer's own code, not a status change's");
    }
    let (status, confirmed) = answer(post(&hc, json!({"decision": "confirm", "entry_id": "D-2"})).await.unwrap()).await;
    assert_eq!((status, confirmed["review_status"].as_str()), (200, Some("confirmed")));
    assert_eq!(confirmed["entry_id"], "D-2", "the candidate picked is the link");
    let (status, _) = answer(post(&hc, json!({"decision": "reject"})).await.unwrap()).await;
    assert_eq!(status, 409);
    // The report now shows the picked entry.
    let res = http.get(server.url(&format!("/v1/reports/{id}"))).bearer_auth(&hc).send().await.unwrap();
    let (status, report) = check_answer(&doc, "get", "/v1/reports/{id}", res).await;
    assert_eq!((status, report["linked_entry"]["entry_id"].as_str()), (200, Some("D-2")));
    // A confirmed review is a link, as `hersys links` says, with who confirmed it (the token's subject) and when.
    let matched = &report["linked_entry"]["match"];
    assert_eq!((matched["band"].as_str(), matched["confirmed_by"].as_str()), (Some("link"), Some("dev-user")));
    assert!(matched["confirmed_at"].is_string() && matched["decided_at"].is_string(), "{matched}");

    let res = http.get(server.url("/v1/linkage/summary")).bearer_auth(&analyst).send().await.unwrap();
    let (status, summary) = check_answer(&doc, "get", "/v1/linkage/summary", res).await;
    assert_eq!((status, summary["reports"].as_u64(), summary["entries"].as_u64()), (200, Some(1), Some(309)));
    assert_eq!(summary["reviews_pending"], 1, "the summary is the last run's, before the answer");

    // The queue shows values to its health centre; the log, the audit, the answers to reviews and the
    // statistics never do.
    let text = format!("{}{audit}{confirmed}{summary}{run}", server.log_holding("request done", 1).await);
    for secret in ["DELACRUZ", "JUAN CARLOS", "PA1000001", "PA1000002", "1990-04-04", fixtures::PASSPORT, "ABERNATHY"] {
        assert!(!text.contains(secret), "a personal value in an answer or the log");
    }
}

fn events_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra/events")
}

/// Under `hersys serve`, an hourly linkage run scores off the runtime's worker threads: even with a single worker
/// (`TOKIO_WORKER_THREADS=1`) the API keeps answering while the run scores, that is between the run's own log lines
/// "linkage scoring started" and "linkage scoring done". Were the scoring computed on the worker, no answer could
/// be completed between those two lines.
#[tokio::test]
async fn the_api_answers_while_a_linkage_run_is_scoring_under_serve() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    use chrono::{DateTime, Utc};

    let dir = tempfile::tempdir().unwrap();
    {
        // Enough data for a second or more of scoring in a debug build (the linkage engine is optimised even there):
        // 60,000 entries, and 2,000 reports (EM runs from 500) of people among them, without passport numbers so
        // that only the scored run links them.
        let config = fixtures::config();
        let (wiring, _stores) = embedded::embedded_wiring(dir.path(), platform::settings(&config).unwrap()).unwrap();
        let app = wiring.app();
        let entries = filler(60_000);
        wiring.ports.entries.put_entries(&entries, chrono::Utc::now()).await.unwrap();
        for e in entries.iter().step_by(entries.len() / 2_000) {
            let name = format!("{} {}", e.family_name.expose(), e.given_names.as_ref().map_or("", |n| n.expose()));
            let dob = e.date_of_birth.to_string();
            app.cases
                .create_report(&input("131016", None, &e.nationality, &name, &dob, e.sex.as_str(), "2021-02-01"))
                .await
                .unwrap();
        }
    }
    let log_path = dir.path().join("serve.log");
    // Schedules on: `hersys serve` fires the linkage (and the other schedules) once at start, then hourly.
    let mut child = crate::http::hersys_embedded()
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .env("TOKIO_WORKER_THREADS", "1")
        .env("HMAC_SECRET", std::str::from_utf8(SECRET).unwrap())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_owned();

    let http = crate::http::client();
    let mut answered: Vec<DateTime<Utc>> = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let log = loop {
        if let Ok(res) = http.get(format!("{base}/v1/health")).send().await
            && res.status() == 200
        {
            answered.push(Utc::now());
        }
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if log.contains("linkage run done") {
            break log;
        }
        assert!(std::time::Instant::now() < deadline, "no linkage run finished within 5 minutes:\n{log}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let _ = child.kill();
    let _ = child.wait();

    let logged_at = |message: &str| -> DateTime<Utc> {
        log.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["message"] == message)
            .and_then(|v| v["timestamp"].as_str().and_then(|t| t.parse().ok()))
            .unwrap_or_else(|| panic!("no {message:?} line with a timestamp in the log:\n{log}"))
    };
    let (started, done) = (logged_at("linkage scoring started"), logged_at("linkage scoring done"));
    let scoring = done - started;
    assert!(
        scoring >= chrono::Duration::milliseconds(500),
        "the scoring took {scoring}: too short to show anything; make the data larger"
    );
    let during = answered.iter().filter(|t| **t > started && **t < done).count();
    assert!(during >= 3, "{during} answers while the run scored for {scoring} (one worker thread)");
}
