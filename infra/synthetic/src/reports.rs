//! Synthetic HER-SYS reports: the [`Generator`] of `hersys serve --demo` and of the graph benchmarks
//! (`hersys-bench graphs`, `export-emulators`, `gen reports`, `gen changes`). Every value is made up.

use anyhow::Context;
use chrono::{Days, NaiveDate, TimeZone, Utc};
use domain::prefecture::PrefectureCode;
use domain::report::{CaseReport, ReportId, ReportInput, Sex, Status, StatusChange};

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
        // A fixed key: the template's passport field is empty, so nothing is hashed with it that matters.
        let hasher = domain::KeyedHasher::new(&[7; 32]).map_err(|_| anyhow::anyhow!("hasher"))?;
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
    fn report_i_is_drawn_from_i_alone_as_before_the_move_out_of_hersys() {
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
