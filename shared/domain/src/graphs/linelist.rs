//! The municipality-published line lists in the standard 陽性患者属性 layout, read tolerantly: column names with or
//! without the `患者_` prefix (and Oita's 居住地/年代/性別), any column order, extra columns ignored, dates as
//! `yyyy/m/d` or `yyyy-mm-dd` (a time after them is ignored), age labels `10歳未満`, `20代`, `80歳以上`, `非公表`,
//! `不明`, full-width digits. Parsing does no I/O: the caller hands over the header and then each row's fields.
//!
//! Errors name the column and the rule, never the value.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::facts::{AgeBand, CaseFact, SexBand};
use crate::prefecture::PrefectureCode;

/// One case of a line list, as stored: nothing but what the series use. Line lists are public data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineListCase {
    pub prefecture: PrefectureCode,
    /// The list's `No`: a case is replaced when a later list is imported with the same number.
    pub number: String,
    pub published: NaiveDate,
    /// `male` / `female`; absent when other, unknown or undisclosed.
    pub sex: Option<String>,
    /// Age band index (0: under 10, ..., 8: 80 and over); absent when unknown or undisclosed.
    pub age_band: Option<u8>,
}

impl LineListCase {
    pub fn fact(&self) -> CaseFact {
        CaseFact {
            prefecture: self.prefecture,
            published: self.published,
            sex: match self.sex.as_deref() {
                Some("male") => Some(SexBand::Male),
                Some("female") => Some(SexBand::Female),
                _ => None,
            },
            age: self.age_band.and_then(|a| AgeBand::new(usize::from(a))),
            // A line list does not follow cases: no statuses, no dated deaths.
            status_history: None,
            died_on: None,
        }
    }
}

/// Why a header or row was refused: the column and the rule, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column}: {problem}")]
pub struct LineListError {
    pub column: &'static str,
    pub problem: &'static str,
}

fn err(column: &'static str, problem: &'static str) -> LineListError {
    LineListError { column, problem }
}

/// Where the columns the series use are, found by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineListHeader {
    number: Option<usize>,
    code: Option<usize>,
    prefecture_name: Option<usize>,
    published: usize,
    age: Option<usize>,
    sex: Option<usize>,
}

/// A column name without BOM, spaces, and the `患者_` prefix; NFKC (full-width letters and digits).
fn normalise(name: &str) -> String {
    let n: String = name.trim_start_matches('\u{feff}').nfkc().filter(|c| !c.is_whitespace()).collect();
    n.strip_prefix("患者_").map(str::to_owned).unwrap_or(n)
}

impl LineListHeader {
    /// Finds the columns; refuses a header without a publication date or without a prefecture (code or name).
    pub fn from_columns<S: AsRef<str>>(columns: &[S]) -> Result<Self, LineListError> {
        let names: Vec<String> = columns.iter().map(|c| normalise(c.as_ref())).collect();
        let find = |candidates: &[&str]| names.iter().position(|n| candidates.contains(&n.as_str()));
        let header = Self {
            number: find(&["No", "No.", "NO", "no", "番号"]),
            code: find(&["全国地方公共団体コード"]),
            prefecture_name: find(&["都道府県名"]),
            published: find(&["公表_年月日", "公表年月日", "公表日"])
                .ok_or_else(|| err("公表_年月日", "the header has no such column"))?,
            age: find(&["年代"]),
            sex: find(&["性別"]),
        };
        if header.code.is_none() && header.prefecture_name.is_none() {
            return Err(err("全国地方公共団体コード", "the header has neither it nor 都道府県名"));
        }
        Ok(header)
    }

