//! `hersys gen entries N --out FILE.csv` (hidden): synthetic entry records for benchmarks and tests, in the
//! quarantine system's CSV layout. Deterministic: the same N and seed give the same file. Every value is made up.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{Days, NaiveDate};
use domain::entry::COLUMNS;

#[derive(clap::Subcommand)]
pub enum What {
    /// Write N synthetic entry records as CSV (header row first).
    Entries {
        /// How many rows.
        count: u64,
        #[arg(long)]
        out: PathBuf,
        /// Make every K-th row invalid (one spoilt field each, in turn: passport, sex, future entry date, missing
        /// family name). 0: none.
        #[arg(long, default_value_t = 0)]
        invalid_every: u64,
        /// Varies the values; the entry ids stay E000000001...
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Entry records, reports and the truth for the linkage benchmark (see gen_linkage.rs).
    Linkage(crate::gen_linkage::Args),
}

/// SplitMix64: a good-enough, dependency-free mix of the row number and seed.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

const NATIONALITIES: [&str; 8] = ["VNM", "CHN", "KOR", "PHL", "USA", "THA", "IDN", "NPL"];
const FAMILY: [&str; 8] = ["NGUYEN", "TRAN", "LI", "WANG", "KIM", "PARK", "SANTOS", "SMITH"];
const GIVEN: [&str; 8] = ["THI HOA", "VAN AN", "WEI", "MIN-JUN", "MARIA", "JOHN PAUL", "SOMCHAI", "O'NEIL"];
const PORTS: [&str; 6] = ["NRT", "HND", "KIX", "NGO", "FUK", "CTS"];
const RESULTS: [&str; 3] = ["negative", "positive", "not_tested"];
const SEXES: [&str; 3] = ["M", "F", "X"];

pub fn run(what: What) -> anyhow::Result<()> {
    let (count, out, invalid_every, seed) = match what {
        What::Entries { count, out, invalid_every, seed } => (count, out, invalid_every, seed),
        What::Linkage(args) => return crate::gen_linkage::run(args),
    };
    let file = std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    writeln!(w, "{}", COLUMNS.join(","))?;
    let first_entry = NaiveDate::from_ymd_opt(2020, 4, 1).context("date")?;
    for i in 1..=count {
        let r = mix(i ^ seed.rotate_left(32));
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
        // No value holds a comma, quote or line break, so no quoting is needed.
        writeln!(w, "{}", row.join(","))?;
    }
    w.flush()?;
    Ok(())
}
