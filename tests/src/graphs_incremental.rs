//! The incremental graph export, on both stacks (SQLite; DynamoDB Local + moto S3): an hourly run reads only the
//! reports written since the last one, and its series equal a full recount's, also after a run that died between
//! saving its state and recording its counted facts, and after an interrupted full run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{Duration, TimeZone, Utc};
use domain::StoreError;
use domain::app::{AppError, ExportMode, FullRun, Recount, Wiring};
use domain::graphs::linelist::LineListCase;
use domain::graphs::state::CountedFact;
use domain::graphs::{CaseFact, GraphSeries, SeriesId, Sources};
use domain::ports::{GraphSourceStore, Segment};
use domain::prefecture::PrefectureCode;
use domain::report::{CaseReport, ReportId, Status, StatusChange};
use domain::time::{Clock, Instant};

use crate::faults::FailingSegmentOnce;
use crate::fixtures::{self, Stack, StackApp, TestClock};

/// The real graph-source store, whose `put_counted_facts` fails on command (a run dying half-way).
struct FailingCounts {
    inner: Arc<dyn GraphSourceStore>,
    failing: AtomicBool,
}

#[async_trait]
impl GraphSourceStore for FailingCounts {
    async fn put_linelist_cases(&self, cases: &[LineListCase]) -> Result<(), StoreError> {
        self.inner.put_linelist_cases(cases).await
    }
    async fn linelist_cases(&self, prefecture: PrefectureCode) -> Result<Vec<LineListCase>, StoreError> {
        self.inner.linelist_cases(prefecture).await
    }
    async fn set_hersys_from(
        &self,
        prefecture: PrefectureCode,
        from: Option<chrono::NaiveDate>,
    ) -> Result<(), StoreError> {
        self.inner.set_hersys_from(prefecture, from).await
    }
    async fn hersys_from(&self) -> Result<Sources, StoreError> {
        self.inner.hersys_from().await
    }
    async fn linelist_generation(&self) -> Result<u64, StoreError> {
        self.inner.linelist_generation().await
    }
    async fn counted_facts(&self, reports: &[ReportId]) -> Result<Vec<Option<CaseFact>>, StoreError> {
        self.inner.counted_facts(reports).await
    }
    async fn put_counted_facts(&self, facts: &[CountedFact]) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("injected: the run died".to_owned()));
        }
        self.inner.put_counted_facts(facts).await
    }
}

struct Env {
    wiring: Wiring,
    /// The export function's services on `wiring`.
    app: export::Services,
    clock: Arc<TestClock>,
    counts: Arc<FailingCounts>,
    _dir: Option<tempfile::TempDir>,
}

async fn env(stack: Stack) -> Env {
    let StackApp { mut wiring, dir, .. } = fixtures::app_on(stack).await;
    let clock = Arc::new(TestClock::new(Utc.with_ymd_and_hms(2021, 3, 1, 0, 0, 0).unwrap()));
    let counts = Arc::new(FailingCounts { inner: wiring.ports.graph_sources.clone(), failing: AtomicBool::new(false) });
    wiring.ports.clock = clock.clone();
    wiring.ports.graph_sources = counts.clone();
    Env { app: export::Services::new(&wiring).unwrap(), wiring, clock, counts, _dir: dir }
}

impl Env {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    /// A report written now.
    fn report(&self, prefecture: &str, published: Option<&str>, history: &[(Status, &str)]) -> CaseReport {
        let mut r = fixtures::report_in(prefecture, None);
        r.publication_date = published.map(fixtures::date);
        r.status_history = history
            .iter()
            .map(|(status, day)| StatusChange { status: *status, effective_date: fixtures::date(day) })
            .collect();
        r.created_at = self.now();
        r.updated_at = self.now();
        r
    }

    /// Rewrites a stored report now, as a PATCH would.
    async fn change(&self, id: &ReportId, edit: impl FnOnce(&mut CaseReport)) {
        let stored = self.wiring.ports.reports.get_report(id).await.unwrap().unwrap();
        let mut report = stored.value;
        edit(&mut report);
        report.updated_at = self.now();
        self.wiring.ports.reports.update_report(&report, stored.version).await.unwrap();
    }

    async fn export(&self, mode: ExportMode) -> (GraphSeries, Recount) {
        self.app.export.graph_series(self.now(), mode).await.unwrap()
    }

    /// An hour later: an incremental run, checked against a full recount of the same store.
    async fn next_hour_equals_a_full_recount(&self) -> Recount {
        self.clock.advance(Duration::hours(1));
        let (incremental, recount) = self.export(ExportMode::Incremental).await;
        let (full, full_recount) = self.export(ExportMode::Full).await;
        assert!(full_recount.full);
        assert_eq!(incremental, full, "the incremental series differ from a full recount");
        recount
    }
}

