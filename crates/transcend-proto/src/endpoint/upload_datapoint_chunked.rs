//! `POST /v1/datapoint-chunked`: a data silo reports one page of JSON for one datapoint.

use bytes::Bytes;
use http::{Method, Request, Response};
use transcend_types::DatapointChunk;

use super::{
    Accepted, Endpoint, Report, accepted_response, incoming_report, json_request, parse_accepted,
};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::retry::Idempotency;
use crate::server::{Incoming, ServerError};

/// `POST /v1/datapoint-chunked` with the job's `x-transcend-nonce`. The API key must belong to
/// the data silo.
#[derive(Debug, Clone, Copy, Default)]
pub struct UploadDatapointChunkedEndpoint;

impl Endpoint for UploadDatapointChunkedEndpoint {
    type Input = Report<DatapointChunk>;
    type Output = Accepted;
    const NAME: &'static str = "upload_datapoint_chunked";
    const METHOD: Method = Method::POST;
    const PATH: &'static str = "/v1/datapoint-chunked";
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn build_request(
        config: &Config,
        input: &Report<DatapointChunk>,
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
    ) -> Result<Incoming<Report<DatapointChunk>>, ServerError> {
        incoming_report::<Self, _, _>(request)
    }

    fn build_response(_: &Accepted) -> Response<Bytes> {
        accepted_response()
    }
}
