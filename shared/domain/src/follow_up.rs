//! Follow-up records of the entrants' health follow-up system (入国者健康管理システム; in service the Entrants,
//! Returnees Follow-up System, ERFS): one per entrant under follow-up during the first days in Japan, keyed by the
//! follow-up centre's id and carrying the passport number, so that it can be linked to outbreak reports as entry
//! records are.
//!
//! Unlike an entry record, a follow-up record changes while the follow-up runs (check-ins, reported symptoms, the
//! status), and the follow-up centre sends it again with newer values. The rule for a re-send is
//! [`FollowUpRecord::resend`]: who the record is about never changes; what the follow-up knows only moves forward
//! in time, judged by the last check-in date.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::checker::{Checker, incomplete};
use crate::entry::{EntryRecord, MAX_AGE_AT_ENTRY, parse_entry_id, parse_passport_name};
use crate::error::{FieldError, Problem, ValidationError};
use crate::keyed_hash::{KeyedHash, KeyedHasher};
use crate::pii::{PassportNumber, PersonName};
use crate::prefecture::PrefectureCode;
use crate::raw_record::raw_record;
use crate::report::{CaseReport, Sex, parse_date, parse_nationality};

/// The longest follow-up accepted, in days from its first to its last day. The follow-up asked of entrants lasted
/// 14 days; a longer period is taken for a typing error in a date.
pub const MAX_FOLLOW_UP_DAYS: i64 = 31;

/// Where the follow-up of an entrant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpStatus {
    /// Being followed: check-ins are expected.
    Active,
    /// The follow-up period ended.
    Completed,
    /// The entrant stopped answering and could not be reached.
    Unreachable,
}

impl FollowUpStatus {
    pub const ALL: [FollowUpStatus; 3] =
        [FollowUpStatus::Active, FollowUpStatus::Completed, FollowUpStatus::Unreachable];

    /// The wire and CSV spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUpStatus::Active => "active",
            FollowUpStatus::Completed => "completed",
            FollowUpStatus::Unreachable => "unreachable",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        match raw.trim() {
            "" => Err(FieldError::new(field, Problem::Missing)),
            t => Self::ALL.into_iter().find(|s| s.as_str() == t).ok_or_else(|| {
                FieldError::new(field, Problem::Invalid("must be one of: active, completed, unreachable"))
            }),
        }
    }
}

raw_record!(
    /// A raw follow-up record as received (a JSON object or a CSV row), before validation. The fields are the
    /// columns of the follow-up system's export, in its order.
    pub struct FollowUpInput {
        follow_up_id,
        passport_number,
        nationality,
        family_name,
        given_names,
        date_of_birth,
        sex,
        entry_date,
        follow_up_from,
        follow_up_until,
        stay_prefecture_code,
        sponsor_code,
        last_check_in_date,
        symptoms_reported_on,
        status,
    }
);

/// The columns of the follow-up system's export, in its order; also the JSON field names of `POST /v1/follow-ups`.
pub const COLUMNS: &[&str] = FollowUpInput::FIELDS;

impl FollowUpInput {
    /// The follow-up id if it is a well-formed one: the only value of a record that an answer may repeat.
    pub fn valid_follow_up_id(&self) -> Option<&str> {
        self.follow_up_id.as_deref().map(str::trim).filter(|id| parse_entry_id("follow_up_id", id).is_ok())
    }
}

/// Who a follow-up record is about: the values that a re-send may not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpPerson {
    pub passport_number: PassportNumber,
    pub passport_hash: KeyedHash,
    pub nationality: String,
    pub family_name: PersonName,
    pub given_names: Option<PersonName>,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    pub entry_date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpRecord {
    /// The follow-up system's own id; not personal data.
    pub follow_up_id: String,
    pub person: FollowUpPerson,
    pub follow_up_from: NaiveDate,
    pub follow_up_until: NaiveDate,
    /// Where the entrant said they would stay.
    pub stay_prefecture: Option<PrefectureCode>,
    /// The receiving company or school registered as the entrant's sponsor (受入責任者), as its code.
    pub sponsor_code: Option<String>,
    pub last_check_in_date: Option<NaiveDate>,
    /// The first day the entrant reported symptoms in a check-in.
    pub symptoms_reported_on: Option<NaiveDate>,
    pub status: FollowUpStatus,
}

/// How a follow-up record fares against the one stored under its id (see [`FollowUpRecord::resend`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUpWrite {
    /// No record under this id: stored.
    Created,
    /// Newer than the stored one: it replaced it.
    Replaced,
    /// Identical to the stored one: nothing changed.
    Unchanged,
    /// Older than the stored one (an earlier last check-in): refused, the stored one kept.
    Stale,
    /// About another person than the stored one: refused, the stored one kept.
    Conflict,
}

