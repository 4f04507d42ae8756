//! Where the API is and how to authenticate to it.

use std::fmt;

use http::header::{ACCEPT, AUTHORIZATION, USER_AGENT};
use http::uri::{Authority, PathAndQuery, Scheme, Uri};
use http::{HeaderMap, HeaderValue};

use crate::error::Error;
use crate::secret::{ApiKey, SombraKey};

/// A Sombra gateway: every endpoint of the DSR API lives on one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sombra {
    /// Multi-tenant, EU (the default): `https://multi-tenant.sombra.transcend.io`.
    #[default]
    Eu,
    /// Multi-tenant, US: `https://multi-tenant.sombra.us.transcend.io`.
    Us,
    /// Single-tenant hosted by Transcend, self-hosted, or a local emulator: any base URL.
    Url(String),
}

impl Sombra {
    /// The base URL of the gateway, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            Self::Eu => "https://multi-tenant.sombra.transcend.io",
            Self::Us => "https://multi-tenant.sombra.us.transcend.io",
            Self::Url(url) => url.trim_end_matches('/'),
        }
    }
}

/// Transcend's backend, where the admin GraphQL API (`POST {backend}/graphql`) lives: the
/// same API key as Sombra's, another host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// EU (the default): `https://api.transcend.io`.
    #[default]
    Eu,
    /// US: `https://api.us.transcend.io`.
    Us,
    /// Any base URL: a local emulator, or a proxy.
    Url(String),
}

impl Backend {
    /// The base URL of the backend, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            Self::Eu => "https://api.transcend.io",
            Self::Us => "https://api.us.transcend.io",
            Self::Url(url) => url.trim_end_matches('/'),
        }
    }

    /// The backend a `TRANSCEND_API_URL` value names: the two presets by their URL,
    /// anything else as it is.
    pub fn from_url(url: &str) -> Self {
        let url = url.trim_end_matches('/');
        [Self::Eu, Self::Us]
            .into_iter()
            .find(|preset| preset.base_url() == url)
            .unwrap_or_else(|| Self::Url(url.to_owned()))
    }
}

/// The user agent sent unless configured otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("transcend-rs/", env!("CARGO_PKG_VERSION"));

/// Everything a request needs besides its input: the gateway, the credentials and the
/// user agent. Cheap to clone; the credential headers are prepared once and marked
/// sensitive, and `Debug` never shows a key.
///
/// ```
/// use transcend_proto::{Config, Sombra};
///
/// let config = Config::new("my-api-key");                        // EU multi-tenant
/// let us = Config::new("my-api-key").with_sombra(Sombra::Us)?;
/// let self_hosted = Config::new("my-api-key")
///     .with_sombra(Sombra::Url("https://sombra.example.com".into()))?
///     .with_sombra_key("internal-key")?;
/// assert!(!format!("{self_hosted:?}").contains("internal-key"));
/// # Ok::<(), transcend_proto::Error>(())
/// ```
#[derive(Clone)]
pub struct Config {
    sombra: Sombra,
    base: String,
    /// `base` split once, so each request only assembles its URI.
    scheme: Scheme,
    authority: Authority,
    prefix: String,
    api_key: ApiKey,
    authorization: HeaderValue,
    sombra_key: Option<(SombraKey, HeaderValue)>,
    backend: Backend,
    /// `{backend}/graphql`, checked once.
    graphql: Uri,
    user_agent: HeaderValue,
    /// The headers every request carries, prepared once; requests start from a copy.
    common_headers: HeaderMap,
}

/// A request path: a constant of an endpoint, or one built for a request (with an id).
#[derive(Debug)]
pub(crate) enum RequestPath {
    Static(&'static str),
    Owned(String),
}

impl Config {
    /// The EU multi-tenant gateway with this API key.
    ///
    /// A key that cannot be a header value (it holds a line break, say) is reported by
    /// the first request built with it.
    pub fn new(api_key: impl Into<ApiKey>) -> Self {
        let api_key = api_key.into();
        let authorization =
            bearer(api_key.expose()).unwrap_or_else(|_| HeaderValue::from_static(""));
        let mut config = Self {
            base: Sombra::Eu.base_url().to_owned(),
            scheme: Scheme::HTTPS,
            authority: Authority::from_static("multi-tenant.sombra.transcend.io"),
            prefix: String::new(),
            sombra: Sombra::Eu,
            api_key,
            authorization,
            sombra_key: None,
            backend: Backend::Eu,
            graphql: Uri::from_static("https://api.transcend.io/graphql"),
            user_agent: HeaderValue::from_static(DEFAULT_USER_AGENT),
            common_headers: HeaderMap::new(),
        };
        config.prepare_headers();
        config
    }

