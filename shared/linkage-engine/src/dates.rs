//! Dates for comparison: `YYYY-MM-DD` read without allocation into a day number (for "nearest entry before the
//! diagnosis") and its eight digits (for "one digit off" and "day and month swapped").

use chrono::{Datelike, NaiveDate};

/// A calendar date as compared.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Day {
    /// YYYYMMDD as a number, e.g. 19870412.
    pub digits: u32,
    /// Days since 0001-01-01 (chrono's `num_days_from_ce`).
    pub number: i32,
}

impl Day {
    pub fn from_date(d: NaiveDate) -> Day {
        Day { digits: d.year() as u32 * 10_000 + d.month() * 100 + d.day(), number: d.num_days_from_ce() }
    }

    /// `YYYY-MM-DD` (surrounding spaces allowed); `None` when malformed or not a real date.
    pub fn parse(raw: &str) -> Option<Day> {
        let b = raw.trim().as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        NaiveDate::from_ymd_opt(y as i32, m, d).map(Day::from_date)
    }

    pub fn year(&self) -> u32 {
        self.digits / 10_000
    }

    pub fn month(&self) -> u32 {
        self.digits / 100 % 100
    }

    pub fn day(&self) -> u32 {
        self.digits % 100
    }
}

/// How two dates of birth compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DobLevel {
    Exact,
    /// Day and month swapped (03/04 for 04/03), the two being different.
    Swapped,
    /// One of the eight digits differs, or two adjacent digits are transposed.
    OneDigit,
    Different,
}

pub fn compare(a: Day, b: Day) -> DobLevel {
    if a.digits == b.digits {
        return DobLevel::Exact;
    }
    if a.year() == b.year() && a.month() == b.day() && a.day() == b.month() {
        return DobLevel::Swapped;
    }
    let (mut x, mut y) = (a.digits, b.digits);
    let mut da = [0u8; 8];
    let mut db = [0u8; 8];
    for i in (0..8).rev() {
        da[i] = (x % 10) as u8;
        db[i] = (y % 10) as u8;
        x /= 10;
        y /= 10;
    }
    let mut diffs = [0usize; 8];
    let mut n = 0;
    for i in 0..8 {
        if da[i] != db[i] {
            diffs[n] = i;
            n += 1;
        }
    }
    let (i, j) = (diffs[0], diffs[1]);
    match n {
        1 => DobLevel::OneDigit,
        2 if j == i + 1 && da[i] == db[j] && da[j] == db[i] => DobLevel::OneDigit,
        _ => DobLevel::Different,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Day {
        Day::parse(s).unwrap()
    }

    #[test]
    fn parses_iso_dates_only() {
        assert_eq!(d("1987-04-12").digits, 19870412);
        assert_eq!(d(" 2000-02-29 ").month(), 2);
        for bad in ["1987-4-12", "1987/04/12", "2001-02-29", "", "abcd-ef-gh"] {
            assert!(Day::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(d("2020-01-02").number - d("2020-01-01").number, 1);
    }

    #[test]
    fn comparison_levels() {
        assert_eq!(compare(d("1987-04-12"), d("1987-04-12")), DobLevel::Exact);
        assert_eq!(compare(d("1987-04-12"), d("1987-12-04")), DobLevel::Swapped);
        assert_eq!(compare(d("1987-04-12"), d("1987-04-13")), DobLevel::OneDigit);
        assert_eq!(compare(d("1987-04-12"), d("1978-04-12")), DobLevel::OneDigit, "adjacent digits transposed");
        assert_eq!(compare(d("1987-04-12"), d("1988-04-13")), DobLevel::Different);
        assert_eq!(compare(d("1987-04-12"), d("1990-07-01")), DobLevel::Different);
    }
}
