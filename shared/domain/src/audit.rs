//! The audit of views of personal data: each answer that shows an entry record's personal values to a
//! caller appends one [`AuditEvent`] before it is sent. Events are appended, never changed or removed; they are
//! kept by health centre and time, so that an operator reads one centre's events of a period without a scan.
//!
//! Architecture invariant: an event holds ids, a role, a route and a time, never a personal value.

use serde::{Deserialize, Serialize};

use crate::report::ReportId;
use crate::time::Instant;

/// One view of personal data: who saw which records, through which route, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// A fresh id (UUID v7), so that two views in the same millisecond are two events.
    pub event_id: String,
    pub at: Instant,
    /// The caller's subject (the token's `sub`: a user id, not a name).
    pub subject: String,
    /// The caller's role as the token spells it (`health_center`).
    pub role: String,
    /// The health centre whose report was viewed: the key under which the event is kept.
    pub health_center_code: String,
    pub report_id: ReportId,
    /// The ids of the entry records whose values the answer showed.
    pub records_shown: Vec<String>,
    /// The route as declared, e.g. `GET /v1/reports/{id}` (never the concrete path).
    pub route: String,
}

impl AuditEvent {
    /// The event's sort key within its health centre: the time to the millisecond (fixed width, so that text order
    /// is time order), then the event id. Also the page cursor of [`crate::ports::AuditLog::audit_events`].
    pub fn sort_key(&self) -> String {
        format!("{}#{}", time_key(self.at), self.event_id)
    }
}

/// The fixed-width text of an instant that sort keys start with: `2026-12-05T00:00:00.000Z`.
pub fn time_key(at: Instant) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Who is looking, as the audit records it (the API's caller, without HTTP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub subject: String,
    pub role: String,
    pub health_center_code: String,
    /// The route as declared, e.g. `GET /v1/linkage/review`.
    pub route: String,
}

/// A period of one health centre's events: `from` inclusive, `until` exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub health_center_code: String,
    pub from: Instant,
    pub until: Instant,
    /// The sort key of the last event of the previous page ([`AuditEvent::sort_key`]); `None` for the first page.
    pub after: Option<String>,
    pub limit: usize,
}

/// One page of events, oldest first, and the cursor of the next page if there may be more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_sort_as_time() {
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc);
        let event = |t: &str, id: &str| AuditEvent {
            event_id: id.to_owned(),
            at: at(t),
            subject: "u".into(),
            role: "health_center".into(),
            health_center_code: "131016".into(),
            report_id: ReportId::generate(),
            records_shown: vec![],
            route: "GET /v1/reports/{id}".into(),
        };
        let keys = [
            event("2026-12-05T00:00:00Z", "b").sort_key(),
            event("2026-12-05T00:00:00.001Z", "a").sort_key(),
            event("2026-12-05T00:00:01Z", "a").sort_key(),
            event("2026-12-05T10:00:00Z", "a").sort_key(),
        ];
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, keys);
        assert_eq!(keys[0], "2026-12-05T00:00:00.000Z#b");
        // The exclusive end of a period sorts before every event at that instant.
        assert!(time_key(at("2026-12-05T00:00:01Z")) < keys[2]);
    }
}
