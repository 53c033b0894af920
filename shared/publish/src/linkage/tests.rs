//! The linkage statistics' files: the bytes published before this crate, quoting, suppression, and the analyst's
//! copy that differs from the published one only where a count is hidden.

use chrono::{NaiveDate, TimeZone, Utc};
use domain::linkage_records::LinkageSummary;
use domain::linkage_statistics::follow_up::FollowUpSummary;
use domain::linkage_statistics::{DaysRow, EntrantsRow, PrefectureRow, ShareWithInterval};

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// 40 under follow-up, 7 of them cases: 3 had reported symptoms (hidden, with its share), 5 unreachable.
fn follow_up() -> FollowUpSummary {
    use domain::linkage_statistics::proportion;
    FollowUpSummary {
        under_follow_up: 40,
        diagnosed_during_or_within_14d: proportion(7, 40),
        symptoms_before_diagnosis: proportion(3, 7),
        days_symptoms_to_diagnosis: vec![DaysRow { days: 1, reports: 2 }, DaysRow { days: 2, reports: 1 }],
        unreachable: proportion(5, 7),
    }
}

/// Small and large counts side by side: 1 to 4 are hidden in public, 0 and 5 are not.
fn summary() -> LinkageSummary {
    let mut s = LinkageSummary::empty();
    s.follow_up = follow_up();
    s.computed_at = Some(Utc.with_ymd_and_hms(2021, 1, 31, 15, 0, 0).unwrap());
    s.entrants = vec![
        EntrantsRow {
            week_start: d("2021-01-04"),
            port_of_entry: "NRT".into(),
            nationality: "JPN".into(),
            entrants: 120,
        },
        EntrantsRow {
            week_start: d("2021-01-04"),
            port_of_entry: "KIX".into(),
            nationality: "VNM".into(),
            entrants: 3,
        },
        EntrantsRow {
            week_start: d("2021-01-11"),
            port_of_entry: "HND".into(),
            nationality: "USA".into(),
            entrants: 5,
        },
    ];
    s.negative_then_diagnosed_28d =
        ShareWithInterval { count: 3, total: 5, share: 0.6, ci95_low: 0.230_724_9, ci95_high: 0.882_380_1 };
    s.days_entry_to_diagnosis =
        vec![DaysRow { days: 0, reports: 0 }, DaysRow { days: 3, reports: 4 }, DaysRow { days: 7, reports: 12 }];
    s.prefectures = vec![
        PrefectureRow {
            prefecture_code: "13".into(),
            reports: 6,
            with_passport: 2,
            linked: 4,
            share_with_passport: 1.0 / 3.0,
            share_linked: 2.0 / 3.0,
        },
        PrefectureRow {
            prefecture_code: "27".into(),
            reports: 200,
            with_passport: 50,
            linked: 40,
            share_with_passport: 0.25,
            share_linked: 0.2,
        },
    ];
    s
}

fn text(files: &[File], path: &str) -> String {
    String::from_utf8(files.iter().find(|f| f.path == path).unwrap().bytes.clone()).unwrap()
}

#[test]
fn published_files_are_the_bytes_the_domain_wrote_before() {
    // SHA-256 (`crate::digest_of`) of the files the domain's own `summary_csv` wrote for these summaries before
    // rendering moved here: the sample, one with nothing hidden, and an empty one (headers only).
    let mut large = summary();
    large.entrants.retain(|r| r.entrants >= 5);
    large.days_entry_to_diagnosis.retain(|r| r.reports >= 5 || r.reports == 0);
    large.prefectures.retain(|r| r.with_passport >= 5);
    large.negative_then_diagnosed_28d =
        ShareWithInterval { count: 10, total: 200, share: 0.05, ci95_low: 0.01, ci95_high: 0.2 };
    let before = [
        (summary(), "32039449c57c85486fee8d496efb78463ea5d3af4ebf1dc6c0237204ac86ee01"),
        (large, "cf0ceb036919b85cd83c4f94e373c6913a7e8a898efae49dbd947fed8b7c5aa4"),
        (LinkageSummary::empty(), "bc669252eb35811a759d7eacf61921a705978c12960a2803632b68edc1ac02ee"),
    ];
    for (s, digest) in before {
        let published = files((&s).into(), Audience::Public).unwrap();
        assert_eq!(published.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), PATHS);
        assert!(published.iter().all(|f| f.content_type == CSV));
        // The follow-up files came later, after the four pinned here.
        assert_eq!(crate::digest_of(&published[..4]), digest);
    }
}

#[test]
fn published_files_hide_counts_of_one_to_four_and_what_is_computed_from_them() {
    let files = files((&summary()).into(), Audience::Public).unwrap();
    assert_eq!(
        text(&files, ENTRANTS_WEEKLY),
        "week_start,port_of_entry,nationality,entrants\n\
         2021-01-04,NRT,JPN,120\n\
         2021-01-04,KIX,VNM,*\n\
         2021-01-11,HND,USA,5\n"
    );
    // Three of five: the count and every share computed from it are hidden; the base of five is not.
    assert_eq!(
        text(&files, NEGATIVE_THEN_DIAGNOSED_28D),
        "negative_entrants,diagnosed_within_28_days,share,ci95_low,ci95_high\n5,*,*,*,*\n"
    );
    assert_eq!(text(&files, DAYS_ENTRY_TO_DIAGNOSIS), "days_entry_to_diagnosis,reports\n0,0\n3,*\n7,12\n");
    assert_eq!(
        text(&files, PREFECTURES),
        "prefecture_code,reports,with_passport,linked,share_with_passport,share_linked\n\
         13,6,*,*,*,*\n\
         27,200,50,40,0.250000,0.200000\n"
    );
    assert_eq!(
        text(&files, FOLLOW_UP),
        "under_follow_up,diagnosed_during_or_within_14_days,share,ci95_low,ci95_high,symptoms_before_diagnosis,\
         share_symptoms_before_diagnosis,unreachable,share_unreachable\n\
         40,7,0.175000,0.087454,0.319500,*,*,5,0.714286\n"
    );
    assert_eq!(text(&files, DAYS_SYMPTOMS_TO_DIAGNOSIS), "days_symptoms_to_diagnosis,reports\n1,*\n2,*\n");
}

