//! `GET /public-keys/sombra-general-signing-key`: the key that signs webhook tokens.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response};

use super::{BodyKind, Endpoint, EndpointInfo, Received, ResponseBody, Scope};
use crate::codec::{request_head, success};
use crate::config::{Config, RequestPath};
use crate::error::{DecodeError, Error};
use crate::headers::TEXT_PLAIN;
use crate::retry::Idempotency;
use crate::server::ServerError;

/// `GET /public-keys/sombra-general-signing-key`: answers `text/plain`, a PEM
/// `PUBLIC KEY` (SPKI) of a P-384 key. It may be cached for an hour.
#[derive(Debug, Clone, Copy, Default)]
pub struct SigningKeyEndpoint;

/// A PEM-encoded public key that verifies `x-sombra-token`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyPem(String);

impl SigningKeyPem {
    /// Checks the text is a PEM EC public key usable for ES384. Surrounding whitespace
    /// is dropped and one final newline kept, so a key reads back as it was written.
    pub fn parse(pem: impl Into<String>) -> Result<Self, String> {
        let mut pem = pem.into().trim().to_owned();
        pem.push('\n');
        if !pem.contains("-----BEGIN PUBLIC KEY-----") {
            return Err("expected a PEM block `-----BEGIN PUBLIC KEY-----`".into());
        }
        crate::webhook::VerificationKey::from_pem(&pem).map_err(|e| e.to_string())?;
        Ok(Self(pem))
    }

    /// The PEM text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Endpoint for SigningKeyEndpoint {
    type Input = ();
    type Output = SigningKeyPem;
    const INFO: EndpointInfo = EndpointInfo {
        name: "signing_key",
        method: Method::GET,
        path: "/public-keys/sombra-general-signing-key",
        idempotency: Idempotency::Idempotent,
        scope: Scope::Authenticated,
        body: BodyKind::Empty,
        summary: "The PEM public key that signs webhook tokens (`x-sombra-token`).",
        headers: &[],
        query: &[],
        request_schema: None,
        response: ResponseBody::PemText,
    };

    fn build_request(config: &Config, _: &()) -> Result<Request<Bytes>, Error> {
        let mut request = request_head(
            config,
            Method::GET,
            RequestPath::Static(Self::INFO.path),
            None,
            Bytes::new(),
        )?;
        request
            .headers_mut()
            .insert(ACCEPT, HeaderValue::from_static(TEXT_PLAIN));
        Ok(request)
    }

    fn parse_response<B: AsRef<[u8]>>(response: Response<B>) -> Result<SigningKeyPem, Error> {
        let (parts, body) = success(Self::INFO.name, response)?;
        let body = body.as_ref();
        let text = std::str::from_utf8(body).map_err(|e| e.to_string());
        text.and_then(SigningKeyPem::parse).map_err(|reason| {
            Error::Decode(Box::new(DecodeError {
                endpoint: Self::INFO.name,
                status: parts.status,
                path: ".".into(),
                reason,
                request_id: crate::error::request_id(&parts.headers),
                body: Bytes::copy_from_slice(body),
            }))
        })
    }

    fn read_input(_: &Received<'_>) -> Result<(), ServerError> {
        Ok(())
    }

    fn build_response(output: &SigningKeyPem) -> Response<Bytes> {
        let mut response = Response::new(Bytes::from(output.0.clone()));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_PLAIN));
        response
    }
}