    /// One row's case. `line` numbers cases that have no `No`.
    pub fn parse_row<S: AsRef<str>>(&self, fields: &[S], line: u64) -> Result<LineListCase, LineListError> {
        let get = |i: Option<usize>| i.and_then(|i| fields.get(i)).map(|f| f.as_ref().trim()).filter(|f| !f.is_empty());
        let prefecture = get(self.code)
            .and_then(prefecture_from_code)
            .or_else(|| get(self.prefecture_name).and_then(prefecture_from_name))
            .ok_or_else(|| err("全国地方公共団体コード", "neither the code nor 都道府県名 names a prefecture"))?;
        let published = get(Some(self.published))
            .ok_or_else(|| err("公表_年月日", "is empty"))
            .and_then(|d| parse_date(d).ok_or_else(|| err("公表_年月日", "must be a date yyyy/m/d or yyyy-mm-dd")))?;
        Ok(LineListCase {
            prefecture,
            number: get(self.number).map(str::to_owned).unwrap_or_else(|| format!("line-{line}")),
            published,
            sex: get(self.sex).and_then(parse_sex).map(|s| s.id().to_owned()),
            age_band: get(self.age).and_then(parse_age).and_then(|a| u8::try_from(a.index()).ok()),
        })
    }
}

/// `440001`, `44`, and `10006` (a 6-digit code whose leading zero was lost).
fn prefecture_from_code(raw: &str) -> Option<PrefectureCode> {
    let digits: String = raw.nfkc().collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let code = match digits.len() {
        1 | 2 => digits.parse::<u8>().ok()?,
        5 => digits[..1].parse::<u8>().ok()?,
        6 => digits[..2].parse::<u8>().ok()?,
        _ => return None,
    };
    PrefectureCode::new(code)
}

fn prefecture_from_name(raw: &str) -> Option<PrefectureCode> {
    PrefectureCode::all().find(|p| {
        let name = p.info().name_ja;
        raw == name || (name != "北海道" && raw == name.trim_end_matches(['都', '府', '県']))
    })
}

/// `2021/9/3`, `2021-09-03`, with an optional time after `T` or a space.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let s: String = raw.nfkc().collect();
    let day = s.split(['T', ' ']).next()?;
    NaiveDate::parse_from_str(day, "%Y/%m/%d").or_else(|_| NaiveDate::parse_from_str(day, "%Y-%m-%d")).ok()
}

fn parse_sex(raw: &str) -> Option<SexBand> {
    match raw {
        "男性" | "男" => Some(SexBand::Male),
        "女性" | "女" => Some(SexBand::Female),
        _ => None,
    }
}

