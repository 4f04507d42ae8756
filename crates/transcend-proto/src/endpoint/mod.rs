//! The endpoints of the DSR API, one module each, both sides.
//!
//! Each JSON endpoint implements [`Endpoint`]: the client side builds an
//! `http::Request` and reads the `http::Response`; the server side reads the request
//! and builds the response. The file upload ([`upload_datapoint`]) streams the caller's
//! body type, so it has its own functions of the same names.

pub mod get_dsr;
pub mod report_erasure;
pub mod signing_key;
pub mod submit_dsr;
pub mod upload_access;
pub mod upload_datapoint;
pub mod upload_datapoint_chunked;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use transcend_types::Validate;

use crate::config::{Config, RequestPath};
use crate::error::{ApiError, DecodeError, Error};
use crate::headers::{APPLICATION_JSON, X_TRANSCEND_NONCE};
use crate::retry::Idempotency;
use crate::secret::Nonce;
use crate::server::{Credentials, Incoming, ServerError};

/// One endpoint of the API, defined once for both sides.
pub trait Endpoint {
    /// What the caller supplies (the body, the id, the nonce…).
    type Input;
    /// What a success response carries.
    type Output;
    /// The endpoint's name in errors and traces (`submit_dsr`).
    const NAME: &'static str;
    /// The HTTP method.
    const METHOD: Method;
    /// The path, or its prefix for endpoints with an id.
    const PATH: &'static str;
    /// Whether sending it twice does the same as sending it once.
    const IDEMPOTENCY: Idempotency;

    /// Client side: the request for this input. Validates the input first; nothing
    /// invalid is ever built.
    fn build_request(config: &Config, input: &Self::Input) -> Result<Request<Bytes>, Error>;

    /// Client side: the typed output of a success response, or the typed error.
    fn parse_response<B: AsRef<[u8]>>(response: Response<B>) -> Result<Self::Output, Error>;

    /// Server side: the input and credentials of an incoming request (already routed to
    /// this endpoint), or the error to answer with.
    fn parse_request<B: AsRef<[u8]>>(
        request: Request<B>,
    ) -> Result<Incoming<Self::Input>, ServerError>;

    /// Server side: the success response for this output.
    fn build_response(output: &Self::Output) -> Response<Bytes>;
}

/// Defines a JSON report endpoint: a data silo's report for one job, sent with the
/// job's nonce, answered with [`Accepted`]. Idempotent: the same report twice does
/// what it does once.
macro_rules! report_endpoint {
    ($(#[doc = $doc:literal])* $name:ident, $body:ty, $method:ident, $path:literal, $label:literal) => {
        $(#[doc = $doc])*
        ///
        /// Sent with the job's `x-transcend-nonce`; the API key must belong to the data
        /// silo.
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl $crate::endpoint::Endpoint for $name {
            type Input = $crate::endpoint::Report<$body>;
            type Output = $crate::endpoint::Accepted;
            const NAME: &'static str = $label;
            const METHOD: http::Method = http::Method::$method;
            const PATH: &'static str = $path;
            const IDEMPOTENCY: $crate::retry::Idempotency = $crate::retry::Idempotency::Idempotent;

            fn build_request(
                config: &$crate::config::Config,
                input: &Self::Input,
            ) -> Result<http::Request<bytes::Bytes>, $crate::error::Error> {
                $crate::endpoint::json_request::<Self, _>(
                    config,
                    $crate::config::RequestPath::Static(Self::PATH),
                    Some(&input.nonce),
                    &input.body,
                )
            }

            fn parse_response<B: AsRef<[u8]>>(
                response: http::Response<B>,
            ) -> Result<Self::Output, $crate::error::Error> {
                $crate::endpoint::parse_accepted(Self::NAME, response)
            }

            fn parse_request<B: AsRef<[u8]>>(
                request: http::Request<B>,
            ) -> Result<$crate::server::Incoming<Self::Input>, $crate::server::ServerError> {
                $crate::endpoint::incoming_report::<Self, _, _>(request)
            }

            fn build_response(_: &Self::Output) -> http::Response<bytes::Bytes> {
                $crate::endpoint::accepted_response()
            }
        }
    };
}

pub(crate) use report_endpoint;

/// What a data silo sends about one job: the job's nonce and the report itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report<T> {
    /// The `x-transcend-nonce` of the job's webhook.
    pub nonce: Nonce,
    /// The report.
    pub body: T,
}

impl<T> Report<T> {
    /// A report for the job with this nonce.
    pub fn new(nonce: impl Into<Nonce>, body: T) -> Self {
        Self {
            nonce: nonce.into(),
            body,
        }
    }
}

/// The server accepted a report. Its body carries nothing the protocol defines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accepted;

/// A request with the headers every call carries: credentials, user agent, accept,
/// and the nonce for reports. Callers add their own headers to `headers_mut()`.
pub(crate) fn request_head<B>(
    config: &Config,
    method: Method,
    path: RequestPath,
    nonce: Option<&Nonce>,
    body: B,
) -> Result<Request<B>, Error> {
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = config.uri(path)?;
    *request.headers_mut() = config.common_headers()?;
    if let Some(nonce) = nonce {
        request
            .headers_mut()
            .insert(X_TRANSCEND_NONCE, nonce_header(nonce)?);
    }
    Ok(request)
}

pub(crate) fn nonce_header(nonce: &Nonce) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(nonce.expose())
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Error::invalid_config("nonce", "[REDACTED]", "a non-empty, header-safe token")
        })?;
    value.set_sensitive(true);
    Ok(value)
}