fn last_all(series: &GraphSeries, id: SeriesId) -> i64 {
    let s = series.daily(id).unwrap();
    *s.areas[0][0].last().unwrap()
}

async fn incremental_exports_follow_changes_and_equal_full_ones(stack: Stack) {
    let e = env(stack).await;
    let from = Some(fixtures::date("2021-01-01"));
    for code in [13, 44] {
        e.wiring.graph_sources().set_hersys_from(PrefectureCode::new(code).unwrap(), from).await.unwrap();
    }
    let mut ids = Vec::new();
    for i in 0..40u32 {
        let prefecture = ["13", "44", "01"][i as usize % 3];
        let day = format!("2021-02-{:02}", 1 + i % 10);
        let published = (i % 20 != 19).then_some(day.as_str());
        let released = format!("2021-02-{:02}", 11 + i % 10);
        let r = e.report(prefecture, published, &[(Status::HomeCare, &day), (Status::Released, &released)]);
        e.wiring.ports.reports.create_report(&r).await.unwrap();
        ids.push(r.id);
    }

    // No state yet: everything is counted, and each report's fact recorded.
    e.clock.advance(Duration::hours(1));
    let (first, r) = e.export(ExportMode::Incremental).await;
    assert!(r.full && r.reports_read == 40 && r.hersys_cases == 38, "{r:?}");
    // Hokkaido (01) is not switched: its 13 reports are counted, but its series come from its (empty) line list.
    assert_eq!(last_all(&first, SeriesId::CumulativeDaily), 38 - 13);

    // Nothing written since: nothing read, the same series.
    e.clock.advance(Duration::hours(1));
    let (second, r) = e.export(ExportMode::Incremental).await;
    assert!(!r.full && r.reports_read == 0 && r.recounted == 0 && !r.linelists_read, "{r:?}");
    assert_eq!(second, first);

    // Five reports written: a death, a moved publication day, one published at last, two new.
    e.change(&ids[0], |r| {
        r.status_history.push(StatusChange { status: Status::Died, effective_date: fixtures::date("2021-02-05") })
    })
    .await;
    e.change(&ids[1], |r| r.publication_date = Some(fixtures::date("2021-02-09"))).await;
    e.change(&ids[19], |r| r.publication_date = Some(fixtures::date("2021-02-10"))).await;
    for prefecture in ["13", "44"] {
        let r = e.report(prefecture, Some("2021-02-12"), &[(Status::Hospitalized, "2021-02-12")]);
        e.wiring.ports.reports.create_report(&r).await.unwrap();
        ids.push(r.id);
    }
    let r = e.next_hour_equals_a_full_recount().await;
    assert!(!r.full && r.reports_read == 5 && r.recounted == 5 && r.hersys_cases == 41, "{r:?}");
    let (now, _) = e.export(ExportMode::Incremental).await;
    assert_eq!(last_all(&now, SeriesId::DeathsCumulativeDaily), 1);
    assert_eq!(last_all(&now, SeriesId::CumulativeDaily), 41 - 13);

    // A run dies after saving its state, before recording its counted facts: the next run records them from the
    // state's journal first. The same report changes again, so a stale counted fact would show.
    e.clock.advance(Duration::hours(1));
    e.change(&ids[0], |r| r.status_history.retain(|c| c.status != Status::Died)).await;
    e.clock.advance(Duration::minutes(5));
    e.counts.failing.store(true, Ordering::SeqCst);
    assert!(e.app.export.graph_series(e.now(), ExportMode::Incremental).await.is_err());
    e.counts.failing.store(false, Ordering::SeqCst);
    e.clock.advance(Duration::hours(1));
    e.change(&ids[0], |r| r.publication_date = Some(fixtures::date("2021-02-08"))).await;
    let r = e.next_hour_equals_a_full_recount().await;
    assert!(!r.full && r.reports_read == 1, "{r:?}");

    // A full run that dies half-way leaves no state to build on: the next run counts everything.
    e.counts.failing.store(true, Ordering::SeqCst);
    assert!(e.app.export.graph_series(e.now(), ExportMode::Full).await.is_err());
    e.counts.failing.store(false, Ordering::SeqCst);
    e.clock.advance(Duration::hours(1));
    let (_, r) = e.export(ExportMode::Incremental).await;
    assert!(r.full && r.reports_read == 42, "{r:?}");

    // A line-list import is counted at the next run, and only then.
    let case = LineListCase {
        prefecture: PrefectureCode::new(1).unwrap(),
        number: "1".into(),
        published: fixtures::date("2021-02-03"),
        sex: Some("female".into()),
        age_band: Some(3),
    };
    e.wiring.graph_sources().import_linelist(&[case]).await.unwrap();
    let r = e.next_hour_equals_a_full_recount().await;
    assert!(r.linelists_read && r.linelist_cases == 1, "{r:?}");
    e.clock.advance(Duration::hours(1));
    let (_, r) = e.export(ExportMode::Incremental).await;
    assert!(!r.linelists_read, "{r:?}");
}

