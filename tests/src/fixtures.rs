//! Sample data, with personal values distinctive enough to be searched for in keys and logs.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use domain::KeyedHasher;
use domain::cycle::{Channel, Cycle, CycleId, CycleState, IssuedNumber, NumberState};
use domain::entry::{EntryRecord, EntryTestResult};
use domain::pii::{PassportNumber, PersonName, ProcessingNumber};
use domain::report::{CaseReport, ReportId, ReportInput, Sex};
use domain::time::Instant;

pub const PASSPORT: &str = "TZ9081726";
pub const PHONE_DOMESTIC: &str = "090-8765-4321";
pub const PHONE_E164: &str = "+819087654321";
pub const EMAIL: &str = "nguyen.thi.hoa@example.jp";
pub const NAME: &str = "NGUYEN THI HOA";
pub const NAME_KANA: &str = "グエン ティ ホア";

pub fn hasher() -> KeyedHasher {
    KeyedHasher::new(b"test-secret-test-secret-test-secret!").unwrap()
}

pub fn t0() -> Instant {
    Utc.with_ymd_and_hms(2021, 2, 3, 3, 0, 0).unwrap()
}

pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A complete report as a health centre would file it, with every personal field set.
pub fn report_input() -> ReportInput {
    ReportInput {
        health_center_code: Some("131016".into()),
        prefecture_code: Some("13".into()),
        municipality_code: Some("131016".into()),
        case_type: Some("patient".into()),
        sex: Some("F".into()),
        date_of_birth: Some("1992-07-15".into()),
        name: Some(NAME.into()),
        name_kana: Some(NAME_KANA.into()),
        phone: Some(PHONE_DOMESTIC.into()),
        email: Some(EMAIL.into()),
        preferred_language: Some("en".into()),
        report_date: Some("2021-02-03".into()),
        diagnosis_date: Some("2021-02-02".into()),
        onset_date: Some("2021-01-31".into()),
        publication_date: Some("2021-02-03".into()),
        nationality: Some("VNM".into()),
        entry_date: Some("2021-01-20".into()),
        passport_number: Some(PASSPORT.into()),
        ..Default::default()
    }
}

pub fn report() -> CaseReport {
    CaseReport::from_input(&report_input(), ReportId::generate(), &hasher(), t0(), date("2021-02-03")).unwrap()
}

pub fn report_in(prefecture: &str, passport: Option<&str>) -> CaseReport {
    let mut input = report_input();
    input.prefecture_code = Some(prefecture.into());
    input.passport_number = passport.map(str::to_owned);
    CaseReport::from_input(&input, ReportId::generate(), &hasher(), t0(), date("2021-02-03")).unwrap()
}

/// A report of health centre `hc` with the health centre's own case number.
pub fn report_with_case(hc: &str, case_number: &str) -> CaseReport {
    let mut input = report_input();
    input.health_center_code = Some(hc.into());
    input.case_number = Some(case_number.into());
    CaseReport::from_input(&input, ReportId::generate(), &hasher(), t0(), date("2021-02-03")).unwrap()
}

pub fn entry(entry_id: &str, passport: &str) -> EntryRecord {
    let passport = PassportNumber::parse("passport_number", passport).unwrap();
    EntryRecord {
        entry_id: entry_id.to_owned(),
        passport_hash: hasher().passport(&passport),
        passport_number: passport,
        nationality: "VNM".into(),
        family_name: PersonName::parse("family_name", "NGUYEN").unwrap(),
        given_names: Some(PersonName::parse("given_names", "THI HOA").unwrap()),
        date_of_birth: date("1992-07-15"),
        sex: Sex::Female,
        entry_date: date("2021-01-20"),
        port_of_entry: "NRT".into(),
        entry_test_result: EntryTestResult::Negative,
        test_date: Some(date("2021-01-20")),
    }
}

pub fn cycle(report: &ReportId, due: Option<Instant>) -> Cycle {
    Cycle {
        id: CycleId::generate(),
        report_id: report.clone(),
        health_center_code: "131016".into(),
        channel: Channel::Sms,
        language: domain::report::Language::Ja,
        state: CycleState::Active,
        numbers: Vec::new(),
        reminder: None,
        redeemed_generation: None,
        next_due_at: due,
        created_at: t0(),
        ended_at: None,
    }
}

/// A number record for a cycle; returns it with its plaintext, which tests use only to look for leaks.
pub fn number(cycle: &Cycle, generation: u8) -> (IssuedNumber, ProcessingNumber) {
    let plain = ProcessingNumber::random().unwrap();
    let record = IssuedNumber {
        hash: hasher().processing_number(&plain),
        cycle_id: cycle.id.clone(),
        generation,
        state: NumberState::Live,
        issued_at: t0(),
        expires_at: t0() + Duration::hours(1),
        purge_after: t0() + Duration::days(30),
    };
    (record, plain)
}

/// A clock the test sets and moves (the domain's `Clock` port), shared by the suites that drive time.
pub struct TestClock(std::sync::Mutex<Instant>);

impl TestClock {
    pub fn new(at: Instant) -> Self {
        Self(std::sync::Mutex::new(at))
    }

    pub fn set(&self, at: Instant) {
        *self.0.lock().unwrap() = at;
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl domain::time::Clock for TestClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap()
    }
}
