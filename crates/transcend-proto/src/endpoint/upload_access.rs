//! `POST /v1/data-silo`: a data silo reports JSON datapoints for an ACCESS job.

use bytes::Bytes;
use http::{Method, Request, Response};
use transcend_types::AccessUpload;

use super::{
    Accepted, Endpoint, Report, accepted_response, incoming_report, json_request, parse_accepted,
};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::retry::Idempotency;
use crate::server::{Incoming, ServerError};

/// `POST /v1/data-silo` with the job's `x-transcend-nonce`. The API key must belong to
/// the data silo.
#[derive(Debug, Clone, Copy, Default)]
pub struct UploadAccessEndpoint;

impl Endpoint for UploadAccessEndpoint {
    type Input = Report<AccessUpload>;
    type Output = Accepted;
    const NAME: &'static str = "upload_access";
    const METHOD: Method = Method::POST;
    const PATH: &'static str = "/v1/data-silo";
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn build_request(
        config: &Config,
        input: &Report<AccessUpload>,
    ) -> Result<Request<Bytes>, Error> {
        json_request::<Self, _>(
            config,
            RequestPath::Static(Self::PATH),
            Some(&input.nonce),
            &input.body,
        )
    }

    fn parse_response<B: AsRef<[u8]>>(response: Response<B>) -> Result<Accepted, Error> {
        parse_accepted(Self::NAME, response)
    }

    fn parse_request<B: AsRef<[u8]>>(
        request: Request<B>,
    ) -> Result<Incoming<Report<AccessUpload>>, ServerError> {
        incoming_report::<Self, _, _>(request)
    }

    fn build_response(_: &Accepted) -> Response<Bytes> {
        accepted_response()
    }
}
