//! The errors of the admin GraphQL API: an answer's `errors`, classified the way
//! Transcend's own tooling treats them.

use std::fmt;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};

use crate::rate_limit::{RateLimit, RateLimitReset, RetryAfter};

/// What a caller can do about a GraphQL error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GraphQlErrorKind {
    /// `API key is invalid` (or a 401/403): a wrong or expired key, a key without the
    /// operation's scope, or the other region's backend. Stop.
    Unauthorized,
    /// `Too many requests`: wait until `x-ratelimit-reset` (see
    /// [`GraphQlError::retry_after`]), then send again.
    RateLimited,
    /// The operation or its variables are refused as they are (a syntax error, an
    /// unknown field, a value of the wrong type, the backend's own input checks).
    /// Sending it again cannot succeed.
    Invalid,
    /// The change was made already: approving a request no longer in `APPROVING`,
    /// changing an enricher that finished. Count it as done.
    AlreadyDone,
    /// No such request, silo part, enricher part or identifier.
    NotFound,
    /// Anything else: Transcend's tooling sends it again (up to 4 times).
    Other,
}

impl GraphQlErrorKind {
    /// Whether the same operation may succeed if sent again.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::RateLimited | Self::Other)
    }
}

/// One entry of an answer's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[non_exhaustive]
pub struct GraphQlMessage {
    /// The server's message.
    pub message: String,
    /// Where in the answer it applies (`["approveRequest"]`), when the server said.
    #[serde(default)]
    pub path: Option<Vec<serde_json::Value>>,
    /// `extensions.code` (`GRAPHQL_VALIDATION_FAILED`, …), when the server sent one.
    #[serde(
        default,
        deserialize_with = "code_of_extensions",
        rename = "extensions"
    )]
    pub code: Option<String>,
}

fn code_of_extensions<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Extensions {
        #[serde(default)]
        code: Option<serde_json::Value>,
    }
    let extensions: Option<Extensions> = serde::Deserialize::deserialize(deserializer)?;
    Ok(extensions
        .and_then(|e| e.code)
        .and_then(|code| code.as_str().map(str::to_owned)))
}

impl GraphQlMessage {
    /// The kind of this one message.
    pub fn kind(&self) -> GraphQlErrorKind {
        classify(&self.message, self.code.as_deref())
    }

    /// The path, written as `a.b.0`.
    pub fn path_text(&self) -> Option<String> {
        self.path.as_ref().map(|parts| {
            parts
                .iter()
                .map(|part| match part {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(".")
        })
    }
}

/// Messages and codes that are never retried: Transcend's tooling stops on them.
const INVALID_MESSAGES: &[&str] = &[
    "syntax error",
    "got invalid value",
    "Client error",
    "Failed to decode codec",
    "cannot affect row a second time",
    "Cannot query field",
    "Unknown argument",
    "Unknown type",
    "Variable \"$",
];
const INVALID_CODES: &[&str] = &[
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
    "BAD_USER_INPUT",
];
/// Answers that mean the change had been made already.
const ALREADY_DONE: &[&str] = &[
    "Request must be in an approving state",
    "Cannot update a resolved RequestEnricher",
    "already completed",
];

fn classify(message: &str, code: Option<&str>) -> GraphQlErrorKind {
    if message.contains("API key is invalid")
        || matches!(code, Some("UNAUTHENTICATED" | "FORBIDDEN"))
    {
        GraphQlErrorKind::Unauthorized
    } else if message.contains("Too many requests") {
        GraphQlErrorKind::RateLimited
    } else if ALREADY_DONE.iter().any(|m| message.contains(m)) {
        GraphQlErrorKind::AlreadyDone
    } else if code.is_some_and(|c| INVALID_CODES.contains(&c))
        || INVALID_MESSAGES
            .iter()
            .any(|m| message.to_lowercase().contains(&m.to_lowercase()))
    {
        GraphQlErrorKind::Invalid
    } else if code == Some("NOT_FOUND") || message.contains("not found") {
        GraphQlErrorKind::NotFound
    } else {
        GraphQlErrorKind::Other
    }
}

/// The admin API answered with `errors`: the operation did not (wholly) succeed.
///
/// A partial answer (`data` beside `errors`) is an error too: nothing of it is taken
/// as if the whole had succeeded.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GraphQlError {
    /// The operation (`approveRequest`, …).
    pub operation: &'static str,
    /// The HTTP status of the answer.
    pub status: StatusCode,
    /// What can be done about it: the kind of the first error that decides
    /// (unauthorized, rate limited, invalid and already done win over the others).
    pub kind: GraphQlErrorKind,
    /// Every error the server listed.
    pub errors: Vec<GraphQlMessage>,
    /// Whether the answer carried `data` as well (a partial answer).
    pub partial: bool,
    /// The `X-RateLimit-*` window, when sent.
    pub rate_limit: Option<RateLimit>,
    /// `x-request-id`, when sent.
    pub request_id: Option<String>,
}

/// How long Transcend's tooling waits on a rate limit without `x-ratelimit-reset`.
pub const RATE_LIMIT_DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// What Transcend's tooling adds to `x-ratelimit-reset` before sending again.
pub const RATE_LIMIT_MARGIN: Duration = Duration::from_millis(100);

impl GraphQlError {
    /// Classifies the `errors` of an answer.
    pub fn new(
        operation: &'static str,
        status: StatusCode,
        headers: &HeaderMap,
        errors: Vec<GraphQlMessage>,
        partial: bool,
    ) -> Self {
        let kinds: Vec<GraphQlErrorKind> = errors.iter().map(GraphQlMessage::kind).collect();
        let mut kind = [
            GraphQlErrorKind::Unauthorized,
            GraphQlErrorKind::RateLimited,
            GraphQlErrorKind::Invalid,
            GraphQlErrorKind::AlreadyDone,
            GraphQlErrorKind::NotFound,
        ]
        .into_iter()
        .find(|k| kinds.contains(k))
        .unwrap_or(GraphQlErrorKind::Other);
        if matches!(status.as_u16(), 401 | 403) {
            kind = GraphQlErrorKind::Unauthorized;
        } else if status == StatusCode::TOO_MANY_REQUESTS {
            kind = GraphQlErrorKind::RateLimited;
        }
        Self {
            operation,
            status,
            kind,
            errors,
            partial,
            rate_limit: RateLimit::from_headers(headers),
            request_id: crate::error::request_id(headers),
        }
    }

