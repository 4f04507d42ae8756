//! ISO-8601 timestamps as the API writes them (`2022-03-30T04:56:00.143Z`).

use std::borrow::Cow;
use std::fmt;

use time::OffsetDateTime;
use time::format_description::well_known::{Iso8601, Rfc3339};

/// An ISO-8601 date-time with an offset, such as `2022-03-30T04:56:00.143Z`.
///
/// The text is kept exactly as given, so a body written back is byte-identical. Reading
/// JSON accepts any string (a response never fails on a date it cannot interpret);
/// [`Timestamp::parse`] and body validation check the form.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(String);

/// A text that is not an ISO-8601 date-time with an offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not an ISO-8601 date-time with an offset (e.g. 2022-03-30T04:56:00.143Z)")]
pub struct TimestampError {
    /// The text that was given.
    pub value: String,
}

impl Timestamp {
    /// Checks `value` is an ISO-8601 date-time with an offset and keeps it as written.
    pub fn parse(value: impl Into<String>) -> Result<Self, TimestampError> {
        let value = value.into();
        if parse_iso8601(&value).is_some() {
            Ok(Self(value))
        } else {
            Err(TimestampError { value })
        }
    }

    /// Formats a point in time the way the API does: RFC 3339 in UTC, milliseconds.
    pub fn from_datetime(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        Self(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.millisecond()
        ))
    }

    /// A point in time to the microsecond (`2024-01-01T00:00:00.000123Z`): for logs and
    /// timelines, where events a millisecond apart must keep their order.
    pub fn precise(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        Self(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.microsecond()
        ))
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the text is an ISO-8601 date-time with an offset.
    pub fn is_valid(&self) -> bool {
        parse_iso8601(&self.0).is_some()
    }

    /// The point in time, when the text is valid.
    pub fn to_datetime(&self) -> Result<OffsetDateTime, TimestampError> {
        parse_iso8601(&self.0).ok_or_else(|| TimestampError {
            value: self.0.clone(),
        })
    }
}

fn parse_iso8601(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(value, &Iso8601::DEFAULT))
        .ok()
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(at: OffsetDateTime) -> Self {
        Self::from_datetime(at)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "minLength": 1,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn precise_times_keep_microseconds_and_parse() {
        let at =
            time::OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let precise = Timestamp::precise(at);
        assert_eq!(precise.as_str(), "2023-11-14T22:13:20.123456Z");
        assert!(precise.is_valid());
        assert_eq!(Timestamp::from(at).as_str(), "2023-11-14T22:13:20.123Z");
    }

    use super::*;

    #[test]
    fn api_style_timestamps_are_accepted_and_kept_verbatim() {
        for text in [
            "2022-03-30T04:56:00.143Z",
            "2025-06-07T00:00:00.000Z",
            "2024-01-01T02:00:00+02:00",
        ] {
            let at = Timestamp::parse(text).unwrap();
            assert_eq!(at.as_str(), text);
            assert!(at.to_datetime().is_ok());
        }
    }

    #[test]
    fn dates_without_time_or_offset_and_garbage_are_refused() {
        for text in [
            "",
            "2022-03-30",
            "2022-03-30T04:56:00",
            "yesterday",
            "2022-13-01T00:00:00Z",
        ] {
            let error = Timestamp::parse(text).unwrap_err();
            assert!(error.to_string().contains("ISO-8601"), "{error}");
        }
    }

    #[test]
    fn formatting_a_datetime_gives_utc_with_milliseconds() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_648_616_160_143_999_999).unwrap();
        assert_eq!(Timestamp::from(at).as_str(), "2022-03-30T04:56:00.143Z");
    }

    #[test]
    fn any_string_deserializes_so_responses_never_fail() {
        let at: Timestamp = serde_json::from_str("\"not a date\"").unwrap();
        assert!(!at.is_valid());
    }
}
