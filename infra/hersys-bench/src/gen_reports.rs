//! The two commands that store synthetic reports for a real `hersys export`: `hersys-bench gen reports` and
//! `hersys-bench gen changes` (docs/benchmarks-graphs.md). The reports come from [`synthetic::reports::Generator`].

use std::path::Path;
use std::time::Instant as Clock;

use chrono::{Days, Utc};
use domain::prefecture::PrefectureCode;
use domain::report::CaseReport;
use platform::Config;
use synthetic::reports::{Generator, first_day};

/// `hersys-bench gen reports N`: stores N generated reports in the embedded store (bulk transactions of 20,000) and
/// switches every prefecture to HER-SYS from the first day, ready for `hersys export`.
pub async fn store(count: u64, days: u64, data_dir: &Path) -> anyhow::Result<()> {
    let generator = Generator::new(days)?;
    let config = Config::from_env_with_secret(vec![7; 32])?;
    let (wiring, stores) = embedded::embedded_wiring(data_dir, platform::settings(&config)?)?;
    let started = Clock::now();
    let mut batch = Vec::with_capacity(20_000);
    for i in 0..count {
        batch.push(generator.report(i));
        if batch.len() == 20_000 {
            stores.insert_reports_in_bulk(&batch)?;
            batch.clear();
        }
    }
    stores.insert_reports_in_bulk(&batch)?;
    for p in PrefectureCode::all() {
        wiring.graph_sources().set_hersys_from(p, Some(first_day())).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    eprintln!("stored {count} reports in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// `hersys-bench gen changes N`: writes N reports now, as a busy day of HER-SYS would: half new reports, half
/// changes to stored reports picked at random (each released a day later than stored, through `update_report` with its
/// version), so that the next `hersys export` has N reports to count.
pub async fn changes(count: u64, days: u64, seed: u64, data_dir: &Path) -> anyhow::Result<()> {
    let generator = Generator::new(days)?;
    let config = Config::from_env_with_secret(vec![7; 32])?;
    let (wiring, stores) = embedded::embedded_wiring(data_dir, platform::settings(&config)?)?;
    let started = Clock::now();
    let now = Utc::now();
    let fresh = count / 2;
    // Draws far from those of `gen reports` (0..N), so the new reports are new.
    let base = (1u64 << 40) + seed * (1u64 << 32);
    let new: Vec<CaseReport> = (0..fresh)
        .map(|i| {
            let mut r = generator.report(base + i);
            r.created_at = now;
            r.updated_at = now;
            r
        })
        .collect();
    stores.insert_reports_in_bulk(&new)?;
    let mut changed = 0u64;
    for stored in stores.reports_at_random(count - fresh, seed)? {
        let mut report = stored.value;
        if let Some(last) = report.status_history.last_mut() {
            last.effective_date = last.effective_date + Days::new(1);
        }
        report.updated_at = now;
        wiring.ports.reports.update_report(&report, stored.version).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        changed += 1;
    }
    eprintln!("wrote {fresh} new and {changed} changed reports in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
