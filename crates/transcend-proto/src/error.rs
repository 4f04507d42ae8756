//! What can go wrong when building a request or reading a response, by phase.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use transcend_types::ValidationError;

use crate::graphql_error::{GraphQlError, GraphQlErrorKind};
use crate::headers::X_REQUEST_ID;
use crate::rate_limit::{RateLimit, RetryAfter};

/// An error of the protocol layer: the request could not be built, the server answered
/// with an error, or its answer could not be read.
///
/// The accessors ([`status`](Self::status), [`is_retryable`](Self::is_retryable),
/// [`retry_after`](Self::retry_after), …) answer the usual questions without a `match`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input breaks a rule of the API; nothing was sent.
    #[error("cannot build the {endpoint} request: {source}")]
    Invalid {
        /// The endpoint (`submit_dsr`, …).
        endpoint: &'static str,
        /// Every rule broken, each naming its field.
        #[source]
        source: ValidationError,
    },
    /// The configuration or an input cannot be put into a request; nothing was sent.
    #[error("invalid {what} {value:?}: expected {expected}")]
    Config {
        /// What is wrong (`base URL`, `nonce`, …).
        what: &'static str,
        /// The value, or `[REDACTED]` for a secret.
        value: String,
        /// What is expected.
        expected: &'static str,
    },
    /// The server answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The server answered with a success status but a body that cannot be read.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// The admin GraphQL API answered with `errors` (or with `data` and `errors`).
    #[error(transparent)]
    GraphQl(Box<GraphQlError>),
}

impl Error {
    pub(crate) fn invalid_config(what: &'static str, value: &str, expected: &'static str) -> Self {
        Self::Config {
            what,
            value: value.to_owned(),
            expected,
        }
    }

    /// The HTTP status of the response, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(error) => Some(error.status),
            Self::Decode(error) => Some(error.status),
            Self::GraphQl(error) => Some(error.status),
            _ => None,
        }
    }

    /// The kind of API error, when the server answered with one. A GraphQL error maps
    /// onto the same kinds: unauthorized, rate limited, invalid (`BadRequest`), already
    /// done (`Conflict`), not found, and anything else as `Server` (worth retrying).
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Self::GraphQl(error) => Some(match error.kind {
                GraphQlErrorKind::Unauthorized => ErrorKind::Unauthorized,
                GraphQlErrorKind::RateLimited => ErrorKind::RateLimited,
                GraphQlErrorKind::Invalid => ErrorKind::BadRequest,
                GraphQlErrorKind::AlreadyDone => ErrorKind::Conflict,
                GraphQlErrorKind::NotFound => ErrorKind::NotFound,
                _ => ErrorKind::Server,
            }),
            Self::Invalid { .. } => Some(ErrorKind::Invalid),
            _ => self.api().map(|e| e.kind),
        }
    }

    /// The rules the input broke, when the request could not be built
    /// ([`ErrorKind::Invalid`]); nothing was sent.
    pub fn validation(&self) -> Option<&ValidationError> {
        match self {
            Self::Invalid { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Every rule the input broke, each naming its field (`subject.coreIdentifier`);
    /// empty unless the request could not be built ([`ErrorKind::Invalid`]).
    pub fn problems(&self) -> &[transcend_types::FieldProblem] {
        self.validation().map_or(&[], ValidationError::problems)
    }

    /// Whether the server refused the submission as one it already has ("You have
    /// already made this request."): the DSR exists; look it up rather than retrying.
    pub fn is_duplicate(&self) -> bool {
        self.kind() == Some(ErrorKind::Duplicate)
    }

    /// The server's `message` (for GraphQL, the first error's), when it sent one.
    pub fn message(&self) -> Option<&str> {
        match self {
            Self::GraphQl(error) => error.message(),
            _ => self.api().and_then(|e| e.message.as_deref()),
        }
    }

    /// The GraphQL error, when the admin API answered with one.
    pub fn graphql(&self) -> Option<&GraphQlError> {
        match self {
            Self::GraphQl(error) => Some(error),
            _ => None,
        }
    }

    /// Whether the admin API said the change had been made already ("must be in an
    /// approving state", "already completed", …): count it as done, not as failed.
    pub fn is_already_done(&self) -> bool {
        self.graphql()
            .is_some_and(|e| e.kind == GraphQlErrorKind::AlreadyDone)
    }

    /// Whether sending the same request again may succeed (rate limits, server errors).
    /// Whether it is *safe* to send again depends on the endpoint: see
    /// [`RetryPolicy`](crate::RetryPolicy).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::GraphQl(error) => error.kind.is_retryable(),
            _ => self.kind().is_some_and(ErrorKind::is_retryable),
        }
    }

    /// The server's `Retry-After`, when it sent one; for a GraphQL rate limit, the
    /// wait Transcend's tooling uses (see [`GraphQlError::retry_after`]).
    pub fn retry_after(&self) -> Option<RetryAfter> {
        match self {
            Self::GraphQl(error) => error.retry_after(),
            _ => self.api().and_then(|e| e.retry_after),
        }
    }

    /// The server's request id, when it sent one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api(error) => error.request_id.as_deref(),
            Self::Decode(error) => error.request_id.as_deref(),
            Self::GraphQl(error) => error.request_id.as_deref(),
            _ => None,
        }
    }

    /// The server's `X-RateLimit-*` window, when it sent one.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        match self {
            Self::GraphQl(error) => error.rate_limit,
            _ => self.api().and_then(|e| e.rate_limit),
        }
    }

    /// The API error, when the server answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(error) => Some(error),
            _ => None,
        }
    }
}

