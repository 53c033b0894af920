//! Both full runs as `template.yaml` defines them, executed by moto's Step Functions interpreter
//! ([`crate::state_machines`]), every Lambda task on the project's own handler wired with exactly the tables and
//! buckets the template gives its function; the stores are DynamoDB Local and moto's S3.
//!
//! - the full export in 4 partitions publishes the single-process full export's files, byte for byte;
//! - the daily run (`{"partitions": N, "estimate": {...}}`) stores the single-process estimate's model, decisions
//!   and statistics, and Combine receives the partitions' answers exactly as the Map produced them;
//! - the first run (nothing filed, no model) files the history in partitions, estimates from a sample and decides
//!   in partitions: the single-process first run's model, decisions and statistics;
//! - a partition that fails on every try ends in Abandon: the execution fails, the lease is free, the partial
//!   results are gone, and the next hourly run goes on.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_sfn::types::ExecutionStatus;
use chrono::{TimeZone, Utc};
use domain::app::{ExportMode, Wiring};
use domain::prefecture::PrefectureCode;
use domain::report::{Status, StatusChange};
use domain::time::FixedClock;
use futures::FutureExt;
use platform::AwsResources;
use platform::function_error::FunctionError;
use serde_json::{Value, json};

use crate::fixtures::{self, StackApp};
use crate::linkage_partitioned::{decisions, generated, same, scheduled};
use crate::state_machines::{Handler, Interpreter};

/// Fresh tables and buckets on the emulators, and an app that sees all of them (to load data and to look).
async fn stack() -> (AwsResources, StackApp) {
    let sdk = crate::emulators::sdk_config().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let resources = AwsResources {
        tables: crate::emulators::fresh_table_names(),
        export_bucket: Some(format!("export-{tag}")),
        export_state_bucket: Some(format!("state-{tag}")),
        full_export_state_machine: None,
    };
    let config = fixtures::config();
    platform::create_emulated_resources(&sdk, &config, &resources).await.unwrap();
    let wiring = platform::aws_wiring_with(&config, &sdk, resources.clone()).unwrap();
    let export_bucket = resources.export_bucket.clone();
    (resources, StackApp { wiring, stores: None, dir: None, export_bucket })
}

/// The wiring a function of `template.yaml` runs with: only the tables and buckets its `Environment` names.
async fn as_deployed(resources: &AwsResources, function: &str) -> Wiring {
    let env = crate::handlers::template_env(function);
    let named = |var: &str| env.iter().any(|e| e == var);
    let tables = aws_adapters::TableNames::from_fn(|table| {
        if named(table.env_var()) { resources.tables.get(table).to_owned() } else { String::new() }
    });
    let deployed = AwsResources {
        tables,
        export_bucket: resources.export_bucket.clone().filter(|_| named("EXPORT_BUCKET")),
        export_state_bucket: resources.export_state_bucket.clone().filter(|_| named("EXPORT_STATE_BUCKET")),
        full_export_state_machine: None,
    };
    let sdk = crate::emulators::sdk_config().await;
    platform::aws_wiring_with(&fixtures::config(), &sdk, deployed).unwrap()
}

/// A handler for the router: `handle` on the function's `services`, failing every try of the partitions `failing`.
fn handler<S, F, Fut>(services: S, handle: F, failing: Option<u32>) -> Handler
where
    S: Clone + Send + Sync + 'static,
    F: Fn(S, Value) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Value, FunctionError>> + Send + 'static,
{
    let handle = Arc::new(handle);
    Arc::new(move |event: Value| {
        let (services, handle) = (services.clone(), handle.clone());
        async move {
            let step = event.as_object().and_then(|o| o.values().next()).cloned().unwrap_or_default();
            if step["step"] == "partition" && step["index"].as_u64().map(|i| i as u32) == failing {
                return Err(FunctionError::failed("injected: this partition fails on every try"));
            }
            handle(services, event).await
        }
        .boxed()
    })
}

