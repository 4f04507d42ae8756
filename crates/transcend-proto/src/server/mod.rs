//! The server side: routing, reading and answering requests, for the emulator and for
//! anyone writing a gateway or a test double.
//!
//! Implement [`Service`] (one method per endpoint of the table, plus [`Service::authorize`])
//! and hand each request to [`dispatch`]: it routes (404, 405 with `Allow`), reads the
//! credentials, asks the service to authorize them for the endpoint's
//! [`Scope`](crate::endpoint::Scope) before any body is read, reads and validates the
//! input once, calls the method, and builds the response or the typed error.

mod error;
mod reply;

pub use crate::table::{Route, Routed, Service, dispatch, read_json};
pub use error::ServerError;
pub use reply::Reply;

use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::headers::X_SOMBRA_AUTHORIZATION;
use crate::secret::{ApiKey, SombraKey};

/// The largest JSON body [`dispatch`] reads unless the service says otherwise: the
/// reference pages' 50 MB.
pub const DEFAULT_BODY_LIMIT: u64 = 50 * 1024 * 1024;

/// The credentials an incoming request carries. Checking them is the server's job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Credentials {
    /// From `authorization: Bearer <key>`.
    pub api_key: Option<ApiKey>,
    /// From `x-sombra-authorization: Bearer <key>`.
    pub sombra_key: Option<SombraKey>,
}

impl Credentials {
    /// Reads both bearer headers; a header that is not `Bearer <token>` counts as absent.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self {
            api_key: bearer(headers, AUTHORIZATION.as_str()).map(ApiKey::new),
            sombra_key: bearer(headers, X_SOMBRA_AUTHORIZATION.as_str()).map(SombraKey::new),
        }
    }
}

fn bearer<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let value = headers.get(name)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// An incoming request, read: who sent it and what it asks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Incoming<T> {
    /// The credentials it carries.
    pub credentials: Credentials,
    /// The endpoint's input.
    pub input: T,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_read_from_bearer_headers_only() {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, "Bearer key-1".parse().unwrap());
        headers.insert(X_SOMBRA_AUTHORIZATION, "Basic abc".parse().unwrap());
        let credentials = Credentials::from_headers(&headers);
        assert_eq!(credentials.api_key, Some(ApiKey::new("key-1")));
        assert_eq!(credentials.sombra_key, None);
    }
}
