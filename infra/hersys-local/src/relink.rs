//! `hersys relink --partitions N [--estimate]`: a full re-link split into N partitions run at once and combined,
//! through the linkage function's full-linkage steps, as the state machine of template.yaml runs them in AWS; with
//! `--estimate`, after a new model version estimated from a sample (the daily run at national scale). (The
//! single-process full re-link is the scheduled event `{"mode": "full"}`: `hersys invoke linkage --event
//! infra/events/linkage-full.json`.)

use std::time::Instant as Clock;

use anyhow::Context;

use crate::Backend;
use crate::plural::counted;

#[derive(clap::Args)]
pub struct Args {
    /// Partitions run at once (1 to 1000); default: as many as the work needs (each within 300 s of a vCPU, the
    /// state machine's rule: docs/operations.md).
    #[arg(long)]
    partitions: Option<u32>,
    /// Estimate a new model version from a sample first (the daily run at national scale; docs/linkage.md).
    #[arg(long)]
    estimate: bool,
    /// With --estimate: candidate reports in the sample, at least.
    #[arg(long, requires = "estimate")]
    sample_reports: Option<usize>,
    /// With --estimate: entry records in the sample, at least.
    #[arg(long, requires = "estimate")]
    sample_entries: Option<usize>,
    /// The statistics' "now" (RFC 3339); default: the clock.
    #[arg(long)]
    now: Option<String>,
    #[command(flatten)]
    backend: Backend,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let now = args
        .now
        .map(|text| {
            chrono::DateTime::parse_from_rfc3339(&text)
                .context("--now must be an RFC 3339 instant, e.g. 2021-10-01T00:00:00Z")
                .map(|t| t.with_timezone(&chrono::Utc))
        })
        .transpose()?;
    let estimate = args.estimate.then(|| {
        let default = domain::app::EstimateSample::default();
        domain::app::EstimateSample {
            reports: args.sample_reports.unwrap_or(default.reports),
            entries: args.sample_entries.unwrap_or(default.entries),
        }
    });
    let built = crate::setup::build(&args.backend).await?;
    let started = Clock::now();
    // Each partition in a task of its own, tried up to three times (as the state machine's Retry).
    let input = linkage::full::RunInput { partitions: args.partitions, estimate };
    let (relink, publisher) = (built.wiring().relink()?, built.wiring().publisher()?);
    let mut answer =
        linkage::full::run_partitioned(&relink, &publisher, input, 3, now).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("re-linked in {} in {seconds:.2} s", counted(answer["partitions"].clone(), "partition", "partitions"));
    answer["seconds"] = serde_json::json!((seconds * 1000.0).round() / 1000.0);
    println!("{answer}");
    Ok(())
}
