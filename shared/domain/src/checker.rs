//! Validation that collects every field's problem instead of stopping at the first, so that one answer lists all of
//! them and a form (or a CSV row) can be fixed in one round trip.

use crate::error::{FieldError, Problem, ValidationError};

/// Collects field errors while a raw record is parsed.
#[derive(Default)]
pub(crate) struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    /// The trimmed value, `None` when absent or blank.
    fn present(raw: &Option<String>) -> Option<&str> {
        raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        r.map_err(|e| self.errors.push(e)).ok()
    }

    /// The parsed value; `None` (with the error recorded) when absent, blank or refused.
    pub(crate) fn required<T>(
        &mut self,
        field: &str,
        raw: &Option<String>,
        parse: impl FnOnce(&str, &str) -> Result<T, FieldError>,
    ) -> Option<T> {
        match Self::present(raw) {
            Some(v) => self.take(parse(field, v)),
            None => {
                self.errors.push(FieldError::new(field, Problem::Missing));
                None
            }
        }
    }

    /// `Some(None)` when absent or blank, `None` (with the error recorded) when present but refused.
    pub(crate) fn optional<T>(
        &mut self,
        field: &str,
        raw: &Option<String>,
        parse: impl FnOnce(&str, &str) -> Result<T, FieldError>,
    ) -> Option<Option<T>> {
        match Self::present(raw) {
            Some(v) => self.take(parse(field, v)).map(Some),
            None => Some(None),
        }
    }

    /// Records `why` against `field` unless `ok`.
    pub(crate) fn rule(&mut self, ok: bool, field: &str, why: &'static str) {
        if !ok {
            self.errors.push(FieldError::new(field, Problem::Invalid(why)));
        }
    }

    /// Every problem found, or `Ok` when there was none.
    pub(crate) fn finish(self) -> Result<(), ValidationError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ValidationError(self.errors)) }
    }
}

/// The error for a record that passed every check yet lacks a value: unreachable, since every `None` that
/// [`Checker::required`] or [`Checker::optional`] returns recorded an error; answered as a validation error
/// regardless rather than a panic.
pub(crate) fn incomplete(record: &str) -> ValidationError {
    ValidationError(vec![FieldError::new(record, Problem::Invalid("incomplete"))])
}
