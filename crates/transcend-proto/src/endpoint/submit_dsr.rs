//! `POST /v1/data-subject-request`: submit a DSR on behalf of a person.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use transcend_types::{SubmitDsr, SubmitDsrResponse};

use super::{
    Endpoint, decode_json, decode_json_request, incoming, json_request, json_response, success,
};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::retry::Idempotency;
use crate::server::{Incoming, ServerError};

/// `POST /v1/data-subject-request`. Needs the scope "Submit New Data Subject Request".
///
/// Not idempotent: there is no idempotency key, so a submission sent twice may create
/// two requests or be refused as a duplicate.
#[derive(Debug, Clone, Copy, Default)]
pub struct SubmitDsrEndpoint;

impl Endpoint for SubmitDsrEndpoint {
    type Input = SubmitDsr;
    type Output = SubmitDsrResponse;
    const NAME: &'static str = "submit_dsr";
    const METHOD: Method = Method::POST;
    const PATH: &'static str = "/v1/data-subject-request";
    const IDEMPOTENCY: Idempotency = Idempotency::NotIdempotent;

    fn build_request(config: &Config, input: &SubmitDsr) -> Result<Request<Bytes>, Error> {
        json_request::<Self, _>(config, RequestPath::Static(Self::PATH), None, input)
    }

    fn parse_response<B: AsRef<[u8]>>(response: Response<B>) -> Result<SubmitDsrResponse, Error> {
        let (parts, body) = success(Self::NAME, response)?;
        decode_json(Self::NAME, &parts, body.as_ref())
    }

    fn parse_request<B: AsRef<[u8]>>(
        request: Request<B>,
    ) -> Result<Incoming<SubmitDsr>, ServerError> {
        let (parts, body) = request.into_parts();
        incoming::<Self, _>(&parts, || decode_json_request(body.as_ref()))
    }

    fn build_response(output: &SubmitDsrResponse) -> Response<Bytes> {
        json_response(StatusCode::OK, output)
    }
}
