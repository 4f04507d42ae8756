//! The endpoints of the DSR API, one module each, both sides.
//!
//! Each module implements [`Endpoint`]: the client side builds an `http::Request` and
//! reads the `http::Response`; the server side reads the request and builds the
//! response. The endpoint table (`src/table.rs`) lists them all; routing, the server's
//! [`Service`](crate::server::Service) and the clients' calls are derived from it.
//!
//! Adding an endpoint: its body types in `transcend-types`, one module here with its
//! `impl Endpoint`, one row in the table. The compiler then names every server that
//! lacks a handler for it.

mod info;
mod report;

pub mod download_file;
pub mod download_keys;
pub mod enrich_identifiers;
pub mod get_dsr;
pub mod pending_requests;
pub mod report_erasure;
pub mod request_identifiers;
pub mod signing_key;
pub mod submit_dsr;
pub mod upload_access;
pub mod upload_datapoint;
pub mod upload_datapoint_chunked;

pub use enrich_identifiers::EnrichmentTarget;
pub use info::{BodyKind, EndpointInfo, NONCE_HEADER, ParamInfo, PathParams, ResponseBody, Scope};
pub(crate) use report::report_endpoint;
pub use report::{Accepted, Report, ReportBody, build_report};

use bytes::Bytes;
use http::{Request, Response};

use crate::config::Config;
use crate::error::Error;
use crate::server::{Credentials, Incoming, ServerError};

/// One endpoint of the API, defined once for both sides.
pub trait Endpoint {
    /// What the caller supplies (the body, the id, the nonce…).
    type Input;
    /// What a success response carries.
    type Output;
    /// Method, path, retry class, scope and body kind.
    const INFO: EndpointInfo;

    /// Client side: the request for this input. Validates the input first; nothing
    /// invalid is ever built. For a [`BodyKind::Stream`] endpoint the body is empty:
    /// the caller puts its own in (`request.map(|_| body)`).
    fn build_request(config: &Config, input: &Self::Input) -> Result<Request<Bytes>, Error>;

    /// Client side: the typed output of a success response, or the typed error.
    fn parse_response<B: AsRef<[u8]>>(response: Response<B>) -> Result<Self::Output, Error>;

    /// Server side: the input of a request already routed to this endpoint. Routing,
    /// credentials and the method were checked by the caller; this reads what only
    /// this endpoint knows (headers, path parameters, the body).
    fn read_input(request: &Received<'_>) -> Result<Self::Input, ServerError>;

    /// Server side: the success response for this output.
    fn build_response(output: &Self::Output) -> Response<Bytes>;

    /// Server side, in one step: checks that the request is for this endpoint (404 or
    /// 405 otherwise), then reads the credentials and the input. Servers that route
    /// among all endpoints use [`dispatch`](crate::server::dispatch) instead.
    fn parse_request<B: AsRef<[u8]>>(
        request: Request<B>,
    ) -> Result<Incoming<Self::Input>, ServerError> {
        let (head, body) = request.into_parts();
        let params = route_to(&Self::INFO, &head)?;
        let input = Self::read_input(&Received {
            head: &head,
            params: &params,
            body: body.as_ref(),
        })?;
        Ok(Incoming {
            credentials: Credentials::from_headers(&head.headers),
            input,
        })
    }
}

/// An endpoint whose JSON body a server may read as it arrives rather than whole: the
/// part of its input the head carries. The endpoint table's `json_stream` rows hand
/// the service this head and the body unread, so a large report can be parsed (and
/// written out) piece by piece; [`read_json`](crate::server::read_json) reads it whole
/// for a service that does not care. The wire is the same JSON either way.
pub trait StreamedJson: Endpoint {
    /// What the head carries: for a report, the job's nonce.
    type Head: Send;

    /// Server side: reads the head's part of the input (headers, path parameters).
    fn read_head(request: &Received<'_>) -> Result<Self::Head, ServerError>;
}

/// A request as a server received it, routed: its head, the decoded path parameters,
/// and the body (empty for [`BodyKind::Empty`] and [`BodyKind::Stream`] endpoints,
/// whose bodies are not read here).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Received<'a> {
    /// Method, URI, headers.
    pub head: &'a http::request::Parts,
    /// The `{name}` segments of the path, decoded, in template order.
    pub params: &'a [String],
    /// The body read whole, or empty.
    pub body: &'a [u8],
}

impl<'a> Received<'a> {
    /// A routed request.
    pub fn new(head: &'a http::request::Parts, params: &'a [String], body: &'a [u8]) -> Self {
        Self { head, params, body }
    }
}

/// The path parameters of `head` for `info`, or 404 / 405.
fn route_to(info: &EndpointInfo, head: &http::request::Parts) -> Result<PathParams, ServerError> {
    let params = info
        .match_path(head.uri.path())
        .ok_or_else(|| ServerError::NotFound {
            what: format!("no endpoint at {}", head.uri.path()),
        })?;
    if head.method != info.method {
        return Err(ServerError::MethodNotAllowed {
            method: head.method.clone(),
            allowed: vec![info.method.clone()],
        });
    }
    Ok(params)
}
