//! `Retry-After` and `X-RateLimit-*`: when the server says to come back.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use http::header::RETRY_AFTER;

use crate::headers::{X_RATELIMIT_LIMIT, X_RATELIMIT_REMAINING, X_RATELIMIT_RESET};

/// When to retry, as a `Retry-After` header says: a delay in seconds, or an HTTP date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// Retry after this long.
    Delay(Duration),
    /// Retry at this time.
    At(SystemTime),
}

impl RetryAfter {
    /// Reads a `Retry-After` value: whole seconds or an HTTP date (RFC 9110).
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Self::Delay(Duration::from_secs(seconds)));
        }
        httpdate::parse_http_date(value)
            .ok()
            .or_else(|| parse_rfc3339(value))
            .map(Self::At)
    }

    /// Reads the `Retry-After` header, if present and well formed.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        headers
            .get(RETRY_AFTER)?
            .to_str()
            .ok()
            .and_then(Self::parse)
    }

    /// How long to wait from `now`; a date in the past means no wait.
    pub fn delay_from(&self, now: SystemTime) -> Duration {
        match self {
            Self::Delay(delay) => *delay,
            Self::At(at) => at.duration_since(now).unwrap_or_default(),
        }
    }

    /// The header value: seconds for a delay, an HTTP date for a time.
    pub fn to_header_value(&self) -> String {
        match self {
            Self::Delay(delay) => delay.as_secs().to_string(),
            Self::At(at) => httpdate::fmt_http_date(*at),
        }
    }
}

/// The rate-limit window a response reports (`X-RateLimit-*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// `X-RateLimit-Limit`: requests allowed per window.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`: requests left in the window.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Reset`: when the window resets.
    pub reset: Option<RateLimitReset>,
}

/// When a rate-limit window resets. The header's format is not documented, so every
/// common form is read: epoch seconds, epoch milliseconds, a number of seconds from now,
/// or an HTTP date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitReset {
    /// At this time (from epoch seconds, epoch milliseconds or a date).
    At(SystemTime),
    /// This long after the response (a small number of seconds).
    After(Duration),
}

/// Numbers at or above this are epoch milliseconds (year 2001 onwards).
const EPOCH_MILLIS_FROM: u64 = 1_000_000_000_000;
/// Numbers at or above this are epoch seconds (September 2001 onwards); below, a delay.
const EPOCH_SECONDS_FROM: u64 = 1_000_000_000;

impl RateLimitReset {
    /// Reads an `X-RateLimit-Reset` value.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if let Ok(number) = value.parse::<u64>() {
            return Some(if number >= EPOCH_MILLIS_FROM {
                Self::At(UNIX_EPOCH + Duration::from_millis(number))
            } else if number >= EPOCH_SECONDS_FROM {
                Self::At(UNIX_EPOCH + Duration::from_secs(number))
            } else {
                Self::After(Duration::from_secs(number))
            });
        }
        if let Ok(seconds) = value.parse::<f64>()
            && seconds.is_finite()
            && seconds >= 0.0
        {
            return Self::parse(&(seconds as u64).to_string());
        }
        httpdate::parse_http_date(value)
            .ok()
            .or_else(|| parse_rfc3339(value))
            .map(Self::At)
    }

    /// How long from `now` until the reset.
    pub fn delay_from(&self, now: SystemTime) -> Duration {
        match self {
            Self::At(at) => at.duration_since(now).unwrap_or_default(),
            Self::After(delay) => *delay,
        }
    }

    /// The header value: epoch seconds, or seconds from now.
    pub fn to_header_value(&self) -> String {
        match self {
            Self::At(at) => at
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs()
                .to_string(),
            Self::After(delay) => delay.as_secs().to_string(),
        }
    }
}

/// An ISO-8601 / RFC 3339 date-time (`2026-11-22T13:08:24Z`, fractions and offsets
/// allowed), as a point in time.
fn parse_rfc3339(value: &str) -> Option<SystemTime> {
    let at =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).ok()?;
    let nanos = at.unix_timestamp_nanos();
    let nanos = u64::try_from(nanos).ok()?;
    Some(UNIX_EPOCH + Duration::from_nanos(nanos))
}

