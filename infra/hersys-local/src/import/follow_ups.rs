//! `hersys import follow-ups FILE.csv`: the entrants' follow-up system's CSV export into the follow-up store,
//! through the same validation and re-send rule as `POST /v1/follow-ups`.
//!
//! Read and written a chunk at a time, in order (a later row of the file is a later send: see
//! `Linkage::ingest_follow_ups` for an id repeated within one chunk). Only counts and the first few refused rows are
//! kept, so memory stays constant whatever the file's size.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use domain::app::Linkage;
use domain::entry::MAX_BATCH;
use domain::follow_up::{COLUMNS, FollowUpInput, FollowUpWrite};
use serde::Serialize;

use super::rows::{RowNote, describe, layout_of, progress_bar};
use crate::patience::Patience;
use crate::plural::counted;

/// Rows a chunk holds: one request's worth.
const CHUNK: usize = MAX_BATCH;
/// How many refused (and stale or conflicting) rows the summary names.
const SHOWN: usize = 10;
/// Columns a file may lack: optional fields.
const OPTIONAL_COLUMNS: [&str; 5] =
    ["given_names", "stay_prefecture_code", "sponsor_code", "last_check_in_date", "symptoms_reported_on"];

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    rows: usize,
    created: usize,
    replaced: usize,
    unchanged: usize,
    stale: usize,
    conflicts: usize,
    rejected: usize,
    first_rejected: Vec<RowNote>,
    first_stale_or_conflicts: Vec<RowNote>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored_columns: Vec<String>,
}

impl Summary {
    fn print(&self, file: &Path, secs: f64, json: bool) {
        if json {
            super::rows::print_json(self, secs);
            return;
        }
        println!("{}: {} in {secs:.1} s", file.display(), counted(self.rows, "row", "rows"));
        println!("  created    {}", self.created);
        println!("  replaced   {}", self.replaced);
        println!("  unchanged  {}", self.unchanged);
        println!("  stale      {}", self.stale);
        println!("  conflicts  {}", self.conflicts);
        if !self.first_stale_or_conflicts.is_empty() {
            println!("    first stale or conflicting: {}", super::rows::notes(&self.first_stale_or_conflicts));
        }
        println!("  rejected   {}", self.rejected);
        if !self.first_rejected.is_empty() {
            println!("    first rejected: {}", super::rows::notes(&self.first_rejected));
        }
        if !self.ignored_columns.is_empty() {
            println!("  ignored columns: {}", self.ignored_columns.join(", "));
        }
    }
}

/// Imports the file and prints the summary (also of what was done before a failure).
pub async fn run(linkage: &Linkage, file: &Path, json: bool, patience: Patience) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut summary = Summary::default();
    let result = import(linkage, file, &mut summary, patience).await;
    if summary.rows > 0 || result.is_ok() {
        summary.print(file, started.elapsed().as_secs_f64(), json);
    }
    result.map_err(|e| {
        if summary.rows > 0 {
            e.context("the import stopped; rows stored so far stay stored, and running it again is safe")
        } else {
            e
        }
    })
}

async fn import(linkage: &Linkage, path: &Path, summary: &mut Summary, patience: Patience) -> anyhow::Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(file);
    let headers = reader.headers().map_err(|e| anyhow::anyhow!(describe(&e))).context("reading the header row")?;
    let layout = layout_of(headers, COLUMNS, &OPTIONAL_COLUMNS)?;
    let columns = layout.columns;
    summary.ignored_columns = layout.ignored;
    let bar = progress_bar(path);
    let mut record = csv::StringRecord::new();
    let mut inputs: Vec<FollowUpInput> = Vec::with_capacity(CHUNK);
    let mut lines: Vec<u64> = Vec::with_capacity(CHUNK);
    loop {
        let line = reader.position().line();
        let more = match reader.read_record(&mut record) {
            Ok(more) => more,
            Err(e) if matches!(e.kind(), csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }) => {
                summary.rows += 1;
                summary.rejected += 1;
                if summary.first_rejected.len() < SHOWN {
                    summary.first_rejected.push(RowNote::new(line, vec![describe(&e)]));
                }
                continue;
            }
            Err(e) => {
                bar.finish_and_clear();
                return Err(anyhow::anyhow!("{}", describe(&e)))
                    .with_context(|| format!("reading {} near line {line}", path.display()));
            }
        };
        if more {
            let mut input = FollowUpInput::default();
            for &(i, name) in &columns {
                if let (Some(value), Some(slot)) = (record.get(i), input.field_mut(name))
                    && !value.is_empty()
                {
                    *slot = Some(value.to_owned());
                }
            }
            inputs.push(input);
            lines.push(record.position().map(|p| p.line()).unwrap_or(line));
        }
        if inputs.len() == CHUNK || (!more && !inputs.is_empty()) {
            let stored = patience.run(&bar, || linkage.ingest_follow_ups(&inputs)).await;
            let stored = match stored {
                Ok(stored) => stored,
                Err(e) => {
                    bar.finish_and_clear();
                    return Err(e.into());
                }
            };
            for r in stored {
                let line = lines.get(r.index).copied().unwrap_or(0);
                summary.rows += 1;
                let (count, notes) = match &r.outcome {
                    Ok(FollowUpWrite::Created) => (&mut summary.created, None),
                    Ok(FollowUpWrite::Replaced) => (&mut summary.replaced, None),
                    Ok(FollowUpWrite::Unchanged) => (&mut summary.unchanged, None),
                    Ok(FollowUpWrite::Stale) => (&mut summary.stale, Some(&mut summary.first_stale_or_conflicts)),
                    Ok(FollowUpWrite::Conflict) => {
                        (&mut summary.conflicts, Some(&mut summary.first_stale_or_conflicts))
                    }
                    Err(_) => (&mut summary.rejected, Some(&mut summary.first_rejected)),
                };
                *count += 1;
                if let Some(notes) = notes.filter(|n| n.len() < SHOWN) {
                    let fields = r.outcome.err().unwrap_or_default().into_iter().map(|f| f.field).collect();
                    notes.push(RowNote::new(line, fields));
                }
            }
            inputs.clear();
            lines.clear();
            bar.set_position(reader.position().byte());
            bar.set_message(counted(summary.rows, "row", "rows"));
        }
        if !more {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(())
}
