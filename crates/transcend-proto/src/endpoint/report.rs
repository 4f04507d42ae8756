//! A data silo's reports: a body sent with a job's nonce, answered with [`Accepted`].
//! Every JSON report endpoint is one [`report_endpoint!`] line; [`ReportBody`] maps a
//! body type to its endpoint, so clients send any report through one call.

use bytes::Bytes;
use http::Request;
use serde::Serialize;
use transcend_types::Validate;

use super::Endpoint;
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::secret::Nonce;

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

/// A JSON body a data silo reports with a job's nonce, and the endpoint it goes to:
/// `AccessUpload` to `POST /v1/data-silo`, `ErasureReport` to `PUT /v1/data-silo`,
/// `DatapointChunk` to `POST /v1/datapoint-chunked`.
pub trait ReportBody: Serialize + Validate + Sized {
    /// The endpoint that takes this body.
    type Endpoint: Endpoint<Input = Report<Self>, Output = Accepted>;
}

/// Client side: the request for a report, from a borrowed body (what
/// `<T::Endpoint as Endpoint>::build_request` does for an owned [`Report`]).
pub fn build_report<T: ReportBody>(
    config: &Config,
    nonce: &Nonce,
    body: &T,
) -> Result<Request<Bytes>, Error> {
    let info = &<T::Endpoint as Endpoint>::INFO;
    crate::codec::json_request(
        info.name,
        config,
        info.method.clone(),
        RequestPath::Static(info.path),
        Some(nonce),
        body,
    )
}

/// Defines a JSON report endpoint: a data silo's report for one job, sent with the
/// job's nonce, answered with [`Accepted`]. Idempotent: the same report twice does
/// what it does once.
macro_rules! report_endpoint {
    ($(#[doc = $doc:literal])* $name:ident, $body:ty, $method:ident, $path:literal, $label:literal, $summary:literal) => {
        $(#[doc = $doc])*
        ///
        /// Sent with the job's `x-transcend-nonce`; the API key must belong to the data
        /// silo.
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl $crate::endpoint::Endpoint for $name {
            type Input = $crate::endpoint::Report<$body>;
            type Output = $crate::endpoint::Accepted;
            const INFO: $crate::endpoint::EndpointInfo = $crate::endpoint::EndpointInfo {
                name: $label,
                method: http::Method::$method,
                path: $path,
                idempotency: $crate::retry::Idempotency::Idempotent,
                scope: $crate::endpoint::Scope::DataSilo,
                body: $crate::endpoint::BodyKind::Json,
                summary: $summary,
                headers: &[$crate::endpoint::NONCE_HEADER],
                query: &[],
                request_schema: Some(stringify!($body)),
                response: $crate::endpoint::ResponseBody::Accepted,
            };

            fn build_request(
                config: &$crate::config::Config,
                input: &Self::Input,
            ) -> Result<http::Request<bytes::Bytes>, $crate::error::Error> {
                $crate::endpoint::build_report(config, &input.nonce, &input.body)
            }

            fn parse_response<B: AsRef<[u8]>>(
                response: http::Response<B>,
            ) -> Result<Self::Output, $crate::error::Error> {
                $crate::codec::success(Self::INFO.name, response)
                    .map(|_| $crate::endpoint::Accepted)
            }

            fn read_input(
                request: &$crate::endpoint::Received<'_>,
            ) -> Result<Self::Input, $crate::server::ServerError> {
                Ok($crate::endpoint::Report {
                    nonce: $crate::codec::required_nonce(&request.head.headers)?,
                    body: $crate::codec::decode_json_request(request.body)?,
                })
            }

            fn build_response(_: &Self::Output) -> http::Response<bytes::Bytes> {
                $crate::codec::accepted_response()
            }
        }

        impl $crate::endpoint::StreamedJson for $name {
            type Head = $crate::secret::Nonce;

            fn read_head(
                request: &$crate::endpoint::Received<'_>,
            ) -> Result<Self::Head, $crate::server::ServerError> {
                $crate::codec::required_nonce(&request.head.headers)
            }
        }

        impl $crate::endpoint::ReportBody for $body {
            type Endpoint = $name;
        }
    };
}

pub(crate) use report_endpoint;