#[tokio::test]
async fn the_full_export_state_machine_in_four_partitions_publishes_what_a_single_process_full_export_does() {
    let (resources, s) = stack().await;
    let now = Utc.with_ymd_and_hms(2021, 3, 1, 0, 0, 0).unwrap();
    let mut wiring = s.wiring.clone();
    wiring.ports.clock = Arc::new(FixedClock(now));
    let export = export::Services::new(&wiring).unwrap();
    for code in [13, 44, 27] {
        wiring
            .graph_sources()
            .set_hersys_from(PrefectureCode::new(code).unwrap(), Some(fixtures::date("2021-01-01")))
            .await
            .unwrap();
    }
    for i in 0..600u32 {
        let mut r = fixtures::report_in(["13", "44", "01", "27"][i as usize % 4], None);
        let (day, end) = (format!("2021-02-{:02}", 1 + i % 20), format!("2021-02-{:02}", 5 + i % 20));
        r.publication_date = (i % 50 != 49).then(|| fixtures::date(&day));
        let last = if i % 7 == 0 { Status::Died } else { Status::Released };
        r.status_history = vec![
            StatusChange { status: Status::Hospitalized, effective_date: fixtures::date(&day) },
            StatusChange { status: last, effective_date: fixtures::date(&end) },
        ];
        wiring.ports.reports.create_report(&r).await.unwrap();
    }
    let single = export::run(&export, now, ExportMode::Full).await.unwrap();
    assert_eq!(single.recount.reports_read, 600);
    let mut published = Vec::new();
    for file in &single.files {
        published.push((file.clone(), s.published(file).await.unwrap()));
    }

    let mut function = as_deployed(&resources, "FullExportFunction").await;
    function.ports.clock = Arc::new(FixedClock(now));
    let function = export::Services::new(&function).unwrap();
    let functions = HashMap::from([("FullExportFunctionArn".to_owned(), handler(function, export_handle, None))]);
    let interpreter = Interpreter::start(functions).await;
    let machine = interpreter.create("FullExportStateMachine").await;
    let ended = interpreter.run(&machine, &json!({ "partitions": 4 })).await;
    assert_eq!(ended.status, ExecutionStatus::Succeeded, "{ended:?}");
    let calls = interpreter.invocations();
    let partitions: Vec<&Value> =
        calls.iter().filter(|c| c.payload["full_export"]["step"] == "partition").map(|c| &c.payload).collect();
    assert_eq!(partitions.len(), 4, "one child execution a partition: {partitions:?}");
    let read: u64 = calls
        .iter()
        .filter(|c| c.payload["full_export"]["step"] == "partition")
        .map(|c| c.answer.as_ref().unwrap()["reports_read"].as_u64().unwrap())
        .sum();
    assert_eq!(read, 600, "the partitions read every report once");
    let combined = ended.output.unwrap();
    assert_eq!((combined["full"].as_bool(), combined["reports_read"].as_u64()), (Some(true), Some(600)));
    assert_eq!(combined["files"], json!(single.files), "the same files");
    for (file, content) in published {
        assert_eq!(s.published(&file).await.as_ref(), Some(&content), "{file}");
    }
    assert_eq!(export.export.full_export_holder().await.unwrap(), None, "the lease is freed");
    let written = |calls: &[crate::state_machines::Invocation]| -> u64 {
        let partitions = calls.iter().filter(|c| c.payload["full_export"]["step"] == "partition");
        partitions.map(|c| c.answer.as_ref().unwrap()["facts_written"].as_u64().unwrap()).sum()
    };
    // The single-process run wrote every counted fact; the partitions found them all unchanged.
    assert_eq!(written(&calls), 0, "no counted fact changed since the single-process run");

    // One report changes; the sized run (no partition count: one partition at this size) writes its fact only.
    let reports = &wiring.ports.reports;
    let changed = reports.reports_in_segment(domain::ports::Segment { index: 0, of: 1 }, None, 1).await.unwrap();
    let stored = reports.get_report(&changed.items[0].id).await.unwrap().unwrap();
    let mut report = stored.value;
    report.publication_date = Some(fixtures::date("2021-02-27"));
    reports.update_report(&report, stored.version).await.unwrap();
    let before = interpreter.invocations().len();
    let ended = interpreter.run(&machine, &json!({})).await;
    assert_eq!(ended.status, ExecutionStatus::Succeeded, "{ended:?}");
    let calls = interpreter.invocations().split_off(before);
    assert_eq!(ended.output.unwrap()["partitions"], 1, "sized by the work");
    assert_eq!(written(&calls), 1, "only the changed report's fact is written");
}

