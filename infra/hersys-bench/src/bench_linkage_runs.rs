//! `hersys-bench linkage-runs`: the product's scheduled linkage on files of `gen linkage`, as it runs hour by hour
//! (docs/benchmarks-linkage.md, "The product's hourly run"). Loads every entry record and report but the
//! `--new-entries` with the latest entry dates and the `--new-reports` with the latest diagnosis dates (the next
//! arrivals) through the application (as `POST /v1/entries` and `POST /v1/reports` do), runs the linkage (the first
//! run estimates the model), runs it again with nothing new, loads the new records, runs it again, then re-links in
//! full (which must find nothing to change), in one process and then in two partitions. Prints each run's wall time
//! and, on the emulators, the DynamoDB requests it made (counted by an SDK interceptor). `--step base` and
//! `--step new` only load (for timing `hersys invoke linkage` itself, with its memory, between them).
//!
//! The embedded store is the data dir's, with `HMAC_SECRET` as `hersys` reads it (set it for both); `--aws` runs in
//! fresh tables on the emulators.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant as WallClock;

use anyhow::Context;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use domain::app::{Linkage, LinkageMode, LinkageRun, Wiring};
use domain::entry::EntryInput;
use domain::report::ReportInput;
use platform::Config;

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Step {
    /// Load all but the new records.
    Base,
    /// Load the new records only.
    New,
    /// Load, run, load the new records, run, re-link in full; print the figures.
    All,
}

pub struct Args {
    pub dir: PathBuf,
    pub new_entries: usize,
    pub new_reports: usize,
    pub data_dir: Option<PathBuf>,
    pub aws: bool,
    pub step: Step,
}

/// Counts the HTTP requests a DynamoDB client sends (each attempt).
#[derive(Debug)]
struct CountRequests(Arc<AtomicU64>);

impl Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "CountRequests"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// The records of a `gen linkage` file as the application takes them: every column, blank cells left out.
pub fn rows(path: &Path) -> anyhow::Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = reader.headers()?.clone();
    reader
        .records()
        .map(|r| {
            let r = r?;
            Ok(headers
                .iter()
                .zip(r.iter())
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.to_owned())))
                .collect())
        })
        .collect()
}

/// A generated report as `POST /v1/reports` takes it (its id as the case number, the fields the generator does not
/// make filled in), as `tests/src/linkage_product.rs` files them.
fn report_input(mut row: serde_json::Map<String, serde_json::Value>) -> anyhow::Result<ReportInput> {
    let field = |row: &serde_json::Map<String, serde_json::Value>, k: &str| {
        row.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
    };
    let prefecture = field(&row, "prefecture_code");
    let diagnosis = field(&row, "diagnosis_date");
    if let Some(id) = row.remove("report_id") {
        row.insert("case_number".into(), id);
    }
    for (k, v) in [
        ("health_center_code", "131016".to_owned()),
        ("municipality_code", format!("{prefecture:0>2}2019")),
        ("case_type", "patient".to_owned()),
        ("report_date", diagnosis),
    ] {
        row.insert(k.into(), serde_json::Value::String(v));
    }
    Ok(serde_json::from_value(serde_json::Value::Object(row))?)
}

/// Stores the records through the application; appends the ids of the reports it filed to `DIR/FILED.txt` (the
/// product refuses a few generated reports, and an evaluation is of the filed ones).
pub async fn load(
    wiring: &Wiring,
    dir: &Path,
    entries: &[serde_json::Map<String, serde_json::Value>],
    reports: Vec<serde_json::Map<String, serde_json::Value>>,
) -> anyhow::Result<(usize, usize)> {
    let (linkage, cases) = (wiring.linkage(), wiring.cases());
    let mut stored_entries = 0;
    for chunk in entries.chunks(1000) {
        let inputs: Vec<EntryInput> = chunk
            .iter()
            .map(|r| serde_json::from_value(serde_json::Value::Object(r.clone())))
            .collect::<Result<_, _>>()?;
        let outcome = linkage.ingest_entries(&inputs).await?;
        stored_entries += outcome.results.iter().filter(|r| r.outcome == domain::entry::RecordOutcome::Created).count();
    }
    let mut filed = String::new();
    for row in reports {
        let id = row.get("report_id").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        // The generator leaves out values a report requires in a few rows: the product refuses those.
        if cases.create_report(&report_input(row)?).await.is_ok() {
            filed.push_str(&id);
            filed.push('\n');
        }
    }
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("FILED.txt"))?;
    std::io::Write::write_all(&mut file, filed.as_bytes())?;
    Ok((stored_entries, filed.lines().count()))
}

