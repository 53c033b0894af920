//! The 47 prefectures (JIS X 0401), with the 2020 census population used for per-100k rates.

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, Problem};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefectureInfo {
    pub code: u8,
    pub name_ja: &'static str,
    pub name_en: &'static str,
    pub population_2020: u64,
}

include!("prefecture_table.rs");

/// A JIS X 0401 prefecture code, 1 (Hokkaido) to 47 (Okinawa).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PrefectureCode(u8);

impl PrefectureCode {
    pub fn new(code: u8) -> Option<Self> {
        (1..=47).contains(&code).then_some(Self(code))
    }

    /// Accepts "13", "01" or "1"; also the 6-digit local-government code form "130001".
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let t = raw.trim();
        // Only ASCII digits: slicing by bytes is then safe, and `+1` or full-width forms are not codes.
        let all_digits = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        let digits = if t.len() == 6 { t.get(..2) } else { Some(t) };
        digits
            .filter(|_| all_digits)
            .and_then(|d| d.parse::<u8>().ok())
            .and_then(Self::new)
            .ok_or_else(|| FieldError::new(field, Problem::Invalid("must be a JIS X 0401 prefecture code 01-47")))
    }

    pub fn number(self) -> u8 {
        self.0
    }

    /// Two digits, as in JIS tables ("01").
    pub fn as_jis(self) -> String {
        format!("{:02}", self.0)
    }

    pub fn info(self) -> &'static PrefectureInfo {
        // Construction guarantees 1..=47.
        &PREFECTURES[usize::from(self.0 - 1)]
    }

    pub fn all() -> impl Iterator<Item = PrefectureCode> {
        (1..=47).map(PrefectureCode)
    }
}

impl TryFrom<String> for PrefectureCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse("prefecture_code", &s).map_err(|e| e.to_string())
    }
}

impl From<PrefectureCode> for String {
    fn from(p: PrefectureCode) -> Self {
        p.as_jis()
    }
}

/// Japan's population at the 2020 census (sum of the prefectures).
pub fn national_population_2020() -> u64 {
    PREFECTURES.iter().map(|p| p.population_2020).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_census_csv() {
        let csv = include_str!("../data/prefectures.csv");
        let rows: Vec<&str> = csv.lines().skip(1).filter(|l| !l.is_empty()).collect();
        assert_eq!(rows.len(), 47);
        for (row, info) in rows.iter().zip(PREFECTURES.iter()) {
            let cols: Vec<&str> = row.split(',').collect();
            assert_eq!(cols[0].parse::<u8>().unwrap(), info.code);
            assert_eq!(cols[1], info.name_ja);
            assert_eq!(cols[2], info.name_en);
            assert_eq!(cols[3].parse::<u64>().unwrap(), info.population_2020);
        }
        assert_eq!(national_population_2020(), 126_146_099);
    }

    #[test]
    fn codes_parse_in_their_usual_forms() {
        assert_eq!(PrefectureCode::parse("p", "13").unwrap().info().name_en, "Tokyo");
        assert_eq!(PrefectureCode::parse("p", "01").unwrap().info().name_en, "Hokkaido");
        assert_eq!(PrefectureCode::parse("p", "440001").unwrap().info().name_en, "Oita");
        assert!(PrefectureCode::parse("p", "48").is_err());
        assert!(PrefectureCode::parse("p", "0").is_err());
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn codes_in_every_accepted_form_and_nothing_else() {
        assert_eq!(PrefectureCode::parse("p", "44").unwrap().number(), 44);
        assert_eq!(PrefectureCode::parse("p", "1").unwrap().number(), 1);
        assert_eq!(PrefectureCode::parse("p", "130001").unwrap().number(), 13);
        for bad in ["0", "48", "", "+1", "4a", "ab0001", "mäÛ:", "0\u{80}\u{80}0", "４４"] {
            assert!(PrefectureCode::parse("p", bad).is_err(), "{bad:?}");
        }
    }
}
