//! `hersys-bench sweep`: one re-issue sweep over `due` due cycles among `stored` cycles, on the embedded store (or
//! the AWS adapters on the emulators with `--aws`). Prints wall time and the storage requests the sweep made, per
//! re-issue: the cost must grow with the cycles due, not with everything ever issued. Figures go in
//! docs/processing-numbers.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant as WallClock;

use async_trait::async_trait;
use chrono::Duration;
use domain::cycle::{Channel, Cycle, CycleId, IssuedNumber, NewCycle, NumberState};
use domain::error::StoreError;
use domain::keyed_hash::KeyedHash;
use domain::pii::ProcessingNumber;
use domain::ports::{CounterStore, CycleStore, Page, ReportStore, Segment, Versioned};
use domain::prefecture::PrefectureCode;
use domain::report::{CaseReport, Language, ReportId, ReportInput};
use domain::time::Instant;
use platform::Config;

/// Counts every call that reaches the store (each is one request to DynamoDB, or one SQLite statement group).
struct Counting<S: ?Sized> {
    inner: Arc<S>,
    calls: AtomicU64,
}

impl<S: ?Sized> Counting<S> {
    fn tick(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
}

#[async_trait]
impl CycleStore for Counting<dyn CycleStore> {
    async fn create_cycle(&self, cycle: &Cycle, first: &IssuedNumber) -> Result<(), StoreError> {
        self.tick();
        self.inner.create_cycle(cycle, first).await
    }
    async fn get_cycle(&self, id: &CycleId) -> Result<Option<Versioned<Cycle>>, StoreError> {
        self.tick();
        self.inner.get_cycle(id).await
    }
    async fn advance_cycle(
        &self,
        cycle: &Cycle,
        v: u64,
        changed: &[IssuedNumber],
        new: Option<&IssuedNumber>,
    ) -> Result<u64, StoreError> {
        self.tick();
        self.inner.advance_cycle(cycle, v, changed, new).await
    }
    async fn get_number(&self, hash: &KeyedHash, now: Instant) -> Result<Option<IssuedNumber>, StoreError> {
        self.tick();
        self.inner.get_number(hash, now).await
    }
    async fn due_cycles(&self, now: Instant, limit: usize) -> Result<Vec<CycleId>, StoreError> {
        self.tick();
        self.inner.due_cycles(now, limit).await
    }
    async fn cycles_of_report(&self, report: &ReportId) -> Result<Vec<Versioned<Cycle>>, StoreError> {
        self.tick();
        self.inner.cycles_of_report(report).await
    }
}

#[async_trait]
impl CounterStore for Counting<dyn CounterStore> {
    async fn add_to_counter(&self, name: &str, delta: u64, purge_after: Instant) -> Result<u64, StoreError> {
        self.tick();
        self.inner.add_to_counter(name, delta, purge_after).await
    }
    async fn counters(&self, names: &[String], now: Instant) -> Result<Vec<u64>, StoreError> {
        self.tick();
        self.inner.counters(names, now).await
    }
}

#[async_trait]
impl ReportStore for Counting<dyn ReportStore> {
    async fn approximate_count(&self) -> Result<u64, StoreError> {
        self.tick();
        self.inner.approximate_count().await
    }
    async fn create_report(&self, report: &CaseReport) -> Result<(), StoreError> {
        self.tick();
        self.inner.create_report(report).await
    }
    async fn get_report(&self, id: &ReportId) -> Result<Option<Versioned<CaseReport>>, StoreError> {
        self.tick();
        self.inner.get_report(id).await
    }
    async fn update_report(&self, report: &CaseReport, expected_version: u64) -> Result<u64, StoreError> {
        self.tick();
        self.inner.update_report(report, expected_version).await
    }
    async fn reports_by_passport(&self, passport: &KeyedHash) -> Result<Vec<ReportId>, StoreError> {
        self.tick();
        self.inner.reports_by_passport(passport).await
    }
    async fn reports_by_prefecture(&self, prefecture: PrefectureCode) -> Result<Vec<CaseReport>, StoreError> {
        self.tick();
        self.inner.reports_by_prefecture(prefecture).await
    }
    async fn report_ids_changed_since(&self, since: Instant, until: Instant) -> Result<Vec<ReportId>, StoreError> {
        self.tick();
        self.inner.report_ids_changed_since(since, until).await
    }
    async fn get_reports(&self, ids: &[ReportId]) -> Result<Vec<CaseReport>, StoreError> {
        self.tick();
        self.inner.get_reports(ids).await
    }
    async fn reports_in_segment(
        &self,
        segment: Segment,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Page<CaseReport>, StoreError> {
        self.tick();
        self.inner.reports_in_segment(segment, cursor, limit).await
    }
}

fn report_input(i: usize) -> ReportInput {
    ReportInput {
        health_center_code: Some("131016".into()),
        case_number: Some(format!("S-{i:08}")),
        prefecture_code: Some("13".into()),
        municipality_code: Some("131016".into()),
        case_type: Some("patient".into()),
        sex: Some("F".into()),
        date_of_birth: Some("1990-04-01".into()),
        name: Some("SATO HANAKO".into()),
        phone: Some(format!("090{:08}", 10_000_000 + i)),
        preferred_language: Some("ja".into()),
        report_date: Some("2021-02-03".into()),
        diagnosis_date: Some("2021-02-02".into()),
        ..Default::default()
    }
}

/// A cycle whose first number went out at `sent_at` (live until an hour later), stored as the re-issuer finds it.
async fn seed_cycle(
    cycles: &dyn CycleStore,
    settings: &domain::app::Settings,
    report: &ReportId,
    sent_at: Instant,
    finished: bool,
) -> anyhow::Result<()> {
    // About 1 % of draws hit one of the million records kept: draw again, as issuing does.
    loop {
        if seed_one(cycles, settings, report, sent_at, finished).await? {
            return Ok(());
        }
    }
}

/// `false` if the drawn number's record already existed.
async fn seed_one(
    cycles: &dyn CycleStore,
    settings: &domain::app::Settings,
    report: &ReportId,
    sent_at: Instant,
    finished: bool,
) -> anyhow::Result<bool> {
    let number = ProcessingNumber::random()?;
    let hash = settings.hasher.processing_number(&number);
    let new = NewCycle {
        id: CycleId::generate(),
        report_id: report.clone(),
        health_center_code: "131016".into(),
        channel: Channel::Sms,
        language: Language::Ja,
    };
    let t = Cycle::start(new, hash.clone(), sent_at, &settings.policy);
    let live = t.cycle.number_sent(&hash, sent_at, &settings.policy).map_err(|_| anyhow::anyhow!("seed transition"))?;
    let mut cycle = live.cycle;
    let mut record = live.changed.into_iter().next().ok_or_else(|| anyhow::anyhow!("seed record"))?;
    if finished {
        // Long over: redeemed, out of the due index, as most cycles ever issued are.
        cycle = cycle
            .redeem(&hash, sent_at + Duration::minutes(5), &settings.policy)
            .map_err(|_| anyhow::anyhow!("seed redeem"))?
            .cycle;
        record.state = NumberState::Used;
    }
    match cycles.create_cycle(&cycle, &record).await {
        Ok(()) => Ok(true),
        Err(StoreError::AlreadyExists) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Where the sweep runs: the embedded store in a data directory, or fresh tables on the emulators.
pub enum Backend {
    Embedded(std::path::PathBuf),
    Emulators,
}

pub async fn sweep(backend: &Backend, stored: usize, due: usize) -> anyhow::Result<()> {
    let (mut wiring, described) = match backend {
        Backend::Embedded(data_dir) => {
            let config = Config::from_env_with_secret(vec![7; 32])?;
            (embedded::embedded_wiring(data_dir, platform::settings(&config)?)?.0, "embedded (SQLite + local outbox)")
        }
        Backend::Emulators => (crate::emulators::fresh_wiring().await?, crate::emulators::DESCRIPTION),
    };
    // Daytime in Japan, so quiet hours do not hold the re-issues back.
    let now: Instant = "2021-02-04T02:00:00Z".parse()?;
    let started = WallClock::now();
    let mut reports = Vec::with_capacity(due);
    let cases = wiring.cases();
    for i in 0..due {
        reports.push(cases.create_report(&report_input(i)).await?.value.id);
    }
    let old = ReportId::generate();
    for i in 0..stored.saturating_sub(due) {
        seed_cycle(wiring.ports.cycles.as_ref(), &wiring.settings, &old, now - Duration::days(30), true).await?;
        if i % 100_000 == 99_999 {
            eprintln!("seeded {} finished cycles", i + 1);
        }
    }
    for r in &reports {
        seed_cycle(wiring.ports.cycles.as_ref(), &wiring.settings, r, now - Duration::minutes(61), false).await?;
    }
    let seeding = started.elapsed().as_secs_f64();

    let cycles = Arc::new(Counting { inner: wiring.ports.cycles.clone(), calls: AtomicU64::new(0) });
    let report_store = Arc::new(Counting { inner: wiring.ports.reports.clone(), calls: AtomicU64::new(0) });
    let counters = Arc::new(Counting { inner: wiring.ports.counters.clone(), calls: AtomicU64::new(0) });
    wiring.ports.cycles = cycles.clone();
    wiring.ports.reports = report_store.clone();
    wiring.ports.counters = counters.clone();
    let t = WallClock::now();
    let run = wiring.cases().run_due_cycles(now).await?;
    let wall = t.elapsed().as_secs_f64();
    let requests = cycles.calls.load(Ordering::Relaxed)
        + report_store.calls.load(Ordering::Relaxed)
        + counters.calls.load(Ordering::Relaxed);
    println!(
        "{}",
        serde_json::json!({
            "backend": described,
            "stored_cycles": stored,
            "due": run.due,
            "reissued": run.reissued,
            "sweep_seconds": (wall * 100.0).round() / 100.0,
            "reissues_per_second": (run.reissued as f64 / wall).round(),
            "storage_requests": requests,
            "storage_requests_per_reissue": ((requests as f64 / run.reissued.max(1) as f64) * 100.0).round() / 100.0,
            "seeding_seconds": seeding.round(),
        })
    );
    Ok(())
}
