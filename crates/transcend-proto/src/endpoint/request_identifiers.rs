//! `POST /v1/request-identifiers`: a page of the identifiers a request holds.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use transcend_types::{RequestIdentifiersPage, RequestIdentifiersQuery};

use super::{BodyKind, Endpoint, EndpointInfo, Received, ResponseBody, Scope};
use crate::codec::{decode_json_request, json_answer, json_request, json_response};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::retry::Idempotency;
use crate::server::ServerError;

/// `POST /v1/request-identifiers`: `first` (at most 100) identifiers of a request after
/// `offset`. Needs the scope "View Incoming Requests" (and Sombra 7.180.0 or later).
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIdentifiersEndpoint;

impl Endpoint for RequestIdentifiersEndpoint {
    type Input = RequestIdentifiersQuery;
    type Output = RequestIdentifiersPage;
    const INFO: EndpointInfo = EndpointInfo {
        name: "request_identifiers",
        method: Method::POST,
        path: "/v1/request-identifiers",
        idempotency: Idempotency::Idempotent,
        scope: Scope::ViewRequests,
        body: BodyKind::Json,
        summary: "A page of the identifiers a request holds (core, email, attested, enriched).",
        headers: &[],
        query: &[],
        request_schema: Some("RequestIdentifiersQuery"),
        response: ResponseBody::Json("RequestIdentifiersPage"),
    };

    fn build_request(config: &Config, input: &Self::Input) -> Result<Request<Bytes>, Error> {
        json_request(
            Self::INFO.name,
            config,
            Method::POST,
            RequestPath::Static(Self::INFO.path),
            None,
            input,
        )
    }

    fn parse_response<B: AsRef<[u8]>>(response: Response<B>) -> Result<Self::Output, Error> {
        json_answer(Self::INFO.name, response)
    }

    fn read_input(request: &Received<'_>) -> Result<Self::Input, ServerError> {
        decode_json_request(request.body)
    }

    fn build_response(output: &Self::Output) -> Response<Bytes> {
        json_response(StatusCode::OK, output)
    }
}