fn figures(name: &str, run: &LinkageRun, wall: f64, requests: Option<u64>) -> serde_json::Value {
    let new_records = (run.entries + run.reports).max(1) as f64;
    serde_json::json!({
        "run": name,
        "mode": run.mode,
        "model_version": run.model_version,
        "entries_read": run.entries,
        "reports_read": run.reports,
        "candidate_pairs": run.candidate_pairs,
        "written": run.written,
        "unchanged": run.unchanged,
        "removed": run.removed,
        "wall_s": (wall * 1000.0).round() / 1000.0,
        "dynamodb_requests": requests,
        "dynamodb_requests_per_new_record": requests.map(|r| ((r as f64 / new_records) * 100.0).round() / 100.0),
    })
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let (wiring, requests) = if args.aws {
        let (mut wiring, tables) = crate::emulators::fresh_wiring_and_tables().await?;
        let count = Arc::new(AtomicU64::new(0));
        let sdk = platform::sdk_config().await;
        let client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk).interceptor(CountRequests(count.clone())).build(),
        );
        let stores = Arc::new(aws_adapters::DynamoStores::new(client, tables));
        let ports = &mut wiring.ports;
        (ports.entries, ports.reports, ports.links, ports.link_index, ports.follow_ups) =
            (stores.clone(), stores.clone(), stores.clone(), stores.clone(), stores);
        (wiring, Some(count))
    } else {
        let data_dir = args.data_dir.clone().context("--data-dir is required without --aws")?;
        let secret = std::env::var("HMAC_SECRET").context("set HMAC_SECRET (the same for hersys)")?;
        let config = Config::from_env_with_secret(secret.into_bytes())?;
        (embedded::embedded_wiring(&data_dir, platform::settings(&config)?)?.0, None)
    };
    // The new records are the latest, as the quarantine system's next export and the day's reports would be: the
    // entries with the latest entry dates, the reports with the latest diagnosis dates (stable sorts: a seed gives
    // the same split).
    let date = |row: &serde_json::Map<String, serde_json::Value>, k: &str| {
        row.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
    };
    let mut entries = rows(&args.dir.join("ENTRIES.csv"))?;
    entries.sort_by_cached_key(|r| date(r, "entry_date"));
    let mut reports = rows(&args.dir.join("REPORTS.csv"))?;
    reports.sort_by_cached_key(|r| date(r, "diagnosis_date"));
    let (base_e, base_r) =
        (entries.len().saturating_sub(args.new_entries), reports.len().saturating_sub(args.new_reports));
    let mut new_reports = reports;
    let base_reports: Vec<_> = new_reports.drain(..base_r).collect();

    if args.step != Step::New {
        let t = WallClock::now();
        let (e, r) = load(&wiring, &args.dir, &entries[..base_e], base_reports).await?;
        eprintln!("loaded {e} entries and {r} reports in {:.1} s", t.elapsed().as_secs_f64());
    }
    if args.step == Step::Base {
        return Ok(());
    }
    if args.step == Step::New {
        let (e, r) = load(&wiring, &args.dir, &entries[base_e..], new_reports).await?;
        eprintln!("loaded {e} new entries and {r} new reports");
        return Ok(());
    }
    let now = chrono::Utc::now();
    let linkage: Linkage = wiring.linkage();
    let (relink, publisher) = (wiring.relink()?, wiring.publisher()?);
    let mut out = Vec::new();
    let mut measured = |name: &str, run: LinkageRun, wall: f64, before: Option<u64>| {
        let after = requests.as_ref().map(|c| c.load(Ordering::Relaxed));
        out.push(figures(name, &run, wall, after.zip(before).map(|(a, b)| a - b)));
        println!("{}", out.last().map(ToString::to_string).unwrap_or_default());
    };
    let count = || requests.as_ref().map(|c| c.load(Ordering::Relaxed));
    // An hourly run does not start within the minute of a bulk load's end: one that did would read that minute's
    // records again in the next run (the overlap it keeps for writes in flight; docs/linkage.md).
    tokio::time::sleep(std::time::Duration::from_secs(61)).await;
    for (name, mode) in [("first", LinkageMode::Incremental), ("nothing new", LinkageMode::Incremental)] {
        let (before, t) = (count(), WallClock::now());
        let run = linkage.run_linkage(now, mode).await?;
        measured(name, run, t.elapsed().as_secs_f64(), before);
    }
    let (e, r) = load(&wiring, &args.dir, &entries[base_e..], new_reports).await?;
    eprintln!("loaded {e} new entries and {r} new reports");
    for (name, mode) in [("after the new records", LinkageMode::Incremental), ("full re-link", LinkageMode::Full)] {
        let (before, t) = (count(), WallClock::now());
        let run = linkage.run_linkage(now, mode).await?;
        measured(name, run, t.elapsed().as_secs_f64(), before);
    }
    // The same full re-link in partitions (the state machine's steps, through the linkage function's handler); then
    // the daily run: a new model from a sample (the default sizes), the re-link in partitions with it.
    let runs =
        [("full re-link, 2 partitions", None), ("daily run: sample estimate, 2 partitions", Some(Default::default()))];
    for (name, estimate) in runs {
        let (before, t) = (count(), WallClock::now());
        let answer = linkage::full::run_partitioned(
            &relink,
            &publisher,
            linkage::full::RunInput { partitions: Some(2), estimate },
            3,
            Some(now),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let (wall, requests) = (t.elapsed().as_secs_f64(), count().zip(before).map(|(a, b)| a - b));
        let reports = answer["reports"].as_u64().unwrap_or(0).max(1) as f64;
        println!(
            "{}",
            serde_json::json!({
                "run": name, "model_version": answer["model_version"],
                "reports_read": answer["reports"], "written": answer["written"], "unchanged": answer["unchanged"],
                "wall_s": (wall * 1000.0).round() / 1000.0,
                "dynamodb_requests": requests,
                "dynamodb_requests_per_report": requests.map(|r| ((r as f64 / reports) * 100.0).round() / 100.0),
            })
        );
    }
    Ok(())
}