    fn prepare_headers(&mut self) {
        let mut headers = HeaderMap::with_capacity(8);
        if !self.authorization.is_empty() {
            headers.insert(AUTHORIZATION, self.authorization.clone());
        }
        headers.insert(USER_AGENT, self.user_agent.clone());
        headers.insert(
            ACCEPT,
            HeaderValue::from_static(crate::headers::APPLICATION_JSON),
        );
        if let Some((_, value)) = &self.sombra_key {
            headers.insert(crate::headers::X_SOMBRA_AUTHORIZATION, value.clone());
        }
        self.common_headers = headers;
    }

    /// Sets the gateway; a custom URL must be absolute `http` or `https` with a host and
    /// no query.
    pub fn with_sombra(mut self, sombra: Sombra) -> Result<Self, Error> {
        let base = sombra.base_url().to_owned();
        let uri: Uri = base
            .parse()
            .map_err(|_| Error::invalid_config("base URL", &base, "an absolute URL"))?;
        let scheme_ok = uri.scheme() == Some(&Scheme::HTTPS) || uri.scheme() == Some(&Scheme::HTTP);
        if !scheme_ok || uri.authority().is_none() || uri.query().is_some() {
            return Err(Error::invalid_config(
                "base URL",
                &base,
                "an absolute http or https URL with a host and no query",
            ));
        }
        let parts = uri.into_parts();
        let (Some(scheme), Some(authority)) = (parts.scheme, parts.authority) else {
            return Err(Error::invalid_config("base URL", &base, "an absolute URL"));
        };
        self.prefix = parts
            .path_and_query
            .map(|p| p.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        self.scheme = scheme;
        self.authority = authority;
        self.base = base;
        self.sombra = sombra;
        Ok(self)
    }

    /// Sets Transcend's backend, where the admin API is; a custom URL must be absolute
    /// `http` or `https` with a host and no query.
    pub fn with_backend(mut self, backend: Backend) -> Result<Self, Error> {
        let base = backend.base_url();
        let graphql: Uri = format!("{base}/graphql")
            .parse()
            .map_err(|_| Error::invalid_config("backend URL", base, "an absolute URL"))?;
        let scheme_ok =
            graphql.scheme() == Some(&Scheme::HTTPS) || graphql.scheme() == Some(&Scheme::HTTP);
        if !scheme_ok || graphql.authority().is_none() || base.contains('?') {
            return Err(Error::invalid_config(
                "backend URL",
                base,
                "an absolute http or https URL with a host and no query",
            ));
        }
        self.graphql = graphql;
        self.backend = backend;
        Ok(self)
    }

    /// Transcend's backend (the admin API).
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The admin API's endpoint, `{backend}/graphql`.
    pub fn graphql_url(&self) -> &Uri {
        &self.graphql
    }

    /// Sets the internal key of a self-hosted Sombra.
    pub fn with_sombra_key(mut self, key: impl Into<SombraKey>) -> Result<Self, Error> {
        let key = key.into();
        let value = bearer(key.expose()).map_err(|_| {
            Error::invalid_config("Sombra key", "[REDACTED]", "a header-safe token")
        })?;
        self.sombra_key = Some((key, value));
        self.prepare_headers();
        Ok(self)
    }

    /// Sets the `user-agent` header.
    pub fn with_user_agent(mut self, user_agent: &str) -> Result<Self, Error> {
        self.user_agent = HeaderValue::from_str(user_agent)
            .map_err(|_| Error::invalid_config("user agent", user_agent, "visible ASCII"))?;
        self.prepare_headers();
        Ok(self)
    }

    /// The gateway.
    pub fn sombra(&self) -> &Sombra {
        &self.sombra
    }

    /// The base URL requests go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The API key.
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// The Sombra internal key, when one is configured.
    pub fn sombra_key(&self) -> Option<&SombraKey> {
        self.sombra_key.as_ref().map(|(key, _)| key)
    }

    /// The `user-agent` header value.
    pub fn user_agent(&self) -> &HeaderValue {
        &self.user_agent
    }

    /// The absolute URI of a path such as `/v1/data-silo`. A constant path under a base
    /// URL without a prefix is used as it is, without parsing.
    pub(crate) fn uri(&self, path: RequestPath) -> Result<Uri, Error> {
        let invalid = |path: &str| Error::invalid_config("request path", path, "a valid path");
        let path_and_query = match (self.prefix.is_empty(), path) {
            (true, RequestPath::Static(path)) => PathAndQuery::from_static(path),
            (true, RequestPath::Owned(path)) => {
                PathAndQuery::try_from(path).map_err(|e| invalid(&e.to_string()))?
            }
            (false, path) => {
                let path = match &path {
                    RequestPath::Static(p) => *p,
                    RequestPath::Owned(p) => p.as_str(),
                };
                PathAndQuery::try_from(format!("{}{path}", self.prefix))
                    .map_err(|_| invalid(path))?
            }
        };
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path_and_query);
        Uri::from_parts(parts)
            .map_err(|_| Error::invalid_config("request URL", &self.base, "a valid URL"))
    }