/// The kind of an error status, by what the caller can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input breaks a rule of the API, found before sending: nothing was sent.
    /// [`Error::problems`] lists every rule broken.
    Invalid,
    /// 400: the input is malformed.
    BadRequest,
    /// 400 "You have already made this request.": the same person already has a
    /// request of this kind open; nothing new was made.
    Duplicate,
    /// 401 (or 403): the API key or Sombra key is missing, wrong, or lacks the scope.
    Unauthorized,
    /// 404: no such request or endpoint.
    NotFound,
    /// 409: the DSR is not in a modifiable state (for a report: already finished).
    Conflict,
    /// 413: the body is over the limit (50 MB).
    TooLarge,
    /// 429: too many requests; see `retry_after`.
    RateLimited,
    /// 5xx: the gateway or Transcend has a problem.
    Server,
    /// Any other status.
    Unexpected,
}

impl ErrorKind {
    /// The kind of an error status.
    pub fn from_status(status: StatusCode) -> Self {
        match status.as_u16() {
            400 => Self::BadRequest,
            401 | 403 => Self::Unauthorized,
            404 => Self::NotFound,
            409 => Self::Conflict,
            413 => Self::TooLarge,
            429 => Self::RateLimited,
            500..=599 => Self::Server,
            _ => Self::Unexpected,
        }
    }

    /// Whether the same request may succeed later.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::RateLimited | Self::Server)
    }
}

/// What the API says when a submission repeats an open one.
const DUPLICATE_MESSAGE: &str = "already made this request";

/// The server answered with an error status. The raw response is kept.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The endpoint called.
    pub endpoint: &'static str,
    /// The status.
    pub status: StatusCode,
    /// Its kind.
    pub kind: ErrorKind,
    /// The `message` of the JSON error body, when the body is one.
    pub message: Option<String>,
    /// `Retry-After`, when present.
    pub retry_after: Option<RetryAfter>,
    /// `X-RateLimit-*`, when present.
    pub rate_limit: Option<RateLimit>,
    /// `x-request-id`, when present.
    pub request_id: Option<String>,
    /// The response headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
}

