//! `PUT /v1/data-silo`: a data silo reports the outcome of an ERASURE (or any) job: erased, skipped, waiting, failed.

use bytes::Bytes;
use http::{Method, Request, Response};
use transcend_types::ErasureReport;

use super::{
    Accepted, Endpoint, Report, accepted_response, incoming_report, json_request, parse_accepted,
};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::retry::Idempotency;
use crate::server::{Incoming, ServerError};

/// `PUT /v1/data-silo` with the job's `x-transcend-nonce`. The API key must belong to
/// the data silo.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportErasureEndpoint;

impl Endpoint for ReportErasureEndpoint {
    type Input = Report<ErasureReport>;
    type Output = Accepted;
    const NAME: &'static str = "report_erasure";
    const METHOD: Method = Method::PUT;
    const PATH: &'static str = "/v1/data-silo";
    const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

    fn build_request(
        config: &Config,
        input: &Report<ErasureReport>,
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
    ) -> Result<Incoming<Report<ErasureReport>>, ServerError> {
        incoming_report::<Self, _, _>(request)
    }

    fn build_response(_: &Accepted) -> Response<Bytes> {
        accepted_response()
    }
}
