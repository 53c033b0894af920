//! What the importers share: where each known column sits in a file's header, the note on a refused row (its line
//! and the fields at fault, never a value), the csv crate's errors without the row they quote, and the progress bar.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// A refused or conflicting row: its line in the file (the header is line 1) and the fields at fault.
#[derive(Debug, Clone, Serialize)]
pub struct RowNote {
    pub(crate) line: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) fields: Vec<String>,
}

impl RowNote {
    pub(crate) fn new(line: u64, fields: Vec<String>) -> Self {
        RowNote { line, fields }
    }
}

impl std::fmt::Display for RowNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.fields.is_empty() {
            write!(f, "line {}", self.line)
        } else {
            write!(f, "line {} ({})", self.line, self.fields.join(", "))
        }
    }
}

/// Where each known column sits in the file's rows.
pub(crate) struct Layout {
    pub(crate) columns: Vec<(usize, &'static str)>,
    pub(crate) ignored: Vec<String>,
}

/// The layout of a file whose header names (in any order, any case, with a BOM or not) the record's `known`
/// columns, all but `optional` required; other columns are ignored and named.
pub(crate) fn layout_of(
    headers: &csv::StringRecord,
    known: &'static [&'static str],
    optional: &[&str],
) -> anyhow::Result<Layout> {
    let mut columns = Vec::new();
    let mut ignored = Vec::new();
    for (i, raw) in headers.iter().enumerate() {
        let name = raw.trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
        match known.iter().find(|c| **c == name) {
            Some(c) if columns.iter().all(|(_, seen)| seen != c) => columns.push((i, *c)),
            Some(c) => anyhow::bail!("the header names the column {c} twice"),
            None => ignored.push(name),
        }
    }
    let missing: Vec<&str> =
        known.iter().filter(|c| !optional.contains(c) && columns.iter().all(|(_, seen)| seen != *c)).copied().collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "the header row lacks the {} {} (expected: {})",
            crate::plural::noun(&missing.len(), "column", "columns"),
            missing.join(", "),
            known.join(",")
        );
    }
    Ok(Layout { columns, ignored })
}

/// Prints an import's summary as one JSON object, with its `seconds` (to the millisecond).
pub(crate) fn print_json(summary: &impl serde::Serialize, secs: f64) {
    let mut value = serde_json::to_value(summary).unwrap_or_default();
    if let Some(o) = value.as_object_mut() {
        o.insert("seconds".into(), serde_json::json!((secs * 1000.0).round() / 1000.0));
    }
    println!("{value}");
}

/// Row notes as one line: "line 3: field; line 7: field".
pub(crate) fn notes(list: &[RowNote]) -> String {
    list.iter().map(RowNote::to_string).collect::<Vec<_>>().join("; ")
}

/// The csv crate's message for a row error can quote the row; only the kind is kept.
pub(crate) fn describe(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => format!("I/O error: {}", io.kind()),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_owned(),
        csv::ErrorKind::UnequalLengths { .. } => "rows of unequal length".to_owned(),
        _ => "unreadable CSV".to_owned(),
    }
}

pub(crate) fn progress_bar(path: &Path) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let total = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta}) {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