    /// The headers every request carries: `authorization`, `user-agent`, `accept`, and
    /// `x-sombra-authorization` when a Sombra key is set.
    pub(crate) fn common_headers(&self) -> Result<HeaderMap, Error> {
        if self.authorization.is_empty() {
            return Err(Error::invalid_config(
                "API key",
                "[REDACTED]",
                "a non-empty, header-safe token",
            ));
        }
        Ok(self.common_headers.clone())
    }
}

fn bearer(token: &str) -> Result<HeaderValue, http::header::InvalidHeaderValue> {
    if token.is_empty() {
        return Ok(HeaderValue::from_static(""));
    }
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))?;
    value.set_sensitive(true);
    Ok(value)
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("sombra", &self.sombra)
            .field("backend", &self.backend)
            .field("api_key", &self.api_key)
            .field("sombra_key", &self.sombra_key.as_ref().map(|(key, _)| key))
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_custom_urls() {
        assert_eq!(
            Config::new("k").base_url(),
            "https://multi-tenant.sombra.transcend.io"
        );
        let us = Config::new("k").with_sombra(Sombra::Us).unwrap();
        assert_eq!(us.base_url(), "https://multi-tenant.sombra.us.transcend.io");
        let custom = Config::new("k")
            .with_sombra(Sombra::Url("http://127.0.0.1:4000/".into()))
            .unwrap();
        assert_eq!(custom.base_url(), "http://127.0.0.1:4000");
        assert_eq!(
            custom.uri(RequestPath::Static("/v1/data-silo")).unwrap(),
            "http://127.0.0.1:4000/v1/data-silo"
        );
        let prefixed = Config::new("k")
            .with_sombra(Sombra::Url("https://acme.test/sombra/".into()))
            .unwrap();
        assert_eq!(
            prefixed
                .uri(RequestPath::Owned("/v1/data-silo".into()))
                .unwrap(),
            "https://acme.test/sombra/v1/data-silo"
        );
        assert_eq!(
            Config::new("k")
                .uri(RequestPath::Owned("/v1/x".into()))
                .unwrap(),
            "https://multi-tenant.sombra.transcend.io/v1/x"
        );
        assert!(
            Config::new("k")
                .uri(RequestPath::Owned("/v1/bad path".into()))
                .is_err()
        );
    }

    #[test]
    fn the_backend_is_eu_unless_set() {
        assert_eq!(
            Config::new("k").graphql_url(),
            "https://api.transcend.io/graphql"
        );
        let us = Config::new("k").with_backend(Backend::Us).unwrap();
        assert_eq!(us.graphql_url(), "https://api.us.transcend.io/graphql");
        assert_eq!(
            Backend::from_url("https://api.us.transcend.io/"),
            Backend::Us
        );
        let local = Config::new("k")
            .with_backend(Backend::from_url("http://127.0.0.1:4000"))
            .unwrap();
        assert_eq!(local.graphql_url(), "http://127.0.0.1:4000/graphql");
        for url in ["ftp://x", "not a url", "https://x/?q=1"] {
            let error = Config::new("k")
                .with_backend(Backend::Url(url.into()))
                .unwrap_err();
            assert!(error.to_string().contains(url), "{error}");
        }
    }

    #[test]
    fn bad_urls_are_refused_naming_the_value() {
        for url in ["ftp://x", "not a url", "/relative", "https://x/?q=1"] {
            let error = Config::new("k")
                .with_sombra(Sombra::Url(url.into()))
                .unwrap_err();
            assert!(error.to_string().contains(url), "{error}");
        }
    }

    #[test]
    fn keys_never_show_and_are_marked_sensitive() {
        let config = Config::new("secret-api-key")
            .with_sombra_key("secret-sombra-key")
            .unwrap();
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("secret-api-key") && !shown.contains("secret-sombra-key"),
            "{shown}"
        );
        let headers = config.common_headers().unwrap();
        assert!(
            headers["authorization"].is_sensitive()
                && headers["x-sombra-authorization"].is_sensitive()
        );
        assert_eq!(headers["authorization"], "Bearer secret-api-key");
    }

    #[test]
    fn a_key_that_cannot_be_a_header_is_an_error_without_the_key() {
        let error = Config::new("line\nbreak").common_headers().unwrap_err();
        assert!(!error.to_string().contains("line"), "{error}");
        let error = Config::new("k").with_sombra_key("a\r\nb").unwrap_err();
        assert!(!error.to_string().contains("a\r\nb"), "{error}");
    }
}