impl FollowUpWrite {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowUpWrite::Created => "created",
            FollowUpWrite::Replaced => "replaced",
            FollowUpWrite::Unchanged => "unchanged",
            FollowUpWrite::Stale => "stale",
            FollowUpWrite::Conflict => "conflict",
        }
    }
}

/// A sponsor code: 1 to 32 of `A-Z 0-9 -`, upper-cased. Codes, not names: the sponsor's name is not kept.
fn parse_sponsor_code(field: &str, raw: &str) -> Result<String, FieldError> {
    let t = raw.trim().to_ascii_uppercase();
    if !t.is_empty() && t.len() <= 32 && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(t)
    } else {
        Err(FieldError::new(field, Problem::Invalid("must be 1 to 32 of A-Z, 0-9 and '-'")))
    }
}

impl FollowUpRecord {
    /// Validates one raw record. `today` is the Japan date now: no date may lie after it, except the planned last
    /// day of the follow-up.
    ///
    /// Rules, besides each field's own shape: the date of birth gives an age of 0 to [`MAX_AGE_AT_ENTRY`] at entry;
    /// the follow-up starts on or after the entry date and lasts at most [`MAX_FOLLOW_UP_DAYS`] days; check-ins
    /// and reported symptoms fall on or after its first day; a completed follow-up has ended (its last day is not
    /// after today).
    // Long: every field checked in turn, all problems collected, then the rules across fields (as a report's).
    pub fn from_input(input: &FollowUpInput, hasher: &KeyedHasher, today: NaiveDate) -> Result<Self, ValidationError> {
        let mut c = Checker::default();
        let id = c.required("follow_up_id", &input.follow_up_id, parse_entry_id);
        let passport = c.required("passport_number", &input.passport_number, PassportNumber::parse);
        let nationality = c.required("nationality", &input.nationality, parse_nationality);
        let family_name = c.required("family_name", &input.family_name, parse_passport_name);
        let given_names = c.optional("given_names", &input.given_names, parse_passport_name);
        let dob = c.required("date_of_birth", &input.date_of_birth, parse_date);
        let sex = c.required("sex", &input.sex, Sex::parse);
        let entry_date = c.required("entry_date", &input.entry_date, parse_date);
        let from = c.required("follow_up_from", &input.follow_up_from, parse_date);
        let until = c.required("follow_up_until", &input.follow_up_until, parse_date);
        let stay = c.optional("stay_prefecture_code", &input.stay_prefecture_code, PrefectureCode::parse);
        let sponsor = c.optional("sponsor_code", &input.sponsor_code, parse_sponsor_code);
        let check_in = c.optional("last_check_in_date", &input.last_check_in_date, parse_date);
        let symptoms = c.optional("symptoms_reported_on", &input.symptoms_reported_on, parse_date);
        let status = c.required("status", &input.status, FollowUpStatus::parse);

        let past_dates = [
            ("date_of_birth", dob),
            ("entry_date", entry_date),
            ("follow_up_from", from),
            ("last_check_in_date", check_in.flatten()),
            ("symptoms_reported_on", symptoms.flatten()),
        ];
        for (field, date) in past_dates {
            if let Some(d) = date {
                c.rule(d <= today, field, "must not be in the future (Japan time)");
            }
        }
        if let (Some(dob), Some(entry)) = (dob, entry_date) {
            c.rule(dob <= entry, "date_of_birth", "must not be after entry_date");
            c.rule(
                entry.years_since(dob).is_none_or(|age| age <= MAX_AGE_AT_ENTRY),
                "date_of_birth",
                "gives an age over 120 years at entry",
            );
        }
        if let (Some(from), Some(entry)) = (from, entry_date) {
            c.rule(from >= entry, "follow_up_from", "must not be before entry_date");
        }
        if let (Some(from), Some(until)) = (from, until) {
            c.rule(until >= from, "follow_up_until", "must not be before follow_up_from");
            c.rule(
                (until - from).num_days() <= MAX_FOLLOW_UP_DAYS,
                "follow_up_until",
                "gives a follow-up over 31 days",
            );
        }
        if let Some(from) = from {
            for (field, date) in
                [("last_check_in_date", check_in.flatten()), ("symptoms_reported_on", symptoms.flatten())]
            {
                if let Some(d) = date {
                    c.rule(d >= from, field, "must not be before follow_up_from");
                }
            }
        }
        if let (Some(FollowUpStatus::Completed), Some(until)) = (status, until) {
            c.rule(until <= today, "status", "must not be completed before follow_up_until has passed");
        }
        c.finish()?;
        // No error, so every value above is `Some`; a `None` (unreachable) gives `incomplete`.
        let build = || {
            let passport = passport?;
            Some(FollowUpRecord {
                follow_up_id: id?,
                person: FollowUpPerson {
                    passport_hash: hasher.passport(&passport),
                    passport_number: passport,
                    nationality: nationality?,
                    family_name: family_name?,
                    given_names: given_names?,
                    date_of_birth: dob?,
                    sex: sex?,
                    entry_date: entry_date?,
                },
                follow_up_from: from?,
                follow_up_until: until?,
                stay_prefecture: stay?,
                sponsor_code: sponsor?,
                last_check_in_date: check_in?,
                symptoms_reported_on: symptoms?,
                status: status?,
            })
        };
        build().ok_or_else(|| incomplete("record"))
    }

