//! Outbreak reports (発生届) and their status over time.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::checker::{Checker, incomplete};
use crate::error::{FieldError, Problem, ValidationError};
use crate::keyed_hash::{KeyedHash, KeyedHasher};
use crate::pii::{Email, PassportNumber, PersonName, PhoneNumber};
use crate::prefecture::PrefectureCode;
use crate::raw_record::raw_record;
use crate::time::Instant;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReportId(String);

impl ReportId {
    /// Time-ordered (UUID v7), so ids sort roughly by creation.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn parse(raw: &str) -> Option<Self> {
        uuid::Uuid::parse_str(raw).ok().map(|u| Self(u.hyphenated().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ReportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReportId({})", self.0)
    }
}

impl fmt::Display for ReportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Defines a closed vocabulary with its wire spelling in one place.
macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
                match raw.trim() {
                    $($text => Ok($name::$variant),)+
                    "" => Err(FieldError::new(field, Problem::Missing)),
                    _ => Err(FieldError::new(field, Problem::Rule(format!(
                        "must be one of: {}", [$($text),+].join(", ")
                    )))),
                }
            }
        }
    };
}

vocabulary!(
    /// 届出の類型.
    CaseType {
        Patient = "patient",
        AsymptomaticCarrier = "asymptomatic_carrier",
        Suspected = "suspected",
        Deceased = "deceased",
    }
);
vocabulary!(Sex { Male = "M", Female = "F", Other = "X" });
vocabulary!(
    /// Languages for messages to the patient.
    Language { Ja = "ja", En = "en", Zh = "zh", Ko = "ko" }
);
vocabulary!(
    DiagnosisMethod {
        Pcr = "pcr",
        Lamp = "lamp",
        AntigenQuantitative = "antigen_quantitative",
        AntigenQualitative = "antigen_qualitative",
        Clinical = "clinical",
        Other = "other",
    }
);
vocabulary!(
    /// Where the patient is on a given day; a report's history is a dated list of these.
    Status {
        HomeCare = "home_care",
        HotelCare = "hotel_care",
        Hospitalized = "hospitalized",
        HospitalizedSevere = "hospitalized_severe",
        Released = "released",
        Died = "died",
        ToBeConfirmed = "to_be_confirmed",
    }
);

/// A PATCH of a report: field corrections (field name → new value, `None` to clear) and/or one status change.
#[derive(Debug, Clone, Default)]
pub struct ReportPatch {
    pub corrections: Vec<(String, Option<String>)>,
    pub status: Option<StatusChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// A field is malformed or breaks a rule of creation.
    #[error(transparent)]
    Invalid(ValidationError),
    /// Well-formed, but the change cannot happen (a status after death, before the diagnosis).
    #[error("impossible change: {0}")]
    Impossible(ValidationError),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: Status,
    pub effective_date: NaiveDate,
}

/// A case report as stored. Personal fields use the redacting types of [`crate::pii`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseReport {
    pub id: ReportId,
    pub health_center_code: String,
    pub case_number: Option<String>,
    pub prefecture: PrefectureCode,
    pub municipality_code: String,
    pub case_type: CaseType,
    pub sex: Sex,
    pub date_of_birth: NaiveDate,
    pub name: PersonName,
    pub name_kana: Option<PersonName>,
    pub phone: Option<PhoneNumber>,
    pub email: Option<Email>,
    pub preferred_language: Language,
    pub occupation: Option<String>,
    pub residence: Option<String>,
    pub report_date: NaiveDate,
    pub diagnosis_date: NaiveDate,
    pub onset_date: Option<NaiveDate>,
    pub publication_date: Option<NaiveDate>,
    pub diagnosis_method: Option<DiagnosisMethod>,
    pub nationality: Option<String>,
    pub entry_date: Option<NaiveDate>,
    pub passport_number: Option<PassportNumber>,
    /// Keyed hash of the passport number: the only form in which it is indexed.
    pub passport_hash: Option<KeyedHash>,
    /// Keyed hash of (health-centre code, case number): a report is unique by it. Set once, with the case number.
    #[serde(default)]
    pub case_key: Option<KeyedHash>,
    pub status_history: Vec<StatusChange>,
    pub created_at: Instant,
    pub updated_at: Instant,
}

