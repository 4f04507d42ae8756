//! `POST /v1/enrich-identifiers`: an enricher adds identifiers to a request, or holds or
//! cancels it.

use bytes::Bytes;
use http::{Method, Request, Response};
use transcend_types::EnrichIdentifiers;

use super::{Accepted, BodyKind, Endpoint, EndpointInfo, ParamInfo, Received, ResponseBody, Scope};
use crate::codec::{
    accepted_response, ascii_header, decode_json_request, header_text, json_request, success,
};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::headers::X_TRANSCEND_NONCE;
use crate::retry::Idempotency;
use crate::secret::Nonce;
use crate::server::ServerError;

/// `POST /v1/enrich-identifiers`. Needs the scope "Manage Request Identity
/// Verification". Sent with the enrichment webhook's nonce, or, for a manual
/// enrichment, with the request's and the enricher's ids. Sending it again once the
/// enricher is resolved is refused with [`RESOLVED_ENRICHER`]: already done.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnrichIdentifiersEndpoint;

/// The message of the error that means the enrichment was already done.
pub const RESOLVED_ENRICHER: &str = "Cannot update a resolved RequestEnricher";

/// `x-transcend-request-id` of a manual enrichment.
pub const X_TRANSCEND_REQUEST_ID: http::HeaderName =
    http::HeaderName::from_static("x-transcend-request-id");
/// `x-transcend-enricher-id` of a manual enrichment.
pub const X_TRANSCEND_ENRICHER_ID: http::HeaderName =
    http::HeaderName::from_static("x-transcend-enricher-id");

/// Which enrichment the identifiers are for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnrichmentTarget {
    /// The one the webhook with this nonce asked for.
    Nonce(Nonce),
    /// A manual enrichment: this enricher's, of this request.
    Manual {
        /// The request.
        request_id: String,
        /// The enricher.
        enricher_id: String,
    },
}

/// An enrichment: where it goes, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Enrichment {
    /// Which enrichment.
    pub target: EnrichmentTarget,
    /// The identifiers and the decision.
    pub body: EnrichIdentifiers,
}

impl Enrichment {
    /// An enrichment for `target`.
    pub fn new(target: EnrichmentTarget, body: EnrichIdentifiers) -> Self {
        Self { target, body }
    }
}

/// Whether an error means the enrichment was already done.
pub fn is_already_done(error: &Error) -> bool {
    error
        .message()
        .is_some_and(|m| m.contains(RESOLVED_ENRICHER))
}

impl Endpoint for EnrichIdentifiersEndpoint {
    type Input = Enrichment;
    type Output = Accepted;
    const INFO: EndpointInfo = EndpointInfo {
        name: "enrich_identifiers",
        method: Method::POST,
        path: "/v1/enrich-identifiers",
        idempotency: Idempotency::Idempotent,
        scope: Scope::IdentityVerification,
        body: BodyKind::Json,
        summary: "An enricher adds identifiers to a request, or holds or cancels it.",
        headers: &[
            ParamInfo {
                name: "x-transcend-nonce",
                required: false,
                description: "The nonce of the enrichment webhook (or the two ids below).",
            },
            ParamInfo {
                name: "x-transcend-request-id",
                required: false,
                description: "Manual enrichment: the request.",
            },
            ParamInfo {
                name: "x-transcend-enricher-id",
                required: false,
                description: "Manual enrichment: the enricher.",
            },
        ],
        query: &[],
        request_schema: Some("EnrichIdentifiers"),
        response: ResponseBody::Accepted,
    };

    fn build_request(config: &Config, input: &Enrichment) -> Result<Request<Bytes>, Error> {
        let nonce = match &input.target {
            EnrichmentTarget::Nonce(nonce) => Some(nonce),
            EnrichmentTarget::Manual { .. } => None,
        };
        let mut request = json_request(
            Self::INFO.name,
            config,
            Method::POST,
            RequestPath::Static(Self::INFO.path),
            nonce,
            &input.body,
        )?;
        if let EnrichmentTarget::Manual {
            request_id,
            enricher_id,
        } = &input.target
        {
            let headers = request.headers_mut();
            headers.insert(
                X_TRANSCEND_REQUEST_ID,
                ascii_header("x-transcend-request-id", request_id)?,
            );
            headers.insert(
                X_TRANSCEND_ENRICHER_ID,
                ascii_header("x-transcend-enricher-id", enricher_id)?,
            );
        }
        Ok(request)
    }

    fn parse_response<B: AsRef<[u8]>>(response: Response<B>) -> Result<Accepted, Error> {
        success(Self::INFO.name, response).map(|_| Accepted)
    }

    fn read_input(request: &Received<'_>) -> Result<Enrichment, ServerError> {
        let headers = &request.head.headers;
        let target = match header_text(headers, &X_TRANSCEND_NONCE)?.filter(|n| !n.is_empty()) {
            Some(nonce) => EnrichmentTarget::Nonce(Nonce::new(nonce)),
            None => match (
                header_text(headers, &X_TRANSCEND_REQUEST_ID)?,
                header_text(headers, &X_TRANSCEND_ENRICHER_ID)?,
            ) {
                (Some(request_id), Some(enricher_id))
                    if !request_id.is_empty() && !enricher_id.is_empty() =>
                {
                    EnrichmentTarget::Manual {
                        request_id,
                        enricher_id,
                    }
                }
                _ => {
                    return Err(ServerError::BadRequest {
                        message: "missing header x-transcend-nonce (or x-transcend-request-id and x-transcend-enricher-id)".into(),
                    });
                }
            },
        };
        let body: EnrichIdentifiers = decode_json_request(request.body)?;
        Ok(Enrichment { target, body })
    }

    fn build_response(_: &Accepted) -> Response<Bytes> {
        accepted_response()
    }
}
