//! `hersys import entries FILE.csv`: the quarantine system's CSV export into the entry store, through the same
//! validation and idempotent writes as `POST /v1/entries`.
//!
//! Streaming, in constant memory whatever the file's size: a reader thread parses rows (the `csv` crate, record by
//! record) into chunks; the chunks go through a small bounded channel to `Linkage::ingest_entries`, a few in flight, so
//! that validating one chunk overlaps writing the previous one. Only counts and the first few refused rows are
//! kept.
//!
//! While the store is unavailable (throttled, timing out, failing) a chunk is sent again for up to `--retry-for`
//! seconds ([`crate::patience`]), the progress bar showing the wait.
//!
//! On the embedded store the import is a bulk load (`SqliteStores::begin_entry_import`): a file large against the
//! table goes in without the passport index, which is built once at the end (docs/benchmarks-entries.md).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use domain::app::Linkage;
use domain::entry::{BatchCounts, COLUMNS, EntryInput, MAX_BATCH, RecordOutcome};
use futures::StreamExt;
use indicatif::ProgressBar;
use serde::Serialize;
use tokio::sync::mpsc;

use embedded::PassportIndex;

use super::rows::{Layout, RowNote, describe, layout_of, progress_bar};
use crate::Backend;
use crate::patience::Patience;
use crate::plural::counted;
use crate::setup::Built;

/// Rows a chunk holds by default: large enough to amortise a transaction, small enough to keep memory low.
pub const DEFAULT_CHUNK: usize = 500;
/// How many refused (and conflicting) rows the summary names.
const SHOWN: usize = 10;
/// Bytes a row takes at least in the quarantine system's export (generated rows take 83), to guess a file's rows
/// from its size before reading it. Guessing low only keeps the passport index live more often.
const ROW_BYTES_ESTIMATE: u64 = 100;
/// Columns a file may lack: optional fields.
const OPTIONAL_COLUMNS: [&str; 2] = ["given_names", "test_date"];

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum IndexMode {
    Auto,
    Keep,
    Rebuild,
}

impl From<IndexMode> for PassportIndex {
    fn from(mode: IndexMode) -> Self {
        match mode {
            IndexMode::Auto => PassportIndex::Auto,
            IndexMode::Keep => PassportIndex::Keep,
            IndexMode::Rebuild => PassportIndex::Rebuild,
        }
    }
}

