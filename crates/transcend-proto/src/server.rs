//! The server side: routing incoming requests and answering them, for the emulator and
//! for anyone writing a gateway.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, AUTHORIZATION, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use percent_encoding::percent_decode_str;
use transcend_types::ErrorBody;

use crate::endpoint::{self, Endpoint};
use crate::headers::{
    X_RATELIMIT_LIMIT, X_RATELIMIT_REMAINING, X_RATELIMIT_RESET, X_SOMBRA_AUTHORIZATION,
};
use crate::rate_limit::RateLimit;
use crate::secret::{ApiKey, SombraKey};

/// The credentials an incoming request carries. Checking them is the server's job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Credentials {
    /// From `authorization: Bearer <key>`.
    pub api_key: Option<ApiKey>,
    /// From `x-sombra-authorization: Bearer <key>`.
    pub sombra_key: Option<SombraKey>,
}

impl Credentials {
    /// Reads both bearer headers; a header that is not `Bearer <token>` counts as absent.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self {
            api_key: bearer(headers, AUTHORIZATION.as_str()).map(ApiKey::new),
            sombra_key: bearer(headers, X_SOMBRA_AUTHORIZATION.as_str()).map(SombraKey::new),
        }
    }
}

fn bearer<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let value = headers.get(name)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// An incoming request, read: who sent it and what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Incoming<T> {
    /// The credentials it carries.
    pub credentials: Credentials,
    /// The endpoint's input.
    pub input: T,
}

/// Which endpoint an incoming request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// `POST /v1/data-subject-request`
    SubmitDsr,
    /// `GET /v1/data-subject-request/{id}`, with the id decoded.
    GetDsr {
        /// The request id.
        id: String,
    },
    /// `POST /v1/data-silo`
    UploadAccess,
    /// `PUT /v1/data-silo`
    ReportErasure,
    /// `POST /v1/datapoint`
    UploadDatapoint,
    /// `POST /v1/datapoint-chunked`
    UploadDatapointChunked,
    /// `GET /public-keys/sombra-general-signing-key`
    SigningKey,
}

impl Route {
    /// Routes a method and path (no query). Answers `404` for an unknown path and `405`
    /// (with the allowed methods) for a known path with the wrong method.
    pub fn of(method: &Method, path: &str) -> Result<Self, ServerError> {
        use endpoint::get_dsr::GetDsrEndpoint as Get;
        use endpoint::report_erasure::ReportErasureEndpoint as Erasure;
        use endpoint::signing_key::SigningKeyEndpoint as Key;
        use endpoint::submit_dsr::SubmitDsrEndpoint as Submit;
        use endpoint::upload_access::UploadAccessEndpoint as Access;
        use endpoint::upload_datapoint as datapoint;
        use endpoint::upload_datapoint_chunked::UploadDatapointChunkedEndpoint as Chunked;

        let candidates: &[(Method, Route)] = if path == Submit::PATH {
            &[(Submit::METHOD, Route::SubmitDsr)]
        } else if path == Access::PATH {
            &[
                (Access::METHOD, Route::UploadAccess),
                (Erasure::METHOD, Route::ReportErasure),
            ]
        } else if path == datapoint::PATH {
            &[(datapoint::METHOD, Route::UploadDatapoint)]
        } else if path == Chunked::PATH {
            &[(Chunked::METHOD, Route::UploadDatapointChunked)]
        } else if path == Key::PATH {
            &[(Key::METHOD, Route::SigningKey)]
        } else if let Some(id) = endpoint::get_dsr::id_from_path(path) {
            return if *method == Get::METHOD {
                Ok(Route::GetDsr { id })
            } else {
                Err(ServerError::MethodNotAllowed {
                    method: method.clone(),
                    allowed: vec![Get::METHOD],
                })
            };
        } else {
            return Err(ServerError::NotFound {
                what: format!("no endpoint at {path}"),
            });
        };
        candidates
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, route)| route.clone())
            .ok_or_else(|| ServerError::MethodNotAllowed {
                method: method.clone(),
                allowed: candidates.iter().map(|(m, _)| m.clone()).collect(),
            })
    }
}

pub(crate) fn decode_segment(segment: &str) -> Option<String> {
    percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

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
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The response: status, JSON body, and the headers the status calls for.
    pub fn to_response(&self) -> Response<Bytes> {
        let mut response = endpoint::json_response(self.status(), &ErrorBody::new(self.message()));
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
    fn every_endpoint_routes() {
        let cases = [
            (Method::POST, "/v1/data-subject-request", Route::SubmitDsr),
            (
                Method::GET,
                "/v1/data-subject-request/abc%20def",
                Route::GetDsr {
                    id: "abc def".into(),
                },
            ),
            (Method::POST, "/v1/data-silo", Route::UploadAccess),
            (Method::PUT, "/v1/data-silo", Route::ReportErasure),
            (Method::POST, "/v1/datapoint", Route::UploadDatapoint),
            (
                Method::POST,
                "/v1/datapoint-chunked",
                Route::UploadDatapointChunked,
            ),
            (
                Method::GET,
                "/public-keys/sombra-general-signing-key",
                Route::SigningKey,
            ),
        ];
        for (method, path, route) in cases {
            assert_eq!(Route::of(&method, path), Ok(route), "{method} {path}");
        }
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
        assert_eq!(
            Route::of(&Method::GET, "/v2/nothing").unwrap_err().status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            Route::of(&Method::GET, "/v1/data-subject-request/")
                .unwrap_err()
                .status(),
            StatusCode::NOT_FOUND
        );
        let error = Route::of(&Method::DELETE, "/v1/data-silo").unwrap_err();
        let response = error.to_response();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[ALLOW], "POST, PUT");
    }

    #[test]
    fn credentials_are_read_from_bearer_headers_only() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, "Bearer key-1".parse().unwrap());
        headers.insert(X_SOMBRA_AUTHORIZATION, "Basic abc".parse().unwrap());
        let credentials = Credentials::from_headers(&headers);
        assert_eq!(credentials.api_key, Some(ApiKey::new("key-1")));
        assert_eq!(credentials.sombra_key, None);
    }

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