raw_record!(
    /// Raw report fields as received (the JSON body of `POST /v1/reports`, or a stored report turned back into input
    /// for a correction), before validation.
    pub struct ReportInput {
        health_center_code,
        case_number,
        prefecture_code,
        municipality_code,
        case_type,
        sex,
        date_of_birth,
        name,
        name_kana,
        phone,
        email,
        preferred_language,
        occupation,
        residence,
        report_date,
        diagnosis_date,
        onset_date,
        publication_date,
        diagnosis_method,
        nationality,
        entry_date,
        passport_number,
    }
);

pub fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, FieldError> {
    crate::time::parse_iso_date(raw.trim())
        .ok_or_else(|| FieldError::new(field, Problem::Invalid("must be a date in the form YYYY-MM-DD")))
}

fn parse_code(field: &str, raw: &str, lengths: &[usize], what: &'static str) -> Result<String, FieldError> {
    let t = raw.trim();
    if lengths.contains(&t.len()) && t.chars().all(|c| c.is_ascii_digit()) {
        Ok(t.to_owned())
    } else {
        Err(FieldError::new(field, Problem::Invalid(what)))
    }
}

fn parse_text(field: &str, raw: &str) -> Result<String, FieldError> {
    let t = raw.trim();
    if t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(FieldError::new(field, Problem::Invalid("must be at most 200 characters of text")));
    }
    Ok(t.to_owned())
}

/// ISO 3166-1 alpha-3, upper case.
pub fn parse_nationality(field: &str, raw: &str) -> Result<String, FieldError> {
    let t = raw.trim().to_ascii_uppercase();
    if t.len() == 3 && t.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(t)
    } else {
        Err(FieldError::new(field, Problem::Invalid("must be an ISO 3166-1 alpha-3 code such as VNM")))
    }
}