/// `hersys import entries`: the whole command, on the chosen backend.
pub async fn run(
    file: &Path,
    json: bool,
    chunk_size: usize,
    patience: Patience,
    in_flight: Option<usize>,
    passport_index: IndexMode,
    backend: &Backend,
) -> anyhow::Result<()> {
    let built = crate::setup::build_creating_store(backend).await?;
    let in_flight = in_flight.unwrap_or(if matches!(built, Built::Aws(..)) { 4 } else { 2 }).max(1);
    let chunk_size = chunk_size.clamp(1, MAX_BATCH);
    let started = Instant::now();
    let bulk = match &built {
        Built::Embedded(_, stores) => {
            let expected = std::fs::metadata(file).map(|m| m.len() / ROW_BYTES_ESTIMATE).unwrap_or(0);
            Some(stores.begin_entry_import(expected, passport_index.into()).await?)
        }
        Built::Aws(..) => None,
    };
    let mut result = import_entries(&built.wiring().linkage(), file, chunk_size, in_flight, patience).await;
    // Also after a failure: the rows stored so far need their index.
    if let Some(bulk) = bulk
        && let Err(e) = bulk.finish().await
    {
        let e = anyhow::Error::from(e).context(
            "the rows are stored, but building the passport index failed (the next start of hersys builds it)",
        );
        result = match result {
            Ok(summary) => Err((Some(summary), e)),
            Err((summary, first)) => Err((summary, first.context(e.to_string()))),
        };
    }
    match result {
        Ok(summary) => {
            summary.print(file, started.elapsed(), json);
            Ok(())
        }
        // Nothing was read: the file or its header is unusable.
        Err((None, e)) => Err(e),
        Err((Some(summary), e)) => {
            summary.print(file, started.elapsed(), json);
            Err(e.context("the import stopped; rows stored so far stay stored, and running it again is safe"))
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    rows: usize,
    created: usize,
    unchanged: usize,
    conflicts: usize,
    rejected: usize,
    first_rejected: Vec<RowNote>,
    first_conflicts: Vec<RowNote>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored_columns: Vec<String>,
}

impl Summary {
    fn add(&mut self, c: BatchCounts) {
        self.rows += c.received;
        self.created += c.created;
        self.unchanged += c.unchanged;
        self.conflicts += c.conflicts;
        self.rejected += c.rejected;
    }

    fn print(&self, file: &Path, elapsed: Duration, json: bool) {
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 { self.rows as f64 / secs } else { 0.0 };
        if json {
            super::rows::print_json(self, secs);
            return;
        }
        println!("{}: {} in {secs:.1} s ({rate:.0} rows/s)", file.display(), counted(self.rows, "row", "rows"));
        println!("  created    {}", self.created);
        println!("  unchanged  {}", self.unchanged);
        if self.conflicts > 0 {
            println!("  conflicts  {}  first: {}", self.conflicts, super::rows::notes(&self.first_conflicts));
        } else {
            println!("  conflicts  0");
        }
        if self.rejected > 0 {
            println!("  rejected   {}  first: {}", self.rejected, super::rows::notes(&self.first_rejected));
        } else {
            println!("  rejected   0");
        }
        if !self.ignored_columns.is_empty() {
            println!("  ignored columns: {}", self.ignored_columns.join(", "));
        }
    }
}

/// Rows read from the file: those to ingest, with their line numbers, and those the CSV reader itself refused.
struct Chunk {
    inputs: Vec<EntryInput>,
    lines: Vec<u64>,
    unreadable: Vec<(u64, String)>,
}

fn layout(headers: &csv::StringRecord) -> anyhow::Result<Layout> {
    layout_of(headers, COLUMNS, &OPTIONAL_COLUMNS)
}

/// Reads the file on a blocking thread, sending chunks until the end or the first I/O error.
fn read_file(
    path: &Path,
    layout_tx: std::sync::mpsc::SyncSender<anyhow::Result<Layout>>,
    tx: mpsc::Sender<anyhow::Result<Chunk>>,
    chunk_size: usize,
    bar: ProgressBar,
) {
    let opened = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()));
    let mut reader = match opened {
        Ok(f) => csv::ReaderBuilder::new().has_headers(true).buffer_capacity(1 << 20).from_reader(f),
        Err(e) => {
            let _ = layout_tx.send(Err(e));
            return;
        }
    };
    let layout = match reader
        .headers()
        .map_err(|e| anyhow::anyhow!(describe(&e)))
        .context("reading the header row")
        .and_then(layout)
    {
        Ok(l) => l,
        Err(e) => {
            let _ = layout_tx.send(Err(e));
            return;
        }
    };
    let columns = layout.columns.clone();
    let width = reader.headers().map(|h| h.len()).unwrap_or(0);
    if layout_tx.send(Ok(layout)).is_err() {
        return;
    }
    let mut record = csv::StringRecord::new();
    let mut chunk =
        Chunk { inputs: Vec::with_capacity(chunk_size), lines: Vec::with_capacity(chunk_size), unreadable: Vec::new() };
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map(|p| p.line()).unwrap_or(line);
                let mut input = EntryInput::default();
                for &(i, name) in &columns {
                    if let (Some(value), Some(slot)) = (record.get(i), input.field_mut(name))
                        && !value.is_empty()
                    {
                        *slot = Some(value.to_owned());
                    }
                }
                chunk.inputs.push(input);
                chunk.lines.push(line);
            }
            Err(e) => match e.kind() {
                csv::ErrorKind::Utf8 { err, .. } => {
                    let column = columns.iter().find(|(i, _)| *i == err.field()).map(|(_, c)| *c).unwrap_or("row");
                    chunk.unreadable.push((line, column.to_owned()));
                }
                csv::ErrorKind::UnequalLengths { .. } => {
                    chunk.unreadable.push((line, format!("row (not {width} fields)")))
                }
                _ => {
                    let _ = tx.blocking_send(
                        Err(anyhow::anyhow!("{}", describe(&e)))
                            .with_context(|| format!("reading {} near line {line}", path.display())),
                    );
                    return;
                }
            },
        }
        if chunk.inputs.len() + chunk.unreadable.len() >= chunk_size {
            bar.set_position(reader.position().byte());
            let full = std::mem::replace(
                &mut chunk,
                Chunk {
                    inputs: Vec::with_capacity(chunk_size),
                    lines: Vec::with_capacity(chunk_size),
                    unreadable: Vec::new(),
                },
            );
            if tx.blocking_send(Ok(full)).is_err() {
                return;
            }
        }
    }
    bar.set_position(reader.position().byte());
    if !chunk.inputs.is_empty() || !chunk.unreadable.is_empty() {
        let _ = tx.blocking_send(Ok(chunk));
    }
}

