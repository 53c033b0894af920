//! The graph export's local commands: `hersys export` (one run of the export function, or a full export in
//! partitions) and `hersys graph-source` (a prefecture's switch date to HER-SYS).

use std::time::Instant as Clock;

use anyhow::Context;
use chrono::NaiveDate;
use domain::app::ExportMode;
use domain::prefecture::PrefectureCode;

use crate::Backend;
use crate::plural::counted;

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
        let answer =
            export::full::run_partitioned(&export::Services::new(built.wiring())?, Some(partitions), 3, Some(now))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        let seconds = started.elapsed().as_secs_f64();
        eprintln!("exported in {} in {seconds:.2} s", counted(partitions, "partition", "partitions"));
        let mut answer = answer;
        answer["seconds"] = serde_json::json!((seconds * 1000.0).round() / 1000.0);
        answer["partitions"] = serde_json::json!(partitions);
        println!("{answer}");
        return Ok(());
    }
    let mode = if full { ExportMode::Full } else { ExportMode::Incremental };
    let run =
        export::run(&export::Services::new(built.wiring())?, now, mode).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("exported {} in {seconds:.2} s", counted(run.files.len(), "file", "files"));
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
                .wiring()
                .graph_sources()
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
            let sources =
                built.wiring().graph_sources().graph_source_settings().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            for p in PrefectureCode::all() {
                if let Some(d) = sources.hersys_from(p) {
                    println!("{} {}: HER-SYS from {d}", p.as_jis(), p.info().name_en);
                }
            }
        }
    }
    Ok(())
}
