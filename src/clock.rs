//! Times: the `--now` argument, RFC 3339 and HTTP dates, and "3 days ago" phrases.

use jiff::Timestamp;

/// Parses `--now`: unix seconds or an RFC 3339 timestamp.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Timestamp::from_second(seconds).map_err(|e| format!("{text}: {e}"));
    }
    text.parse::<Timestamp>()
        .map_err(|_| format!("{text:?} is neither unix seconds nor an RFC 3339 time (e.g. 2019-02-14T21:54:58Z)"))
}

/// A NumericDate as RFC 3339 in UTC, or `None` when out of range.
pub fn rfc3339(seconds: i64) -> Option<String> {
    Timestamp::from_second(seconds).ok().map(|t| t.to_string())
}

/// The HTTP date format of the `Date` header (RFC 9110 IMF-fixdate).
pub fn http_date(now: Timestamp) -> String {
    now.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
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
}
