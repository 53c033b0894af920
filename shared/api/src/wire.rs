//! JSON wire types: field names are snake_case and fixed, callers rely on them.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use chrono::NaiveDate;
use domain::report::{CaseReport, StatusChange};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

// JSON errors name the offending field (by JSON path) but never echo a value: serde's own messages quote the input
// ("invalid type: string \"TZ1234567\""), which could put personal data into an answer or a log.

/// Largest JSON body of a report request. A report is a few hundred bytes; 64 KiB leaves room for long free text.
pub const REPORT_BODY_LIMIT: usize = 64 * 1024;

/// The body of a JSON request, after checking its content type and size (limits are set per route with
/// `DefaultBodyLimit`; exceeding one answers 413 stating it).
pub struct RawJson(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .is_some_and(|v| v == "application/json" || (v.starts_with("application/") && v.ends_with("+json")));
        if !json {
            return Err(ApiError::UnsupportedMediaType { expected: "application/json" });
        }
        let limit = req.extensions().get::<BodyLimit>().map(|l| l.0).unwrap_or(REPORT_BODY_LIMIT);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge { limit }
            } else {
                ApiError::BadJson { field: "body".into(), problem: "could not be read" }
            }
        })?;
        Ok(RawJson(bytes))
    }
}

/// The body limit in force on a route, recorded so that a 413 can state it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Reads a JSON body into `T`. Syntax is `invalid_json`; everything else names the field by its JSON path and is
/// `invalid_request` ([`ApiError::InvalidField`]): a wrong type, a value outside the allowed ones (listed), a missing
/// field, an unknown one. serde's messages are not passed on as they are: they may quote input.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let mut segments: Vec<&serde_path_to_error::Segment> = e.path().iter().collect();
        match e.inner().classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                // Where the text broke off; a segment serde could not name yet ("?") says nothing.
                segments.retain(|s| !matches!(s, serde_path_to_error::Segment::Unknown));
                let field = join_path(&segments).unwrap_or_else(|| "body".to_owned());
                return ApiError::BadJson { field, problem: "is not valid JSON" };
            }
            serde_json::error::Category::Io => {
                return ApiError::BadJson { field: "body".to_owned(), problem: "could not be read" };
            }
            serde_json::error::Category::Data => {}
        }
        let full = e.inner().to_string();
        // serde_json ends its message with the position ("at line 1 column 45"), which is not the caller's concern.
        let message = full.rsplit_once(" at line ").map_or(full.as_str(), |(text, _)| text);
        if let Some(rest) = message.strip_prefix("unknown field `") {
            // The path ends in the unknown key, which is input: it is named only when it is a near miss of a field
            // the type knows (a misspelt field name cannot be a passport number), else the object holding it is.
            let key = segments.pop().map(ToString::to_string).unwrap_or_default();
            let parent = join_path(&segments);
            let expected = quoted_names(rest.split_once("expected").map_or("", |(_, names)| names));
            return match near_miss(&key, &expected) {
                Some(known) => ApiError::invalid(
                    parent.map_or_else(|| key.clone(), |p| format!("{p}.{key}")),
                    format!("is not a known field (did you mean {known}?)"),
                ),
                None => ApiError::invalid(
                    parent.unwrap_or_else(|| "body".to_owned()),
                    "has a field that is not a known field",
                ),
            };
        }
        let parent = join_path(&segments);
        // serde names a missing field in its message ("missing field `time`"); that name is ours, not input.
        if let Some(name) = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
            return ApiError::invalid(parent.map_or_else(|| name.to_owned(), |p| format!("{p}.{name}")), "is required");
        }
        let field = parent.unwrap_or_else(|| "body".to_owned());
        // "unknown variant `fax`, expected `sms` or `email`": the variant is input, the expected ones ours.
        if let Some(rest) = message.strip_prefix("unknown variant `") {
            let allowed = quoted_names(rest.split_once("expected").map_or("", |(_, names)| names));
            return ApiError::invalid(field, format!("must be one of: {}", allowed.join(", ")));
        }
        // "invalid type: integer `7`, expected a string": only what was expected, which is ours.
        match message.split_once(", expected ") {
            Some((_, expected)) if message.starts_with("invalid type") => {
                ApiError::invalid(field, format!("has the wrong type: expected {}", expected.trim_end_matches('.')))
            }
            _ => ApiError::invalid(field, "has a value that is not allowed"),
        }
    })
}