    /// The first error's message.
    pub fn message(&self) -> Option<&str> {
        self.errors.first().map(|e| e.message.as_str())
    }

    /// For a rate limit: when to send again, as Transcend's tooling does: the
    /// `x-ratelimit-reset` time plus 100 ms, or 10 s when the header is missing.
    pub fn retry_after(&self) -> Option<RetryAfter> {
        if self.kind != GraphQlErrorKind::RateLimited {
            return None;
        }
        Some(match self.rate_limit.and_then(|r| r.reset) {
            Some(RateLimitReset::At(at)) => RetryAfter::At(at + RATE_LIMIT_MARGIN),
            Some(RateLimitReset::After(delay)) => RetryAfter::Delay(delay + RATE_LIMIT_MARGIN),
            None => RetryAfter::Delay(RATE_LIMIT_DEFAULT_WAIT),
        })
    }

    /// The wait of [`retry_after`](Self::retry_after), from `now`.
    pub fn wait_from(&self, now: SystemTime) -> Option<Duration> {
        self.retry_after().map(|r| r.delay_from(now))
    }
}

impl fmt::Display for GraphQlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.operation)?;
        if self.partial {
            write!(f, " (partial answer)")?;
        }
        for (n, error) in self.errors.iter().take(3).enumerate() {
            f.write_str(if n == 0 { ": " } else { "; " })?;
            f.write_str(&error.message)?;
            if let Some(code) = &error.code {
                write!(f, " [{code}]")?;
            }
            if let Some(path) = error.path_text() {
                write!(f, " at {path}")?;
            }
        }
        if self.errors.len() > 3 {
            write!(f, "; and {} more", self.errors.len() - 3)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for GraphQlError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str, code: Option<&str>) -> GraphQlMessage {
        GraphQlMessage {
            message: text.into(),
            path: None,
            code: code.map(str::to_owned),
        }
    }

    #[test]
    fn messages_are_classified_as_transcends_tooling_does() {
        for (text, code, kind) in [
            ("API key is invalid", None, GraphQlErrorKind::Unauthorized),
            ("Too many requests", None, GraphQlErrorKind::RateLimited),
            (
                "Syntax Error: syntax error",
                None,
                GraphQlErrorKind::Invalid,
            ),
            (
                "x",
                Some("GRAPHQL_VALIDATION_FAILED"),
                GraphQlErrorKind::Invalid,
            ),
            ("Failed to decode codec", None, GraphQlErrorKind::Invalid),
            (
                "cannot affect row a second time",
                None,
                GraphQlErrorKind::Invalid,
            ),
            (
                "Request must be in an approving state",
                None,
                GraphQlErrorKind::AlreadyDone,
            ),
            (
                "Cannot update a resolved RequestEnricher",
                None,
                GraphQlErrorKind::AlreadyDone,
            ),
            (
                "The enricher is already completed",
                None,
                GraphQlErrorKind::AlreadyDone,
            ),
            ("connection reset", None, GraphQlErrorKind::Other),
        ] {
            assert_eq!(message(text, code).kind(), kind, "{text}");
        }
        assert!(GraphQlErrorKind::Other.is_retryable());
        assert!(!GraphQlErrorKind::Invalid.is_retryable());
    }

    #[test]
    fn a_rate_limit_waits_for_the_reset_plus_a_margin_or_ten_seconds() {
        let mut headers = HeaderMap::new();
        let error = GraphQlError::new(
            "requests",
            StatusCode::OK,
            &headers,
            vec![message("Too many requests", None)],
            false,
        );
        assert_eq!(
            error.retry_after(),
            Some(RetryAfter::Delay(RATE_LIMIT_DEFAULT_WAIT))
        );
        let reset = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        headers.insert(
            "x-ratelimit-reset",
            httpdate::fmt_http_date(reset).parse().unwrap(),
        );
        let error = GraphQlError::new(
            "requests",
            StatusCode::OK,
            &headers,
            vec![message("Too many requests", None)],
            false,
        );
        assert_eq!(
            error.retry_after(),
            Some(RetryAfter::At(reset + RATE_LIMIT_MARGIN))
        );
    }

    #[test]
    fn the_display_names_the_operation_messages_codes_and_paths() {
        let error = GraphQlError::new(
            "approveRequest",
            StatusCode::OK,
            &HeaderMap::new(),
            vec![GraphQlMessage {
                message: "Request must be in an approving state".into(),
                path: Some(vec!["approveRequest".into()]),
                code: Some("BAD_REQUEST".into()),
            }],
            true,
        );
        assert_eq!(
            error.to_string(),
            "approveRequest failed (partial answer): Request must be in an approving state [BAD_REQUEST] at approveRequest"
        );
    }
}
