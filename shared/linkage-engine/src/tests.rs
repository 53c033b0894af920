//! Engine tests on small hand-made populations.

use super::*;

struct E {
    passport: &'static str,
    nat: &'static str,
    family: &'static str,
    given: &'static str,
    dob: &'static str,
    sex: &'static str,
    entry: &'static str,
}

fn entry(e: &E) -> LinkEntry {
    LinkEntry::new(&EntryFields {
        passport_number: e.passport,
        nationality: e.nat,
        family_name: e.family,
        given_names: e.given,
        date_of_birth: e.dob,
        sex: e.sex,
        entry_date: e.entry,
    })
    .unwrap()
}

/// A background population of 3,000 distinct people (so that u and the blocks are realistic), then `special`.
fn population(special: &[E]) -> Vec<LinkEntry> {
    const FAMILY: [&str; 10] = ["WANG", "LI", "ZHANG", "KIM", "PARK", "NGUYEN", "TRAN", "SMITH", "SANTOS", "CHEN"];
    const GIVEN: [&str; 10] = ["WEI", "NA", "MINJUN", "SEOYEON", "THI HOA", "VAN AN", "JOHN", "MARIA", "JIAHAO", "ANH"];
    let mut out = Vec::new();
    for i in 0..3000u32 {
        let passport = format!("B{:08}", 40_000_000 + i * 7919 % 10_000_000);
        let dob = format!("19{:02}-{:02}-{:02}", 50 + i % 50, 1 + i / 50 % 12, 1 + i / 600 % 28);
        let fields = EntryFields {
            passport_number: &passport,
            nationality: ["CHN", "KOR", "VNM", "USA", "PHL"][i as usize % 5],
            family_name: FAMILY[i as usize % 10],
            given_names: GIVEN[i as usize / 10 % 10],
            date_of_birth: &dob,
            sex: if i % 2 == 0 { "M" } else { "F" },
            entry_date: "2021-03-01",
        };
        out.push(LinkEntry::new(&fields).unwrap());
    }
    out.extend(special.iter().map(entry));
    out
}

fn report(passport: &str, nat: &str, name: &str, kana: &str, dob: &str, sex: &str, diagnosis: &str) -> LinkReport {
    LinkReport::new(&ReportFields {
        passport_number: passport,
        nationality: nat,
        name,
        name_kana: kana,
        date_of_birth: dob,
        sex,
        diagnosis_date: diagnosis,
    })
    .unwrap()
}

const ZHANG: E = E {
    passport: "E12345678",
    nat: "CHN",
    family: "ZHANG",
    given: "XIAOMING",
    dob: "1988-07-21",
    sex: "M",
    entry: "2021-06-01",
};
const ZHANG_SISTER: E = E {
    passport: "E12345679",
    nat: "CHN",
    family: "ZHANG",
    given: "XIAOLI",
    dob: "1991-02-03",
    sex: "F",
    entry: "2021-06-01",
};

fn run(entries: &[LinkEntry], reports: &[LinkReport]) -> Vec<Decision> {
    let options = Options { u_sample: 50_000, ..Options::default() };
    link(entries, reports, &options).0
}

fn linked(decisions: &[Decision], report: usize) -> Option<usize> {
    decisions.iter().find(|d| d.report == report && d.band == Band::Link).map(|d| d.entry)
}

#[test]
fn links_exact_confusable_and_mistyped_passports_and_nothing_for_strangers() {
    let entries = population(&[ZHANG]);
    let zhang = entries.len() - 1;
    let reports = [
        report("E12345678", "CHN", "ZHANG XIAOMING", "", "1988-07-21", "M", "2021-06-10"),
        report("ｅ１２３４５６７８", "", "Xiaoming Zhang", "", "1988-07-21", "M", "2021-06-10"),
        report("EI2345678", "CHN", "ZHANG XIAOMING", "", "1988-07-21", "M", "2021-06-10"),
        report("E1234568", "CHN", "ZHANG XIAOMING", "", "1988-07-21", "M", "2021-06-10"),
        report("E12354678", "CHN", "ZHANG XIAO MING", "", "1988-07-12", "M", "2021-06-10"),
        report("", "CHN", "ZHANG XIAOMING", "チャン シャオミン", "1988-07-21", "M", "2021-06-10"),
        report("G98765432", "CHN", "ZHAO LEI", "", "1979-11-30", "M", "2021-06-10"),
        report("", "", "OKAFOR CHIDI", "", "1990-05-05", "M", "2021-06-10"),
    ];
    let d = run(&entries, &reports);
    for r in 0..6 {
        assert_eq!(linked(&d, r), Some(zhang), "report {r}: {:?}", d.iter().find(|x| x.report == r));
    }
    assert!(d.iter().all(|x| x.report < 6 || x.band == Band::Review), "strangers are never linked: {d:?}");
}

