//! Synthetic entrants for `hersys serve --demo`: entry records of foreign visitors and, for some of them, an
//! outbreak report filed within weeks of entry, so that the demo's linkage has something to link and its
//! dashboard something to show. Every value is made up: names from short made-up pools, passport numbers from a
//! counter.

use chrono::{Days, NaiveDate};
use domain::entry::EntryInput;
use domain::report::ReportInput;

use crate::rng::Rows;

/// Nationality, port-of-entry code, family names, given names.
type Pool = (&'static str, &'static str, &'static [&'static str], &'static [&'static str]);

const POOLS: [Pool; 5] = [
    ("VNM", "NRT", &["NGUYEN", "TRAN", "LE", "PHAM", "HOANG", "VU"], &["VAN AN", "THI HOA", "MINH", "THU", "DUC"]),
    ("CHN", "HND", &["WANG", "LI", "ZHANG", "LIU", "CHEN", "YANG"], &["WEI", "FANG", "JING", "LEI", "YAN"]),
    ("PHL", "KIX", &["SANTOS", "REYES", "CRUZ", "BAUTISTA", "GARCIA"], &["MARIA", "JOSE", "ANGELO", "GRACE"]),
    ("USA", "NRT", &["SMITH", "JOHNSON", "BROWN", "MILLER", "DAVIS"], &["JOHN", "EMILY", "MICHAEL", "SARAH"]),
    ("KOR", "FUK", &["KIM", "LEE", "PARK", "CHOI", "JUNG"], &["MINJUN", "SEOYEON", "JIHOO", "HAEUN"]),
];

/// Where a report is filed: prefecture, health centre, municipality (Tokyo, Kanagawa, Osaka, Fukuoka: the demo's
/// pilot prefectures).
const FILED_IN: [(&str, &str, &str); 4] =
    [("13", "131016", "131016"), ("14", "141003", "141003"), ("27", "271004", "271004"), ("40", "401005", "401005")];

/// Entry records and the reports of those entrants who were diagnosed.
pub struct Travellers {
    pub entries: Vec<EntryInput>,
    pub reports: Vec<ReportInput>,
}

/// `count` entrants arriving from `first` over `days` days. About one in eleven is diagnosed 2 to 34 days after
/// entry; three in four of those reports carry the passport number, the others only name, date of birth, sex and
/// nationality (the scored linkage's case).
pub fn travellers(count: u64, first: NaiveDate, days: u64) -> Travellers {
    let rows = Rows::new(0x7A7E);
    let mut t = Travellers { entries: Vec::with_capacity(count as usize), reports: Vec::new() };
    for i in 0..count {
        let r = rows.draw(i);
        let (nationality, port, families, givens) = POOLS[(r % POOLS.len() as u64) as usize];
        let family = families[((r >> 8) % families.len() as u64) as usize];
        let given = givens[((r >> 16) % givens.len() as u64) as usize];
        let entry = first + Days::new((r >> 24) % days.max(1));
        let age = 18 + (r >> 32) % 50;
        let date_of_birth = entry - Days::new(age * 365 + (r >> 40) % 365);
        let sex = if (r >> 48) & 1 == 0 { "M" } else { "F" };
        let passport = format!("{}{:07}", char::from(b'A' + ((r >> 49) % 26) as u8), 1_000_000 + i);
        let tested_positive = (r >> 56).is_multiple_of(100);
        t.entries.push(EntryInput {
            entry_id: Some(format!("DEMO-{i:06}")),
            passport_number: Some(passport.clone()),
            nationality: Some(nationality.into()),
            family_name: Some(family.into()),
            given_names: Some(given.into()),
            date_of_birth: Some(date_of_birth.to_string()),
            sex: Some(sex.into()),
            entry_date: Some(entry.to_string()),
            port_of_entry: Some(port.into()),
            entry_test_result: Some(if tested_positive { "positive" } else { "negative" }.into()),
            test_date: Some(entry.to_string()),
        });
        if !(r >> 58).is_multiple_of(11) {
            continue;
        }
        let diagnosed = entry + Days::new(2 + (r >> 12) % 33);
        let (prefecture, health_center, municipality) = FILED_IN[((r >> 4) % FILED_IN.len() as u64) as usize];
        t.reports.push(ReportInput {
            health_center_code: Some(health_center.into()),
            case_number: Some(format!("DEMO-{i:06}")),
            prefecture_code: Some(prefecture.into()),
            municipality_code: Some(municipality.into()),
            case_type: Some("patient".into()),
            sex: Some(sex.into()),
            date_of_birth: Some(date_of_birth.to_string()),
            name: Some(format!("{family} {given}")),
            nationality: Some(nationality.into()),
            passport_number: (r >> 62 != 0).then_some(passport),
            report_date: Some(diagnosed.to_string()),
            diagnosis_date: Some(diagnosed.to_string()),
            publication_date: Some((diagnosed + Days::new(1)).to_string()),
            ..Default::default()
        });
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entrants_are_valid_and_some_are_reported_with_or_without_a_passport() {
        let first = NaiveDate::from_ymd_opt(2021, 6, 1).unwrap();
        let t = travellers(2_000, first, 100);
        assert_eq!(t.entries.len(), 2_000);
        assert!((120..250).contains(&t.reports.len()), "{}", t.reports.len());
        let without = t.reports.iter().filter(|r| r.passport_number.is_none()).count();
        assert!(without > 10 && without < t.reports.len() / 2, "{without}");
        let hasher = domain::KeyedHasher::new(&[1; 32]).unwrap();
        let today = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap();
        for e in &t.entries {
            domain::entry::EntryRecord::from_input(e, &hasher, today).unwrap();
        }
    }
}
