//! `GET /v1/data-subject-request/{id}`: the state of a DSR.

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use transcend_types::DsrStatus;

use super::{Endpoint, decode_json, incoming, json_response, request_head, success};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::headers::APPLICATION_JSON;
use crate::retry::Idempotency;
use crate::server::{Incoming, ServerError, decode_segment};

/// `GET /v1/data-subject-request/{id}`. Needs the scope "View Incoming Requests".
#[derive(Debug, Clone, Copy, Default)]
pub struct GetDsrEndpoint;

/// Everything but the unreserved characters of RFC 3986 is escaped in the id.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The path of one request: the id percent-encoded.
pub fn path(id: &str) -> String {
    let mut path = String::from(GetDsrEndpoint::PATH);
    path.extend(utf8_percent_encode(id, SEGMENT));
    path
}

/// The decoded id of a path `/v1/data-subject-request/{id}`, if it is one.
pub fn id_from_path(path: &str) -> Option<String> {
    let segment = path.strip_prefix(GetDsrEndpoint::PATH)?;
    if segment.is_empty() || segment.contains('/') {
        return None;
    }
    decode_segment(segment).filter(|id| !id.is_empty())
}

impl Endpoint for GetDsrEndpoint {
    /// The request id.
    type Input = String;
    type Output = DsrStatus;
    const NAME: &'static str = "get_dsr";
    const METHOD: Method = Method::GET;
    /// The prefix; the percent-encoded id follows.
    const PATH: &'static str = "/v1/data-subject-request/";
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn build_request(config: &Config, id: &String) -> Result<Request<Bytes>, Error> {
        if id.is_empty() {
            return Err(Error::invalid_config("request id", id, "a non-empty id"));
        }
        let mut request = request_head(
            config,
            Self::METHOD,
            RequestPath::Owned(path(id)),
            None,
            Bytes::new(),
        )?;
        request
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(APPLICATION_JSON));
        Ok(request)
    }

    fn parse_response<B: AsRef<[u8]>>(response: Response<B>) -> Result<DsrStatus, Error> {
        let (parts, body) = success(Self::NAME, response)?;
        decode_json(Self::NAME, &parts, body.as_ref())
    }

    fn parse_request<B: AsRef<[u8]>>(request: Request<B>) -> Result<Incoming<String>, ServerError> {
        let (parts, _) = request.into_parts();
        incoming::<Self, _>(&parts, || {
            id_from_path(parts.uri.path()).ok_or_else(|| ServerError::NotFound {
                what: format!("no endpoint at {}", parts.uri.path()),
            })
        })
    }

    fn build_response(output: &DsrStatus) -> Response<Bytes> {
        json_response(StatusCode::OK, output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_percent_encoded_and_decoded() {
        assert_eq!(
            path("da13d328-3f9d"),
            "/v1/data-subject-request/da13d328-3f9d"
        );
        assert_eq!(
            path("a/b c?d#é"),
            "/v1/data-subject-request/a%2Fb%20c%3Fd%23%C3%A9"
        );
        assert_eq!(
            id_from_path(&path("a/b c?d#é")).as_deref(),
            Some("a/b c?d#é")
        );
        assert_eq!(id_from_path("/v1/data-subject-request/a/b"), None);
        assert_eq!(
            id_from_path("/v1/data-subject-request/%FF"),
            None,
            "not UTF-8"
        );
    }

    #[test]
    fn an_empty_id_is_refused_before_sending() {
        let error = GetDsrEndpoint::build_request(&Config::new("k"), &String::new()).unwrap_err();
        assert!(error.to_string().contains("request id"), "{error}");
    }
}