#[test]
fn a_slip_onto_a_sibling_number_still_links_the_right_person() {
    // The report's passport has one digit slipped onto the sister's number exactly; date of birth and given name
    // are the brother's.
    let entries = population(&[ZHANG, ZHANG_SISTER]);
    let (brother, sister) = (entries.len() - 2, entries.len() - 1);
    let reports = [
        report("E12345679", "CHN", "ZHANG XIAOMING", "", "1988-07-21", "M", "2021-06-10"),
        report("E12345679", "CHN", "ZHANG XIAOLI", "", "1991-02-03", "F", "2021-06-10"),
    ];
    let d = run(&entries, &reports);
    assert_eq!(linked(&d, 0), Some(brother), "{d:?}");
    assert_eq!(linked(&d, 1), Some(sister), "{d:?}");
}

#[test]
fn repeat_entrant_links_to_the_entry_nearest_before_diagnosis() {
    let first = E { entry: "2021-01-10", ..ZHANG };
    let second = E { entry: "2021-05-20", ..ZHANG };
    let third = E { entry: "2021-09-01", ..ZHANG };
    let entries = population(&[first, second, third]);
    let n = entries.len();
    let reports = [
        report("E12345678", "CHN", "ZHANG XIAOMING", "", "1988-07-21", "M", "2021-06-10"),
        report("E12345678", "CHN", "ZHANG XIAOMING", "", "1988-07-21", "M", "2021-02-01"),
        report("E12345678", "CHN", "ZHANG XIAOMING", "", "1988-07-21", "M", "2020-12-01"),
    ];
    let d = run(&entries, &reports);
    assert_eq!(linked(&d, 0), Some(n - 2));
    assert_eq!(linked(&d, 1), Some(n - 3));
    assert!(d.iter().all(|x| x.report != 2), "entries after the diagnosis are not candidates: {d:?}");
}

#[test]
fn two_people_equally_plausible_go_to_review_not_link() {
    // No passport on the report; two different people share name, date of birth and sex.
    let twin_a = E { passport: "E55555555", ..ZHANG };
    let twin_b = E { passport: "K77777777", ..ZHANG };
    let entries = population(&[twin_a, twin_b]);
    let reports = [report("", "CHN", "ZHANG XIAOMING", "", "1988-07-21", "M", "2021-06-10")];
    let d = run(&entries, &reports);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].band, Band::Review);
    assert!(d[0].runner_up.is_some());
    // The reviewer is shown both twins: the other one beside the best, and no third person.
    let other = d[0].others[0].expect("the other twin is a candidate");
    assert_ne!(other.entry, d[0].entry);
    assert!(other.score <= d[0].score);
    assert_eq!(d[0].others[1], None, "{d:?}");
}

#[test]
fn decisions_name_the_agreeing_fields_and_method_without_values() {
    let entries = population(&[ZHANG]);
    let reports = [report("EI2345678", "CHN", "ZHANG XIAOMING", "", "1988-07-21", "M", "2021-06-10")];
    let d = run(&entries, &reports);
    let method = d[0].method();
    assert_eq!(method, "fellegi_sunter:passport_folded+date_of_birth+sex+nationality+name_exact");
    assert!(!method.contains("ZHANG") && !method.contains("E12"));
}

#[test]
fn blocking_finds_one_edit_passports_without_scanning_everyone() {
    let entries = population(&[ZHANG]);
    let index = BlockIndex::build(&entries);
    let mut out = Vec::new();
    // passport one edit off, every other field missing
    index.candidates(&report("E1234567", "", "", "", "", "", "2021-06-10"), |_| true, &mut out);
    assert!(out.contains(&((entries.len() - 1) as u32)));
    assert!(out.len() < 10, "{}", out.len());
    // date of birth with day and month swapped
    index.candidates(&report("", "", "", "", "1988-07-21", "", "2021-06-10"), |_| true, &mut out);
    assert!(out.contains(&((entries.len() - 1) as u32)));
    // name with one digit off in the year of birth
    index.candidates(&report("", "", "Xiaoming ZHANG", "", "1989-07-21", "", "2021-06-10"), |_| true, &mut out);
    assert!(out.contains(&((entries.len() - 1) as u32)));
    assert!(out.len() < entries.len() / 10, "{}", out.len());
}