impl CaseReport {
    /// Validates a new report. `today` is the Japan date now: no date may lie after it.
    // Long: every field of the report checked in turn, all problems collected (`Checker`), then the rules
    // across fields; split, the problems would be collected in several places.
    pub fn from_input(
        input: &ReportInput,
        id: ReportId,
        hasher: &KeyedHasher,
        now: Instant,
        today: NaiveDate,
    ) -> Result<Self, ValidationError> {
        let mut c = Checker::default();
        let hc = c.required("health_center_code", &input.health_center_code, |f, v| {
            parse_code(f, v, &[4, 5, 6], "must be the 4 to 6 digit health-centre code")
        });
        let case_number = c.optional("case_number", &input.case_number, parse_text);
        let prefecture = c.required("prefecture_code", &input.prefecture_code, PrefectureCode::parse);
        let municipality = c.required("municipality_code", &input.municipality_code, |f, v| {
            parse_code(f, v, &[5, 6], "must be a 5 or 6 digit local-government code")
        });
        let case_type = c.required("case_type", &input.case_type, CaseType::parse);
        let sex = c.required("sex", &input.sex, Sex::parse);
        let dob = c.required("date_of_birth", &input.date_of_birth, parse_date);
        let name = c.required("name", &input.name, PersonName::parse);
        let name_kana = c.optional("name_kana", &input.name_kana, PersonName::parse);
        let phone = c.optional("phone", &input.phone, PhoneNumber::parse);
        let email = c.optional("email", &input.email, Email::parse);
        let language = c.optional("preferred_language", &input.preferred_language, Language::parse);
        let occupation = c.optional("occupation", &input.occupation, parse_text);
        let residence = c.optional("residence", &input.residence, parse_text);
        let report_date = c.required("report_date", &input.report_date, parse_date);
        let diagnosis_date = c.required("diagnosis_date", &input.diagnosis_date, parse_date);
        let onset_date = c.optional("onset_date", &input.onset_date, parse_date);
        let publication_date = c.optional("publication_date", &input.publication_date, parse_date);
        let method = c.optional("diagnosis_method", &input.diagnosis_method, DiagnosisMethod::parse);
        let nationality = c.optional("nationality", &input.nationality, parse_nationality);
        let entry_date = c.optional("entry_date", &input.entry_date, parse_date);
        let passport = c.optional("passport_number", &input.passport_number, PassportNumber::parse);

        for (field, date) in [
            ("date_of_birth", dob),
            ("report_date", report_date),
            ("diagnosis_date", diagnosis_date),
            ("onset_date", onset_date.flatten()),
            ("publication_date", publication_date.flatten()),
            ("entry_date", entry_date.flatten()),
        ] {
            if let Some(d) = date {
                c.rule(d <= today, field, "must not be in the future (Japan time)");
            }
        }
        if let (Some(Some(onset)), Some(diag)) = (onset_date, diagnosis_date) {
            c.rule(onset <= diag, "onset_date", "must not be after diagnosis_date");
        }
        if let (Some(diag), Some(rep)) = (diagnosis_date, report_date) {
            c.rule(diag <= rep, "diagnosis_date", "must not be after report_date");
        }
        if let (Some(dob), Some(diag)) = (dob, diagnosis_date) {
            c.rule(dob <= diag, "date_of_birth", "must not be after diagnosis_date");
            c.rule(diag.years_since(dob).is_none_or(|age| age <= 120), "date_of_birth", "gives an age over 120 years");
        }
        if let (Some(Some(entry)), Some(diag)) = (entry_date, diagnosis_date) {
            c.rule(entry <= diag, "entry_date", "must not be after diagnosis_date");
        }
        c.finish()?;
        // No error, so every value above is `Some`; a `None` (unreachable) gives `incomplete`.
        let build = || {
            let hc = hc?;
            let case_number = case_number?;
            let passport = passport?;
            Some(CaseReport {
                id,
                passport_hash: passport.as_ref().map(|p| hasher.passport(p)),
                case_key: case_number.as_ref().map(|n| hasher.opaque("case", &format!("{hc}/{n}"))),
                health_center_code: hc,
                case_number,
                prefecture: prefecture?,
                municipality_code: municipality?,
                case_type: case_type?,
                sex: sex?,
                date_of_birth: dob?,
                name: name?,
                name_kana: name_kana?,
                phone: phone?,
                email: email?,
                preferred_language: language?.unwrap_or(Language::Ja),
                occupation: occupation?,
                residence: residence?,
                report_date: report_date?,
                diagnosis_date: diagnosis_date?,
                onset_date: onset_date?,
                publication_date: publication_date?,
                diagnosis_method: method?,
                nationality: nationality?,
                entry_date: entry_date?,
                passport_number: passport,
                status_history: Vec::new(),
                created_at: now,
                updated_at: now,
            })
        };
        build().ok_or_else(|| incomplete("report"))
    }

    /// The report's fields as input again, so that a correction can be validated by the very rules of creation.
    pub fn to_input(&self) -> ReportInput {
        let date = |d: NaiveDate| Some(d.to_string());
        ReportInput {
            health_center_code: Some(self.health_center_code.clone()),
            case_number: self.case_number.clone(),
            prefecture_code: Some(self.prefecture.as_jis()),
            municipality_code: Some(self.municipality_code.clone()),
            case_type: Some(self.case_type.as_str().to_owned()),
            sex: Some(self.sex.as_str().to_owned()),
            date_of_birth: date(self.date_of_birth),
            name: Some(self.name.expose().to_owned()),
            name_kana: self.name_kana.as_ref().map(|n| n.expose().to_owned()),
            phone: self.phone.as_ref().map(|p| p.expose().to_owned()),
            email: self.email.as_ref().map(|e| e.expose().to_owned()),
            preferred_language: Some(self.preferred_language.as_str().to_owned()),
            occupation: self.occupation.clone(),
            residence: self.residence.clone(),
            report_date: date(self.report_date),
            diagnosis_date: date(self.diagnosis_date),
            onset_date: self.onset_date.and_then(date),
            publication_date: self.publication_date.and_then(date),
            diagnosis_method: self.diagnosis_method.map(|m| m.as_str().to_owned()),
            nationality: self.nationality.clone(),
            entry_date: self.entry_date.and_then(date),
            passport_number: self.passport_number.as_ref().map(|p| p.expose().to_owned()),
        }
    }

