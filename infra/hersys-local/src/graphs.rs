//! The graph export's local commands: `hersys import linelist FILE.csv` (streaming), `hersys export` (one run of
//! the export function), and `hersys graph-source` (a prefecture's switch date to HER-SYS).

use std::path::Path;
use std::time::Instant as Clock;

use anyhow::Context;
use chrono::NaiveDate;
use domain::app::{App, ExportMode};
use domain::graphs::linelist::{LineListCase, LineListHeader};
use domain::prefecture::PrefectureCode;
use serde::Serialize;

use crate::Backend;
use crate::patience::Patience;

/// Rows stored per write.
const CHUNK: usize = 1000;
/// How many refused rows the summary names.
const SHOWN: usize = 10;

#[derive(Debug, Default, Serialize)]
pub struct LineListSummary {
    rows: usize,
    imported: usize,
    rejected: usize,
    /// The first refused rows: line number (header = 1) and `column: rule`, never the value.
    first_rejected: Vec<(u64, String)>,
    /// Imported cases per prefecture (English name).
    prefectures: std::collections::BTreeMap<String, usize>,
}

/// Reads the file row by row (constant memory) and stores its cases in chunks. A row the parser refuses is
/// counted and skipped; an unreadable file or a header without the needed columns stops the import.
pub async fn import_linelist(app: &App, path: &Path, patience: Patience) -> anyhow::Result<LineListSummary> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).buffer_capacity(1 << 20).from_reader(file);
    let headers =
        reader.headers().map_err(|_| anyhow::anyhow!("the header row is unreadable (not UTF-8 CSV?)"))?.clone();
    let header = LineListHeader::from_columns(&headers.iter().collect::<Vec<_>>())
        .map_err(|e| anyhow::anyhow!("header: {e}"))?;
    let mut summary = LineListSummary::default();
    let bar = crate::import::progress_bar(path);
    let mut chunk: Vec<LineListCase> = Vec::with_capacity(CHUNK);
    let mut record = csv::StringRecord::new();
    let mut line: u64 = 1;
    let mut numbers: std::collections::HashMap<(u8, String), u32> = std::collections::HashMap::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(_) => {
                line += 1;
                summary.rows += 1;
                summary.rejected += 1;
                if summary.first_rejected.len() < SHOWN {
                    summary.first_rejected.push((line, "unreadable CSV row".to_owned()));
                }
                continue;
            }
        }
        line = record.position().map_or(line + 1, |p| p.line());
        summary.rows += 1;
        // A blank line (all fields empty) is not a case.
        if record.iter().all(|f| f.trim().is_empty()) {
            summary.rows -= 1;
            continue;
        }
        match header.parse_row(&record.iter().collect::<Vec<_>>(), line) {
            Ok(mut case) => {
                // Published lists sometimes give two cases the same No (Oita's 2021-10-01 list: 1398 and 1475):
                // the second is kept as `No#2`, so that re-importing the same file still replaces, never adds.
                let seen = numbers.entry((case.prefecture.number(), case.number.clone())).or_insert(0u32);
                *seen += 1;
                if *seen > 1 {
                    case.number = format!("{}#{}", case.number, seen);
                }
                *summary.prefectures.entry(case.prefecture.info().name_en.to_owned()).or_default() += 1;
                chunk.push(case);
            }
            Err(e) => {
                summary.rejected += 1;
                if summary.first_rejected.len() < SHOWN {
                    summary.first_rejected.push((line, e.to_string()));
                }
            }
        }
        if chunk.len() >= CHUNK {
            patience.run(&bar, || app.import_linelist(&chunk)).await?;
            summary.imported += chunk.len();
            chunk.clear();
        }
    }
    if !chunk.is_empty() {
        patience.run(&bar, || app.import_linelist(&chunk)).await?;
        summary.imported += chunk.len();
    }
    bar.finish_and_clear();
    Ok(summary)
}

