//! `POST /v1/entries`: the quarantine system's entry records, up to [`MAX_BATCH`] a request, as a JSON array
//! (`Content-Type: application/json`) or one JSON object a line (`application/x-ndjson`). Field names are the CSV
//! columns of [`domain::entry::COLUMNS`]; every value is a string (or `null`/absent for an optional one).
//!
//! The answer is `200` with one result per record, in order, whatever the mix of outcomes:
//!
//! ```json
//! {"received": 4, "created": 2, "unchanged": 1, "conflicts": 0, "rejected": 1,
//!  "results": [{"index": 0, "entry_id": "E1", "outcome": "created"},
//!              {"index": 1, "entry_id": "E2", "outcome": "unchanged"},
//!              {"index": 2, "entry_id": "E3", "outcome": "created"},
//!              {"index": 3, "entry_id": "E4", "outcome": "rejected",
//!               "fields": [{"field": "passport_number", "problem": "must be 5 to 9 letters or digits"}]}]}
//! ```
//!
//! `entry_id` is left out when the record has no well-formed one. Errors of the request as a whole (no token, wrong
//! role, unreadable JSON, too many records) are the usual `{"error", "fields"}` answers; none repeats a value.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::header;
use domain::app::App;
use domain::entry::{BatchOutcome, EntryInput, MAX_BATCH, RecordOutcome, RecordResult, parse_entry_id};
use domain::{FieldError, Problem, ValidationError};
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserializer, Serialize};
use serde_json::Value;

use crate::auth::{Caller, Role};
use crate::error::{ApiError, FieldProblem};
use crate::wire::BodyLimit;

/// Largest body: a record is about 300 bytes, a few KB at most with the longest names and test fields; 4 MiB (the
/// documented limit) holds 1,000 of the largest.
pub(crate) const BODY_LIMIT: usize = 4 * 1024 * 1024;

const EXPECTED_TYPES: &str = "application/json (an array of records) or application/x-ndjson (one record a line)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    JsonArray,
    Ndjson,
}

/// The body with its format, read within the route's limit.
pub(crate) struct EntriesBody {
    format: Format,
    bytes: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for EntriesBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let essence = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        let format = match essence.as_deref() {
            Some("application/json") => Format::JsonArray,
            Some("application/x-ndjson") => Format::Ndjson,
            _ => return Err(ApiError::UnsupportedMediaType { expected: EXPECTED_TYPES }),
        };
        let limit = req.extensions().get::<BodyLimit>().map(|l| l.0).unwrap_or(BODY_LIMIT);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge { limit }
            } else {
                ApiError::BadJson { field: "body".into(), problem: "could not be read" }
            }
        })?;
        Ok(EntriesBody { format, bytes })
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct ResultView {
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    entry_id: Option<String>,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldProblem>,
}

impl From<RecordResult> for ResultView {
    fn from(r: RecordResult) -> Self {
        let outcome = r.outcome.as_str();
        let fields = match r.outcome {
            RecordOutcome::Rejected(errors) => {
                errors.into_iter().map(|e| FieldProblem { field: e.field, problem: e.problem.to_string() }).collect()
            }
            _ => Vec::new(),
        };
        ResultView { index: r.index, entry_id: r.entry_id, outcome, fields }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct BatchView {
    received: usize,
    created: usize,
    unchanged: usize,
    conflicts: usize,
    rejected: usize,
    results: Vec<ResultView>,
}

/// Roles: quarantine.
pub(crate) async fn create(
    State(app): State<App>,
    caller: Caller,
    body: EntriesBody,
) -> Result<Json<BatchView>, ApiError> {
    caller.require(&[Role::Quarantine])?;
    let records = match body.format {
        Format::JsonArray => parse_array(&body.bytes)?,
        Format::Ndjson => parse_ndjson(&body.bytes)?,
    };

    // Records that are not objects of strings are refused here; the others go to validation and storage.
    let mut results: Vec<Option<RecordResult>> = Vec::with_capacity(records.len());
    let mut inputs = Vec::with_capacity(records.len());
    let mut positions = Vec::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        match to_input(record) {
            Ok(input) => {
                inputs.push(input);
                positions.push(index);
                results.push(None);
            }
            Err(errors) => {
                let entry_id =
                    record.get("entry_id").and_then(Value::as_str).and_then(|id| parse_entry_id("entry_id", id).ok());
                results.push(Some(RecordResult { index, entry_id, outcome: RecordOutcome::Rejected(errors) }));
            }
        }
    }
    let outcome = app.ingest_entries(&inputs).await?;
    for (result, &index) in outcome.results.into_iter().zip(&positions) {
        if let Some(slot) = results.get_mut(index) {
            *slot = Some(RecordResult { index, ..result });
        }
    }
    let batch = BatchOutcome { results: results.into_iter().flatten().collect() };
    let c = batch.counts();
    tracing::info!(
        received = c.received,
        created = c.created,
        unchanged = c.unchanged,
        conflicts = c.conflicts,
        rejected = c.rejected,
        "entries received"
    );
    Ok(Json(BatchView {
        received: c.received,
        created: c.created,
        unchanged: c.unchanged,
        conflicts: c.conflicts,
        rejected: c.rejected,
        results: batch.results.into_iter().map(ResultView::from).collect(),
    }))
}

fn too_many() -> ApiError {
    ApiError::App(domain::app::AppError::Invalid(ValidationError(vec![FieldError::new(
        "body",
        Problem::Rule(format!("holds more than {MAX_BATCH} records, the most one request may hold")),
    )])))
}

/// Reads a JSON array of at most [`MAX_BATCH`] values, stopping at the first value past the limit. A syntax error
/// names the record (`[3]`) where it happened; serde's message, which may quote input, is dropped.
fn parse_array(bytes: &[u8]) -> Result<Vec<Value>, ApiError> {
    /// Where the reading got to: whether the array began, how many records were read, whether the limit was hit.
    #[derive(Default)]
    struct Progress {
        in_array: bool,
        read: usize,
        over_limit: bool,
    }

    struct Records<'a>(&'a mut Progress);