    /// Applies a correction and/or a status change, giving the new report. Field corrections are validated by the
    /// rules of creation (400); the status history's own rules give [`PatchError::Impossible`] (422).
    pub fn apply_patch(
        &self,
        patch: &ReportPatch,
        hasher: &KeyedHasher,
        now: Instant,
        today: NaiveDate,
    ) -> Result<CaseReport, PatchError> {
        let mut input = self.to_input();
        for (field, value) in &patch.corrections {
            if field == "health_center_code" || field == "case_number" {
                // The report's identity for its health centre: correcting it would orphan the uniqueness claim.
                return Err(PatchError::Invalid(ValidationError(vec![FieldError::new(
                    field.as_str(),
                    Problem::Invalid("cannot be changed"),
                )])));
            }
            // An unknown name is not repeated: it is input, and could be anything.
            let Some(slot) = input.field_mut(field) else {
                return Err(PatchError::Invalid(ValidationError(vec![FieldError::new(
                    "body",
                    Problem::Invalid("has a field that is not a field of a report"),
                )])));
            };
            *slot = value.clone();
        }
        let mut next = CaseReport::from_input(&input, self.id.clone(), hasher, self.created_at, today)
            .map_err(PatchError::Invalid)?;
        next.case_key = self.case_key.clone();
        next.created_at = self.created_at;
        next.updated_at = now;
        next.status_history = self.status_history.clone();
        if let Some(change) = &patch.status {
            if change.effective_date > today {
                return Err(PatchError::Invalid(ValidationError(vec![FieldError::new(
                    "effective_date",
                    Problem::Invalid("must not be in the future (Japan time)"),
                )])));
            }
            next.status_history.push(change.clone());
        }
        next.check_history()?;
        Ok(next)
    }