impl ApiError {
    /// Reads an error response. A body that is not JSON (a proxy's HTML page, say) is
    /// kept raw and the message left empty.
    pub fn from_response(
        endpoint: &'static str,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        let message = serde_json::from_slice::<transcend_types::ErrorBody>(&body)
            .ok()
            .map(|b| b.message);
        let kind = match ErrorKind::from_status(status) {
            ErrorKind::BadRequest | ErrorKind::Conflict
                if message
                    .as_deref()
                    .is_some_and(|m| m.to_ascii_lowercase().contains(DUPLICATE_MESSAGE)) =>
            {
                ErrorKind::Duplicate
            }
            kind => kind,
        };
        Self {
            endpoint,
            status,
            kind,
            message,
            retry_after: RetryAfter::from_headers(&headers),
            rate_limit: RateLimit::from_headers(&headers),
            request_id: request_id(&headers),
            headers,
            body,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed with {}", self.endpoint, self.status)?;
        match &self.message {
            Some(message) => write!(f, ": {message}")?,
            None if !self.body.is_empty() => {
                let text =
                    String::from_utf8_lossy(&self.body[..self.body.len().min(200)]).into_owned();
                write!(f, " (body not JSON: {text:?})")?;
            }
            None => {}
        }
        if let Some(retry_after) = self.retry_after {
            match retry_after {
                RetryAfter::Delay(delay) => write!(f, "; retry after {}", seconds(delay))?,
                RetryAfter::At(at) => write!(f, "; retry at {}", httpdate::fmt_http_date(at))?,
            }
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

fn seconds(delay: Duration) -> String {
    format!("{}s", delay.as_secs_f64())
}

/// A success response whose body cannot be read as the expected type.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DecodeError {
    /// The endpoint called.
    pub endpoint: &'static str,
    /// The status (a success).
    pub status: StatusCode,
    /// Where in the body reading failed, as a JSON path (`request.status`); `.` for the
    /// root.
    pub path: String,
    /// Why reading failed.
    pub reason: String,
    /// `x-request-id`, when present.
    pub request_id: Option<String>,
    /// The raw body.
    pub body: Bytes,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read the {} response of {} at `{}`: {}",
            self.status, self.endpoint, self.path, self.reason
        )
    }
}

impl std::error::Error for DecodeError {}

pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_error_keeps_what_the_server_said() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "3".parse().unwrap());
        headers.insert(X_REQUEST_ID, "req-42".parse().unwrap());
        let body = Bytes::from_static(br#"{"message":"Slow down"}"#);
        let error = Error::Api(Box::new(ApiError::from_response(
            "get_dsr",
            StatusCode::TOO_MANY_REQUESTS,
            headers,
            body,
        )));
        assert_eq!(error.kind(), Some(ErrorKind::RateLimited));
        assert_eq!(error.message(), Some("Slow down"));
        assert_eq!(
            error.retry_after(),
            Some(RetryAfter::Delay(Duration::from_secs(3)))
        );
        assert_eq!(error.request_id(), Some("req-42"));
        assert!(error.is_retryable());
        assert_eq!(
            error.to_string(),
            "get_dsr failed with 429 Too Many Requests: Slow down; retry after 3s [request id req-42]"
        );
    }

    #[test]
    fn a_body_that_is_not_json_is_kept_and_shown_shortened() {
        let error = ApiError::from_response(
            "submit_dsr",
            StatusCode::BAD_GATEWAY,
            HeaderMap::new(),
            Bytes::from_static(b"<html>bad gateway</html>"),
        );
        assert_eq!(error.message, None);
        assert_eq!(error.kind, ErrorKind::Server);
        assert!(
            error.to_string().contains("<html>bad gateway</html>"),
            "{error}"
        );
    }

    #[test]
    fn kinds_follow_statuses() {
        for (status, kind) in [
            (400, ErrorKind::BadRequest),
            (401, ErrorKind::Unauthorized),
            (404, ErrorKind::NotFound),
            (409, ErrorKind::Conflict),
            (413, ErrorKind::TooLarge),
            (429, ErrorKind::RateLimited),
            (500, ErrorKind::Server),
            (502, ErrorKind::Server),
            (418, ErrorKind::Unexpected),
        ] {
            assert_eq!(
                ErrorKind::from_status(StatusCode::from_u16(status).unwrap()),
                kind
            );
        }
    }
}
