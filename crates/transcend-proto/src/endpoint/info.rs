//! What the table says about each endpoint: method, path template, retry class, the
//! credential it needs and what its body is.

use http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::retry::Idempotency;

/// One endpoint, described: everything a router, a retry loop, an authorizer or a
/// documentation generator needs without knowing the endpoint's types.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointInfo {
    /// The endpoint's name in errors, traces and generated documents (`submit_dsr`).
    pub name: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The path template: literal segments and `{name}` parameters, each one whole
    /// segment (`/v1/data-subject-request/{id}`).
    pub path: &'static str,
    /// Whether sending it twice does the same as sending it once.
    pub idempotency: Idempotency,
    /// The credential the caller needs.
    pub scope: Scope,
    /// What the request body is.
    pub body: BodyKind,
    /// One line on what the endpoint is for.
    pub summary: &'static str,
    /// The headers it reads besides the credentials (the nonce, a datapoint's name…).
    pub headers: &'static [ParamInfo],
    /// The query parameters it reads.
    pub query: &'static [ParamInfo],
    /// The name of the request body's JSON Schema in `transcend-types`, if any.
    pub request_schema: Option<&'static str>,
    /// What a success answer carries.
    pub response: ResponseBody,
}

/// A request header (or query parameter) an endpoint reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParamInfo {
    /// The header's name, lowercase.
    pub name: &'static str,
    /// Whether the request is refused without it.
    pub required: bool,
    /// What it carries.
    pub description: &'static str,
}

/// The `x-transcend-nonce` every report carries.
pub const NONCE_HEADER: ParamInfo = ParamInfo {
    name: "x-transcend-nonce",
    required: true,
    description: "The nonce of the job's webhook: which job this reports for.",
};

/// What a success answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseBody {
    /// JSON of the named schema of `transcend-types`.
    Json(&'static str),
    /// JSON the protocol does not define (`{}`).
    Accepted,
    /// `text/plain`: a PEM public key.
    PemText,
    /// Bytes of any length, streamed (`application/octet-stream` or the file's type).
    File,
}

/// The credential an endpoint needs, beyond a valid API key (and, for a self-hosted
/// Sombra, the Sombra key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// Any valid API key.
    Authenticated,
    /// The scope "Submit New Data Subject Request".
    SubmitRequests,
    /// The scope "View Incoming Requests".
    ViewRequests,
    /// A key of the data silo the job's nonce was issued to.
    DataSilo,
    /// The scope "Manage Request Identity Verification" (enrichers).
    IdentityVerification,
}

impl Scope {
    /// The scope's name as Transcend's dashboard shows it.
    pub fn title(self) -> &'static str {
        match self {
            Self::Authenticated => "any API key",
            Self::SubmitRequests => "Submit New Data Subject Request",
            Self::ViewRequests => "View Incoming Requests",
            Self::DataSilo => "a key of the job's data silo",
            Self::IdentityVerification => "Manage Request Identity Verification",
        }
    }
}

/// What a request body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyKind {
    /// No body.
    Empty,
    /// A JSON document, read whole (within the server's body limit).
    Json,
    /// Bytes of any length, streamed: never buffered by this crate on either side.
    Stream,
}

/// The decoded `{name}` segments of a routed path, in template order.
pub type PathParams = Vec<String>;

/// Everything but the unreserved characters of RFC 3986 is escaped in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl EndpointInfo {
    /// The path with each `{name}` replaced, in order, by `params`, percent-encoded.
    /// Missing parameters leave their segment empty (the router refuses that).
    pub fn path_with(&self, params: &[&str]) -> String {
        let mut path = String::with_capacity(self.path.len() + 32);
        let mut params = params.iter();
        for segment in self.path.split('/').skip(1) {
            path.push('/');
            if is_param(segment) {
                path.extend(utf8_percent_encode(
                    params.next().copied().unwrap_or_default(),
                    SEGMENT,
                ));
            } else {
                path.push_str(segment);
            }
        }
        path
    }

    /// The decoded parameters of `path` if it fits the template: same number of
    /// segments, literals equal, each parameter a non-empty UTF-8 segment.
    pub fn match_path(&self, path: &str) -> Option<PathParams> {
        if !self.path.contains('{') {
            return (self.path == path).then(Vec::new);
        }
        let mut params = Vec::new();
        let mut given = path.split('/');
        for segment in self.path.split('/') {
            let actual = given.next()?;
            if is_param(segment) {
                let decoded = percent_decode_str(actual).decode_utf8().ok()?;
                if decoded.is_empty() {
                    return None;
                }
                params.push(decoded.into_owned());
            } else if segment != actual {
                return None;
            }
        }
        given.next().is_none().then_some(params)
    }
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get_dsr() -> EndpointInfo {
        EndpointInfo {
            name: "get_dsr",
            method: Method::GET,
            path: "/v1/data-subject-request/{id}",
            idempotency: Idempotency::Idempotent,
            scope: Scope::ViewRequests,
            body: BodyKind::Empty,
            summary: "",
            headers: &[],
            query: &[],
            request_schema: None,
            response: ResponseBody::Json("DsrStatus"),
        }
    }

    #[test]
    fn parameters_are_percent_encoded_and_decoded() {
        let info = get_dsr();
        assert_eq!(
            info.path_with(&["da13d328-3f9d"]),
            "/v1/data-subject-request/da13d328-3f9d"
        );
        let path = info.path_with(&["a/b c?d#é"]);
        assert_eq!(path, "/v1/data-subject-request/a%2Fb%20c%3Fd%23%C3%A9");
        assert_eq!(info.match_path(&path), Some(vec!["a/b c?d#é".to_owned()]));
    }

    #[test]
    fn paths_that_do_not_fit_are_refused() {
        let info = get_dsr();
        for path in [
            "/v1/data-subject-request/a/b",
            "/v1/data-subject-request/",
            "/v1/data-subject-request",
            "/v1/data-subject-request/%FF",
            "/v2/data-subject-request/a",
        ] {
            assert_eq!(info.match_path(path), None, "{path}");
        }
    }
}