/// Imports the file; on a failure, returns what was done so far with the error.
async fn import_entries(
    linkage: &Linkage,
    path: &Path,
    chunk_size: usize,
    in_flight: usize,
    patience: Patience,
) -> Result<Summary, (Option<Summary>, anyhow::Error)> {
    let mut summary = Summary::default();
    let bar = progress_bar(path);
    let (layout_tx, layout_rx) = std::sync::mpsc::sync_channel(1);
    let (tx, rx) = mpsc::channel::<anyhow::Result<Chunk>>(in_flight + 1);
    let reader = {
        let (path, bar) = (path.to_owned(), bar.clone());
        tokio::task::spawn_blocking(move || read_file(&path, layout_tx, tx, chunk_size, bar))
    };
    let layout = tokio::task::spawn_blocking(move || layout_rx.recv())
        .await
        .map_err(anyhow::Error::from)
        .and_then(|r| r.map_err(|_| anyhow::anyhow!("the CSV reader stopped")))
        .and_then(|r| r);
    match layout {
        Ok(layout) => summary.ignored_columns = layout.ignored,
        Err(e) => {
            bar.finish_and_clear();
            return Err((None, e));
        }
    }

    let chunks = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let results = chunks
        .map(|chunk| {
            let (linkage, bar) = (linkage.clone(), bar.clone());
            async move {
                let chunk = chunk?;
                let outcome = patience.run(&bar, || linkage.ingest_entries(&chunk.inputs)).await?;
                anyhow::Ok((chunk, outcome))
            }
        })
        .buffered(in_flight);
    let mut results = std::pin::pin!(results);
    let mut failure = None;
    while let Some(result) = results.next().await {
        let (chunk, outcome) = match result {
            Ok(done) => done,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        summary.add(outcome.counts());
        let mut refused: Vec<RowNote> = Vec::new();
        for r in outcome.results {
            let line = chunk.lines.get(r.index).copied().unwrap_or(0);
            match r.outcome {
                RecordOutcome::Rejected(fields) if summary.first_rejected.len() < SHOWN => {
                    refused.push(RowNote { line, fields: fields.into_iter().map(|f| f.field).collect() });
                }
                RecordOutcome::Conflict(differing) if summary.first_conflicts.len() < SHOWN => summary
                    .first_conflicts
                    .push(RowNote { line, fields: differing.into_iter().map(str::to_owned).collect() }),
                _ => {}
            }
        }
        for (line, field) in chunk.unreadable {
            summary.rows += 1;
            summary.rejected += 1;
            refused.push(RowNote { line, fields: vec![field] });
        }
        refused.sort_by_key(|n| n.line);
        let room = SHOWN.saturating_sub(summary.first_rejected.len());
        summary.first_rejected.extend(refused.into_iter().take(room));
        bar.set_message(counted(summary.rows, "row", "rows"));
    }
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err((Some(summary), e));
    }
    if let Err(e) = reader.await {
        return Err((Some(summary), e.into()));
    }
    Ok(summary)
}
