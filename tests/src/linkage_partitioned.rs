//! The full re-link in partitions, on both stores: two apps hold the same generated records and the same
//! reviews; after a new model version, one re-links in a single process (`{"mode": "full"}`), the other in three
//! partitions through the linkage function's steps, one partition dying once and retried. They must store the same
//! decisions, statistics and public files. While a partitioned run holds its lease, scheduled runs do nothing and a
//! second full re-link cannot start; what is written meanwhile is linked by the next hourly run. The daily run at
//! national scale estimates its model from a sample first: with a sample that holds everything, the model
//! and the decisions are the single-process estimate's.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use domain::app::{AppError, EstimateSample, FullRun, Ports, ReviewAnswer};
use domain::follow_up::FollowUpInput;
use domain::linkage_records::LinkDecision;
use serde_json::{Value, json};

use crate::faults::FailingSegmentOnce;
use crate::fixtures::{Stack, StackApp, app_on};
use crate::http::hersys_bench_bin;

/// A stored decision without its times, its report named by its case number (the two apps' report ids differ).
fn comparable(d: &LinkDecision, case_number: Option<&String>) -> String {
    let candidates: Vec<&str> = d.candidates.iter().map(|c| c.entry_id.as_str()).collect();
    format!(
        "{case_number:?} {} {:?} {:.9} {} {:?} {:?} {:?} {candidates:?}",
        d.entry_id,
        d.band,
        d.score,
        d.method,
        d.agreeing_fields,
        d.review.as_ref().map(|r| (r.status, r.entry_id.clone())),
        d.model_version,
    )
}

/// Every stored decision, comparable across stacks (read from the stores, as an analyst's export reads them).
pub(crate) async fn decisions(ports: &Ports) -> Vec<String> {
    let stored = ports.links.all_decisions().await.unwrap();
    let mut all = Vec::with_capacity(stored.len());
    for chunk in stored.chunks(100) {
        let ids: Vec<_> = chunk.iter().map(|d| d.report_id.clone()).collect();
        let cases: std::collections::HashMap<_, _> =
            ports.reports.get_reports(&ids).await.unwrap().into_iter().map(|r| (r.id, r.case_number)).collect();
        all.extend(chunk.iter().map(|d| comparable(d, cases[&d.report_id].as_ref())));
    }
    all.sort();
    all
}

/// The two lists are equal; else the first difference (not thousands of lines).
pub(crate) fn same(a: &[String], b: &[String], what: &str) {
    let first = a.iter().zip(b).find(|(x, y)| x != y);
    assert!(
        a.len() == b.len() && first.is_none(),
        "{what}: {} against {} decisions; first: {first:?}",
        a.len(),
        b.len()
    );
}

/// Stores on each app a new model version: the current one with its prior multiplied by `factor`.
async fn new_model(stacks: [&StackApp; 2], version: &str, factor: f64) {
    for s in stacks {
        let mut model = s.wiring.ports.link_index.current_model().await.unwrap().unwrap();
        (model.version, model.params.lambda) = (version.to_owned(), (model.params.lambda * factor).min(0.5));
        s.wiring.ports.link_index.put_model(&model).await.unwrap();
    }
}

/// Follow-up records of every third generated entrant (first day the day after entry, two weeks long), some with
/// symptoms and some unreachable, so that the statistics' follow-up part has cases to count.
fn follow_ups(entries: &[serde_json::Map<String, Value>]) -> Vec<FollowUpInput> {
    let text = |row: &serde_json::Map<String, Value>, k: &str| row.get(k).and_then(Value::as_str).map(str::to_owned);
    let day = |d: &str, plus: u64| {
        let d = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        (d + chrono::Days::new(plus)).to_string()
    };
    entries
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 == 0)
        .map(|(i, row)| {
            let entry = text(row, "entry_date").unwrap();
            FollowUpInput {
                follow_up_id: Some(format!("F{i:07}")),
                passport_number: text(row, "passport_number"),
                nationality: text(row, "nationality"),
                family_name: text(row, "family_name"),
                given_names: text(row, "given_names"),
                date_of_birth: text(row, "date_of_birth"),
                sex: text(row, "sex"),
                entry_date: Some(entry.clone()),
                follow_up_from: Some(day(&entry, 1)),
                follow_up_until: Some(day(&entry, 14)),
                stay_prefecture_code: None,
                sponsor_code: None,
                last_check_in_date: None,
                symptoms_reported_on: (i % 2 == 0).then(|| day(&entry, 3 + (i as u64 % 7))),
                status: Some(if i % 5 == 0 { "unreachable" } else { "active" }.into()),
            }
        })
        .collect()
}

