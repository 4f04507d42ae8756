//! Configuring a [`Client`].

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use transcend_proto::{ApiKey, Backend, Config, RetryPolicy, Sombra, SombraKey, Transport};

use super::{Client, Inner, Timeouts};
use crate::body::Body;
use crate::error::Error;
use crate::transport::{Adapter, DynTransport, HyperTransport};

/// Builds a [`Client`]. Only the API key is required.
///
/// The defaults: the EU gateway and backend ([`Sombra::Eu`], [`Backend::Eu`]);
/// [`Timeouts::default`](crate::Timeouts) (10 s to connect, 60 s an attempt, 300 s a
/// call with its retries); [`RetryPolicy::default`] (3 attempts, backoff from 200 ms up
/// to 20 s, a server's `Retry-After` honoured up to 60 s plus up to 1 s of jitter);
/// HTTPS only (plain `http://` only to loopback, or with
/// [`allow_insecure_http`](Self::allow_insecure_http)).
///
/// ```
/// use std::time::Duration;
/// use transcend_hyper::Client;
/// use transcend_hyper::proto::Sombra;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), transcend_hyper::Error> {
/// let client = Client::builder()
///     .api_key("my-api-key")
///     .sombra(Sombra::Us)
///     .attempt_timeout(Duration::from_secs(20))
///     .max_attempts(5)
///     .build()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    sombra: Sombra,
    backend: Backend,
    api_key: Option<ApiKey>,
    sombra_key: Option<SombraKey>,
    user_agent: Option<String>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    allow_insecure_http: bool,
    transport: Option<Arc<dyn DynTransport>>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("sombra", &self.sombra)
            .field("backend", &self.backend)
            .field("api_key", &self.api_key)
            .field("sombra_key", &self.sombra_key)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            sombra: Sombra::Eu,
            backend: Backend::Eu,
            api_key: None,
            sombra_key: None,
            user_agent: None,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            allow_insecure_http: false,
            transport: None,
        }
    }
}

impl ClientBuilder {
    /// A builder from the environment: `TRANSCEND_API_KEY` (required), `SOMBRA_URL`
    /// (default: the EU gateway), `SOMBRA_API_KEY` (self-hosted gateways) and
    /// `TRANSCEND_API_URL` (the admin API's backend; default EU). Set anything else
    /// before [`build`](Self::build):
    ///
    /// ```no_run
    /// # fn main() -> Result<(), transcend_hyper::Error> {
    /// let client = transcend_hyper::ClientBuilder::from_env()?.max_attempts(5).build()?;
    /// # let _ = client; Ok(()) }
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads `TRANSCEND_API_KEY` (required), `SOMBRA_URL`, `SOMBRA_API_KEY` and
    /// `TRANSCEND_API_URL` through `lookup` ([`from_env`](Self::from_env) reads the
    /// process's environment).
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let api_key = lookup("TRANSCEND_API_KEY").filter(|v| !v.is_empty()).ok_or_else(|| {
            Error::Config("TRANSCEND_API_KEY is not set: set it to an API key from the Transcend dashboard".into())
        })?;
        let mut builder = Self::default().api_key(api_key);
        if let Some(url) = lookup("SOMBRA_URL").filter(|v| !v.is_empty()) {
            builder = builder.base_url(url);
        }
        if let Some(key) = lookup("SOMBRA_API_KEY").filter(|v| !v.is_empty()) {
            builder = builder.sombra_key(key);
        }
        if let Some(url) = lookup("TRANSCEND_API_URL").filter(|v| !v.is_empty()) {
            builder = builder.backend(Backend::from_url(&url));
        }
        Ok(builder)
    }

    /// Sets the API key.
    pub fn api_key(mut self, key: impl Into<ApiKey>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets the gateway (EU multi-tenant by default).
    pub fn sombra(mut self, sombra: Sombra) -> Self {
        self.sombra = sombra;
        self
    }

    /// Sets a gateway by URL (single-tenant, self-hosted, an emulator).
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.sombra(Sombra::Url(url.into()))
    }

    /// Sets Transcend's backend, where the admin API is (EU by default:
    /// `https://api.transcend.io`; `Backend::Us` for `https://api.us.transcend.io`).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Sets the backend by URL (an emulator, a proxy); the two presets' URLs are read
    /// as the presets.
    pub fn backend_url(self, url: impl AsRef<str>) -> Self {
        self.backend(Backend::from_url(url.as_ref()))
    }

    /// Sets the internal key of a self-hosted Sombra.
    pub fn sombra_key(mut self, key: impl Into<SombraKey>) -> Self {
        self.sombra_key = Some(key.into());
        self
    }

    /// Sets the `user-agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Bounds connection setup (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// Bounds each attempt: sending the request and reading the answer (default 60 s).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.attempt = timeout;
        self
    }

    /// Bounds a whole call, retries and waits included (default 5 min; `None` for none).
    pub fn call_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.call = timeout;
        self
    }

    /// Sets the retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sets the number of attempts in all (1 = never retry).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.retry = self.retry.with_max_attempts(attempts);
        self
    }

    /// Allows plain `http://` to hosts other than loopback. Off by default: credentials
    /// would travel in the clear.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Sends through this transport instead of the default hyper one; retries, timeouts
    /// and tracing still apply.
    pub fn transport<T>(mut self, transport: T) -> Self
    where
        T: Transport<Body> + Send + Sync + 'static,
    {
        self.transport = Some(Arc::new(Adapter(Arc::new(transport))));
        self
    }

    /// The client.
    pub fn build(self) -> Result<Client, Error> {
        let api_key = self.api_key.ok_or_else(|| {
            Error::Config("an API key is required (ClientBuilder::api_key)".into())
        })?;
        let mut config = Config::new(api_key)
            .with_sombra(self.sombra)?
            .with_backend(self.backend)?;
        if let Some(key) = self.sombra_key {
            config = config.with_sombra_key(key)?;
        }
        if let Some(user_agent) = &self.user_agent {
            config = config.with_user_agent(user_agent)?;
        }
        check_scheme(config.base_url(), self.allow_insecure_http)?;
        check_scheme(config.backend().base_url(), self.allow_insecure_http)?;
        let transport = match self.transport {
            Some(transport) => transport,
            None => {
                let hyper = HyperTransport::new(self.timeouts.connect)
                    .map_err(|e| Error::Config(format!("cannot set up TLS: {e}")))?;
                Arc::new(Adapter(Arc::new(hyper)))
            }
        };
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                transport,
                retry: self.retry,
                timeouts: self.timeouts,
                admin_pause: std::sync::Mutex::new(None),
            }),
        })
    }
}

