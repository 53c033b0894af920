//! `hersys-bench gen entries N --out FILE.csv`: synthetic entry records for benchmarks and tests, in the quarantine
//! system's CSV layout (`hersys import entries` reads it). Deterministic: the same N and seed give the same file
//! (each row's values are drawn from its row number, [`Rows`]). Every value is made up.

use std::path::Path;

use anyhow::Context;
use chrono::{Days, NaiveDate};
use domain::entry::COLUMNS;

use synthetic::rng::Rows;

const NATIONALITIES: [&str; 8] = ["VNM", "CHN", "KOR", "PHL", "USA", "THA", "IDN", "NPL"];
const FAMILY: [&str; 8] = ["NGUYEN", "TRAN", "LI", "WANG", "KIM", "PARK", "SANTOS", "SMITH"];
const GIVEN: [&str; 8] = ["THI HOA", "VAN AN", "WEI", "MIN-JUN", "MARIA", "JOHN PAUL", "SOMCHAI", "O'NEIL"];
const PORTS: [&str; 6] = ["NRT", "HND", "KIX", "NGO", "FUK", "CTS"];
const RESULTS: [&str; 3] = ["negative", "positive", "not_tested"];
const SEXES: [&str; 3] = ["M", "F", "X"];

/// Writes `count` entry records to `out`. Every `invalid_every`-th row (0: none) has one spoilt field, in turn:
/// passport, sex, a future entry date, a missing family name.
pub fn run(count: u64, out: &Path, invalid_every: u64, seed: u64) -> anyhow::Result<()> {
    let rows = Rows::new(seed);
    let mut w = csv::WriterBuilder::new()
        .buffer_capacity(1 << 20)
        .from_path(out)
        .with_context(|| format!("creating {}", out.display()))?;
    w.write_record(COLUMNS)?;
    let first_entry = NaiveDate::from_ymd_opt(2020, 4, 1).context("date")?;
    for i in 1..=count {
        let r = rows.draw(i);
        let pick = |shift: u32, n: usize| ((r >> shift) as usize) % n;
        let entry = first_entry + Days::new((r >> 8) % 600);
        let dob = entry - Days::new(365 * ((r >> 20) % 90) + (r >> 40) % 365);
        let result = RESULTS[pick(50, 3)];
        let test_date = if result == "not_tested" { String::new() } else { entry.to_string() };
        // Two letters from the high part of the row number, seven digits from the low part: unique per row.
        let letters = i / 10_000_000;
        let passport = format!(
            "{}{}{:07}",
            (b'A' + (letters / 26 % 26) as u8) as char,
            (b'A' + (letters % 26) as u8) as char,
            i % 10_000_000
        );
        let mut row = [
            format!("E{i:09}"),
            passport,
            NATIONALITIES[pick(3, 8)].to_owned(),
            FAMILY[pick(13, 8)].to_owned(),
            GIVEN[pick(17, 8)].to_owned(),
            dob.to_string(),
            SEXES[pick(23, 3)].to_owned(),
            entry.to_string(),
            PORTS[pick(29, 6)].to_owned(),
            result.to_owned(),
            test_date,
        ];
        if invalid_every > 0 && i % invalid_every == 0 {
            match (i / invalid_every) % 4 {
                0 => row[1] = "AB#12".to_owned(),
                1 => row[6] = "female".to_owned(),
                2 => row[7] = "2999-01-01".to_owned(),
                _ => row[3] = String::new(),
            }
        }
        // No value holds a comma, quote or line break, so nothing is quoted.
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_seed_gives_the_same_file_as_before_the_move_to_hersys_bench() {
        // Pinned from `hersys gen entries 20 --invalid-every 7 --seed 1` as it was in infra/hersys-local.
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("e.csv");
        super::run(20, &out, 7, 1).unwrap();
        assert_eq!(crate::sha256_of(&out), "a21bb5f6fdaf878373617d2e17fa61416d1675715221129e5e7968aee882eb01");
    }
}