async fn export_handle(services: export::Services, event: Value) -> Result<Value, FunctionError> {
    export::handle(&services, event).await
}

async fn linkage_handle(services: linkage::Services, event: Value) -> Result<Value, FunctionError> {
    linkage::handle(&services, event).await
}

/// Generated records (2,000 entries, 800 reports) in a temporary directory.
struct Generated {
    dir: tempfile::TempDir,
    entries: crate::linkage_partitioned::Rows,
    reports: crate::linkage_partitioned::Rows,
}

fn generate(seed: u64) -> Generated {
    let dir = tempfile::tempdir().unwrap();
    let (entries, reports) = generated(dir.path(), 2000, 800, seed);
    Generated { dir, entries, reports }
}

/// A stack holding the generated records, linked once by the hourly run.
async fn linked_stack(data: &Generated) -> (AwsResources, StackApp) {
    let (resources, s) = stack().await;
    hersys_bench::bench_linkage_runs::load(&s.wiring, data.dir.path(), &data.entries, data.reports.clone())
        .await
        .unwrap();
    assert_eq!(scheduled(&s, json!({})).await["model_version"], "v1");
    (resources, s)
}

#[tokio::test]
async fn the_daily_run_on_the_state_machine_is_the_single_process_estimate() {
    let data = generate(11);
    let ((_, single), (resources, parted)) = (linked_stack(&data).await, linked_stack(&data).await);
    let one = scheduled(&single, json!({ "mode": "estimate" })).await;
    assert_eq!(one["model_version"], "v2", "{one}");

    let function = linkage::Services::new(&as_deployed(&resources, "FullLinkageFunction").await).unwrap();
    let functions = HashMap::from([("FullLinkageFunctionArn".to_owned(), handler(function, linkage_handle, None))]);
    let interpreter = Interpreter::start(functions).await;
    let machine = interpreter.create("FullLinkageStateMachine").await;
    // The daily schedule's input with three partitions: its default sample (at least 10,000 candidate reports and a
    // million entries) is everything at this size.
    let daily = json!({ "partitions": 3, "estimate": {} });
    let ended = interpreter.run(&machine, &daily).await;
    assert_eq!(ended.status, ExecutionStatus::Succeeded, "{ended:?}");
    let two = ended.output.unwrap();
    assert_eq!((two["model_version"].as_str(), two["partitions"].as_u64()), (Some("v2"), Some(3)), "{two}");

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
    for field in ["links", "reviews", "files"] {
        assert_eq!(one[field], two[field], "{field}: single {one}\nstate machine {two}");
    }
    let (mut s1, s2) =
        (single.app().linkage.linkage_summary().await.unwrap(), parted.app().linkage.linkage_summary().await.unwrap());
    assert!(s1.computed_at.is_some() && s2.computed_at.is_some());
    // The single run is as of its event's time; the combining step as of the clock.
    s1.computed_at = s2.computed_at;
    assert_eq!(s1, s2, "the statistics");
    for file in two["files"].as_array().unwrap() {
        let path = file.as_str().unwrap();
        assert_eq!(single.published(path).await, parted.published(path).await, "{path}");
    }

    // Combine received the Map's result as the interpreter produced it: the partitions' answers, in item order.
    let calls = interpreter.invocations();
    let mut answers: Vec<(u64, Value)> = calls
        .iter()
        .filter(|c| c.payload["full_linkage"]["step"] == "partition")
        .map(|c| (c.payload["full_linkage"]["index"].as_u64().unwrap(), c.answer.clone().unwrap()))
        .collect();
    answers.sort_by_key(|(index, _)| *index);
    let answers: Vec<Value> = answers.into_iter().map(|(_, answer)| answer).collect();
    let combine = calls.iter().find(|c| c.payload["full_linkage"]["step"] == "combine").unwrap();
    assert_eq!(answers.len(), 3);
    assert_eq!(combine.payload["full_linkage"]["partitions"], Value::Array(answers), "Combine's input");
    assert_eq!(parted.relink().full_linkage_holder().await.unwrap(), None, "the lease is freed");
}