/// The population, 300 entrants called WANG WEI (a common name, each with another date of birth), and `special`.
fn population_with_a_common_name(special: &[E]) -> Vec<LinkEntry> {
    let mut wangs: Vec<E> = Vec::new();
    let dobs: Vec<String> =
        (0..300).map(|i| format!("19{:02}-{:02}-{:02}", 40 + i % 60, 1 + i / 60 % 12, 1 + i * 7 % 28)).collect();
    for (i, dob) in dobs.iter().enumerate() {
        let passport: &'static str = Box::leak(format!("E7{:07}", i * 31).into_boxed_str());
        let dob: &'static str = Box::leak(dob.clone().into_boxed_str());
        wangs.push(E { passport, family: "WANG", given: "WEI", dob, ..ZHANG });
    }
    wangs.extend(special.iter().map(|e| E { ..*e }));
    population(&wangs)
}

#[test]
fn agreeing_on_a_rare_name_weighs_more_than_on_a_common_one() {
    let rare = E { passport: "E31415926", family: "OUYANG", given: "XIAOFENG", dob: "1975-03-14", ..ZHANG };
    let common = E { passport: "E27182818", family: "WANG", given: "WEI", dob: "1975-03-14", ..ZHANG };
    let entries = population_with_a_common_name(&[rare, common]);
    let (rare_at, common_at) = (entries.len() - 2, entries.len() - 1);
    // The same pattern for both: no passport number, the date of birth one digit off, sex, nationality, the name.
    let reports = [
        report("", "CHN", "OUYANG XIAOFENG", "", "1975-03-15", "M", "2021-06-10"),
        report("", "CHN", "WANG WEI", "", "1975-03-15", "M", "2021-06-10"),
    ];
    let options = Options { u_sample: 50_000, ..Options::default() };
    let (d, model, _) = link(&entries, &reports, &options);
    let (rare_d, common_d) = (d.iter().find(|x| x.report == 0), d.iter().find(|x| x.report == 1));
    let rare_d = rare_d.expect("the rare name is at least reviewed");
    assert_eq!((rare_d.entry, rare_d.pattern), (rare_at, common_d.map_or(0, |c| c.pattern)), "{d:?}");
    assert!(model.names.entries > 0 && !model.names.counts.is_empty());
    let common_score = common_d.map_or(f32::NEG_INFINITY, |c| c.score);
    assert!(rare_d.score > common_score + 3.0, "rare {} common {common_score}", rare_d.score);
    // without a passport number, a common name and a near date of birth do not make a link
    assert!(common_d.is_none_or(|c| c.band == Band::Review && c.entry == common_at), "{d:?}");
    // the hourly run's unit decides alike with the same model
    let one = decide_one(&reports[1], &entries, &model, &options);
    assert_eq!(one.map(|x| (x.entry, x.band, x.score)), common_d.map(|x| (x.entry, x.band, x.score)));
}

#[test]
fn frequencies_are_kept_under_the_keyers_keys_and_stored_models_without_them_adjust_nothing() {
    let entries = population_with_a_common_name(&[]);
    let reports = [report("", "CHN", "WANG WEI", "", "1940-01-02", "M", "2021-06-10")];
    let keyer = frequency::NameKeyer::new(|k| k.rotate_left(17) ^ 0x5A5A);
    let options = Options { u_sample: 50_000, name_keyer: keyer.clone(), ..Options::default() };
    let (d, model, _) = link(&entries, &reports, &options);
    let wang = frequency::name_key(*b"CHN", &names::Name::latin("WANG WEI")).unwrap();
    assert!(model.names.records(keyer.key(wang)) >= 300);
    assert_eq!(model.names.records(wang), model.names.rest, "the unkeyed key is not what is kept");
    // a model stored before frequencies were counted scores as before: no adjustment
    let mut old = model.params();
    old.name_frequencies = frequency::NameFrequencies::default();
    let old = Model::from_params(&old);
    let before = decide_one(&reports[0], &entries, &old, &options);
    assert_eq!(before.map(|x| x.score), before.map(|x| old.score(x.pattern)));
    // with them, the common name's agreement is lowered
    let after = decide_one(&reports[0], &entries, &model, &options);
    assert_eq!(after.map(|x| x.score), d.first().map(|x| x.score));
    assert!(after.map(|x| x.score) < after.map(|x| model.score(x.pattern)), "{after:?}");
}
