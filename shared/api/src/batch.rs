//! What the batch routes (`POST /v1/entries`, `POST /v1/follow-ups`) share: reading a body of up to
//! [`MAX_BATCH`] records, as a JSON array (`Content-Type: application/json`) or one JSON object a line
//! (`application/x-ndjson`), and turning each record into its raw input, by field name. Every value is a string (or
//! `null`/absent for an optional one). No error repeats a value or an unknown key: both are input.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use domain::entry::MAX_BATCH;
use domain::{FieldError, Problem, RawRecord, ValidationError};
use serde::Deserializer;
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;

use crate::error::ApiError;
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

/// A batch route's body with its format, read within the route's limit.
pub(crate) struct BatchBody {
    format: Format,
    bytes: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for BatchBody {
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
        Ok(BatchBody { format, bytes })
    }
}

/// One record of a batch and where it was: `index` is its position in the array (0-based), or for NDJSON its line
/// number minus one, blank lines counted, so that an answer's `index` points at the line a caller wrote.
#[derive(Debug, PartialEq)]
pub(crate) struct Record {
    pub(crate) index: usize,
    pub(crate) value: Value,
}

impl BatchBody {
    /// The records, each a JSON value: at most [`MAX_BATCH`], else the request is refused as a whole.
    pub(crate) fn records(&self) -> Result<Vec<Record>, ApiError> {
        match self.format {
            Format::JsonArray => {
                let values = parse_array(&self.bytes)?;
                Ok(values.into_iter().enumerate().map(|(index, value)| Record { index, value }).collect())
            }
            Format::Ndjson => parse_ndjson(&self.bytes),
        }
    }
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
            f.write_str("an array of records")
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
            ApiError::BadJson { field: "body".into(), problem: "must be a JSON array of records" }
        } else {
            // The array began but broke off: in the record after the last one read, or after the array.
            ApiError::BadJson { field: format!("[{}]", progress.read), problem: "is not valid JSON" }
        }
    })
}

/// Reads one JSON value a line; blank lines are skipped, but counted: each record keeps its line's number minus one
/// as its index. A bad line is named by its number (1-based).
fn parse_ndjson(bytes: &[u8]) -> Result<Vec<Record>, ApiError> {
    let mut records = Vec::new();
    for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if records.len() == MAX_BATCH {
            return Err(too_many());
        }
        let value = serde_json::from_slice::<Value>(line)
            .map_err(|_| ApiError::BadJson { field: format!("line {}", index + 1), problem: "is not valid JSON" })?;
        records.push(Record { index, value });
    }
    Ok(records)
}

/// One record's fields, by column name. Refuses (naming the field, never the value) a record that is not an
/// object, a value that is neither a string nor null, and keys that are not columns (without repeating them: a
/// key is input too).
pub(crate) fn to_input<R: RawRecord>(record: &Value) -> Result<R, Vec<FieldError>> {
    let Value::Object(fields) = record else {
        return Err(vec![FieldError::new("record", Problem::Invalid("must be a JSON object"))]);
    };
    let mut input = R::default();
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
        errors.push(FieldError::new("record", Problem::Invalid("has a field that is not one of the record columns")));
    }
    if errors.is_empty() { Ok(input) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::entry::EntryInput;

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
    fn an_ndjson_records_index_is_its_line_number_minus_one_blank_lines_counted() {
        let records = parse_ndjson(b"{\"entry_id\":\"E1\"}\n\n  \n{\"entry_id\":\"E2\"}\n\n").unwrap();
        let indexes: Vec<usize> = records.iter().map(|r| r.index).collect();
        assert_eq!(indexes, vec![0, 3]);
        assert_eq!(records[1].value["entry_id"], "E2");
    }

    #[test]
    fn records_must_be_objects_of_strings_with_known_keys() {
        let errors = to_input::<EntryInput>(&serde_json::json!({"entry_id": 7, "TZ9081726": "x", "test_date": null}))
            .unwrap_err();
        let shown = format!("{errors:?}");
        assert!(shown.contains("entry_id") && !shown.contains("TZ9081726"), "{shown}");
        assert!(to_input::<EntryInput>(&serde_json::json!(["E1"])).is_err());
        let input = to_input::<EntryInput>(&serde_json::json!({"entry_id": "E1", "test_date": null})).unwrap();
        assert_eq!(input.entry_id.as_deref(), Some("E1"));
        assert_eq!(input.test_date, None);
    }
}