/// A full export in partitions (through the export function's steps, one partition failing once and retried) saves
/// the state a single-process full export saves: the series built from it are the same; while it runs, scheduled
/// runs publish nothing and a second full export cannot start; an abandoned one leaves the next run to count
/// everything.
async fn a_partitioned_full_export_equals_a_single_process_one(stack: Stack) {
    let mut e = env(stack).await;
    for code in [13, 44, 27] {
        e.wiring
            .graph_sources()
            .set_hersys_from(PrefectureCode::new(code).unwrap(), Some(fixtures::date("2021-01-01")))
            .await
            .unwrap();
    }
    // More than a page (1,000) in some segments, so that partitions read page after page.
    for i in 0..2_500u32 {
        let prefecture = ["13", "44", "01", "27"][i as usize % 4];
        let day = format!("2021-02-{:02}", 1 + i % 20);
        let end = format!("2021-02-{:02}", 5 + i % 20);
        let last = if i % 7 == 0 { Status::Died } else { Status::Released };
        let published = (i % 50 != 49).then_some(day.as_str());
        let r = e.report(prefecture, published, &[(Status::Hospitalized, &day), (last, &end)]);
        e.wiring.ports.reports.create_report(&r).await.unwrap();
    }
    e.clock.advance(Duration::hours(1));
    let (single, single_recount) = e.export(ExportMode::Full).await;

    let failing = Arc::new(FailingSegmentOnce::new(e.wiring.ports.reports.clone(), 1));
    e.wiring.ports.reports = failing.clone();
    e.app = export::Services::new(&e.wiring).unwrap();
    e.clock.advance(Duration::hours(1));
    let answer = export::full::run_partitioned(&e.app, Some(2), 3, None).await.unwrap();
    assert!(failing.failed.load(Ordering::SeqCst), "the injected failure happened, and was retried");
    assert_eq!((answer["full"].as_bool(), answer["reports_read"].as_u64()), (Some(true), Some(2_500)), "{answer}");
    assert!(answer["files"].as_array().unwrap().iter().any(|f| f == "manifest.json"), "{answer}");
    // Nothing written since: the next scheduled run builds the series from the state the partitions left.
    e.clock.advance(Duration::hours(1));
    let (after, r) = e.export(ExportMode::Incremental).await;
    assert!(!r.full && r.reports_read == 0, "{r:?}");
    assert_eq!(after, single, "the partitioned export's series differ from the single-process one's");
    assert_eq!(r.hersys_cases, single_recount.hersys_cases);

    // While a full export holds the lease: scheduled runs publish nothing, a second full export cannot start.
    let started = e.app.export.start_full_export(Some(2)).await.unwrap();
    assert!(matches!(e.app.export.start_full_export(Some(2)).await, Err(AppError::LeaseHeld(FullRun::Export))));
    assert!(matches!(e.app.export.graph_series(e.now(), ExportMode::Full).await, Err(AppError::LeaseHeld(_))));
    let event = serde_json::json!({ "detail-type": "Scheduled Event", "time": e.now(), "detail": {} });
    let skipped = export::handle(&e.app, event).await.unwrap();
    assert_eq!(skipped["skipped"], "a full export is in progress", "{skipped}");
    // A partition of another run is refused.
    let mut other = started.clone();
    other.run = "0".repeat(32);
    assert!(matches!(e.app.export.count_partition(&other, 0).await, Err(AppError::LeaseHeld(FullRun::Export))));
    // Abandoned (a partition failed for good): the lease is free and the next run counts everything again.
    e.app.export.count_partition(&started, 0).await.unwrap();
    e.app.export.abandon_full_export(&started).await.unwrap();
    assert_eq!(e.app.export.full_export_holder().await.unwrap(), None);
    e.clock.advance(Duration::hours(1));
    let (recounted, r) = e.export(ExportMode::Incremental).await;
    assert!(r.full && r.reports_read == 2_500, "{r:?}");
    assert_eq!(recounted, single);

    // The steps as the state machine sends them, each partition event as one child's input.
    e.clock.advance(Duration::hours(1));
    let start = serde_json::json!({ "full_export": { "step": "start", "input": { "partitions": 2 } } });
    let started = export::handle(&e.app, start).await.unwrap();
    assert_eq!(started["filing"], serde_json::json!([]), "a full export files nothing");
    let prepare = serde_json::json!({ "full_export": { "step": "prepare", "run": started["run"] } });
    let prepared = export::handle(&e.app, prepare).await.unwrap();
    let mut read = 0;
    for item in prepared["partitions"].as_array().unwrap() {
        read += export::handle(&e.app, item.clone()).await.unwrap()["reports_read"].as_u64().unwrap();
    }
    assert_eq!(read, 2_500);
    // A report written while the partitions run (after its own was counted): the full export does not see it; the
    // next scheduled run does, from the full export's watermark.
    let page = e.wiring.ports.reports.reports_in_segment(Segment { index: 0, of: 1 }, None, 100).await.unwrap().items;
    // Published in a prefecture whose series come from HER-SYS: moving its publication day shows in the series.
    let changed = page.iter().find(|r| r.prefecture.number() == 13 && r.publication_date.is_some()).unwrap();
    let moved =
        if changed.publication_date == Some(fixtures::date("2021-02-25")) { "2021-02-26" } else { "2021-02-25" };
    e.clock.advance(Duration::minutes(5));
    e.change(&changed.id, |r| r.publication_date = Some(fixtures::date(moved))).await;
    let combine = serde_json::json!({ "full_export": { "step": "combine", "run": started["run"] } });
    let combined = export::handle(&e.app, combine).await.unwrap();
    assert_eq!(combined["reports_read"], 2_500);
    e.clock.advance(Duration::hours(1));
    let (after_change, r) = e.export(ExportMode::Incremental).await;
    assert!(!r.full && r.reports_read == 1 && r.recounted == 1, "{r:?}");
    assert_ne!(after_change, single);
    assert_eq!(
        after_change,
        e.export(ExportMode::Full).await.0,
        "the change written during the full export is counted"
    );
}

