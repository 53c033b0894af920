//! Time: instants are stored in UTC; calendar dates (diagnosis, report, publication) are Japan dates.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Asia::Tokyo;

pub type Instant = DateTime<Utc>;

/// A date written exactly `YYYY-MM-DD` (four, two and two digits), as the API's contract says. chrono's `%Y-%m-%d`
/// alone also takes `2021-2-2` and signed or longer years, which the contract does not.
pub fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// The calendar date in Japan at an instant.
pub fn japan_date(at: Instant) -> NaiveDate {
    at.with_timezone(&Tokyo).date_naive()
}

/// "2021-02-01 10:30" in Japan time, for messages to patients.
pub fn japan_clock_text(at: Instant) -> String {
    at.with_timezone(&Tokyo).format("%Y-%m-%d %H:%M").to_string()
}

/// The first instant of a Japan calendar date (Japan keeps no summer time: 15:00 UTC the day before).
pub fn japan_day_start(date: NaiveDate) -> Instant {
    (date.and_time(chrono::NaiveTime::MIN) - chrono::Duration::hours(9)).and_utc()
}

/// Where "now" comes from. API handlers read the system clock; scheduled handlers take the event's time instead.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Utc::now()
    }
}

/// A clock stuck at one instant: for scheduled runs ("now" is the event's time) and tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Instant);

impl Clock for FixedClock {
    fn now(&self) -> Instant {
        self.0
    }
}

/// An instant as fixed-width UTC text (`2021-02-03T04:05:06.123456Z`), so that text order is time order: the
/// write-time index of reports on both stores.
pub fn sortable_text(at: Instant) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_date_is_exactly_four_two_and_two_digits() {
        assert_eq!(parse_iso_date("2021-02-02"), NaiveDate::from_ymd_opt(2021, 2, 2));
        for loose in ["2021-2-2", "2021-02-2", "+2021-02-02", "02021-02-02", " 2021-02-02", "2021/02/02", "2021-02-30"]
        {
            assert_eq!(parse_iso_date(loose), None, "{loose}");
        }
    }

    #[test]
    fn japan_date_turns_at_15_utc() {
        let before = Utc.with_ymd_and_hms(2021, 2, 1, 14, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2021, 2, 1, 15, 0, 0).unwrap();
        assert_eq!(japan_date(before).to_string(), "2021-02-01");
        assert_eq!(japan_date(after).to_string(), "2021-02-02");
        assert_eq!(japan_clock_text(after), "2021-02-02 00:00");
        assert_eq!(japan_day_start(japan_date(after)), after);
    }
}
