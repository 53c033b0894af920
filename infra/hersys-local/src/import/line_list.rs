//! `hersys import linelist FILE.csv`: a municipality's published line list (陽性患者属性 CSV) into the graph
//! sources, streaming (constant memory), for the graph export.

use std::path::Path;
use std::time::Instant as Clock;

use anyhow::Context;
use domain::app::GraphSources;
use domain::graphs::linelist::{LineListCase, LineListHeader};
use serde::Serialize;

use crate::Backend;
use crate::patience::Patience;
use crate::plural::counted;

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
pub async fn import_linelist(
    sources: &GraphSources,
    path: &Path,
    patience: Patience,
) -> anyhow::Result<LineListSummary> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).buffer_capacity(1 << 20).from_reader(file);
    let headers =
        reader.headers().map_err(|_| anyhow::anyhow!("the header row is unreadable (not UTF-8 CSV?)"))?.clone();
    let header = LineListHeader::from_columns(&headers.iter().collect::<Vec<_>>())
        .map_err(|e| anyhow::anyhow!("header: {e}"))?;
    let mut summary = LineListSummary::default();
    let bar = super::rows::progress_bar(path);
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
            patience.run(&bar, || sources.import_linelist(&chunk)).await?;
            summary.imported += chunk.len();
            chunk.clear();
        }
    }
    if !chunk.is_empty() {
        patience.run(&bar, || sources.import_linelist(&chunk)).await?;
        summary.imported += chunk.len();
    }
    bar.finish_and_clear();
    Ok(summary)
}

/// `hersys import linelist`: the whole command, on the chosen backend.
pub async fn run(file: &Path, json: bool, patience: Patience, backend: &Backend) -> anyhow::Result<()> {
    let built = crate::setup::build_creating_store(backend).await?;
    let started = Clock::now();
    let summary = import_linelist(&built.wiring().graph_sources(), file, patience).await?;
    if json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        let rows = counted(summary.rows, "row", "rows");
        println!("{}: {rows} in {:.1} s", file.display(), started.elapsed().as_secs_f64());
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
