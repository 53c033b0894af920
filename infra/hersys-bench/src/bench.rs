//! `hersys-bench reports`: what one report costs the ingestion handler (validate, normalise, hash, store) on the
//! embedded store, in microseconds of CPU time. A benchmark, not a test: figures go in docs/benchmarks.md.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use domain::report::{CaseReport, ReportId, ReportInput};
use platform::Config;

/// Process CPU time (user + system) from /proc/self/stat, in seconds. Linux only, which is where we measure.
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    // Fields after the command name (which is in parentheses and may hold spaces): utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Clock ticks are 100 per second on Linux (sysconf(_SC_CLK_TCK)).
    Ok((ticks(11) + ticks(12)) / 100.0)
}

fn input(i: usize) -> ReportInput {
    ReportInput {
        health_center_code: Some("131016".into()),
        case_number: Some(format!("B-{i:08}")),
        prefecture_code: Some("13".into()),
        municipality_code: Some("131016".into()),
        case_type: Some("patient".into()),
        sex: Some(if i.is_multiple_of(2) { "F" } else { "M" }.into()),
        date_of_birth: Some("1990-04-01".into()),
        name: Some("ＮＧＵＹＥＮ ＶＡＮ ＡＮ".into()),
        name_kana: Some("グエン ヴァン アン".into()),
        phone: Some("090-1234-5678".into()),
        email: Some("an@example.jp".into()),
        preferred_language: Some("en".into()),
        report_date: Some("2021-02-03".into()),
        diagnosis_date: Some("2021-02-02".into()),
        onset_date: Some("2021-01-31".into()),
        publication_date: Some("2021-02-03".into()),
        nationality: Some("VNM".into()),
        entry_date: Some("2021-01-20".into()),
        passport_number: Some(format!("ｃ{:07}", i % 10_000_000)),
        ..Default::default()
    }
}

pub async fn reports(data_dir: &Path, count: usize) -> anyhow::Result<()> {
    let config = Config::from_env_with_secret(vec![7; 32])?;
    let (wiring, _) = embedded::embedded_wiring(data_dir, platform::settings(&config)?)?;
    let cases = wiring.cases();
    let inputs: Vec<ReportInput> = (0..count).map(input).collect();

    // Validation and normalisation alone (pure), then the whole operation with the store call.
    let (cpu0, wall0) = (cpu_seconds()?, Instant::now());
    let now = chrono::Utc::now();
    let today = domain::time::japan_date(now);
    for i in &inputs {
        std::hint::black_box(CaseReport::from_input(i, ReportId::generate(), &wiring.settings.hasher, now, today)?);
    }
    let (validate_cpu, validate_wall) = (cpu_seconds()? - cpu0, wall0.elapsed().as_secs_f64());

    let (cpu1, wall1) = (cpu_seconds()?, Instant::now());
    for i in &inputs {
        cases.create_report(i).await?;
    }
    let (create_cpu, create_wall) = (cpu_seconds()? - cpu1, wall1.elapsed().as_secs_f64());

    let per = |s: f64| s * 1e6 / count as f64;
    println!(
        "{}",
        serde_json::json!({
            "reports": count,
            "validate_us_cpu": (per(validate_cpu) * 10.0).round() / 10.0,
            "validate_us_wall": (per(validate_wall) * 10.0).round() / 10.0,
            "create_us_cpu": (per(create_cpu) * 10.0).round() / 10.0,
            "create_us_wall": (per(create_wall) * 10.0).round() / 10.0,
        })
    );
    Ok(())
}

/// One pass over a CSV file in the layout `hersys-bench gen entries` writes (the columns in `COLUMNS` order), calling
/// `row` on each record's input; returns the process CPU seconds the pass took.
fn pass(
    file: &Path,
    mut row: impl FnMut(&domain::entry::EntryInput) -> anyhow::Result<()>,
) -> anyhow::Result<(usize, f64)> {
    let cpu0 = cpu_seconds()?;
    let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).buffer_capacity(1 << 20).from_reader(f);
    let mut record = csv::StringRecord::new();
    let mut rows = 0;
    while reader.read_record(&mut record).map_err(|_| anyhow::anyhow!("unreadable CSV"))? {
        let mut input = domain::entry::EntryInput::default();
        for (i, name) in domain::entry::COLUMNS.iter().enumerate() {
            if let (Some(value), Some(slot)) = (record.get(i), input.field_mut(name))
                && !value.is_empty()
            {
                *slot = Some(value.to_owned());
            }
        }
        row(&input)?;
        rows += 1;
    }
    Ok((rows, cpu_seconds()? - cpu0))
}

/// `hersys-bench entries FILE.csv`: where the CPU time of an import goes before SQLite, in microseconds a row, by
/// passes over the file that each do one step more (docs/benchmarks-entries.md).
pub fn entries(file: &Path) -> anyhow::Result<()> {
    use domain::entry::EntryRecord;
    use domain::pii::PassportNumber;
    let hasher = domain::keyed_hash::KeyedHasher::new(&[7; 32]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let today = domain::time::japan_date(chrono::Utc::now());
    let (rows, read) = pass(file, |_| Ok(()))?;
    let (_, passport) = pass(file, |i| {
        std::hint::black_box(i.passport_number.as_deref().map(|p| PassportNumber::parse("p", p).ok()));
        Ok(())
    })?;
    let (_, hashed) = pass(file, |i| {
        if let Some(p) = i.passport_number.as_deref().and_then(|p| PassportNumber::parse("p", p).ok()) {
            std::hint::black_box(hasher.passport(&p));
        }
        Ok(())
    })?;
    let (_, validated) = pass(file, |i| {
        std::hint::black_box(EntryRecord::from_input(i, &hasher, today).ok());
        Ok(())
    })?;
    let (_, encoded) = pass(file, |i| {
        if let Ok(record) = EntryRecord::from_input(i, &hasher, today) {
            std::hint::black_box(serde_json::to_string(&record)?);
        }
        Ok(())
    })?;
    let per = |s: f64| (s * 1e7 / rows.max(1) as f64).round() / 10.0;
    println!(
        "{}",
        serde_json::json!({
            "rows": rows,
            "read_csv_us_cpu": per(read),
            "passport_hmac_us_cpu": per(hashed - passport),
            "validate_all_us_cpu": per(validated - read),
            "json_encode_us_cpu": per(encoded - validated),
            "total_before_sqlite_us_cpu": per(encoded),
        })
    );
    Ok(())
}
