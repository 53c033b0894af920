//! Every public file, rendered in one place from the domain's typed tables: the graph series (the ministry's CSVs
//! and the page's JSON), the discrepancy reports, the linkage statistics and the manifest that names them. This
//! crate owns their paths, content types, headers and number forms; `docs/export-format.md` is their contract.
//!
//! The edge of the house: the domain returns tables and rules (which counts are small enough to hide); it knows no
//! CSV, JSON or path. The export function, the linkage function and `hersys link --summary` all render through
//! here, so a file cannot come out two ways.

pub mod graphs;
pub mod linkage;
pub mod manifest;

/// One file to write, its path relative to the export's root (the S3 bucket, or `DATA_DIR/export/` locally).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

pub const CSV: &str = "text/csv; charset=utf-8";
pub const JSON: &str = "application/json";

/// A file that could not be rendered. Writing into memory does not fail, so this is a shape serde or the csv
/// crate refused: a bug caught by this crate's tests, reported rather than panicking in a Lambda.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// The byte-order mark the ministry's CSVs start with (Excel then reads them as UTF-8).
const BOM: &str = "\u{feff}";

/// A CSV writer in the public files' dialect: `\n` line ends as in the ministry's files, quotes only where a value
/// needs them (a comma, a quote, a line break). Headers are written explicitly, so a file without rows still has
/// its header line.
fn csv_writer(bom: bool) -> csv::Writer<Vec<u8>> {
    let start = if bom { BOM.as_bytes().to_vec() } else { Vec::new() };
    csv::WriterBuilder::new().has_headers(false).terminator(csv::Terminator::Any(b'\n')).from_writer(start)
}

fn csv_bytes(writer: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, RenderError> {
    writer.into_inner().map_err(|e| RenderError::Csv(e.into_error().into()))
}

/// What a file shows of small counts, the one difference allowed between the published linkage statistics and an
/// analyst's copy of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The public files: counts of 1 to 4 persons (`domain::graphs::is_small_count`), and shares and intervals
    /// computed from them, are hidden (`*` in CSV, `null` in JSON).
    Public,
    /// An analyst's copy (`hersys link --summary`): the same files, every count shown.
    Analyst,
}

/// A cell that is a number or, hidden, `*`: the public files' placeholder for a suppressed value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Count(u64),
    /// A share or an interval bound, written with six decimals.
    Share(f64),
    Hidden,
}

pub const HIDDEN: &str = "*";

impl serde::Serialize for Cell {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Count(n) => serializer.serialize_u64(*n),
            Cell::Share(v) => serializer.serialize_str(&format!("{v:.6}")),
            Cell::Hidden => serializer.serialize_str(HIDDEN),
        }
    }
}

impl Audience {
    /// A count as this audience sees it.
    pub fn count(self, n: u64) -> Option<u64> {
        match self {
            Audience::Public => domain::app::published(n),
            Audience::Analyst => Some(n),
        }
    }

    /// A share (or an interval bound) of `count` in `base` as this audience sees it: hidden with either.
    pub fn share(self, share: f64, count: u64, base: u64) -> Option<f64> {
        match self {
            Audience::Public => domain::app::published_share(share, count, base),
            Audience::Analyst => Some(share),
        }
    }

    fn count_cell(self, n: u64) -> Cell {
        self.count(n).map_or(Cell::Hidden, Cell::Count)
    }

    fn share_cell(self, share: f64, count: u64, base: u64) -> Cell {
        self.share(share, count, base).map_or(Cell::Hidden, Cell::Share)
    }
}

/// SHA-256 over every file's path, content type and bytes, in order: pins a whole export's output in one value.
#[cfg(test)]
fn digest_of(files: &[File]) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for f in files {
        for part in [f.path.as_bytes(), f.content_type.as_bytes(), &f.bytes] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
    }
    hex::encode(hash.finalize())
}