/// Plain `http://` only to loopback, unless explicitly allowed.
fn check_scheme(base_url: &str, allow_insecure_http: bool) -> Result<(), Error> {
    let Some(rest) = base_url.strip_prefix("http://") else {
        return Ok(());
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback || allow_insecure_http {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "{base_url} is plain http to a host that is not loopback: use https, or allow_insecure_http(true)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_for_loopback_only() {
        for url in [
            "http://127.0.0.1:4000",
            "http://localhost:4000",
            "http://[::1]:4000/x",
            "https://sombra.acme.test",
        ] {
            check_scheme(url, false).unwrap();
        }
        let error = check_scheme("http://sombra.acme.test", false).unwrap_err();
        assert!(error.to_string().contains("allow_insecure_http"), "{error}");
        check_scheme("http://sombra.acme.test", true).unwrap();
    }

    #[test]
    fn from_vars_names_what_is_missing() {
        let error = ClientBuilder::from_vars(|_| None).unwrap_err();
        assert!(error.to_string().contains("TRANSCEND_API_KEY"), "{error}");
        let vars = |name: &str| match name {
            "TRANSCEND_API_KEY" => Some("key".to_owned()),
            "SOMBRA_URL" => Some("https://sombra.acme.test".to_owned()),
            "SOMBRA_API_KEY" => Some("internal".to_owned()),
            "TRANSCEND_API_URL" => Some("https://api.us.transcend.io".to_owned()),
            _ => None,
        };
        let builder = ClientBuilder::from_vars(vars).unwrap();
        assert_eq!(
            builder.sombra,
            Sombra::Url("https://sombra.acme.test".into())
        );
        assert!(builder.sombra_key.is_some());
        assert_eq!(builder.backend, Backend::Us);
        assert!(!format!("{builder:?}").contains("internal"));
    }

    #[test]
    fn a_key_is_required() {
        assert!(
            ClientBuilder::default()
                .build()
                .unwrap_err()
                .to_string()
                .contains("API key")
        );
    }
}
