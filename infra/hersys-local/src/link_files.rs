//! `hersys link --entries ENTRIES.csv --reports REPORTS.csv --out LINKS.csv`: the offline linkage for
//! analysts. Writes `LINKS.csv` (`report_id,entry_id,score,method`, a report at most once) and the review band
//! beside it (`LINKS.review.csv`, with the runner-up's score when another person came close). Prints counts and
//! timings to stderr, never a personal value. (Precision and recall against generated truth: `hersys-bench
//! evaluate`.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use linkage_engine::{
    self as linkage, Band, Decision, EntryFields, LinkEntry, LinkReport, Options, ReportFields, Thresholds,
};
use rayon::prelude::*;

#[cfg(test)]
mod tests {
    use super::pieces;

    #[test]
    fn pieces_are_whole_lines_and_cover_the_body() {
        for data in [&b"h\n"[..], b"h\n1,x\n", b"h\n1\n22\n333\n4444\n55555", b"h", b""] {
            for parts in 1..6 {
                let (header, bodies) = pieces(data, parts);
                let joined: Vec<u8> = bodies.concat();
                assert_eq!([header, &joined[..]].concat(), data);
                // every piece ends at a line end, or at the end of the data
                let mut offset = header.len();
                for b in &bodies {
                    offset += b.len();
                    assert!(b.is_empty() || b.ends_with(b"\n") || offset == data.len());
                }
            }
        }
    }
}

#[derive(clap::Args)]
pub struct Args {
    /// The entry records: a CSV with a header naming at least entry_id, passport_number, nationality, family_name,
    /// given_names, date_of_birth, sex and entry_date (the quarantine system's export; --summary reads more).
    #[arg(long)]
    entries: PathBuf,
    /// The outbreak reports: a CSV with a header naming at least report_id, passport_number, nationality, name,
    /// name_kana, date_of_birth, sex and diagnosis_date (--summary reads more).
    #[arg(long)]
    reports: PathBuf,
    /// Where to write the links (report_id,entry_id,score,method); the review band goes beside it, in
    /// NAME.review.csv.
    #[arg(long)]
    out: PathBuf,
    /// Score (bits) at or above which a report is linked.
    #[arg(long, default_value_t = Thresholds::default().link)]
    link_threshold: f32,
    /// Score (bits) at or above which a report goes to review.
    #[arg(long, default_value_t = Thresholds::default().review)]
    review_threshold: f32,
    /// A best candidate whose runner-up (another person) is within this many bits goes to review.
    #[arg(long, default_value_t = Thresholds::default().margin)]
    margin: f32,
    /// Print the model's m and u values and weights.
    #[arg(long)]
    verbose: bool,
    /// Also write the linkage statistics (entrants by week, port and nationality; diagnosed within 28 days of a
    /// negative entry test; days from entry to diagnosis; passport and link shares by prefecture) as CSV here: the
    /// published csv/linkage_*.csv files (same names, headers and precision), except that counts of 1 to 4 and the
    /// shares computed from them are shown, where the published files hide them as `*`.
    #[arg(long)]
    summary: Option<PathBuf>,
}

/// Ids of one side, in one buffer (no allocation per row).
#[derive(Default)]
struct Ids {
    text: String,
    ends: Vec<u32>,
}

impl Ids {
    fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len() as u32);
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.ends.get(i).map_or("", |&end| &self.text[start..end as usize])
    }

    fn append(&mut self, other: Ids) {
        let base = self.text.len() as u32;
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.into_iter().map(|e| e + base));
    }
}

fn columns(header: &csv::ByteRecord, wanted: &[&str], file: &Path) -> anyhow::Result<Vec<usize>> {
    wanted
        .iter()
        .map(|w| {
            header.iter().position(|h| h == w.as_bytes()).with_context(|| format!("{}: no column {w}", file.display()))
        })
        .collect()
}

/// Splits `data` (after its header line) into about `parts` pieces at line ends. Records hold no line breaks
/// inside quotes (the quarantine system's export and the generator write none), so a piece is whole rows.
fn pieces(data: &[u8], parts: usize) -> (&[u8], Vec<&[u8]>) {
    let header_end = data.iter().position(|&b| b == b'\n').map_or(data.len(), |i| i + 1);
    let (header, body) = data.split_at(header_end);
    let mut out = Vec::new();
    let mut start = 0;
    for k in 1..=parts {
        let mut end = (body.len() * k / parts).max(start);
        // move to just after a line end (an empty piece stays empty)
        while end > start && end < body.len() && body[end - 1] != b'\n' {
            end += 1;
        }
        if k == parts {
            end = body.len();
        }
        out.push(&body[start..end]);
        start = end;
    }
    (header, out)
}

fn field(rec: &csv::ByteRecord, i: usize) -> &str {
    rec.get(i).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("")
}

