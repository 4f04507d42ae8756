//! The errors a server answers with, as responses a client reads back.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, RETRY_AFTER};
use http::{HeaderValue, Method, Response, StatusCode};
use transcend_types::ErrorBody;

use crate::codec::{MAX_MESSAGE, cut, json_response};
use crate::headers::{X_RATELIMIT_LIMIT, X_RATELIMIT_REMAINING, X_RATELIMIT_RESET};
use crate::rate_limit::RateLimit;

/// An error a server answers with. [`ServerError::to_response`] builds the response:
/// the status, a JSON `{"message": …}` body, and the headers the status calls for
/// (`Allow`, `Retry-After`, `X-RateLimit-*`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerError {
    /// 400: the request is malformed.
    BadRequest {
        /// What is wrong, naming the field.
        message: String,
    },
    /// 401: credentials missing or wrong, or lacking a scope.
    Unauthorized {
        /// Why (never the credential itself).
        message: String,
    },
    /// 404: no such endpoint or request.
    NotFound {
        /// What was not found.
        what: String,
    },
    /// 405: the path exists, not with this method.
    MethodNotAllowed {
        /// The method used.
        method: Method,
        /// The methods the path takes.
        allowed: Vec<Method>,
    },
    /// 409: the DSR is not in a modifiable state.
    Conflict {
        /// Why.
        message: String,
    },
    /// 413: the body is over the limit.
    PayloadTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// 429: too many requests.
    RateLimited {
        /// How long to wait.
        retry_after: Duration,
        /// The window to report.
        rate_limit: RateLimit,
    },
    /// 500, 502, 503: the server cannot answer now.
    Unavailable {
        /// The status (a 5xx).
        status: StatusCode,
        /// Why.
        message: String,
    },
}

impl ServerError {
    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { status, .. } => *status,
        }
    }

    /// The `message` of the error body.
    /// Whatever the error quotes (a value, a path) is cut to a few hundred bytes, so
    /// no input comes back whole.
    pub fn message(&self) -> String {
        cut(&self.to_string(), MAX_MESSAGE)
    }

    /// The response: status, JSON body, and the headers the status calls for.
    pub fn to_response(&self) -> Response<Bytes> {
        let mut response = json_response(self.status(), &ErrorBody::new(self.message()));
        let headers = response.headers_mut();
        match self {
            Self::MethodNotAllowed { allowed, .. } => {
                let list = allowed
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                if let Ok(value) = HeaderValue::from_str(&list) {
                    headers.insert(ALLOW, value);
                }
            }
            Self::RateLimited {
                retry_after,
                rate_limit,
            } => {
                // Round up: a client that waits the whole seconds must be let in.
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
                if let Some(limit) = rate_limit.limit {
                    headers.insert(X_RATELIMIT_LIMIT, HeaderValue::from(limit));
                }
                if let Some(remaining) = rate_limit.remaining {
                    headers.insert(X_RATELIMIT_REMAINING, HeaderValue::from(remaining));
                }
                if let Some(reset) = rate_limit.reset
                    && let Ok(value) = HeaderValue::from_str(&reset.to_header_value())
                {
                    headers.insert(X_RATELIMIT_RESET, value);
                }
            }
            _ => {}
        }
        response
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadRequest { message } => write!(f, "Client error: {message}"),
            Self::Unauthorized { message } => write!(f, "Unauthorized: {message}"),
            Self::NotFound { what } => write!(f, "Not found: {what}"),
            Self::MethodNotAllowed { method, allowed } => {
                let list = allowed
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                write!(f, "Method {method} not allowed here; use {list}")
            }
            Self::Conflict { message } => write!(f, "Client error: {message}"),
            Self::PayloadTooLarge { limit } => {
                write!(
                    f,
                    "Request entity too large: bodies must be at most {limit} bytes"
                )
            }
            Self::RateLimited { retry_after, .. } => {
                write!(
                    f,
                    "Too many requests: retry after {} seconds",
                    retry_after.as_secs_f64().ceil()
                )
            }
            Self::Unavailable { message, .. } => write!(f, "Server error: {message}"),
        }
    }
}

impl std::error::Error for ServerError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, ErrorKind};
    use crate::rate_limit::{RateLimitReset, RetryAfter};

    #[test]
    fn a_rate_limit_error_reads_back_on_the_client_side() {
        let error = ServerError::RateLimited {
            retry_after: Duration::from_millis(1500),
            rate_limit: RateLimit {
                limit: Some(10),
                remaining: Some(0),
                reset: Some(RateLimitReset::After(Duration::from_secs(2))),
            },
        };
        let (parts, body) = error.to_response().into_parts();
        let api = ApiError::from_response("get_dsr", parts.status, parts.headers, body);
        assert_eq!(api.kind, ErrorKind::RateLimited);
        assert_eq!(
            api.retry_after,
            Some(RetryAfter::Delay(Duration::from_secs(2)))
        );
        let limit = api.rate_limit.unwrap();
        assert_eq!((limit.limit, limit.remaining), (Some(10), Some(0)));
        assert_eq!(
            api.message.as_deref(),
            Some("Too many requests: retry after 2 seconds")
        );
    }
}