    /// How this record fares when `stored` is already kept under its id: the one rule every store applies.
    ///
    /// - identical: `Unchanged`;
    /// - about another person (passport number, names, date of birth, sex, nationality or entry date differ):
    ///   `Conflict`, since a follow-up id names one entrant's follow-up for good;
    /// - an earlier last check-in than the stored one (or none where the stored one has one): `Stale`. Re-sends
    ///   may arrive out of order (retries, a replayed export); the follow-up only moves forward, so the older
    ///   view never overwrites the newer;
    /// - otherwise (a later check-in, or the same day with other values: the later send of a day is the newer
    ///   knowledge): `Replaced`.
    pub fn resend(&self, stored: &FollowUpRecord) -> FollowUpWrite {
        if self == stored {
            FollowUpWrite::Unchanged
        } else if self.person != stored.person {
            FollowUpWrite::Conflict
        } else if self.last_check_in_date < stored.last_check_in_date {
            // `None < Some(_)`: no check-in is older than any.
            FollowUpWrite::Stale
        } else {
            FollowUpWrite::Replaced
        }
    }
}

/// The follow-up record a report reaches, among `candidates` (the records with the passport hash of the report's
/// linked entry, or of the report itself):
///
/// - through the report's linked entry (a link, or a confirmed review: the linkage's own decision, made by passport
///   first and scored otherwise): the follow-up of that arrival, the same passport and entry date. The follow-up
///   system records the passport as read at the border, like the quarantine system, so this match is exact;
/// - without a linked entry (the entry record not received, say), by the report's own passport number, as the
///   linkage's exact step does for entries: the follow-up whose entry date is the latest on or before the
///   diagnosis.
///
/// Ties go to the smaller follow-up id, so every store and run answers alike.
pub fn follow_up_of<'a>(
    report: &CaseReport,
    linked_entry: Option<&EntryRecord>,
    candidates: impl IntoIterator<Item = &'a FollowUpRecord>,
) -> Option<&'a FollowUpRecord> {
    let candidates = candidates.into_iter();
    match linked_entry {
        Some(entry) => candidates
            .filter(|f| f.person.passport_hash == entry.passport_hash && f.person.entry_date == entry.entry_date)
            .min_by(|a, b| a.follow_up_id.cmp(&b.follow_up_id)),
        None => {
            let hash = report.passport_hash.as_ref()?;
            candidates
                .filter(|f| f.person.passport_hash == *hash && f.person.entry_date <= report.diagnosis_date)
                .max_by(|a, b| {
                    a.person.entry_date.cmp(&b.person.entry_date).then_with(|| b.follow_up_id.cmp(&a.follow_up_id))
                })
        }
    }
}

/// One record's result in a batch, at its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpResult {
    /// 0-based position in the batch.
    pub index: usize,
    /// The record's id when it is well formed (ids are not personal data); `None` otherwise.
    pub follow_up_id: Option<String>,
    /// The store's verdict, or the validation errors (fields and problems, never values).
    pub outcome: Result<FollowUpWrite, Vec<FieldError>>,
}

impl FollowUpResult {
    pub fn outcome_str(&self) -> &'static str {
        match &self.outcome {
            Ok(write) => write.as_str(),
            Err(_) => "rejected",
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample_input() -> FollowUpInput {
        FollowUpInput {
            follow_up_id: Some("F2021-0001".into()),
            passport_number: Some("C1234567".into()),
            nationality: Some("VNM".into()),
            family_name: Some("nguyen".into()),
            given_names: Some("thi hoa".into()),
            date_of_birth: Some("1992-07-15".into()),
            sex: Some("F".into()),
            entry_date: Some("2021-01-20".into()),
            follow_up_from: Some("2021-01-21".into()),
            follow_up_until: Some("2021-02-03".into()),
            stay_prefecture_code: Some("13".into()),
            sponsor_code: Some("sp-0042".into()),
            last_check_in_date: Some("2021-01-25".into()),
            symptoms_reported_on: None,
            status: Some("active".into()),
        }
    }

    fn hasher() -> KeyedHasher {
        KeyedHasher::new(&[3; 32]).unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2021, 1, 30).unwrap()
    }