/// Reads a CSV file in parallel pieces; `row` turns one record into a value (or `None` to skip it).
fn read_parallel<T: Send>(
    path: &Path,
    wanted: &[&str],
    row: impl Fn(&csv::ByteRecord, &[usize]) -> Option<T> + Sync,
) -> anyhow::Result<(Vec<T>, Ids, usize)> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let (header_line, bodies) = pieces(&data, rayon::current_num_threads().max(1) * 4);
    let mut header = csv::ByteRecord::new();
    csv::ReaderBuilder::new().has_headers(false).from_reader(header_line).read_byte_record(&mut header)?;
    let cols = columns(&header, wanted, path)?;
    let id_col = cols[0];
    let results: Vec<anyhow::Result<(Vec<T>, Ids, usize)>> = bodies
        .par_iter()
        .map(|body| {
            let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(*body);
            let mut rec = csv::ByteRecord::new();
            let (mut values, mut ids, mut skipped) = (Vec::new(), Ids::default(), 0usize);
            while reader.read_byte_record(&mut rec)? {
                match row(&rec, &cols) {
                    Some(v) => {
                        values.push(v);
                        ids.push(field(&rec, id_col));
                    }
                    None => skipped += 1,
                }
            }
            Ok((values, ids, skipped))
        })
        .collect();
    let (mut values, mut ids, mut skipped) = (Vec::new(), Ids::default(), 0);
    for r in results {
        let (v, i, s) = r?;
        values.extend(v);
        ids.append(i);
        skipped += s;
    }
    Ok((values, ids, skipped))
}

const ENTRY_COLUMNS: [&str; 8] =
    ["entry_id", "passport_number", "nationality", "family_name", "given_names", "date_of_birth", "sex", "entry_date"];
const REPORT_COLUMNS: [&str; 8] =
    ["report_id", "passport_number", "nationality", "name", "name_kana", "date_of_birth", "sex", "diagnosis_date"];

fn read_entries(path: &Path) -> anyhow::Result<(Vec<LinkEntry>, Ids, usize)> {
    read_parallel(path, &ENTRY_COLUMNS, |rec, c| {
        LinkEntry::new(&EntryFields {
            passport_number: field(rec, c[1]),
            nationality: field(rec, c[2]),
            family_name: field(rec, c[3]),
            given_names: field(rec, c[4]),
            date_of_birth: field(rec, c[5]),
            sex: field(rec, c[6]),
            entry_date: field(rec, c[7]),
        })
    })
}

fn read_reports(path: &Path) -> anyhow::Result<(Vec<LinkReport>, Ids, usize)> {
    read_parallel(path, &REPORT_COLUMNS, |rec, c| {
        LinkReport::new(&ReportFields {
            passport_number: field(rec, c[1]),
            nationality: field(rec, c[2]),
            name: field(rec, c[3]),
            name_kana: field(rec, c[4]),
            date_of_birth: field(rec, c[5]),
            sex: field(rec, c[6]),
            diagnosis_date: field(rec, c[7]),
        })
    })
}

fn write_decisions(
    path: &Path,
    decisions: &[&Decision],
    reports: &Ids,
    entries: &Ids,
    review: bool,
) -> anyhow::Result<()> {
    let mut w =
        std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?);
    writeln!(w, "report_id,entry_id,score,method{}", if review { ",runner_up_score" } else { "" })?;
    for d in decisions {
        write!(w, "{},{},{:.2},{}", reports.get(d.report), entries.get(d.entry), d.score, d.method())?;
        if review {
            write!(w, ",{}", d.runner_up.map(|s| format!("{s:.2}")).unwrap_or_default())?;
        }
        writeln!(w)?;
    }
    w.flush()?;
    Ok(())
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let (entries, reports) = rayon::join(|| read_entries(&args.entries), || read_reports(&args.reports));
    let (entries, entry_ids, bad_entries) = entries?;
    let (reports, report_ids, bad_reports) = reports?;
    if entries.len() > linkage::MAX_ENTRIES {
        bail!("{} entries: at most {} can be linked in one run", entries.len(), linkage::MAX_ENTRIES);
    }
    let read = started.elapsed();
    let options = Options {
        thresholds: Thresholds { link: args.link_threshold, review: args.review_threshold, margin: args.margin },
        ..Options::default()
    };
    let (decisions, model, stats) = linkage::link(&entries, &reports, &options);
    let linked_at = started.elapsed();
    let links: Vec<&Decision> = decisions.iter().filter(|d| d.band == Band::Link).collect();
    let reviews: Vec<&Decision> = decisions.iter().filter(|d| d.band == Band::Review).collect();
    let review_out = publish::linkage::review_band_path(&args.out);
    write_decisions(&args.out, &links, &report_ids, &entry_ids, false)?;
    write_decisions(&review_out, &reviews, &report_ids, &entry_ids, true)?;
    let total = started.elapsed();
    eprintln!(
        "entries {} (skipped {bad_entries}), reports {} (skipped {bad_reports}); \
         index keys {}, candidate pairs {}, EM iterations {}",
        stats.entries, stats.reports, stats.index_keys, stats.candidate_pairs, stats.em_iterations
    );
    eprintln!("links {} -> {}, reviews {} -> {}", stats.links, args.out.display(), stats.reviews, review_out.display());
    eprintln!(
        "time: read {:.2} s, link {:.2} s, write {:.2} s, total {:.2} s",
        read.as_secs_f64(),
        (linked_at - read).as_secs_f64(),
        (total - linked_at).as_secs_f64(),
        total.as_secs_f64()
    );
    if args.verbose {
        eprintln!(
            "link phases (cumulative ms): index+u {}, candidates {}, EM {}, decisions {}",
            stats.phase_ms[0], stats.phase_ms[1], stats.phase_ms[2], stats.phase_ms[3]
        );
        eprint!("{}", model.describe());
    }
    if let Some(dir) = &args.summary {
        let pairs: Vec<(usize, usize)> = links.iter().map(|d| (d.report, d.entry)).collect();
        crate::link_files_summary::write(dir, &args.entries, &args.reports, &pairs)?;
    }
    Ok(())
}
