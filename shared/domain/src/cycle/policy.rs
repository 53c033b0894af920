//! The rules of a cycle that operators may tune: validity, number of automatic re-issues, reminder delay, quiet hours.

use chrono::{Duration, NaiveTime, TimeZone};
use chrono_tz::Asia::Tokyo;

use crate::error::{FieldError, Problem};
use crate::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long a number can be redeemed, counted from the moment the message service accepted it.
    pub validity: Duration,
    /// Automatic re-issues per cycle after the health centre's own issue.
    pub max_reissues: u8,
    /// The reminder goes out this long after the last re-issue was delivered, if the number is still unused.
    pub reminder_after: Duration,
    pub quiet: QuietHours,
    /// A send claimed but neither confirmed nor failed after this long is taken as failed (its sender died).
    pub claim_lease: Duration,
    /// Wait between delivery attempts after the message service failed.
    pub retry_after: Duration,
    /// Failed delivery attempts of one number before the cycle is given up as undeliverable (an hour at the defaults).
    pub max_delivery_attempts: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            validity: Duration::minutes(60),
            max_reissues: 4,
            reminder_after: Duration::minutes(30),
            quiet: QuietHours::default(),
            claim_lease: Duration::minutes(2),
            retry_after: Duration::minutes(1),
            max_delivery_attempts: 60,
        }
    }
}

/// A daily window in Japan time in which no automatic message goes out, e.g. 21:00-08:00 (it may wrap midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Default for QuietHours {
    fn default() -> Self {
        Self { start: hm(21, 0), end: hm(8, 0) }
    }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

impl QuietHours {
    /// No quiet hours at all (start = end).
    pub const NONE: QuietHours = QuietHours { start: NaiveTime::MIN, end: NaiveTime::MIN };

    /// Parses `HH:MM-HH:MM`; equal ends mean no quiet hours.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let bad = || FieldError::new(field, Problem::Invalid("must be HH:MM-HH:MM in Japan time"));
        let (a, b) = raw.trim().split_once('-').ok_or_else(bad)?;
        let start = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
        let end = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
        Ok(Self { start, end })
    }

    pub fn contains(&self, at: Instant) -> bool {
        let t = at.with_timezone(&Tokyo).time();
        match self.start.cmp(&self.end) {
            std::cmp::Ordering::Equal => false,
            std::cmp::Ordering::Less => self.start <= t && t < self.end,
            std::cmp::Ordering::Greater => t >= self.start || t < self.end,
        }
    }

    /// The first instant at or after `at` outside the quiet hours.
    pub fn end_after(&self, at: Instant) -> Instant {
        if !self.contains(at) {
            return at;
        }
        let local = at.with_timezone(&Tokyo);
        let mut day = local.date_naive();
        if local.time() >= self.end {
            day = day.succ_opt().unwrap_or(day);
        }
        match Tokyo.from_local_datetime(&day.and_time(self.end)).earliest() {
            Some(end) => end.to_utc(),
            None => at, // Japan has no DST gaps; unreachable in practice
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn jst(s: &str) -> Instant {
        DateTime::parse_from_rfc3339(&format!("{s}+09:00")).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn default_quiet_hours_wrap_midnight() {
        let q = QuietHours::default();
        assert!(!q.contains(jst("2021-02-01T20:59:59")));
        assert!(q.contains(jst("2021-02-01T21:00:00")));
        assert!(q.contains(jst("2021-02-02T03:00:00")));
        assert!(q.contains(jst("2021-02-02T07:59:59")));
        assert!(!q.contains(jst("2021-02-02T08:00:00")));
        assert_eq!(q.end_after(jst("2021-02-01T22:30:00")), jst("2021-02-02T08:00:00"));
        assert_eq!(q.end_after(jst("2021-02-02T01:00:00")), jst("2021-02-02T08:00:00"));
        assert_eq!(q.end_after(jst("2021-02-02T09:00:00")), jst("2021-02-02T09:00:00"));
    }

    #[test]
    fn daytime_window_and_none() {
        let q = QuietHours::parse("QUIET_HOURS", "12:00-13:00").unwrap();
        assert!(q.contains(jst("2021-02-01T12:30:00")));
        assert!(!q.contains(jst("2021-02-01T13:00:00")));
        assert_eq!(q.end_after(jst("2021-02-01T12:10:00")), jst("2021-02-01T13:00:00"));
        let none = QuietHours::parse("QUIET_HOURS", "00:00-00:00").unwrap();
        assert!(!none.contains(jst("2021-02-01T03:00:00")));
        assert!(QuietHours::parse("QUIET_HOURS", "9pm-8am").is_err());
    }
}