/// The names between backticks of serde's "expected `a`, `b` or `c`" (the type's own field or variant names).
fn quoted_names(text: &str) -> Vec<String> {
    text.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// The known field name `key` misspells, if it is one: written as our field names are (lower-case ASCII letters,
/// digits and `_`; a passport number or a name in capitals never is), at most two edits from the name and at least
/// 80% like it (so that a short word is not taken for a short field: `ken` is two edits from `sex`).
fn near_miss<'a>(key: &str, known: &'a [String]) -> Option<&'a String> {
    let shaped =
        (1..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    let best = known.iter().min_by_key(|k| strsim::levenshtein(key, k)).filter(|_| shaped)?;
    (strsim::levenshtein(key, best) <= 2 && strsim::normalized_levenshtein(key, best) >= 0.8).then_some(best)
}

/// `a.b[2].c` from path segments (field names of our own types and array indexes); `None` at the top level.
fn join_path(segments: &[&serde_path_to_error::Segment]) -> Option<String> {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// `PATCH /v1/reports/{id}`: field corrections (a field's new value, or `null` to clear it) and optionally a status
/// change (`status` with `effective_date`).
pub fn parse_patch(bytes: &[u8]) -> Result<domain::report::ReportPatch, ApiError> {
    use domain::report::{ReportPatch, Status, StatusChange, parse_date};
    let object: serde_json::Map<String, serde_json::Value> = parse_json(bytes)?;
    let mut patch = ReportPatch::default();
    let text = |field: &str, v: &serde_json::Value| -> Result<Option<String>, ApiError> {
        match v {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::String(s) => Ok(Some(s.clone())),
            _ => Err(ApiError::invalid(field, "must be a string or null")),
        }
    };
    let status = object.get("status").map(|v| text("status", v)).transpose()?.flatten();
    let effective = object.get("effective_date").map(|v| text("effective_date", v)).transpose()?.flatten();
    let invalid = |field: &str, e: domain::FieldError| ApiError::invalid(field, e.problem.to_string());
    match (status, effective) {
        (Some(s), Some(d)) => {
            let status = Status::parse("status", &s).map_err(|e| invalid("status", e))?;
            let effective_date = parse_date("effective_date", &d).map_err(|e| invalid("effective_date", e))?;
            patch.status = Some(StatusChange { status, effective_date });
        }
        (Some(_), None) => {
            return Err(ApiError::invalid("effective_date", "is required with status"));
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid("status", "is required with effective_date"));
        }
        (None, None) => {}
    }
    for (field, value) in &object {
        if field == "status" || field == "effective_date" {
            continue;
        }
        // Keys are input too: only a report field's own name is repeated in an answer.
        if !domain::report::ReportInput::FIELDS.contains(&field.as_str()) {
            return Err(ApiError::invalid("body", "has a field that is not a field of a report"));
        }
        patch.corrections.push((field.clone(), text(field, value)?));
    }
    if patch.corrections.is_empty() && patch.status.is_none() {
        return Err(ApiError::invalid("body", "must change at least one field or the status"));
    }
    Ok(patch)
}

#[derive(Debug, Serialize)]
pub struct Created {
    pub report_id: String,
    pub version: u64,
}

#[derive(Debug, Serialize)]
pub struct StatusView {
    pub status: &'static str,
    pub effective_date: NaiveDate,
}

impl From<&StatusChange> for StatusView {
    fn from(s: &StatusChange) -> Self {
        StatusView { status: s.status.as_str(), effective_date: s.effective_date }
    }
}

/// `GET /v1/reports/{id}`: the report as the health centre entered it (normalised), with its version.
#[derive(Debug, Serialize)]
pub struct ReportView {
    pub report_id: String,
    pub version: u64,
    pub health_center_code: String,
    pub case_number: Option<String>,
    pub prefecture_code: String,
    pub municipality_code: String,
    pub case_type: &'static str,
    pub sex: &'static str,
    pub date_of_birth: NaiveDate,
    pub name: String,
    pub name_kana: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub preferred_language: &'static str,
    pub occupation: Option<String>,
    pub residence: Option<String>,
    pub report_date: NaiveDate,
    pub diagnosis_date: NaiveDate,
    pub onset_date: Option<NaiveDate>,
    pub publication_date: Option<NaiveDate>,
    pub diagnosis_method: Option<&'static str>,
    pub nationality: Option<String>,
    pub entry_date: Option<NaiveDate>,
    pub passport_number: Option<String>,
    pub status_history: Vec<StatusView>,
}