    /// The status history's rules: nothing after death, no status before the diagnosis, dates in order.
    fn check_history(&self) -> Result<(), PatchError> {
        let impossible = |field: &str, why: &'static str| {
            Err(PatchError::Impossible(ValidationError(vec![FieldError::new(field, Problem::Invalid(why))])))
        };
        for (i, change) in self.status_history.iter().enumerate() {
            if change.effective_date < self.diagnosis_date {
                return impossible("effective_date", "must not be before the diagnosis date");
            }
            if let Some(previous) = i.checked_sub(1).map(|j| &self.status_history[j]) {
                if previous.status == Status::Died {
                    return impossible("status", "no status can follow died");
                }
                if change.effective_date < previous.effective_date {
                    return impossible("effective_date", "must not be before the previous status's date");
                }
            }
        }
        Ok(())
    }

    /// The status in force on a day, if any.
    pub fn status_on(&self, day: NaiveDate) -> Option<Status> {
        self.status_history.iter().rfind(|s| s.effective_date <= day).map(|s| s.status)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub fn sample_input() -> ReportInput {
        ReportInput {
            health_center_code: Some("131016".into()),
            prefecture_code: Some("13".into()),
            municipality_code: Some("131016".into()),
            case_type: Some("patient".into()),
            sex: Some("F".into()),
            date_of_birth: Some("1990-04-01".into()),
            name: Some("NGUYEN VAN AN".into()),
            name_kana: Some("グエン ヴァン アン".into()),
            phone: Some("090-1234-5678".into()),
            email: Some("an@example.jp".into()),
            preferred_language: Some("en".into()),
            report_date: Some("2021-02-03".into()),
            diagnosis_date: Some("2021-02-02".into()),
            onset_date: Some("2021-01-31".into()),
            nationality: Some("vnm".into()),
            entry_date: Some("2021-01-20".into()),
            passport_number: Some("ｃ１２３４５６７".into()),
            ..Default::default()
        }
    }

    pub fn sample_report() -> CaseReport {
        parse(&sample_input()).unwrap()
    }

    fn parse(input: &ReportInput) -> Result<CaseReport, ValidationError> {
        let hasher = KeyedHasher::new(&[1; 32]).unwrap();
        let now = chrono::Utc.with_ymd_and_hms(2021, 2, 3, 3, 0, 0).unwrap();
        CaseReport::from_input(input, ReportId::generate(), &hasher, now, crate::time::japan_date(now))
    }

    #[test]
    fn raw_input_debug_names_fields_not_values() {
        let shown = format!("{:?}", sample_input());
        assert!(shown.contains("passport_number") && shown.contains("phone"), "{shown}");
        for value in ["ｃ１２３４５６７", "090-1234-5678", "an@example.jp", "NGUYEN", "グエン"] {
            assert!(!shown.contains(value), "{shown}");
        }
    }

    #[test]
    fn a_complete_report_is_normalised() {
        let r = parse(&sample_input()).unwrap();
        assert_eq!(r.passport_number.as_ref().unwrap().expose(), "C1234567");
        assert_eq!(r.phone.as_ref().unwrap().expose(), "+819012345678");
        assert_eq!(r.nationality.as_deref(), Some("VNM"));
        assert!(r.passport_hash.is_some());
    }

    /// One row per rule: a single bad field in an otherwise valid report is refused, naming that field and only that
    /// one.
    #[test]
    fn each_rule_names_its_field() {
        type Set = fn(&mut ReportInput);
        let rows: &[(&str, Set)] = &[
            ("health_center_code", |i| i.health_center_code = Some("13-1016".into())),
            ("health_center_code", |i| i.health_center_code = None),
            ("prefecture_code", |i| i.prefecture_code = Some("48".into())),
            ("municipality_code", |i| i.municipality_code = Some("1310".into())),
            ("case_type", |i| i.case_type = Some("carrier".into())),
            ("sex", |i| i.sex = Some("female".into())),
            ("date_of_birth", |i| i.date_of_birth = Some("1990/04/01".into())),
            ("date_of_birth", |i| i.date_of_birth = Some("1899-12-31".into())),
            ("date_of_birth", |i| i.date_of_birth = Some("2021-02-03".into())),
            ("name", |i| i.name = Some("   ".into())),
            ("name", |i| i.name = Some("TARO\u{7}".into())),
            ("name_kana", |i| i.name_kana = Some("ア".repeat(201))),
            ("phone", |i| i.phone = Some("12345".into())),
            ("email", |i| i.email = Some("an.example.jp".into())),
            ("preferred_language", |i| i.preferred_language = Some("fr".into())),
            ("report_date", |i| i.report_date = Some("2021-02-04".into())),
            ("diagnosis_date", |i| {
                i.diagnosis_date = Some("2021-02-03".into());
                i.report_date = Some("2021-02-02".into());
                i.onset_date = None;
            }),
            ("onset_date", |i| i.onset_date = Some("2021-02-03".into())),
            ("publication_date", |i| i.publication_date = Some("2021-02-04".into())),
            ("diagnosis_method", |i| i.diagnosis_method = Some("xray".into())),
            ("nationality", |i| i.nationality = Some("VN".into())),
            ("entry_date", |i| i.entry_date = Some("2021-02-03".into())),
            ("passport_number", |i| i.passport_number = Some("C12".into())),
            ("occupation", |i| i.occupation = Some("x".repeat(201))),
        ];
        for (field, set) in rows {
            let mut input = sample_input();
            set(&mut input);
            let err = parse(&input).expect_err(field);
            let named: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(named, vec![*field], "{field}: {err}");
        }
        // The sample itself is valid, so each row above tests exactly one rule.
        assert!(parse(&sample_input()).is_ok());
    }

    #[test]
    fn every_bad_field_is_named_and_no_value_is_echoed() {
        let mut input = sample_input();
        input.passport_number = Some("C12#".into());
        input.onset_date = Some("2021-02-05".into());
        input.sex = Some("female".into());
        input.name = None;
        let err = parse(&input).unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        for f in ["passport_number", "onset_date", "sex", "name"] {
            assert!(fields.contains(&f), "{fields:?}");
        }
        assert!(!err.to_string().contains("C12#"));
    }

    fn patch(corrections: &[(&str, Option<&str>)], status: Option<(Status, &str)>) -> ReportPatch {
        ReportPatch {
            corrections: corrections.iter().map(|(f, v)| (f.to_string(), v.map(str::to_owned))).collect(),
            status: status.map(|(status, d)| StatusChange {
                status,
                effective_date: NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap(),
            }),
        }
    }

    fn apply(r: &CaseReport, p: &ReportPatch) -> Result<CaseReport, PatchError> {
        let hasher = KeyedHasher::new(&[1; 32]).unwrap();
        let now = chrono::Utc.with_ymd_and_hms(2021, 2, 10, 3, 0, 0).unwrap();
        r.apply_patch(p, &hasher, now, crate::time::japan_date(now))
    }

    #[test]
    fn corrections_are_validated_like_creation_and_rehash_the_passport() {
        let r = sample_report();
        let fixed = apply(&r, &patch(&[("passport_number", Some("C7654321")), ("email", None)], None)).unwrap();
        assert_eq!(fixed.passport_number.as_ref().unwrap().expose(), "C7654321");
        assert_ne!(fixed.passport_hash, r.passport_hash);
        assert_eq!(fixed.email, None);
        assert_eq!(fixed.id, r.id);
        let bad = apply(&r, &patch(&[("onset_date", Some("2021-02-09"))], None)).unwrap_err();
        assert!(matches!(bad, PatchError::Invalid(ref v) if v.0[0].field == "onset_date"), "{bad:?}");
        for frozen in ["health_center_code", "case_number"] {
            assert!(matches!(apply(&r, &patch(&[(frozen, Some("1"))], None)), Err(PatchError::Invalid(_))));
        }
        let unknown = apply(&r, &patch(&[("TZ9081726", Some("red"))], None)).unwrap_err();
        assert!(matches!(unknown, PatchError::Invalid(ref v) if v.0[0].field == "body"), "{unknown:?}");
        assert!(!unknown.to_string().contains("TZ9081726"));
    }

    #[test]
    fn impossible_status_changes_are_refused() {
        let r = sample_report(); // diagnosed 2021-02-02
        let home = apply(&r, &patch(&[], Some((Status::HomeCare, "2021-02-02")))).unwrap();
        let died = apply(&home, &patch(&[], Some((Status::Died, "2021-02-05")))).unwrap();
        for (base, status, date) in [
            (&died, Status::Released, "2021-02-06"),     // after death
            (&r, Status::Hospitalized, "2021-02-01"),    // before the diagnosis
            (&home, Status::Hospitalized, "2021-02-01"), // before the diagnosis and the previous status
        ] {
            assert!(
                matches!(apply(base, &patch(&[], Some((status, date)))), Err(PatchError::Impossible(_))),
                "{status:?} {date}"
            );
        }
        // A correction that moves the diagnosis after a recorded status is impossible too.
        assert!(matches!(
            apply(&home, &patch(&[("diagnosis_date", Some("2021-02-03")), ("report_date", Some("2021-02-03"))], None)),
            Err(PatchError::Impossible(_))
        ));
        // Dates in the future are malformed, not impossible.
        assert!(matches!(apply(&r, &patch(&[], Some((Status::HomeCare, "2021-03-01")))), Err(PatchError::Invalid(_))));
    }

    #[test]
    fn status_on_a_day_follows_the_history() {
        let mut r = parse(&sample_input()).unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        r.status_history = vec![
            StatusChange { status: Status::HomeCare, effective_date: d("2021-02-02") },
            StatusChange { status: Status::Hospitalized, effective_date: d("2021-02-04") },
        ];
        assert_eq!(r.status_on(d("2021-02-01")), None);
        assert_eq!(r.status_on(d("2021-02-03")), Some(Status::HomeCare));
        assert_eq!(r.status_on(d("2021-02-09")), Some(Status::Hospitalized));
    }
}