impl RateLimit {
    /// A window with these values (for servers reporting one).
    pub fn new(limit: Option<u64>, remaining: Option<u64>, reset: Option<RateLimitReset>) -> Self {
        Self {
            limit,
            remaining,
            reset,
        }
    }

    /// Reads the `X-RateLimit-*` headers; `None` when none is present.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &http::HeaderValue| v.to_str().ok())
        };
        let number = |name| text(name).and_then(|v: &str| v.trim().parse::<u64>().ok());
        let found = Self {
            limit: number(X_RATELIMIT_LIMIT),
            remaining: number(X_RATELIMIT_REMAINING),
            reset: text(X_RATELIMIT_RESET).and_then(RateLimitReset::parse),
        };
        (found != Self::default()).then_some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(
            RetryAfter::parse("1"),
            Some(RetryAfter::Delay(Duration::from_secs(1)))
        );
        assert_eq!(
            RetryAfter::parse(" 120 "),
            Some(RetryAfter::Delay(Duration::from_secs(120)))
        );
        let at = RetryAfter::parse("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let expected = UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(at, RetryAfter::At(expected));
        assert_eq!(
            at.delay_from(expected - Duration::from_secs(30)),
            Duration::from_secs(30)
        );
        assert_eq!(
            at.delay_from(expected + Duration::from_secs(30)),
            Duration::ZERO
        );
        assert_eq!(RetryAfter::parse("soon"), None);
        assert_eq!(RetryAfter::parse("-1"), None);
    }

    #[test]
    fn reset_reads_iso_8601() {
        assert_eq!(
            RateLimitReset::parse("2026-11-22T13:08:24Z"),
            Some(RateLimitReset::At(
                UNIX_EPOCH + Duration::from_secs(1_795_352_904)
            ))
        );
        assert_eq!(
            RateLimitReset::parse("2026-11-22T14:08:24.500+01:00"),
            Some(RateLimitReset::At(
                UNIX_EPOCH + Duration::from_millis(1_795_352_904_500)
            ))
        );
        assert_eq!(RateLimitReset::parse("2026-13-40T99:00:00Z"), None);
    }

    #[test]
    fn reset_reads_epoch_seconds_millis_delays_and_dates() {
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            RateLimitReset::parse("1700000000"),
            Some(RateLimitReset::At(at))
        );
        assert_eq!(
            RateLimitReset::parse("1700000000000"),
            Some(RateLimitReset::At(at))
        );
        assert_eq!(
            RateLimitReset::parse("30"),
            Some(RateLimitReset::After(Duration::from_secs(30)))
        );
        assert_eq!(
            RateLimitReset::parse("Tue, 14 Nov 2023 22:13:20 GMT"),
            Some(RateLimitReset::At(at))
        );
        assert_eq!(RateLimitReset::parse("later"), None);
    }

    #[test]
    fn rate_limit_headers_are_read_together() {
        let mut headers = HeaderMap::new();
        assert_eq!(RateLimit::from_headers(&headers), None);
        headers.insert(X_RATELIMIT_LIMIT, "100".parse().unwrap());
        headers.insert(X_RATELIMIT_REMAINING, "0".parse().unwrap());
        headers.insert(X_RATELIMIT_RESET, "1700000000".parse().unwrap());
        let limit = RateLimit::from_headers(&headers).unwrap();
        assert_eq!((limit.limit, limit.remaining), (Some(100), Some(0)));
        assert!(matches!(limit.reset, Some(RateLimitReset::At(_))));
    }

    #[test]
    fn header_values_read_back() {
        let at = UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        for value in [
            RetryAfter::Delay(Duration::from_secs(7)),
            RetryAfter::At(at),
        ] {
            assert_eq!(RetryAfter::parse(&value.to_header_value()), Some(value));
        }
    }
}
