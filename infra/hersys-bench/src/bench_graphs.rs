//! Graph-export benchmarks (docs/benchmarks-graphs.md) on synthetic HER-SYS reports ([`Generator`]) spread over N
//! days: streamed straight into the series computation (`hersys-bench graphs`: facts, tally, series, rendering; no
//! store), or through the AWS adapters on the emulators (`hersys-bench export-emulators`). Stored in the embedded
//! store for a real `hersys export` by `hersys-bench gen reports` ([`crate::gen_reports`]).

use std::path::PathBuf;
use std::time::Instant as Clock;

use chrono::{Days, Utc};
use domain::graphs::{CaseFact, Sources, Tally, build_series};
use domain::prefecture::PrefectureCode;
use domain::report::ReportId;

use synthetic::reports::{Generator, first_day};

/// Peak resident set size of this process so far (VmHWM), in MiB.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `hersys-bench graphs`: the export's computation and rendering from `count` generated reports, streamed.
pub fn pipeline(count: u64, days: u64, out: Option<PathBuf>) -> anyhow::Result<()> {
    let generator = Generator::new(days)?;
    let started = Clock::now();
    let mut tally = Tally::new();
    for i in 0..count {
        if let Some(fact) = CaseFact::from_report(&generator.report(i)) {
            tally.add(&fact);
        }
    }
    let tallied = started.elapsed().as_secs_f64();
    let mut sources = Sources::default();
    PrefectureCode::all().for_each(|p| sources.set(p, Some(first_day())));
    let as_of = first_day() + Days::new(days + 30);
    let t1 = Clock::now();
    let series = build_series(&tally, &Tally::new(), &sources, as_of);
    let built = t1.elapsed().as_secs_f64();
    let t2 = Clock::now();
    let now = Utc::now();
    let files = publish::graphs::files(&series, now, as_of, None)?;
    let rendered = t2.elapsed().as_secs_f64();
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    if let Some(dir) = out {
        for f in &files {
            let path = dir.join(&f.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, &f.bytes)?;
        }
    }
    println!(
        "{}",
        serde_json::json!({
            "reports": count, "days": days,
            "generate_and_tally_s": (tallied * 100.0).round() / 100.0,
            "build_series_s": (built * 100.0).round() / 100.0,
            "render_s": (rendered * 100.0).round() / 100.0,
            "total_s": (started.elapsed().as_secs_f64() * 100.0).round() / 100.0,
            "files": files.len(), "bytes": bytes,
            "peak_rss_mib": (peak_rss_mib() * 10.0).round() / 10.0,
        })
    );
    Ok(())
}

/// `hersys-bench export-emulators`: the export on the AWS adapters against DynamoDB Local and moto's S3 (under
/// `source <(./infra/emulators env)`), in fresh tables and buckets: `stored` generated reports written through
/// `create_report`, a first (full) export, then `changes` reports written now (half new, half changed) and a
/// timed incremental export. Prints the timings and what each export read.
pub async fn export_on_emulators(stored: u64, changes: u64, days: u64, partitions: u32) -> anyhow::Result<()> {
    use futures::{StreamExt, TryStreamExt};
    let wiring = crate::emulators::fresh_wiring().await?;
    let (reports, services) = (wiring.ports.reports.clone(), export::Services::new(&wiring)?);
    let generator = Generator::new(days)?;

    let t = Clock::now();
    let ids: Vec<ReportId> = futures::stream::iter(0..stored)
        .map(|i| {
            let (reports, report) = (&reports, generator.report(i));
            async move { reports.create_report(&report).await.map(|()| report.id) }
        })
        .buffer_unordered(32)
        .try_collect()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let store_s = t.elapsed().as_secs_f64();
    for p in PrefectureCode::all() {
        wiring.graph_sources().set_hersys_from(p, Some(first_day())).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let export_now = first_day() + Days::new(days + 30);
    let export_now = export_now.and_time(chrono::NaiveTime::MIN).and_utc();
    let t = Clock::now();
    let full = export::run(&services, export_now, domain::app::ExportMode::Incremental)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let full_s = t.elapsed().as_secs_f64();
    // The same full count in partitions run at once (the state machine's steps, in this process).
    let partitioned = if partitions > 0 {
        let t = Clock::now();
        let answer = export::full::run_partitioned(&services, Some(partitions), 3, Some(export_now))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        serde_json::json!({
            "partitions": partitions, "seconds": (t.elapsed().as_secs_f64() * 100.0).round() / 100.0,
            "reports_read": answer["reports_read"],
        })
    } else {
        serde_json::Value::Null
    };

    let now = Utc::now();
    let fresh = changes / 2;
    let step = (stored / (changes - fresh).max(1)).max(1) as usize;
    let t = Clock::now();
    futures::stream::iter(0..fresh)
        .map(|i| {
            let mut report = generator.report((1u64 << 40) + i);
            report.created_at = now;
            report.updated_at = now;
            let reports = &reports;
            async move { reports.create_report(&report).await }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    futures::stream::iter(ids.iter().step_by(step).take((changes - fresh) as usize))
        .map(|id| {
            let reports = &reports;
            async move {
                let Some(stored) = reports.get_report(id).await? else { return Ok(()) };
                let mut report = stored.value;
                if let Some(last) = report.status_history.last_mut() {
                    last.effective_date = last.effective_date + Days::new(1);
                }
                report.updated_at = now;
                reports.update_report(&report, stored.version).await.map(|_| ())
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await
        .map_err(|e: domain::StoreError| anyhow::anyhow!("{e}"))?;
    let changes_s = t.elapsed().as_secs_f64();
    let t = Clock::now();
    let daily = export::run(&services, export_now, domain::app::ExportMode::Incremental)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let daily_s = t.elapsed().as_secs_f64();
    let round = |x: f64| (x * 100.0).round() / 100.0;
    println!(
        "{}",
        serde_json::json!({
            "stored": stored, "changes": changes,
            "store_seconds": round(store_s), "changes_seconds": round(changes_s),
            "full_export": { "seconds": round(full_s), "reports_read": full.recount.reports_read },
            "partitioned_full_export": partitioned,
            "daily_export": {
                "seconds": round(daily_s),
                "reports_read": daily.recount.reports_read,
                "recounted": daily.recount.recounted,
            },
            "peak_rss_mib": round(peak_rss_mib()),
        })
    );
    Ok(())
}
