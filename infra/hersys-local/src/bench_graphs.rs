//! Graph-export benchmarks (docs/benchmarks-graphs.md): synthetic HER-SYS reports spread over N days, either
//! streamed straight into the series computation (`hersys bench-graphs`: facts, tally, series, rendering; no
//! store) or stored in the embedded store for a real `hersys export` (`hersys gen reports`). Every value is made up.

use std::path::{Path, PathBuf};
use std::time::Instant as Clock;

use anyhow::Context;
use chrono::{Days, NaiveDate, TimeZone, Utc};
use domain::graphs::{CaseFact, Sources, Tally, build_series};
use domain::prefecture::PrefectureCode;
use domain::report::{CaseReport, ReportId, ReportInput, Sex, Status, StatusChange};
use platform::Config;

/// SplitMix64.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 16).unwrap_or_default()
}

/// Makes synthetic reports from one validated template: prefecture by population, sex, age, a publication day in
/// `days` (waves: more cases later), and a status history (home care or hospital; 3% severe for a week; 1% die,
/// the rest released after ten days).
pub struct Generator {
    template: CaseReport,
    days: u64,
    /// Cumulative populations, for picking a prefecture in proportion.
    cumulative: Vec<(u64, PrefectureCode)>,
}

impl Generator {
    pub fn new(days: u64) -> anyhow::Result<Self> {
        let config = Config::from_env_with_secret(vec![7; 32])?;
        let hasher = domain::KeyedHasher::new(&config.hmac_secret).map_err(|_| anyhow::anyhow!("hasher"))?;
        let input = ReportInput {
            health_center_code: Some("131016".into()),
            prefecture_code: Some("13".into()),
            municipality_code: Some("131016".into()),
            case_type: Some("patient".into()),
            sex: Some("F".into()),
            date_of_birth: Some("1990-04-01".into()),
            name: Some("SYNTHETIC CASE".into()),
            report_date: Some("2020-01-16".into()),
            diagnosis_date: Some("2020-01-16".into()),
            ..Default::default()
        };
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).single().context("time")?;
        let template = CaseReport::from_input(&input, ReportId::generate(), &hasher, now, now.date_naive())
            .map_err(|e| anyhow::anyhow!("template: {e}"))?;
        let mut sum = 0;
        let cumulative = PrefectureCode::all()
            .map(|p| {
                sum += p.info().population_2020;
                (sum, p)
            })
            .collect();
        Ok(Self { template, days, cumulative })
    }

    pub fn report(&self, i: u64) -> CaseReport {
        let r = mix(i);
        let total = self.cumulative.last().map_or(1, |c| c.0);
        let pick = r % total;
        let prefecture = self.cumulative.iter().find(|(c, _)| pick < *c).map_or(self.template.prefecture, |(_, p)| *p);
        // Later days weigh more: the square root of a uniform draw skews towards the end.
        let u = ((r >> 20) % 1_000_000) as f64 / 1_000_000.0;
        let day = first_day() + Days::new(((u.sqrt() * self.days as f64) as u64).min(self.days - 1));
        let age_years = (r >> 40) % 95;
        let mut report = self.template.clone();
        report.id = ReportId::generate();
        report.prefecture = prefecture;
        report.sex = if (r >> 8) & 1 == 0 { Sex::Male } else { Sex::Female };
        report.date_of_birth = day - Days::new(age_years * 365 + 30);
        report.report_date = day;
        report.diagnosis_date = day;
        report.publication_date = Some(day + Days::new(1));
        // Written on the publication day: in the past, so the daily export's write-time index sees them as old.
        report.created_at = (day + Days::new(1)).and_time(chrono::NaiveTime::MIN).and_utc();
        report.updated_at = report.created_at;
        let at = |n: u64, status| StatusChange { status, effective_date: day + Days::new(n) };
        let first = if (r >> 50).is_multiple_of(3) { Status::Hospitalized } else { Status::HomeCare };
        let fate = (r >> 54) % 100;
        report.status_history = match fate {
            0 => vec![at(0, Status::Hospitalized), at(2, Status::HospitalizedSevere), at(10, Status::Died)],
            1..=3 => vec![
                at(0, Status::Hospitalized),
                at(2, Status::HospitalizedSevere),
                at(9, Status::Hospitalized),
                at(14, Status::Released),
            ],
            _ => vec![at(0, first), at(10, Status::Released)],
        };
        report
    }
}

/// Peak resident set size of this process so far (VmHWM), in MiB.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `hersys bench-graphs`: the export's computation and rendering from `count` generated reports, streamed.
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

