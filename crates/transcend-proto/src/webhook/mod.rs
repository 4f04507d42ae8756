//! The webhook a data silo receives for each DSR job, and the silo's answer to it.
//!
//! [`parse_webhook`] reads a delivery; [`verify_sombra_token`] checks its signed token;
//! [`JobAnswer`] is what the silo answers. The sending side ([`build_webhook`]) is here
//! too, for the emulator and for tests.

mod token;

pub use token::{
    ALGORITHM, LEEWAY, SCOPE, SombraTokenClaims, TokenRejection, VerificationKey, VerifiedToken,
    sign_sombra_token, verify_sombra_token,
};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri};
use transcend_types::{DsrJob, EnrichmentAnswer, EnrichmentJob, ErrorBody};

use crate::config::DEFAULT_USER_AGENT;
use crate::error::Error;
use crate::headers::{APPLICATION_JSON, X_SOMBRA_TOKEN, X_TRANSCEND_NONCE};
use crate::secret::{Nonce, SombraToken};

/// A webhook delivery, read but not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The job's nonce, to echo on every report for it.
    pub nonce: Nonce,
    /// The signed token to verify ([`verify_sombra_token`]).
    pub token: SombraToken,
    /// The job.
    pub job: DsrJob,
}

/// Why a webhook delivery cannot be read. Answer it with [`WebhookError::status`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A required header is missing or empty.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// The body is not a DSR job.
    #[error("invalid job body at `{path}`: {reason}")]
    InvalidBody {
        /// Where reading failed (a JSON path).
        path: String,
        /// Why.
        reason: String,
    },
}

impl WebhookError {
    /// `401` for a missing token, `400` otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingHeader(header) if *header == X_SOMBRA_TOKEN.as_str() => {
                StatusCode::UNAUTHORIZED
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// Reads a webhook delivery: `x-transcend-nonce`, `x-sombra-token` and the JSON job.
pub fn parse_webhook<B: AsRef<[u8]>>(
    request: &Request<B>,
) -> Result<WebhookDelivery, WebhookError> {
    let (nonce, token, job) = parse_delivery::<DsrJob, B>(request)?;
    Ok(WebhookDelivery { nonce, token, job })
}

/// An enrichment webhook, read but not yet verified: signed like a DSR job's, for the
/// identifier to enrich.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnrichmentDelivery {
    /// The nonce to send with `POST /v1/enrich-identifiers`.
    pub nonce: Nonce,
    /// The signed token to verify ([`verify_sombra_token`]); its `value` is the
    /// identifier to enrich.
    pub token: SombraToken,
    /// The job.
    pub job: EnrichmentJob,
}

/// Reads an enrichment webhook: the same headers as a DSR job's, an enrichment body.
pub fn parse_enrichment_webhook<B: AsRef<[u8]>>(
    request: &Request<B>,
) -> Result<EnrichmentDelivery, WebhookError> {
    let (nonce, token, job) = parse_delivery::<EnrichmentJob, B>(request)?;
    Ok(EnrichmentDelivery { nonce, token, job })
}

fn parse_delivery<J: serde::de::DeserializeOwned, B: AsRef<[u8]>>(
    request: &Request<B>,
) -> Result<(Nonce, SombraToken, J), WebhookError> {
    let headers = request.headers();
    let token =
        header(headers, &X_SOMBRA_TOKEN).ok_or(WebhookError::MissingHeader("x-sombra-token"))?;
    let nonce = header(headers, &X_TRANSCEND_NONCE)
        .ok_or(WebhookError::MissingHeader("x-transcend-nonce"))?;
    let body = request.body().as_ref();
    let job = serde_json::from_slice::<J>(body).map_err(|_| {
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let (path, reason) = match serde_path_to_error::deserialize::<_, J>(&mut deserializer) {
            Ok(_) => (
                ".".into(),
                "trailing characters after the JSON value".into(),
            ),
            Err(error) => (error.path().to_string(), error.into_inner().to_string()),
        };
        WebhookError::InvalidBody { path, reason }
    })?;
    Ok((Nonce::new(nonce), SombraToken::new(token), job))
}

fn header<'a>(headers: &'a HeaderMap, name: &http::HeaderName) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The sending side: the delivery of `job` to a silo's webhook `url`.
pub fn build_webhook<J: serde::Serialize>(
    url: &Uri,
    nonce: &Nonce,
    token: &SombraToken,
    job: &J,
) -> Result<Request<Bytes>, Error> {
    let body = serde_json::to_vec(job)
        .map_err(|e| Error::invalid_config("job", &e.to_string(), "a serializable job"))?;
    let mut token_value = HeaderValue::from_str(token.expose())
        .map_err(|_| Error::invalid_config("sombra token", "[REDACTED]", "a header-safe token"))?;
    token_value.set_sensitive(true);
    Request::builder()
        .method(Method::POST)
        .uri(url.clone())
        .header(CONTENT_TYPE, HeaderValue::from_static(APPLICATION_JSON))
        .header(CONTENT_LENGTH, body.len())
        .header(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT))
        .header(X_TRANSCEND_NONCE, crate::codec::nonce_header(nonce)?)
        .header(X_SOMBRA_TOKEN, token_value)
        .body(Bytes::from(body))
        .map_err(|e| Error::invalid_config("webhook request", &e.to_string(), "a valid request"))
}

/// What a silo answers to a webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobAnswer {
    /// `200`: the silo takes the job; its results follow in separate calls.
    Accepted,
    /// `204`: the person is not in this silo; the job is marked skipped.
    NotFound,
    /// `200` with a decision (an enricher's answer): hold or cancel the request.
    Enrichment(EnrichmentAnswer),
    /// `4xx`/`5xx`: the silo failed; Transcend marks an error and delivers again later.
    Failed {
        /// The status (an error).
        status: StatusCode,
        /// A message for the dashboard.
        message: Option<String>,
    },
}

impl JobAnswer {
    /// The response to send back.
    pub fn to_response(&self) -> Response<Bytes> {
        match self {
            Self::Accepted => crate::codec::accepted_response(),
            Self::Enrichment(answer) => crate::codec::json_response(StatusCode::OK, answer),
            Self::NotFound => {
                let mut response = Response::new(Bytes::new());
                *response.status_mut() = StatusCode::NO_CONTENT;
                response
            }
            Self::Failed { status, message } => {
                let status = if status.is_client_error() || status.is_server_error() {
                    *status
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                };
                let body = ErrorBody::new(
                    message
                        .clone()
                        .unwrap_or_else(|| "the data silo failed".into()),
                );
                crate::codec::json_response(status, &body)
            }
        }
    }

    /// Reads a silo's answer (the sending side): `204` is not found, any other success
    /// accepted, anything else failed.
    pub fn from_response<B: AsRef<[u8]>>(response: &Response<B>) -> Self {
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            Self::NotFound
        } else if status.is_success() {
            serde_json::from_slice::<EnrichmentAnswer>(response.body().as_ref())
                .map(Self::Enrichment)
                .unwrap_or(Self::Accepted)
        } else {
            let message = serde_json::from_slice::<ErrorBody>(response.body().as_ref())
                .ok()
                .map(|b| b.message);
            Self::Failed { status, message }
        }
    }
}
