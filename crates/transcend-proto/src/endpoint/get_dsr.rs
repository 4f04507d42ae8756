//! `GET /v1/data-subject-request/{id}`: the state of a DSR.

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use transcend_types::DsrStatus;

use super::{BodyKind, Endpoint, EndpointInfo, Received, ResponseBody, Scope};
use crate::codec::{json_answer, json_response, request_head};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::headers::APPLICATION_JSON;
use crate::retry::Idempotency;
use crate::server::ServerError;

/// `GET /v1/data-subject-request/{id}`. Needs the scope "View Incoming Requests".
#[derive(Debug, Clone, Copy, Default)]
pub struct GetDsrEndpoint;

/// The path of one request: the id percent-encoded.
pub fn path(id: &str) -> String {
    GetDsrEndpoint::INFO.path_with(&[id])
}

/// The decoded id of a path `/v1/data-subject-request/{id}`, if it is one.
pub fn id_from_path(path: &str) -> Option<String> {
    GetDsrEndpoint::INFO.match_path(path)?.pop()
}

impl Endpoint for GetDsrEndpoint {
    /// The request id.
    type Input = String;
    type Output = DsrStatus;
    const INFO: EndpointInfo = EndpointInfo {
        name: "get_dsr",
        method: Method::GET,
        path: "/v1/data-subject-request/{id}",
        idempotency: Idempotency::Idempotent,
        scope: Scope::ViewRequests,
        body: BodyKind::Empty,
        summary: "The state of a DSR.",
        headers: &[],
        query: &[],
        request_schema: None,
        response: ResponseBody::Json("DsrStatus"),
    };

    fn build_request(config: &Config, id: &String) -> Result<Request<Bytes>, Error> {
        if id.is_empty() {
            return Err(Error::invalid_config("request id", id, "a non-empty id"));
        }
        let mut request = request_head(
            config,
            Method::GET,
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
        json_answer(Self::INFO.name, response)
    }

    fn read_input(request: &Received<'_>) -> Result<String, ServerError> {
        request
            .params
            .first()
            .cloned()
            .ok_or_else(|| ServerError::NotFound {
                what: "no request id in the path".into(),
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
            id_from_path(&path("a/b c?d#é")).as_deref(),
            Some("a/b c?d#é")
        );
        assert_eq!(id_from_path("/v1/data-subject-request/a/b"), None);
    }

    #[test]
    fn an_empty_id_is_refused_before_sending() {
        let error = GetDsrEndpoint::build_request(&Config::new("k"), &String::new()).unwrap_err();
        assert!(error.to_string().contains("request id"), "{error}");
    }
}