pub async fn run_import(file: &Path, json: bool, patience: Patience, backend: &Backend) -> anyhow::Result<()> {
    let built = crate::setup::build(backend).await?;
    let started = Clock::now();
    let summary = import_linelist(built.app(), file, patience).await?;
    if json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!("{}: {} rows in {:.1} s", file.display(), summary.rows, started.elapsed().as_secs_f64());
        println!("  imported  {}", summary.imported);
        println!("  rejected  {}", summary.rejected);
        for (line, why) in &summary.first_rejected {
            println!("    line {line}: {why}");
        }
        for (name, n) in &summary.prefectures {
            println!("  {name}: {n}");
        }
    }
    Ok(())
}

/// `hersys export`: the export function once, as of `now` (default: the clock), on the chosen backend.
pub async fn run_export(
    now: Option<String>,
    full: bool,
    partitions: Option<u32>,
    backend: &Backend,
) -> anyhow::Result<()> {
    let now = match now {
        Some(text) => chrono::DateTime::parse_from_rfc3339(&text)
            .context("--now must be an RFC 3339 instant, e.g. 2021-10-01T00:00:00Z")?
            .with_timezone(&chrono::Utc),
        None => chrono::Utc::now(),
    };
    let built = crate::setup::build(backend).await?;
    let started = Clock::now();
    if let Some(partitions) = partitions {
        anyhow::ensure!(full, "--partitions splits a full export: give --full too");
        // The state machine's steps, through the same handler, each partition in a task of its own and tried up to
        // three times (as the state machine's Retry).
        let answer = export::full::run_partitioned(built.app(), Some(partitions), 3, Some(now))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let seconds = started.elapsed().as_secs_f64();
        eprintln!("exported in {partitions} partitions in {seconds:.2} s");
        let mut answer = answer;
        answer["seconds"] = serde_json::json!((seconds * 1000.0).round() / 1000.0);
        answer["partitions"] = serde_json::json!(partitions);
        println!("{answer}");
        return Ok(());
    }
    let mode = if full { ExportMode::Full } else { ExportMode::Incremental };
    let run = export::run(built.app(), now, mode).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("exported {} files in {seconds:.2} s", run.files.len());
    let r = &run.recount;
    println!(
        "{}",
        serde_json::json!({
            "now": now, "full": r.full, "reports_read": r.reports_read, "recounted": r.recounted,
            "linelists_read": r.linelists_read, "hersys_cases": r.hersys_cases, "linelist_cases": r.linelist_cases,
            "seconds": (seconds * 1000.0).round() / 1000.0, "files": run.files,
        })
    );
    Ok(())
}

#[derive(clap::Subcommand)]
pub enum GraphSource {
    /// Set (or with --clear remove) the date from which a prefecture's graphs come from HER-SYS reports.
    Set {
        /// JIS prefecture code (44 or 440001).
        prefecture: String,
        /// First day (YYYY-MM-DD) counted from HER-SYS reports; earlier days come from the line list.
        #[arg(long, conflicts_with = "clear", required_unless_present = "clear")]
        hersys_from: Option<NaiveDate>,
        /// The prefecture's graphs come from its line list only.
        #[arg(long)]
        clear: bool,
        #[command(flatten)]
        backend: Backend,
    },
    /// List the switch dates that are set.
    List {
        #[command(flatten)]
        backend: Backend,
    },
}

pub async fn run_graph_source(cmd: GraphSource) -> anyhow::Result<()> {
    match cmd {
        GraphSource::Set { prefecture, hersys_from, clear, backend } => {
            let p = PrefectureCode::parse("prefecture", &prefecture).map_err(|e| anyhow::anyhow!("{e}"))?;
            let built = crate::setup::build(&backend).await?;
            built
                .app()
                .set_hersys_from(p, if clear { None } else { hersys_from })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}: {}",
                p.info().name_en,
                hersys_from.filter(|_| !clear).map_or("line list only".to_owned(), |d| format!("HER-SYS from {d}"))
            );
        }
        GraphSource::List { backend } => {
            let built = crate::setup::build(&backend).await?;
            let sources = built.app().graph_source_settings().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            for p in PrefectureCode::all() {
                if let Some(d) = sources.hersys_from(p) {
                    println!("{} {}: HER-SYS from {d}", p.as_jis(), p.info().name_en);
                }
            }
        }
    }
    Ok(())
}