on_both_stores!(
    embedded: Stack::Embedded,
    dynamodb: Stack::Aws;
    incremental_exports_follow_changes_and_equal_full_ones,
    a_partitioned_full_export_equals_a_single_process_one,
);

/// In AWS, a scheduled export that finds no usable state starts the full export's state machine (Step Functions, on
/// moto) instead of counting everything itself, at most once a day: a start whose name was used today starts
/// nothing more and says so. Nothing is published by the scheduled run.
#[tokio::test]
async fn a_scheduled_export_without_a_usable_state_starts_the_state_machine() {
    let mut s = fixtures::app_on(Stack::Aws).await;
    let sfn = aws_sdk_sfn::Client::new(&crate::emulators::sdk_config().await);
    let definition = r#"{"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": true}}}"#;
    let machine = sfn
        .create_state_machine()
        .name(format!("full-export-{}", uuid::Uuid::new_v4().simple()))
        .definition(definition)
        .role_arn("arn:aws:iam::123456789012:role/full-export")
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    s.wiring.ports.full_runs = Some(Arc::new(aws_adapters::StepFunctionsStarter::new(sfn.clone(), machine.clone())));
    let function = s.export_function();
    let hourly = serde_json::json!({ "detail-type": "Scheduled Event", "time": "2021-06-01T00:00:00Z", "detail": {} });

    let answer = export::handle(&function, hourly.clone()).await.unwrap();
    assert_eq!(answer["skipped"], "no usable state: the full export in partitions is started", "{answer}");
    assert!(answer.get("files").is_none(), "nothing published: {answer}");
    let executions = sfn.list_executions().state_machine_arn(&machine).send().await.unwrap().executions;
    assert_eq!(executions.len(), 1);
    let today = domain::time::japan_date(s.app().now()).format("%Y%m%d").to_string();
    assert_eq!(executions[0].name, format!("graph-export-auto-{today}"));
    let input = sfn.describe_execution().execution_arn(&executions[0].execution_arn).send().await.unwrap().input;
    let input: serde_json::Value = serde_json::from_str(&input.unwrap()).unwrap();
    assert_eq!(input, serde_json::json!({}), "no partition count: the start step sizes the run by the work");

    // Today's execution ended (failed, say): the next hourly run does not start another.
    sfn.stop_execution().execution_arn(&executions[0].execution_arn).send().await.unwrap();
    let again = export::handle(&function, hourly).await.unwrap();
    assert!(again["skipped"].as_str().unwrap().contains("started already"), "{again}");
    let executions = sfn.list_executions().state_machine_arn(&machine).send().await.unwrap().executions;
    assert_eq!(executions.len(), 1);
}