/// `hersys gen reports N`: stores N generated reports in the embedded store (bulk transactions of 20,000) and
/// switches every prefecture to HER-SYS from the first day, ready for `hersys export`.
pub async fn store(count: u64, days: u64, data_dir: &Path) -> anyhow::Result<()> {
    let generator = Generator::new(days)?;
    let config = Config::from_env_with_secret(vec![7; 32])?;
    let (app, stores) = platform::embedded_app(data_dir, &config)?;
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
        app.set_hersys_from(p, Some(first_day())).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    eprintln!("stored {count} reports in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// `hersys gen-changes N`: writes N reports now, as a busy day of HER-SYS would: half new reports, half changes to
/// stored reports picked at random (each released a day later than stored, through `update_report` with its
/// version), so that the next `hersys export` has N reports to count.
pub async fn changes(count: u64, days: u64, seed: u64, data_dir: &Path) -> anyhow::Result<()> {
    let generator = Generator::new(days)?;
    let config = Config::from_env_with_secret(vec![7; 32])?;
    let (app, stores) = platform::embedded_app(data_dir, &config)?;
    let started = Clock::now();
    let now = Utc::now();
    let fresh = count / 2;
    // Draws far from those of `gen-reports` (0..N), so the new reports are new.
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
        app.reports.update_report(&report, stored.version).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        changed += 1;
    }
    eprintln!("wrote {fresh} new and {changed} changed reports in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// `hersys bench-export-emulators`: the export on the AWS adapters against DynamoDB Local and moto's S3 (under
/// `source <(./infra/emulators env)`), in fresh tables and buckets: `stored` generated reports written through
/// `create_report`, a first (full) export, then `changes` reports written now (half new, half changed) and a
/// timed incremental export. Prints the timings and what each export read.
pub async fn export_on_emulators(stored: u64, changes: u64, days: u64) -> anyhow::Result<()> {
    use futures::{StreamExt, TryStreamExt};
    anyhow::ensure!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty()),
        "run under `source <(./infra/emulators env)`"
    );
    let sdk = platform::sdk_config().await;
    let tag = format!("{:x}", rand::random::<u64>());
    let tables = aws_adapters::TableNames::with_prefix(&format!("bx{tag}"));
    aws_adapters::create_tables(&aws_sdk_dynamodb::Client::new(&sdk), &tables).await?;
    let s3 = aws_adapters::s3_client(&sdk, true);
    let (export_bucket, state_bucket) = (format!("bx{tag}-export"), format!("bx{tag}-state"));
    for bucket in [&export_bucket, &state_bucket] {
        aws_adapters::create_bucket(&s3, bucket, "ap-northeast-1").await?;
    }
    let config = Config::from_env_with_secret(vec![7; 32])?;
    let resources =
        platform::AwsResources { tables, export_bucket: Some(export_bucket), export_state_bucket: Some(state_bucket) };
    let mut app = platform::aws_app_with(&config, &sdk, resources)?;
    app.metrics = std::sync::Arc::new(domain::ports::NoMetrics);
    let generator = Generator::new(days)?;

    let t = Clock::now();
    let ids: Vec<ReportId> = futures::stream::iter(0..stored)
        .map(|i| {
            let (app, report) = (&app, generator.report(i));
            async move { app.reports.create_report(&report).await.map(|()| report.id) }
        })
        .buffer_unordered(32)
        .try_collect()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let store_s = t.elapsed().as_secs_f64();
    for p in PrefectureCode::all() {
        app.set_hersys_from(p, Some(first_day())).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let export_now = first_day() + Days::new(days + 30);
    let export_now = export_now.and_time(chrono::NaiveTime::MIN).and_utc();
    let t = Clock::now();
    let full = export::run(&app, export_now, domain::app::ExportMode::Incremental)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let full_s = t.elapsed().as_secs_f64();

    let now = Utc::now();
    let fresh = changes / 2;
    let step = (stored / (changes - fresh).max(1)).max(1) as usize;
    let t = Clock::now();
    futures::stream::iter(0..fresh)
        .map(|i| {
            let mut report = generator.report((1u64 << 40) + i);
            report.created_at = now;
            report.updated_at = now;
            let app = &app;
            async move { app.reports.create_report(&report).await }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    futures::stream::iter(ids.iter().step_by(step).take((changes - fresh) as usize))
        .map(|id| {
            let app = &app;
            async move {
                let Some(stored) = app.reports.get_report(id).await? else { return Ok(()) };
                let mut report = stored.value;
                if let Some(last) = report.status_history.last_mut() {
                    last.effective_date = last.effective_date + Days::new(1);
                }
                report.updated_at = now;
                app.reports.update_report(&report, stored.version).await.map(|_| ())
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await
        .map_err(|e: domain::StoreError| anyhow::anyhow!("{e}"))?;
    let changes_s = t.elapsed().as_secs_f64();
    let t = Clock::now();
    let daily = export::run(&app, export_now, domain::app::ExportMode::Incremental)
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
            "daily_export": { "seconds": round(daily_s), "reports_read": daily.recount.reports_read, "recounted": daily.recount.recounted },
            "peak_rss_mib": round(peak_rss_mib()),
        })
    );
    Ok(())
}