#[test]
fn the_offline_statistics_have_no_follow_up_files() {
    let offline = domain::linkage_statistics::summarise(&[], &[], &[]);
    let written = files((&offline).into(), Audience::Analyst).unwrap();
    assert_eq!(written.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), PATHS[..4]);
}

#[test]
fn a_value_with_a_comma_or_a_quote_is_quoted_and_reads_back_whole() {
    let mut s = summary();
    s.entrants[0].port_of_entry = "Naha, Okinawa".into();
    s.entrants[0].nationality = "say \"hi\"".into();
    let files = files((&s).into(), Audience::Public).unwrap();
    let csv = text(&files, ENTRANTS_WEEKLY);
    assert_eq!(csv.lines().nth(1), Some(r#"2021-01-04,"Naha, Okinawa","say ""hi""",120"#));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let first = reader.records().next().unwrap().unwrap();
    assert_eq!(first.iter().collect::<Vec<_>>(), ["2021-01-04", "Naha, Okinawa", "say \"hi\"", "120"]);
}

#[test]
fn the_analysts_files_differ_from_the_published_ones_only_where_a_count_is_hidden() {
    let s = summary();
    let public = files((&s).into(), Audience::Public).unwrap();
    let analyst = files((&s).into(), Audience::Analyst).unwrap();
    assert_eq!(public.len(), analyst.len());
    let mut hidden = 0;
    for (p, a) in public.iter().zip(&analyst) {
        assert_eq!((&p.path, p.content_type), (&a.path, a.content_type));
        let (p, a) = (String::from_utf8(p.bytes.clone()).unwrap(), String::from_utf8(a.bytes.clone()).unwrap());
        assert_eq!(p.lines().count(), a.lines().count());
        assert_eq!(p.lines().next(), a.lines().next(), "same header");
        for (p, a) in p.lines().zip(a.lines()) {
            let (p, a): (Vec<&str>, Vec<&str>) = (p.split(',').collect(), a.split(',').collect());
            assert_eq!(p.len(), a.len());
            for (p, a) in p.iter().zip(&a) {
                if *p == crate::HIDDEN {
                    hidden += 1;
                    assert_ne!(*a, crate::HIDDEN, "the analyst sees every value");
                } else {
                    assert_eq!(p, a, "a shown value is the same, same precision");
                }
            }
        }
    }
    assert_eq!(hidden, 1 + 4 + 1 + 4 + 3 + 1);
    assert_eq!(text(&analyst, NEGATIVE_THEN_DIAGNOSED_28D).lines().nth(1), Some("5,3,0.600000,0.230725,0.882380"));
    assert_eq!(text(&analyst, PREFECTURES).lines().nth(1), Some("13,6,2,4,0.333333,0.666667"));
    // Without small counts, the two are the same bytes.
    let mut large = summary();
    large.entrants.truncate(1);
    large.days_entry_to_diagnosis.truncate(1);
    large.prefectures.remove(0);
    large.negative_then_diagnosed_28d =
        ShareWithInterval { count: 10, total: 200, share: 0.05, ci95_low: 0.01, ci95_high: 0.2 };
    large.follow_up = FollowUpSummary::default();
    assert_eq!(files((&large).into(), Audience::Public).unwrap(), files((&large).into(), Audience::Analyst).unwrap());
}

#[test]
fn headers_name_the_row_structs_fields_in_order() {
    fn header_of<R: serde::Serialize>(row: R) -> String {
        let mut writer = csv::WriterBuilder::new().has_headers(true).from_writer(Vec::new());
        writer.serialize(row).unwrap();
        String::from_utf8(writer.into_inner().unwrap()).unwrap().lines().next().unwrap().to_owned()
    }
    let c = Cell::Count(1);
    assert_eq!(
        header_of(EntrantsLine { week_start: d("2021-01-04"), port_of_entry: "", nationality: "", entrants: c }),
        ENTRANTS_HEADER.join(",")
    );
    assert_eq!(
        header_of(WindowLine {
            negative_entrants: c,
            diagnosed_within_28_days: c,
            share: c,
            ci95_low: c,
            ci95_high: c
        }),
        WINDOW_HEADER.join(",")
    );
    assert_eq!(header_of(DaysLine { days_entry_to_diagnosis: 0, reports: c }), DAYS_HEADER.join(","));
    assert_eq!(header_of(SymptomDaysLine { days_symptoms_to_diagnosis: 0, reports: c }), SYMPTOM_DAYS_HEADER.join(","));
    assert_eq!(
        header_of(FollowUpLine {
            under_follow_up: c,
            diagnosed_during_or_within_14_days: c,
            share: c,
            ci95_low: c,
            ci95_high: c,
            symptoms_before_diagnosis: c,
            share_symptoms_before_diagnosis: c,
            unreachable: c,
            share_unreachable: c
        }),
        FOLLOW_UP_HEADER.join(",")
    );
    assert_eq!(
        header_of(PrefectureLine {
            prefecture_code: "",
            reports: c,
            with_passport: c,
            linked: c,
            share_with_passport: c,
            share_linked: c
        }),
        PREFECTURES_HEADER.join(",")
    );
}