/// `10歳未満` → 0-9, `20代` → 20-29, `80代`/`90代`/`80歳以上`/`90歳以上`/`100歳以上` → 80+; anything else (非公表,
/// 不明, 調査中, `-`) → unknown.
pub fn parse_age(raw: &str) -> Option<AgeBand> {
    let s: String = raw.nfkc().collect();
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let n: u32 = digits.parse().ok()?;
    if s.contains("未満") {
        return (n <= 10).then(|| AgeBand::of_age(0));
    }
    if s.ends_with('代') || s.contains("以上") {
        return Some(AgeBand::of_age(n));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const OITA: &str = "\u{feff}No,全国地方公共団体コード,都道府県名,市区町村名,公表_年月日,曜日,発症_年月日,\
                        居住地,年代,性別,患者_属性,患者_状態,患者_症状,患者_渡航歴の有無フラグ,備考,退院済フラグ,職業";
    const TOKYO: &str = "No,全国地方公共団体コード,都道府県名,市区町村名,公表_年月日,曜日,発症_年月日,\
                         患者_居住地,患者_年代,患者_性別,患者_属性,患者_状態,患者_症状,患者_渡航歴の有無フラグ,備考,退院済フラグ";

    fn split(s: &str) -> Vec<&str> {
        s.split(',').collect()
    }

    #[test]
    fn oita_prefixless_columns_and_slashed_dates() {
        let h = LineListHeader::from_columns(&split(OITA)).unwrap();
        let c = h.parse_row(&split("1,440001,大分県,,2020/3/3,火,,大分市,30代,女性,,,,,,,接客業"), 2).unwrap();
        assert_eq!(c.prefecture.info().name_en, "Oita");
        assert_eq!(c.number, "1");
        assert_eq!(c.published, NaiveDate::from_ymd_opt(2020, 3, 3).unwrap());
        assert_eq!(c.fact().sex, Some(SexBand::Female));
        assert_eq!(c.fact().age.map(AgeBand::id).as_deref(), Some("30-39"));
        assert_eq!(c.fact().status_history, None);
    }

    #[test]
    fn tokyo_prefixed_columns_and_iso_dates() {
        let h = LineListHeader::from_columns(&split(TOKYO)).unwrap();
        let c = h.parse_row(&split("2,130001,東京都,,2020-01-25,土,,湖北省武漢市,10歳未満,男性,,,,,,1"), 3).unwrap();
        assert_eq!(c.prefecture.info().name_en, "Tokyo");
        assert_eq!(c.fact().age.map(AgeBand::id).as_deref(), Some("0-9"));
        assert_eq!(c.fact().sex, Some(SexBand::Male));
    }

    #[test]
    fn age_labels() {
        let id = |s: &str| parse_age(s).map(AgeBand::id);
        assert_eq!(id("10歳未満").as_deref(), Some("0-9"));
        assert_eq!(id("10代").as_deref(), Some("10-19"));
        assert_eq!(id(".30代").as_deref(), Some("30-39"));
        assert_eq!(id("８０代").as_deref(), Some("80+"));
        assert_eq!(id("80歳以上").as_deref(), Some("80+"));
        assert_eq!(id("90代").as_deref(), Some("80+"));
        assert_eq!(id("100歳以上").as_deref(), Some("80+"));
        assert_eq!(id("非公表"), None);
        assert_eq!(id("不明"), None);
        assert_eq!(id("-"), None);
    }

    #[test]
    fn codes_names_and_dates_in_their_variants() {
        assert_eq!(prefecture_from_code("10006").map(|p| p.number()), Some(1));
        assert_eq!(prefecture_from_code("440001").map(|p| p.number()), Some(44));
        assert_eq!(prefecture_from_code("abc"), None);
        assert_eq!(prefecture_from_name("大分県").map(|p| p.number()), Some(44));
        assert_eq!(prefecture_from_name("大分").map(|p| p.number()), Some(44));
        assert_eq!(parse_date("2021/9/3"), NaiveDate::from_ymd_opt(2021, 9, 3));
        assert_eq!(parse_date("2021-09-03T08:00:00"), NaiveDate::from_ymd_opt(2021, 9, 3));
        assert_eq!(parse_date("2021年9月3日"), None);
    }

    #[test]
    fn a_name_only_header_with_extra_columns_in_another_order() {
        let h = LineListHeader::from_columns(&["性別", "extra", "公表日", "都道府県名", "年代"]).unwrap();
        let c = h.parse_row(&["女性", "x", "2021-02-01", "北海道", "非公表"], 7).unwrap();
        assert_eq!(c.prefecture.number(), 1);
        assert_eq!(c.number, "line-7");
        assert_eq!(c.age_band, None);
    }

    #[test]
    fn refusals_name_the_column_not_the_value() {
        assert_eq!(LineListHeader::from_columns(&["No", "都道府県名"]).unwrap_err().column, "公表_年月日");
        assert!(LineListHeader::from_columns(&["No", "公表_年月日"]).is_err());
        let h = LineListHeader::from_columns(&split(OITA)).unwrap();
        let e = h.parse_row(&split("1,440001,大分県,,SECRET-DATE,火,,大分市,30代,女性,,,,,,,"), 2).unwrap_err();
        assert_eq!(e.column, "公表_年月日");
        assert!(!e.to_string().contains("SECRET"));
        let e = h.parse_row(&split("1,999999,どこか,,2020/3/3,火,,大分市,30代,女性,,,,,,,"), 2).unwrap_err();
        assert!(!e.to_string().contains("999999"));
    }
}