    impl<'de> DeserializeSeed<'de> for Records<'_> {
        type Value = Vec<Value>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Value>, D::Error> {
            d.deserialize_seq(self)
        }
    }

    impl<'de> Visitor<'de> for Records<'_> {
        type Value = Vec<Value>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of entry records")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Value>, A::Error> {
            self.0.in_array = true;
            let mut records = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_BATCH));
            while let Some(record) = seq.next_element::<Value>()? {
                if records.len() == MAX_BATCH {
                    self.0.over_limit = true;
                    return Err(serde::de::Error::custom("too many records"));
                }
                records.push(record);
                self.0.read = records.len();
            }
            Ok(records)
        }
    }

    let mut progress = Progress::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = Records(&mut progress).deserialize(&mut de).and_then(|records| de.end().map(|()| records));
    parsed.map_err(|_| {
        if progress.over_limit {
            too_many()
        } else if !progress.in_array {
            ApiError::BadJson { field: "body".into(), problem: "must be a JSON array of entry records" }
        } else {
            // The array began but broke off: in the record after the last one read, or after the array.
            ApiError::BadJson { field: format!("[{}]", progress.read), problem: "is not valid JSON" }
        }
    })
}

/// Reads one JSON value a line; blank lines are skipped. A bad line is named by its number (1-based).
fn parse_ndjson(bytes: &[u8]) -> Result<Vec<Value>, ApiError> {
    let mut records = Vec::new();
    for (number, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if records.len() == MAX_BATCH {
            return Err(too_many());
        }
        let record = serde_json::from_slice::<Value>(line)
            .map_err(|_| ApiError::BadJson { field: format!("line {}", number + 1), problem: "is not valid JSON" })?;
        records.push(record);
    }
    Ok(records)
}

/// One record's fields, by column name. Refuses (naming the field, never the value) a record that is not an
/// object, a value that is neither a string nor null, and keys that are not columns (without repeating them: a
/// key is input too).
fn to_input(record: &Value) -> Result<EntryInput, Vec<FieldError>> {
    let Value::Object(fields) = record else {
        return Err(vec![FieldError::new("record", Problem::Invalid("must be a JSON object"))]);
    };
    let mut input = EntryInput::default();
    let mut errors = Vec::new();
    let mut unknown = false;
    for (key, value) in fields {
        let Some(slot) = input.field_mut(key) else {
            unknown = true;
            continue;
        };
        match value {
            Value::String(s) => *slot = Some(s.clone()),
            Value::Null => {}
            _ => errors.push(FieldError::new(key.as_str(), Problem::Invalid("must be a string"))),
        }
    }
    if unknown {
        errors.push(FieldError::new("record", Problem::Invalid("has a field that is not one of the entry columns")));
    }
    if errors.is_empty() { Ok(input) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_array_past_the_limit_is_refused_without_reading_on() {
        let body = format!("[{}]", vec!["{}"; MAX_BATCH + 1].join(","));
        assert!(matches!(parse_array(body.as_bytes()), Err(ApiError::App(_))));
        let body = format!("[{}]", vec!["{}"; MAX_BATCH].join(","));
        assert_eq!(parse_array(body.as_bytes()).unwrap().len(), MAX_BATCH);
    }

    #[test]
    fn a_broken_record_is_named_by_position_without_its_value() {
        let err = parse_array(br#"[{"entry_id":"E1"}, {"passport_number": "TZ9081726}]"#).unwrap_err();
        let ApiError::BadJson { field, .. } = err else { panic!("{err:?}") };
        assert_eq!(field, "[1]");
        let err = parse_array(br#"{"entry_id":"E1"}"#).unwrap_err();
        assert!(matches!(err, ApiError::BadJson { field, .. } if field == "body"));
        let err = parse_ndjson(b"{\"entry_id\":\"E1\"}\n\n{\"passport_number\": TZ9081726}\n").unwrap_err();
        let ApiError::BadJson { field, .. } = err else { panic!("{err:?}") };
        assert_eq!(field, "line 3");
    }

    #[test]
    fn records_must_be_objects_of_strings_with_known_keys() {
        let errors = to_input(&serde_json::json!({"entry_id": 7, "TZ9081726": "x", "test_date": null})).unwrap_err();
        let shown = format!("{errors:?}");
        assert!(shown.contains("entry_id") && !shown.contains("TZ9081726"), "{shown}");
        assert!(to_input(&serde_json::json!(["E1"])).is_err());
        let input = to_input(&serde_json::json!({"entry_id": "E1", "test_date": null})).unwrap();
        assert_eq!(input.entry_id.as_deref(), Some("E1"));
        assert_eq!(input.test_date, None);
    }
}