    fn parse(input: &FollowUpInput) -> Result<FollowUpRecord, ValidationError> {
        FollowUpRecord::from_input(input, &hasher(), today())
    }

    fn refused_fields(input: &FollowUpInput) -> Vec<String> {
        parse(input).unwrap_err().0.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_complete_record_is_normalised() {
        let r = parse(&sample_input()).unwrap();
        assert_eq!(r.follow_up_id, "F2021-0001");
        assert_eq!(r.person.family_name.expose(), "NGUYEN");
        assert_eq!(r.person.passport_hash, hasher().passport(&r.person.passport_number));
        assert_eq!(r.stay_prefecture.map(|p| p.number()), Some(13));
        assert_eq!(r.sponsor_code.as_deref(), Some("SP-0042"));
        assert_eq!(r.status, FollowUpStatus::Active);
        // The planned last day may lie after today.
        assert!(r.follow_up_until > today());
    }

    #[test]
    fn every_required_field_is_named_when_missing() {
        let fields = refused_fields(&FollowUpInput::default());
        let optional =
            ["given_names", "stay_prefecture_code", "sponsor_code", "last_check_in_date", "symptoms_reported_on"];
        for f in COLUMNS.iter().filter(|c| !optional.contains(c)) {
            assert!(fields.iter().any(|x| x == f), "{f} not in {fields:?}");
        }
        assert_eq!(fields.len(), COLUMNS.len() - optional.len());
    }

    #[test]
    fn each_rule_names_its_field() {
        type Spoil = fn(&mut FollowUpInput);
        let cases: [(&str, Spoil); 9] = [
            ("follow_up_id", |i| i.follow_up_id = Some("F 1/2".into())),
            ("stay_prefecture_code", |i| i.stay_prefecture_code = Some("48".into())),
            ("sponsor_code", |i| i.sponsor_code = Some("株式会社".into())),
            ("status", |i| i.status = Some("lost".into())),
            ("follow_up_from", |i| i.follow_up_from = Some("2021-01-19".into())),
            ("follow_up_until", |i| i.follow_up_until = Some("2021-03-01".into())),
            ("last_check_in_date", |i| i.last_check_in_date = Some("2021-01-31".into())),
            ("symptoms_reported_on", |i| i.symptoms_reported_on = Some("2021-01-20".into())),
            ("status", |i| i.status = Some("completed".into())),
        ];
        for (field, spoil) in cases {
            let mut input = sample_input();
            spoil(&mut input);
            assert_eq!(refused_fields(&input), vec![field.to_owned()], "{field}");
        }
    }

    #[test]
    fn a_resend_moves_forward_only_and_keeps_the_person() {
        let stored = parse(&sample_input()).unwrap();
        assert_eq!(stored.resend(&stored), FollowUpWrite::Unchanged);

        let mut newer = sample_input();
        newer.last_check_in_date = Some("2021-01-27".into());
        newer.symptoms_reported_on = Some("2021-01-26".into());
        assert_eq!(parse(&newer).unwrap().resend(&stored), FollowUpWrite::Replaced);

        let mut same_day = sample_input();
        same_day.status = Some("unreachable".into());
        assert_eq!(parse(&same_day).unwrap().resend(&stored), FollowUpWrite::Replaced);

        let mut older = sample_input();
        older.last_check_in_date = Some("2021-01-22".into());
        assert_eq!(parse(&older).unwrap().resend(&stored), FollowUpWrite::Stale);
        older.last_check_in_date = None;
        assert_eq!(parse(&older).unwrap().resend(&stored), FollowUpWrite::Stale);

        let mut other_person = sample_input();
        other_person.date_of_birth = Some("1992-07-16".into());
        other_person.last_check_in_date = Some("2021-01-29".into());
        assert_eq!(parse(&other_person).unwrap().resend(&stored), FollowUpWrite::Conflict);
    }

    #[test]
    fn debug_and_refusals_show_no_value() {
        let shown = format!("{:?}", sample_input());
        assert!(!shown.contains("C1234567") && !shown.contains("nguyen"), "{shown}");
        let mut input = sample_input();
        input.passport_number = Some("C12#4567".into());
        let err = parse(&input).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("C12#4567"));
        let record = parse(&sample_input()).unwrap();
        let shown = format!("{record:?}");
        assert!(!shown.contains("C1234567") && !shown.contains("NGUYEN"), "{shown}");
    }
}