#[tokio::test]
async fn the_first_run_on_the_state_machine_is_the_single_process_first_run() {
    let dir = tempfile::tempdir().unwrap();
    let (entries, reports) = generated(dir.path(), 1500, 500, 17);
    let [(_, single), (resources, parted)] = [stack().await, stack().await];
    for s in [&single, &parted] {
        hersys_bench::bench_linkage_runs::load(&s.wiring, dir.path(), &entries, reports.clone()).await.unwrap();
    }
    let one = scheduled(&single, json!({})).await;
    assert_eq!((one["mode"].as_str(), one["model_version"].as_str()), (Some("estimate"), Some("v1")), "{one}");

    let function = linkage::Services::new(&as_deployed(&resources, "FullLinkageFunction").await).unwrap();
    let functions = HashMap::from([("FullLinkageFunctionArn".to_owned(), handler(function, linkage_handle, None))]);
    let interpreter = Interpreter::start(functions).await;
    let machine = interpreter.create("FullLinkageStateMachine").await;
    // The daily schedule's input as the template gives it (its default sample is everything at this size; the
    // partitions sized by the work: one of each kind here).
    let daily = crate::state_machines::schedule_input("FullLinkageStateMachine", "DailyEstimate");
    assert_eq!(daily, json!({ "estimate": {} }));
    let ended = interpreter.run(&machine, &daily).await;
    assert_eq!(ended.status, ExecutionStatus::Succeeded, "{ended:?}");
    let two = ended.output.unwrap();
    assert_eq!(two["model_version"], "v1", "{two}");
    let calls = interpreter.invocations();
    let steps: Vec<&str> = calls.iter().map(|c| c.payload["full_linkage"]["step"].as_str().unwrap()).collect();
    let count = |step: &str| steps.iter().filter(|s| **s == step).count();
    assert_eq!(
        (count("start"), count("file"), count("prepare"), count("partition"), count("combine")),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(two["partitions"], 1, "sized by the work");
    let filed: u64 = calls
        .iter()
        .filter(|c| c.payload["full_linkage"]["step"] == "file")
        .map(|c| c.answer.as_ref().unwrap()["entries"].as_u64().unwrap())
        .sum();
    let (a, b) = (
        single.wiring.ports.link_index.current_model().await.unwrap().unwrap(),
        parted.wiring.ports.link_index.current_model().await.unwrap().unwrap(),
    );
    assert_eq!(filed, a.entries, "every stored entry record filed once");
    assert_eq!(a.params, b.params, "the model");
    same(
        &decisions(&single.wiring.ports).await,
        &decisions(&parted.wiring.ports).await,
        "the same model, the same decisions",
    );
    let (mut s1, s2) =
        (single.app().linkage.linkage_summary().await.unwrap(), parted.app().linkage.linkage_summary().await.unwrap());
    s1.computed_at = s2.computed_at;
    assert_eq!(s1, s2, "the statistics");
    let hourly = scheduled(&parted, json!({})).await;
    assert_eq!((hourly["mode"].as_str(), hourly["written"].as_u64()), (Some("incremental"), Some(0)), "{hourly}");
}

#[tokio::test]
async fn a_partition_that_fails_on_every_try_ends_in_abandon_and_the_hourly_runs_go_on() {
    let (resources, s) = linked_stack(&generate(5)).await;
    // Unasked, Start sizes the run by the tables' item counts (DescribeTable on DynamoDB Local): one partition here.
    let plan = s.relink().plan_partitions().await.unwrap();
    assert_eq!(plan.partitions, 1, "{plan:?}");
    assert!(
        plan.total_seconds > 1.0 && plan.total_seconds < 300.0,
        "the work of 800 reports and 2,000 entries: {plan:?}"
    );
    let state = s.wiring.ports.link_index.linkage_state().await.unwrap();
    let summary = s.app().linkage.linkage_summary().await.unwrap();
    let function = linkage::Services::new(&as_deployed(&resources, "FullLinkageFunction").await).unwrap();
    let functions = HashMap::from([("FullLinkageFunctionArn".to_owned(), handler(function, linkage_handle, Some(1)))]);
    let interpreter = Interpreter::start(functions).await;
    let machine = interpreter.create("FullLinkageStateMachine").await;
    let ended = interpreter.run(&machine, &json!({ "partitions": 3 })).await;
    assert_eq!(ended.status, ExecutionStatus::Failed, "{ended:?}");
    assert_eq!(ended.error.as_deref(), Some("FullLinkageFailed"), "{ended:?}");

    let calls = interpreter.invocations();
    let step = |c: &crate::state_machines::Invocation| c.payload["full_linkage"]["step"].as_str().unwrap().to_owned();
    let tries = calls.iter().filter(|c| step(c) == "partition" && c.payload["full_linkage"]["index"] == 1).count();
    assert_eq!(tries, 3, "the failing partition was tried as the Retry says (once, then twice again)");
    // In AWS the Map fails at once (its tolerated failures default to none) and Catch runs Abandon. moto's Distributed
    // Map does not enforce that tolerance: it hands Combine its result with a null where the failed child's answer
    // would be. Either way nothing is published: Combine refuses a result with a hole (not a partition's answer), and
    // that error is not retried.
    for combine in calls.iter().filter(|c| step(c) == "combine") {
        assert_eq!(combine.answer, Err("InvalidEvent".to_owned()), "Combine refused the hole");
        let partitions = combine.payload["full_linkage"]["partitions"].as_array().unwrap();
        assert_eq!(
            partitions.iter().filter(|a| a.is_null()).count(),
            1,
            "the failed partition's place: {partitions:?}"
        );
    }
    assert!(calls.iter().filter(|c| step(c) == "combine").count() <= 1, "Combine's refusal is not retried");
    let abandon = calls.iter().find(|c| step(c) == "abandon").expect("Abandon ran");
    assert!(abandon.answer.is_ok(), "{abandon:?}");
    let run: domain::app::FullLinkage = serde_json::from_value(abandon.payload["full_linkage"]["run"].clone()).unwrap();

    assert_eq!(s.relink().full_linkage_holder().await.unwrap(), None, "the lease is freed");
    for index in [0, 2] {
        let partial = s.wiring.ports.export_state().unwrap().load_partition_result(&run.run, index).await.unwrap();
        assert_eq!(partial, None, "partition {index}'s partial result is deleted");
    }
    assert!(
        calls.iter().any(|c| step(c) == "partition" && c.answer.is_ok()),
        "other partitions ran (and saved their results before Abandon deleted them)"
    );
    assert_eq!(s.wiring.ports.link_index.linkage_state().await.unwrap(), state, "the state as it was");
    assert_eq!(s.app().linkage.linkage_summary().await.unwrap(), summary, "no statistics published");
    let hourly = scheduled(&s, json!({})).await;
    assert_eq!(hourly["mode"], "incremental", "the next hourly run goes on: {hourly}");
}
