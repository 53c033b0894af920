//! `hersys links --out FILE.csv`: the product's own stored linkage decisions (those of the exact step, the scheduled
//! runs and the health centres' reviews) as a CSV, so that they can be scored against a truth file
//! (`hersys-bench evaluate --links FILE.csv`), as the offline `hersys link`'s LINKS.csv is.
//!
//! Ids, scores and methods only: no personal value leaves the store through this file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use domain::linkage_records::{LinkBand, LinkDecision};
use domain::report::ReportId;
use serde::Serialize;

use crate::Backend;
use crate::plural::counted;

#[derive(clap::Args)]
pub struct Args {
    /// Where to write the CSV: report_id,health_center_code,case_number,entry_id,band,score,method, one row per
    /// report with a link or a pending review (band `link` or `review`); a confirmed review counts as `link`, a
    /// rejected one is left out (its answer is "no link").
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    backend: Backend,
}

const HEADER: [&str; 7] = ["report_id", "health_center_code", "case_number", "entry_id", "band", "score", "method"];

/// One row of the file, in the order of [`HEADER`].
#[derive(Debug, Serialize)]
struct Row<'a> {
    report_id: &'a str,
    health_center_code: &'a str,
    case_number: &'a str,
    entry_id: &'a str,
    band: &'static str,
    score: String,
    method: &'a str,
}

/// The band a decision stands for in the file (as the API shows it), `None` for a decision that links nothing.
fn band_of(decision: &LinkDecision) -> Option<&'static str> {
    decision.standing().map(LinkBand::as_str)
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let built = crate::setup::build(&args.backend).await?;
    // An operator's export at the composition root: it reads the stores as they are.
    let ports = &built.wiring().ports;
    let mut decisions = ports.links.all_decisions().await?;
    decisions.retain(|d| band_of(d).is_some());
    decisions.sort_by(|a, b| a.report_id.cmp(&b.report_id));
    // Case numbers come from the reports, read in batches by id (not a scan of the reports).
    let ids: Vec<ReportId> = decisions.iter().map(|d| d.report_id.clone()).collect();
    let mut case_numbers = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(100) {
        for report in ports.reports.get_reports(chunk).await? {
            case_numbers.insert(report.id.clone(), report.case_number.unwrap_or_default());
        }
    }
    let written = write(&args.out, &decisions, &case_numbers)?;
    let links = decisions.iter().filter(|d| band_of(d) == Some("link")).count();
    println!(
        "{}: {} ({}, {})",
        args.out.display(),
        counted(written, "decision", "decisions"),
        counted(links, "link", "links"),
        counted(written - links, "review", "reviews")
    );
    Ok(())
}

fn write(
    path: &Path,
    decisions: &[LinkDecision],
    case_numbers: &std::collections::HashMap<ReportId, String>,
) -> anyhow::Result<usize> {
    let mut out = csv::WriterBuilder::new()
        .has_headers(false)
        .from_path(path)
        .with_context(|| format!("creating {}", path.display()))?;
    // Written by hand so that a store without decisions still gives a file with its header.
    out.write_record(HEADER)?;
    let mut written = 0;
    for d in decisions {
        let Some(band) = band_of(d) else { continue };
        out.serialize(Row {
            report_id: d.report_id.as_str(),
            health_center_code: &d.health_center_code,
            case_number: case_numbers.get(&d.report_id).map_or("", String::as_str),
            entry_id: &d.entry_id,
            band,
            score: format!("{:.3}", d.score),
            method: &d.method,
        })?;
        written += 1;
    }
    out.flush().with_context(|| format!("writing {}", path.display()))?;
    Ok(written)
}
