//! `POST /v1/data-subject-request`: submit a DSR on behalf of a person.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use transcend_types::{SubmitDsr, SubmitDsrResponse};

use super::{BodyKind, Endpoint, EndpointInfo, Received, ResponseBody, Scope};
use crate::codec::{decode_json_request, json_answer, json_request, json_response};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::retry::Idempotency;
use crate::server::ServerError;

/// `POST /v1/data-subject-request`. Needs the scope "Submit New Data Subject Request".
///
/// Not idempotent: there is no idempotency key, so a submission sent twice may create
/// two requests or be refused as a duplicate.
#[derive(Debug, Clone, Copy, Default)]
pub struct SubmitDsrEndpoint;

impl Endpoint for SubmitDsrEndpoint {
    type Input = SubmitDsr;
    type Output = SubmitDsrResponse;
    const INFO: EndpointInfo = EndpointInfo {
        name: "submit_dsr",
        method: Method::POST,
        path: "/v1/data-subject-request",
        idempotency: Idempotency::NotIdempotent,
        scope: Scope::SubmitRequests,
        body: BodyKind::Json,
        summary: "Submits a DSR on behalf of a person.",
        headers: &[],
        query: &[],
        request_schema: Some("SubmitDsr"),
        response: ResponseBody::Json("SubmitDsrResponse"),
    };

    fn build_request(config: &Config, input: &SubmitDsr) -> Result<Request<Bytes>, Error> {
        json_request(
            Self::INFO.name,
            config,
            Method::POST,
            RequestPath::Static(Self::INFO.path),
            None,
            input,
        )
    }

    fn parse_response<B: AsRef<[u8]>>(response: Response<B>) -> Result<SubmitDsrResponse, Error> {
        json_answer(Self::INFO.name, response)
    }

    fn read_input(request: &Received<'_>) -> Result<SubmitDsr, ServerError> {
        decode_json_request(request.body)
    }

    fn build_response(output: &SubmitDsrResponse) -> Response<Bytes> {
        json_response(StatusCode::OK, output)
    }
}