impl ReportView {
    pub fn new(r: &CaseReport, version: u64) -> Self {
        ReportView {
            report_id: r.id.to_string(),
            version,
            health_center_code: r.health_center_code.clone(),
            case_number: r.case_number.clone(),
            prefecture_code: r.prefecture.as_jis(),
            municipality_code: r.municipality_code.clone(),
            case_type: r.case_type.as_str(),
            sex: r.sex.as_str(),
            date_of_birth: r.date_of_birth,
            // The health centre sees what it entered: this is the one place personal data leaves in the clear.
            name: r.name.expose().to_owned(),
            name_kana: r.name_kana.as_ref().map(|n| n.expose().to_owned()),
            phone: r.phone.as_ref().map(|p| p.expose().to_owned()),
            email: r.email.as_ref().map(|e| e.expose().to_owned()),
            preferred_language: r.preferred_language.as_str(),
            occupation: r.occupation.clone(),
            residence: r.residence.clone(),
            report_date: r.report_date,
            diagnosis_date: r.diagnosis_date,
            onset_date: r.onset_date,
            publication_date: r.publication_date,
            diagnosis_method: r.diagnosis_method.map(|m| m.as_str()),
            nationality: r.nationality.clone(),
            entry_date: r.entry_date,
            passport_number: r.passport_number.as_ref().map(|p| p.expose().to_owned()),
            status_history: r.status_history.iter().map(StatusView::from).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// serde names unknown keys in its messages and paths; keys are input, so no answer may repeat one.
    #[test]
    fn unknown_keys_are_not_repeated() {
        for body in [&br#"{"TZ9081726": "x"}"#[..], br#"{"TZ9081726": 5}"#, br#"{"name": "A", "TZ9081726": {"a": 1}}"#]
        {
            let err = parse_json::<domain::report::ReportInput>(body).err().unwrap();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("TZ9081726"), "{shown}");
        }
        let err = parse_patch(br#"{"TZ9081726": 5}"#).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("TZ9081726"));
    }

    #[test]
    fn a_body_that_breaks_a_rule_names_the_field_by_its_path_and_never_quotes_input() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            channel: Channel,
            passport_number: Option<String>,
            sex: Option<String>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Channel {
            Sms,
            Email,
        }
        // (code, field, problem) of the refusal of `body`.
        let got = |body: &str| match parse_json::<Body>(body.as_bytes()).unwrap_err() {
            ApiError::InvalidField { field, problem } => ("invalid_request".to_owned(), field, problem),
            ApiError::BadJson { field, problem } => ("invalid_json".to_owned(), field, problem.to_owned()),
            e => panic!("{e:?}"),
        };
        let r = |code: &str, field: &str, problem: &str| (code.to_owned(), field.to_owned(), problem.to_owned());
        assert_eq!(got(r#"{"channel": "fax"}"#), r("invalid_request", "channel", "must be one of: sms, email"));
        assert_eq!(got(r#"{}"#), r("invalid_request", "channel", "is required"));
        assert_eq!(
            got(r#"{"channel": "sms", "pasport_number": "TZ9081726"}"#),
            r("invalid_request", "pasport_number", "is not a known field (did you mean passport_number?)")
        );
        // A key far from every field may be input (a passport number as a key): the object is named instead.
        assert_eq!(
            got(r#"{"channel": "sms", "TZ9081726": "x"}"#),
            r("invalid_request", "body", "has a field that is not a known field")
        );
        // Nor a short word two edits from a short field, nor anything in capitals.
        for key in ["ken", "Passport_number", "tz9081726"] {
            let body = format!(r#"{{"channel": "sms", "{key}": "x"}}"#);
            assert_eq!(got(&body), r("invalid_request", "body", "has a field that is not a known field"), "{key}");
        }
        assert_eq!(
            got(r#"{"channel": "sms", "passport_number": 9081726}"#),
            r("invalid_request", "passport_number", "has the wrong type: expected a string")
        );
        assert_eq!(got(r#"{"channel": "sms""#), r("invalid_json", "body", "is not valid JSON"));
    }
}
