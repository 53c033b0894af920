//! Synthetic HER-SYS reports: the [`Generator`] of the graph benchmarks (`hersys-bench graphs`,
//! `hersys-bench export-emulators`) and of `hersys serve --demo`, and the two commands that store them for a real
//! `hersys export`: `hersys-bench gen reports` and `hersys-bench gen changes` (docs/benchmarks-graphs.md). Every
//! value is made up.

use std::path::Path;
use std::time::Instant as Clock;

use anyhow::Context;
use chrono::{Days, NaiveDate, TimeZone, Utc};
use domain::prefecture::PrefectureCode;
use domain::report::{CaseReport, ReportId, ReportInput, Sex, Status, StatusChange};
use platform::Config;

use crate::rng::Rows;

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
    rows: Rows,
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
        // Seed 0: report i is drawn from SplitMix64 of i alone, as before there was a seed to choose.
        Ok(Self { template, days, cumulative, rows: Rows::new(0) })
    }

    /// Report number `i`: the same `i` gives the same values (its id aside, which is a fresh UUID each time).
    pub fn report(&self, i: u64) -> CaseReport {
        let r = self.rows.draw(i);
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

/// `hersys-bench gen reports N`: stores N generated reports in the embedded store (bulk transactions of 20,000) and
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

/// `hersys-bench gen changes N`: writes N reports now, as a busy day of HER-SYS would: half new reports, half changes to
/// stored reports picked at random (each released a day later than stored, through `update_report` with its
/// version), so that the next `hersys export` has N reports to count.
pub async fn changes(count: u64, days: u64, seed: u64, data_dir: &Path) -> anyhow::Result<()> {
    let generator = Generator::new(days)?;
    let config = Config::from_env_with_secret(vec![7; 32])?;
    let (app, stores) = platform::embedded_app(data_dir, &config)?;
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
        app.reports.update_report(&report, stored.version).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        changed += 1;
    }
    eprintln!("wrote {fresh} new and {changed} changed reports in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Generator;

    /// Report `i`'s drawn values (its id is a fresh UUID each time).
    fn drawn(generator: &Generator, i: u64) -> String {
        let r = generator.report(i);
        let statuses: Vec<String> =
            r.status_history.iter().map(|s| format!("{:?}@{}", s.status, s.effective_date)).collect();
        format!("{} {:?} {} {} {}", r.prefecture.as_jis(), r.sex, r.date_of_birth, r.diagnosis_date, statuses.join(","))
    }

    #[test]
    fn report_i_is_drawn_from_i_alone_as_before_the_move_to_hersys_bench() {
        // The graph files `hersys bench-graphs --out` wrote from these reports were byte-identical before and after
        // the move; these are its first three draws.
        let generator = Generator::new(1000).unwrap();
        let want = [
            "13 Female 1954-09-29 2020-10-12 Hospitalized@2020-10-12,Released@2020-10-22",
            "23 Male 2017-02-22 2022-03-23 Hospitalized@2022-03-23,Released@2022-04-02",
            "13 Male 1980-06-03 2022-06-23 HomeCare@2022-06-23,Released@2022-07-03",
        ];
        assert_eq!((0..3).map(|i| drawn(&generator, i)).collect::<Vec<_>>(), want);
        assert_eq!(drawn(&Generator::new(1000).unwrap(), 2), want[2]);
    }
}