/// The state machine's input for `partitions` partitions, estimating a model from `estimate` first.
fn input(partitions: u32, estimate: Option<EstimateSample>) -> linkage::full::RunInput {
    linkage::full::RunInput { partitions: Some(partitions), estimate }
}

/// A full re-link in partitions on `s`, each partition tried up to three times, as of `now`: the combining step's
/// answer.
async fn in_partitions(s: &StackApp, input: linkage::full::RunInput, now: domain::time::Instant) -> Value {
    let publisher = s.wiring.publisher().unwrap();
    linkage::full::run_partitioned(&s.relink(), &publisher, input, 3, Some(now)).await.unwrap()
}

pub(crate) async fn scheduled(s: &StackApp, detail: Value) -> Value {
    let event = json!({ "detail-type": "Scheduled Event", "time": "2021-06-01T00:00:00Z", "detail": detail });
    linkage::handle(&s.linkage_function(), event).await.unwrap()
}

pub(crate) type Rows = Vec<serde_json::Map<String, Value>>;

/// Generated entry records and reports (`hersys-bench gen linkage`), in `dir`.
pub(crate) fn generated(dir: &std::path::Path, entries: usize, reports: usize, seed: u64) -> (Rows, Rows) {
    let (entries, reports, seed) = (entries.to_string(), reports.to_string(), seed.to_string());
    let generated = Command::new(hersys_bench_bin())
        .args(["gen", "linkage", "--entries", &entries, "--reports", &reports, "--seed", &seed, "--out-dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let entries = hersys_bench::bench_linkage_runs::rows(&dir.join("ENTRIES.csv")).unwrap();
    let reports = hersys_bench::bench_linkage_runs::rows(&dir.join("REPORTS.csv")).unwrap();
    (entries, reports)
}

async fn a_partitioned_full_relink_decides_as_a_single_process_one(stack: Stack) {
    let dir = tempfile::tempdir().unwrap();
    let (entries, reports) = generated(dir.path(), 2000, 400, 7);

    let (single, parted): (StackApp, StackApp) = (app_on(stack).await, app_on(stack).await);
    let follow_ups = follow_ups(&entries);
    for s in [&single, &parted] {
        hersys_bench::bench_linkage_runs::load(&s.wiring, dir.path(), &entries, reports.clone()).await.unwrap();
        let written = s.app().linkage.ingest_follow_ups(&follow_ups).await.unwrap();
        // (The generator's typos make a few dates of birth impossible: those records are refused.)
        let stored = written.iter().filter(|w| w.outcome.is_ok()).count();
        assert!(stored > follow_ups.len() * 9 / 10, "{stored} of {} follow-ups written", follow_ups.len());
        let first = scheduled(s, json!({})).await;
        assert_eq!(first["model_version"], "v1", "{first}");
    }
    same(
        &decisions(&single.wiring.ports).await,
        &decisions(&parted.wiring.ports).await,
        "the same data, the same estimate",
    );
    // A model version with a prior 16 times as low (every score 4 lower: links near the threshold become reviews),
    // then the same answers to two reviews on both: a run never overturns them.
    new_model([&single, &parted], "v2", 1.0 / 16.0).await;
    for s in [&single, &parted] {
        scheduled(s, json!({ "mode": "full" })).await;
    }
    let pending = single.app().linkage.review_queue("131016").await.unwrap();
    assert!(pending.len() >= 2, "{} reviews", pending.len());
    let case = |s: &StackApp, d: &LinkDecision| {
        let (reports, id) = (s.wiring.ports.reports.clone(), d.report_id.clone());
        async move { reports.get_report(&id).await.unwrap().unwrap().value.case_number }
    };
    let (first, second) = (case(&single, &pending[0]).await, case(&single, &pending[1]).await);
    for s in [&single, &parted] {
        for d in s.app().linkage.review_queue("131016").await.unwrap() {
            let answer = match case(s, &d).await {
                c if c == first => ReviewAnswer::Confirm { entry_id: d.entry_id.clone() },
                c if c == second => ReviewAnswer::Reject,
                _ => continue,
            };
            s.app().linkage.answer_review(&d.report_id, "131016", "reviewer", answer).await.unwrap();
        }
    }
    same(&decisions(&single.wiring.ports).await, &decisions(&parted.wiring.ports).await, "after the reviews");
    // The model under test: the prior eight times v1's (every score moves, some across a threshold).
    new_model([&single, &parted], "v3", 8.0 * 16.0).await;

    let now = chrono::DateTime::parse_from_rfc3339("2021-06-01T00:00:00Z").unwrap().with_timezone(&chrono::Utc);
    let one = scheduled(&single, json!({ "mode": "full" })).await;
    let mut wiring = parted.wiring.clone();
    let failing = Arc::new(FailingSegmentOnce::at_first_page(wiring.ports.reports.clone(), 1));
    wiring.ports.reports = failing.clone();
    let (relink, publisher) = (wiring.relink().unwrap(), wiring.publisher().unwrap());
    let three = linkage::full::run_partitioned(&relink, &publisher, input(3, None), 3, Some(now)).await.unwrap();
    assert!(failing.failed.load(Ordering::SeqCst), "the injected failure happened, and was retried");

    assert_eq!(three["mode"], "full", "{three}");
    assert!(one["written"].as_u64().unwrap() > 50, "the new model changed the decisions: {one}");
    for field in ["model_version", "reports", "links", "reviews", "written", "kept_reviewed", "removed", "entries"] {
        assert_eq!(one[field], three[field], "{field}: single {one}\npartitioned {three}");
    }
    same(&decisions(&single.wiring.ports).await, &decisions(&parted.wiring.ports).await, "single against partitioned");
    let (s1, s3) =
        (single.app().linkage.linkage_summary().await.unwrap(), parted.app().linkage.linkage_summary().await.unwrap());
    assert_eq!(s1, s3, "the statistics");
    let cases = &s1.follow_up.diagnosed_during_or_within_14d;
    let counted = cases.total as usize > follow_ups.len() * 9 / 10;
    assert!(counted && cases.count > 10, "follow-ups counted: {cases:?}");
    assert!(s1.negative_then_diagnosed_28d.count > 10 && s1.reviews_confirmed == 1, "{s1:?}");
    let files = three["files"].as_array().unwrap();
    assert!(!files.is_empty(), "{three}");
    for file in files {
        let path = file.as_str().unwrap();
        assert_eq!(single.published(path).await, parted.published(path).await, "{path}");
    }
    // Nothing written since the start: the next hourly run writes nothing. (It reads again what was written in the
    // minute before the start, the overlap of every run: here, everything.)
    let hourly = scheduled(&parted, json!({})).await;
    assert_eq!((hourly["written"].as_u64(), hourly["removed"].as_u64()), (Some(0), Some(0)), "{hourly}");

    // While a full re-link holds the lease: scheduled runs do nothing, a second one cannot start.
    let (relink, function) = (parted.relink(), parted.linkage_function());
    let started = relink.start_full_linkage(Some(2), None).await.unwrap();
    assert!(matches!(relink.start_full_linkage(Some(2), None).await, Err(AppError::LeaseHeld(FullRun::Linkage))));
    // A partition of a run that was not prepared (no model chosen) is refused; prepared, it names the model.
    assert!(matches!(relink.link_partition(&started, 0).await, Err(AppError::Invalid(_))));
    assert_eq!(started.filing, 0, "not the first run: nothing to file");
    let started = relink.prepare_full_linkage(&started).await.unwrap();
    assert!(started.model_version.is_some());
    for detail in [json!({}), json!({ "mode": "estimate" })] {
        let skipped = scheduled(&parted, detail).await;
        assert_eq!(skipped["skipped"], "a full re-link is in progress", "{skipped}");
    }
    // A partition of another run is refused.
    let mut other = started.clone();
    other.run = "0".repeat(32);
    assert!(matches!(relink.link_partition(&other, 0).await, Err(AppError::LeaseHeld(FullRun::Linkage))));
    // A report written while the partitions run (after they read it): the next hourly run links it.
    let mut answers = Vec::new();
    for index in 0..2 {
        let partition = json!({ "full_linkage": { "step": "partition", "run": started, "index": index } });
        answers.push(linkage::handle(&function, partition).await.unwrap());
    }
    // A report without a passport number (no exact step: only a scheduled run links it) whose person the
    // single-process run linked, filed again under another case number.
    let linked = decisions(&single.wiring.ports).await;
    let late = reports
        .iter()
        .find(|r| {
            let id = r["report_id"].as_str().unwrap();
            !r.contains_key("passport_number") && linked.iter().any(|d| d.starts_with(&format!("Some({id:?}) ")))
        })
        .unwrap();
    let mut late_input = late.clone();
    late_input.insert("report_id".into(), json!("LATE-1"));
    let (_, filed) =
        hersys_bench::bench_linkage_runs::load(&parted.wiring, dir.path(), &[], vec![late_input]).await.unwrap();
    assert_eq!(filed, 1);
    let combine = json!({ "full_linkage": { "step": "combine", "run": started, "partitions": answers } });
    let combined = linkage::handle(&function, combine).await.unwrap();
    assert_eq!(combined["written"].as_u64(), Some(0), "{combined}");
    assert_eq!(relink.full_linkage_holder().await.unwrap(), None, "the lease is freed");
    let late_decision = |ports: &Ports| {
        let ports = ports.clone();
        async move { decisions(&ports).await.into_iter().find(|d| d.starts_with("Some(\"LATE-1\") ")) }
    };
    assert_eq!(late_decision(&parted.wiring.ports).await, None, "not linked by the full re-link that did not read it");
    let after = scheduled(&parted, json!({})).await;
    assert!(after["mode"] == "incremental" && after["reports"].as_u64() >= Some(1), "{after}");
    assert!(
        late_decision(&parted.wiring.ports).await.is_some_and(|d| d.contains("Link")),
        "linked by the next hourly run"
    );

    // Abandoned (a partition failed for good): the lease is free and the state as it was.
    let state = parted.wiring.ports.link_index.linkage_state().await.unwrap();
    let started = relink.start_full_linkage(Some(2), None).await.unwrap();
    linkage::handle(&function, json!({ "full_linkage": { "step": "abandon", "run": started } })).await.unwrap();
    assert_eq!(relink.full_linkage_holder().await.unwrap(), None);
    assert_eq!(parted.wiring.ports.link_index.linkage_state().await.unwrap(), state);
    // A combining step before every partition answered is refused.
    let started = relink.start_full_linkage(Some(2), None).await.unwrap();
    let half = json!({ "full_linkage": { "step": "combine", "run": started, "partitions": [] } });
    let refused = linkage::handle(&function, half).await.unwrap_err().to_string();
    assert!(refused.contains("partition 0"), "{refused}");
    relink.abandon_full_linkage(&started).await.unwrap();
}

/// The daily run at national scale: a model estimated from a sample, then the partitioned re-link with it. A sample
/// as large as the data gives the single-process estimate's model (to the last digit) and decisions; a smaller one
/// reads only whole segments of the stores, and its model still links what the full estimate's linked.
async fn an_estimate_from_a_sample_of_everything_is_the_single_process_estimate(stack: Stack) {
    let dir = tempfile::tempdir().unwrap();
    let (entries, reports) = generated(dir.path(), 2000, 800, 11);
    let (single, parted): (StackApp, StackApp) = (app_on(stack).await, app_on(stack).await);
    for s in [&single, &parted] {
        hersys_bench::bench_linkage_runs::load(&s.wiring, dir.path(), &entries, reports.clone()).await.unwrap();
        assert_eq!(scheduled(s, json!({})).await["model_version"], "v1");
    }
    let one = scheduled(&single, json!({ "mode": "estimate" })).await;
    assert_eq!(one["model_version"], "v2", "{one}");
    let now = chrono::DateTime::parse_from_rfc3339("2021-06-01T00:00:00Z").unwrap().with_timezone(&chrono::Utc);
    let everything = EstimateSample { reports: 1_000_000, entries: 1_000_000 };
    let two = in_partitions(&parted, input(3, Some(everything)), now).await;
    assert_eq!(two["model_version"], "v2", "{two}");
    let (a, b) = (
        single.wiring.ports.link_index.current_model().await.unwrap().unwrap(),
        parted.wiring.ports.link_index.current_model().await.unwrap().unwrap(),
    );
    assert!(a.reports >= 500, "enough candidate reports for EM: {}", a.reports);
    assert_eq!((a.entries, a.reports, a.candidate_pairs), (b.entries, b.reports, b.candidate_pairs));
    assert_eq!(a.params, b.params, "the model");
    same(
        &decisions(&single.wiring.ports).await,
        &decisions(&parted.wiring.ports).await,
        "the same model, the same decisions",
    );
    let links = |run: &Value| run["links"].as_u64().unwrap();
    assert_eq!((links(&one), one["reviews"].as_u64()), (links(&two), two["reviews"].as_u64()), "{one}\n{two}");
    assert_eq!(
        single.app().linkage.linkage_summary().await.unwrap(),
        parted.app().linkage.linkage_summary().await.unwrap()
    );

    // A sample of part of the records: whole segments until it holds enough, a model of its own.
    let part = EstimateSample { reports: 300, entries: 800 };
    let three = in_partitions(&parted, input(2, Some(part)), now).await;
    let sampled = parted.wiring.ports.link_index.current_model().await.unwrap().unwrap();
    assert_eq!((three["model_version"].as_str(), sampled.version.as_str()), (Some("v3"), "v3"), "{three}");
    assert!((300..a.reports).contains(&sampled.reports), "{} of {} candidate reports", sampled.reports, a.reports);
    assert!((800..a.entries * 3 / 4).contains(&sampled.entries), "{} of {} entries", sampled.entries, a.entries);
    assert_ne!(sampled.params, a.params);
    let (full, part) = (links(&two) as f64, links(&three) as f64);
    assert!((part - full).abs() <= full * 0.03, "links: {full} with the full estimate, {part} with the sample's");
}

/// The first run at national scale: nothing filed and no model. In partitions it files the history in the index,
/// estimates the first model from a sample through it and decides in partitions; with a sample of everything it
/// stores the single-process first run's model, decisions and statistics, and the next hourly run is incremental.
async fn a_first_run_in_partitions_is_the_single_process_first_run(stack: Stack) {
    let dir = tempfile::tempdir().unwrap();
    let (entries, reports) = generated(dir.path(), 1500, 500, 13);
    let (single, parted): (StackApp, StackApp) = (app_on(stack).await, app_on(stack).await);
    for s in [&single, &parted] {
        hersys_bench::bench_linkage_runs::load(&s.wiring, dir.path(), &entries, reports.clone()).await.unwrap();
    }
    let one = scheduled(&single, json!({})).await;
    assert_eq!((one["mode"].as_str(), one["model_version"].as_str()), (Some("estimate"), Some("v1")), "{one}");

    let now = chrono::DateTime::parse_from_rfc3339("2021-06-01T00:00:00Z").unwrap().with_timezone(&chrono::Utc);
    let everything = EstimateSample { reports: 1_000_000, entries: 1_000_000 };
    let two = in_partitions(&parted, input(3, Some(everything)), now).await;
    assert_eq!((two["model_version"].as_str(), two["partitions"].as_u64()), (Some("v1"), Some(3)), "{two}");
    let (a, b) = (
        single.wiring.ports.link_index.current_model().await.unwrap().unwrap(),
        parted.wiring.ports.link_index.current_model().await.unwrap().unwrap(),
    );
    assert_eq!((a.entries, a.reports, a.candidate_pairs), (b.entries, b.reports, b.candidate_pairs));
    assert_eq!(a.params, b.params, "the model");
    same(
        &decisions(&single.wiring.ports).await,
        &decisions(&parted.wiring.ports).await,
        "the same model, the same decisions",
    );
    assert_eq!((one["links"].as_u64(), one["reviews"].as_u64()), (two["links"].as_u64(), two["reviews"].as_u64()));
    assert_eq!(
        single.app().linkage.linkage_summary().await.unwrap(),
        parted.app().linkage.linkage_summary().await.unwrap()
    );
    // The index holds everything: the next hourly run links incrementally and changes nothing.
    let hourly = scheduled(&parted, json!({})).await;
    assert_eq!(hourly["mode"], "incremental", "{hourly}");
    assert_eq!((hourly["written"].as_u64(), hourly["removed"].as_u64()), (Some(0), Some(0)), "{hourly}");
}

on_both_stores!(
    embedded: Stack::Embedded,
    dynamodb: Stack::Aws;
    a_partitioned_full_relink_decides_as_a_single_process_one,
    an_estimate_from_a_sample_of_everything_is_the_single_process_estimate,
    a_first_run_in_partitions_is_the_single_process_first_run,
);
