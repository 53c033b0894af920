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

/// The keyed-hash secret of every test app (and of `hersys` started by a test with `HMAC_SECRET`).
pub const SECRET: &[u8] = b"test-secret-test-secret-test-secret!";

pub fn hasher() -> KeyedHasher {
    KeyedHasher::new(SECRET).unwrap()
}

/// The configuration of a test app: the environment's, with [`SECRET`].
pub fn config() -> platform::Config {
    platform::Config::from_env_with_secret(SECRET.to_vec()).unwrap()
}

/// Which side a test runs on: the embedded default (SQLite, the outbox, an export directory) or the AWS adapters
/// on the emulators (DynamoDB Local, moto's SES, SNS and S3).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stack {
    Embedded,
    Aws,
}

/// The services wired as the product wires them on one stack, with what a test may want to look at behind them.
pub struct StackApp {
    /// The ports and settings: a test replaces a port here (then builds the services from it), or reads what a run
    /// stored.
    pub wiring: domain::app::Wiring,
    /// The embedded stores (for the outbox), on the embedded stack.
    pub stores: Option<embedded::SqliteStores>,
    /// The data dir of the embedded stack (exports under `export/`); deleted when dropped.
    pub dir: Option<tempfile::TempDir>,
    /// The public export's bucket, on the AWS stack.
    pub export_bucket: Option<String>,
}

impl StackApp {
    /// The HTTP API's services, as `wiring` builds them.
    pub fn app(&self) -> domain::app::App {
        self.wiring.app()
    }

    /// The linkage function's services, as its cold start builds them.
    pub fn linkage_function(&self) -> linkage::Services {
        linkage::Services::new(&self.wiring).unwrap()
    }

    /// The export function's services, as its cold start builds them.
    pub fn export_function(&self) -> export::Services {
        export::Services::new(&self.wiring).unwrap()
    }

    /// The partitioned re-link.
    pub fn relink(&self) -> domain::app::Relink {
        self.wiring.relink().unwrap()
    }

    /// A public file the app exported (`path` under the export root: the data dir's `export/`, or the bucket), if
    /// there is one.
    pub async fn published(&self, path: &str) -> Option<String> {
        if let Some(dir) = &self.dir {
            return std::fs::read_to_string(dir.path().join("export").join(path)).ok();
        }
        let bucket = self.export_bucket.as_deref()?;
        let s3 = aws_adapters::s3_client(&crate::emulators::sdk_config().await, true);
        let object = s3.get_object().bucket(bucket).key(path).send().await.ok()?;
        Some(String::from_utf8(object.body.collect().await.unwrap().into_bytes().to_vec()).unwrap())
    }
}

/// A fresh app on `stack`: a new data dir, or new tables, export and state buckets and a verified SES sender.
pub async fn app_on(stack: Stack) -> StackApp {
    let config = config();
    match stack {
        Stack::Embedded => {
            let dir = tempfile::tempdir().unwrap();
            let (wiring, stores) = embedded::embedded_wiring(dir.path(), platform::settings(&config).unwrap()).unwrap();
            StackApp { wiring, stores: Some(stores), dir: Some(dir), export_bucket: None }
        }
        Stack::Aws => {
            let sdk = crate::emulators::sdk_config().await;
            let tag = uuid::Uuid::new_v4().simple().to_string();
            let resources = platform::AwsResources {
                tables: crate::emulators::fresh_table_names(),
                export_bucket: Some(format!("export-{tag}")),
                export_state_bucket: Some(format!("state-{tag}")),
                full_export_state_machine: None,
            };
            platform::create_emulated_resources(&sdk, &config, &resources).await.unwrap();
            let export_bucket = resources.export_bucket.clone();
            let wiring = platform::aws_wiring_with(&config, &sdk, resources).unwrap();
            StackApp { wiring, stores: None, dir: None, export_bucket }
        }
    }
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