/// A JSON request: validates, serializes, and sets the body headers.
pub(crate) fn json_request<E: Endpoint, T: Serialize + Validate>(
    config: &Config,
    path: RequestPath,
    nonce: Option<&Nonce>,
    body: &T,
) -> Result<Request<Bytes>, Error> {
    body.validate().map_err(|source| Error::Invalid {
        endpoint: E::NAME,
        source,
    })?;
    let bytes = serde_json::to_vec(body)
        .map_err(|e| Error::invalid_config("body", &e.to_string(), "a serializable body"))?;
    let length = HeaderValue::from(bytes.len());
    let mut request = request_head(config, E::METHOD, path, nonce, Bytes::from(bytes))?;
    let headers = request.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(APPLICATION_JSON));
    headers.insert(CONTENT_LENGTH, length);
    Ok(request)
}

/// Splits a response into its success parts, or turns an error status into [`ApiError`].
pub(crate) fn success<B: AsRef<[u8]>>(
    endpoint: &'static str,
    response: Response<B>,
) -> Result<(http::response::Parts, B), Error> {
    let (parts, body) = response.into_parts();
    if parts.status.is_success() {
        Ok((parts, body))
    } else {
        let body = Bytes::copy_from_slice(body.as_ref());
        Err(Error::Api(Box::new(ApiError::from_response(
            endpoint,
            parts.status,
            parts.headers,
            body,
        ))))
    }
}

/// Reads a JSON success body; on failure, names the JSON path where reading stopped.
pub(crate) fn decode_json<T: DeserializeOwned>(
    endpoint: &'static str,
    parts: &http::response::Parts,
    body: &[u8],
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|_| {
        let (path, reason) = json_error_at::<T>(body);
        Error::Decode(Box::new(DecodeError {
            endpoint,
            status: parts.status,
            path,
            reason,
            request_id: crate::error::request_id(&parts.headers),
            body: Bytes::copy_from_slice(body),
        }))
    })
}

/// Reads a JSON body again, tracking the path, to say where and why it fails.
/// Only called once reading has failed, so the fast path pays nothing for it.
fn json_error_at<T: DeserializeOwned>(body: &[u8]) -> (String, String) {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(_) => (
            ".".into(),
            "trailing characters after the JSON value".into(),
        ),
        Err(error) => (error.path().to_string(), error.into_inner().to_string()),
    }
}

/// The body of a server-side JSON request, validated.
pub(crate) fn decode_json_request<T: DeserializeOwned + Validate>(
    body: &[u8],
) -> Result<T, ServerError> {
    let value: T = serde_json::from_slice(body).map_err(|_| {
        let (path, reason) = json_error_at::<T>(body);
        ServerError::BadRequest {
            message: format!("invalid body at `{path}`: {reason}"),
        }
    })?;
    value.validate().map_err(|e| ServerError::BadRequest {
        message: e.to_string(),
    })?;
    Ok(value)
}

/// Reads an incoming request routed to `E`: checks the method first, then reads the
/// credentials and the input.
pub(crate) fn incoming<E: Endpoint, T>(
    parts: &http::request::Parts,
    input: impl FnOnce() -> Result<T, ServerError>,
) -> Result<Incoming<T>, ServerError> {
    if parts.method != E::METHOD {
        return Err(ServerError::MethodNotAllowed {
            method: parts.method.clone(),
            allowed: vec![E::METHOD],
        });
    }
    Ok(Incoming {
        credentials: Credentials::from_headers(&parts.headers),
        input: input()?,
    })
}

/// Reads a JSON report (nonce and body) routed to `E`.
pub(crate) fn incoming_report<E: Endpoint, T: DeserializeOwned + Validate, B: AsRef<[u8]>>(
    request: Request<B>,
) -> Result<Incoming<Report<T>>, ServerError> {
    let (parts, body) = request.into_parts();
    incoming::<E, _>(&parts, || {
        let nonce = required_nonce(&parts.headers)?;
        Ok(Report {
            nonce,
            body: decode_json_request(body.as_ref())?,
        })
    })
}

/// The `x-transcend-nonce` of an incoming report.
pub(crate) fn required_nonce(headers: &HeaderMap) -> Result<Nonce, ServerError> {
    headers
        .get(X_TRANSCEND_NONCE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(Nonce::new)
        .ok_or_else(|| ServerError::BadRequest {
            message: "missing header x-transcend-nonce".into(),
        })
}

/// A JSON response with the given status.
pub(crate) fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response<Bytes> {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Bytes::from(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(APPLICATION_JSON));
    response
}

/// The success answer to a report: `200` with `{}`.
pub(crate) fn accepted_response() -> Response<Bytes> {
    let mut response = Response::new(Bytes::from_static(b"{}"));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(APPLICATION_JSON));
    response
}

/// Reads the answer to a report: any success is [`Accepted`].
pub(crate) fn parse_accepted<B: AsRef<[u8]>>(
    endpoint: &'static str,
    response: Response<B>,
) -> Result<Accepted, Error> {
    success(endpoint, response).map(|_| Accepted)
}
