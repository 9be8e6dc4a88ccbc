//! Times: the `--now` argument, RFC 3339 and HTTP dates, and "3 days ago" phrases. Every time
//! the output shows is formatted here.

use jiff::Timestamp;
use serde::{Serialize, Serializer};
use std::fmt;

/// Parses `--now`: unix seconds or an RFC 3339 timestamp.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Timestamp::from_second(seconds).map_err(|e| format!("{text}: {e}"));
    }
    text.parse::<Timestamp>()
        .map_err(|_| format!("{text:?} is neither unix seconds nor an RFC 3339 time (e.g. 2019-02-14T21:54:58Z)"))
}

/// Parses a duration the one way every option takes it: plain seconds (`300`), or a span such as
/// `5m`, `10s`, `1h30m`, `-3d` (days are 24 hours); whole seconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.trim().parse::<i64>() {
        return Ok(seconds);
    }
    let bad = || format!("{text:?} is not a duration (plain seconds, or e.g. 10s, 5m, 1h, -3d)");
    let span: jiff::Span = text.trim().parse().map_err(|_| bad())?;
    let duration = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|e| format!("{text:?}: {e} (use days or smaller units)"))?;
    Ok(duration.as_secs())
}

/// A non-negative duration in seconds (`--leeway`).
pub fn parse_non_negative(text: &str) -> Result<i64, String> {
    match parse_duration(text)? {
        s if s < 0 => Err(format!("{text:?} is negative")),
        // A clock skew beyond a year is a typo; bounded so no time arithmetic can overflow.
        s if s > 31_536_000 => Err(format!("{text:?} is out of range (0s to 365d)")),
        s => Ok(s),
    }
}

/// A timeout: a duration of at least one second and at most a day.
pub fn parse_timeout(text: &str) -> Result<u64, String> {
    match parse_duration(text)? {
        s @ 1..=86_400 => Ok(s as u64),
        _ => Err(format!("{text:?} is out of range (1s to 1d)")),
    }
}

/// A NumericDate as RFC 3339 in UTC, or `None` when out of range.
pub fn rfc3339(seconds: i64) -> Option<String> {
    Timestamp::from_second(seconds).ok().map(|t| t.to_string())
}

/// The HTTP date format of the `Date` header (RFC 9110 IMF-fixdate).
pub fn http_date(now: Timestamp) -> String {
    now.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// `12:00:01`: the time of day in the local time zone, for a log read by a person as it scrolls.
pub fn time_of_day(at: Timestamp) -> String {
    at.to_zoned_datetime(jiff::tz::TimeZone::system()).strftime("%H:%M:%S").to_string()
}

/// "3 days", "1 hour", "45 seconds": a rough length for people.
pub fn span(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let (n, unit) = match s {
        0..120 => (s, "second"),
        120..7_200 => (s / 60, "minute"),
        7_200..172_800 => (s / 3_600, "hour"),
        172_800..63_072_000 => (s / 86_400, "day"),
        _ => (s / 31_557_600, "year"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// "expired 3 days ago" / "expires in 2 hours", for an `exp` seen at `now`.
pub fn expiry_phrase(exp: i64, now: i64) -> String {
    if now >= exp {
        format!("expired {} ago", span(now.saturating_sub(exp)))
    } else {
        format!("expires in {}", span(exp.saturating_sub(now)))
    }
}

/// A NumericDate that `rfc3339` can write, written the same way only when it is output
/// (a `--quiet` run never formats it), without allocating from 1970 on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time(i64);

impl Time {
    pub fn seconds(self) -> i64 {
        self.0
    }

    pub fn new(seconds: i64) -> Option<Time> {
        jiff::Timestamp::from_second(seconds).ok().map(|_| Time(seconds))
    }

    /// The RFC 3339 text, handed to `f` (no allocation from 1970 on).
    pub fn with_text<R>(self, f: impl FnOnce(&str) -> R) -> R {
        if self.0 < 0 {
            return f(&rfc3339(self.0).unwrap_or_default());
        }
        let (days, secs) = (self.0 / 86_400, self.0 % 86_400);
        // Days to civil date (Howard Hinnant's algorithm), for the proleptic Gregorian calendar.
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let mut text = *b"0000-00-00T00:00:00Z";
        let mut put = |at: usize, value: i64, width: usize| {
            let mut v = value;
            for i in (at..at + width).rev() {
                text[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, year, 4);
        put(5, month, 2);
        put(8, day, 2);
        put(11, secs / 3600, 2);
        put(14, secs / 60 % 60, 2);
        put(17, secs % 60, 2);
        f(std::str::from_utf8(&text).unwrap_or_default())
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.with_text(|text| f.write_str(text))
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_text(|text| serializer.serialize_str(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_accepts_seconds_and_rfc3339() {
        assert_eq!(parse_time("1550181298").unwrap().as_second(), 1_550_181_298);
        assert_eq!(parse_time("2019-02-14T21:54:58Z").unwrap().as_second(), 1_550_181_298);
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn http_date_matches_the_documented_response() {
        let t = parse_time("2019-02-14T21:54:58Z").unwrap();
        assert_eq!(http_date(t), "Thu, 14 Feb 2019 21:54:58 GMT");
    }

    #[test]
    fn phrases() {
        assert_eq!(expiry_phrase(0, 3 * 86_400 + 5), "expired 3 days ago");
        assert_eq!(expiry_phrase(7_200, 0), "expires in 2 hours");
        assert_eq!(span(1), "1 second");
        assert_eq!(span(8 * 31_557_600), "8 years");
    }

    #[test]
    fn times_format_as_jiff_does() {
        let mut s: i64 = 0;
        while s < 253_402_207_999 {
            assert_eq!(Time::new(s).unwrap().to_string(), rfc3339(s).unwrap(), "{s}");
            s += 86_399 * 7 + 12_345;
        }
        for s in [-1, -99_999_999_999, 951_782_400, 4_102_444_800, 253_402_207_999, 253_402_300_800, i64::MAX] {
            assert_eq!(Time::new(s).map(|t| t.to_string()), rfc3339(s), "{s}");
        }
    }

    #[test]
    fn durations_one_way() {
        assert_eq!(parse_duration("300"), Ok(300));
        assert_eq!(parse_duration("5m"), Ok(300));
        assert_eq!(parse_duration("-1h"), Ok(-3600));
        assert_eq!(parse_duration("10s"), Ok(10));
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("-3d"), Ok(-3 * 86_400));
        assert!(parse_duration("soon").is_err());
        assert!(parse_non_negative("-5m").is_err());
        assert_eq!(parse_timeout("10s"), Ok(10));
        assert!(parse_timeout("0").is_err() && parse_timeout("9223372036854775807").is_err());
    }
}
