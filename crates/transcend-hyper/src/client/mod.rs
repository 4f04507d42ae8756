//! The client: one connection pool, the retry loop, tracing.

#[cfg(feature = "admin")]
mod admin;
mod builder;
mod calls;
mod cron;
mod enrich;
mod report;
mod requester;

pub use builder::ClientBuilder;
pub use cron::CompletionSummary;
pub use enrich::EnrichOutcome;
pub use report::{DownloadEvent, DownloadOptions, FailedFile, ManifestEntry, ReportDownload};
pub use requester::{FileDigest, RestartOptions};

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use tracing::Instrument;
use transcend_proto::{
    Config, Endpoint, Idempotency, Outcome, RetryAfter, RetryDecision, RetryPolicy, StopReason,
};

use crate::body::Body;
use crate::error::Error;
use crate::transport::{DynTransport, SendFailure};

/// The async client of the DSR API. Cheap to clone: clones share one connection pool.
///
/// ```no_run
/// use transcend_hyper::Client;
/// use transcend_hyper::types::{RequestAction, Subject, SubmitDsr};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), transcend_hyper::Error> {
/// let client = Client::from_env()?;
/// let dsr = SubmitDsr::new(RequestAction::Access, Subject::new("id-123").email("a@example.com"), "customer");
/// let created = client.submit_dsr(&dsr).await?;
/// let done = client.wait_for_dsr(&created.request.id, Default::default()).await?;
/// println!("{} is {}", done.id, done.status);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    transport: Arc<dyn DynTransport>,
    retry: RetryPolicy,
    timeouts: Timeouts,
    /// Until when the admin API said to wait (`Too many requests`): every call of
    /// this client waits for it, so all workers pause together instead of each
    /// finding the limit again.
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    admin_pause: std::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .field("retry", &self.inner.retry)
            .field("timeouts", &self.inner.timeouts)
            .finish_non_exhaustive()
    }
}

/// The time limits of a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Connection setup.
    pub connect: Duration,
    /// One attempt: sending and reading the answer.
    pub attempt: Duration,
    /// A whole call, retries and waits included.
    pub call: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            attempt: Duration::from_secs(60),
            call: Some(Duration::from_secs(300)),
        }
    }
}

impl Client {
    /// A builder; only the API key is required.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client for the EU multi-tenant gateway with this API key and the defaults.
    pub fn new(api_key: impl Into<transcend_proto::ApiKey>) -> Result<Self, Error> {
        Self::builder().api_key(api_key).build()
    }

    /// A client from `TRANSCEND_API_KEY` (required), `SOMBRA_URL` (default: EU
    /// multi-tenant), `SOMBRA_API_KEY` (self-hosted Sombra) and `TRANSCEND_API_URL`
    /// (the backend of the admin API; default EU, `https://api.transcend.io`).
    pub fn from_env() -> Result<Self, Error> {
        ClientBuilder::from_vars(|name| std::env::var(name).ok())?.build()
    }

    /// The same client sending through another transport; retries, timeouts and tracing
    /// still apply.
    pub fn with_transport<T>(&self, transport: T) -> Self
    where
        T: transcend_proto::Transport<Body> + Send + Sync + 'static,
    {
        let transport: Arc<dyn DynTransport> =
            Arc::new(crate::transport::Adapter(Arc::new(transport)));
        Self {
            inner: Arc::new(Inner {
                config: self.inner.config.clone(),
                transport,
                retry: self.inner.retry,
                timeouts: self.inner.timeouts,
                admin_pause: std::sync::Mutex::new(None),
            }),
        }
    }

    /// The same client (same pool, retries, timeouts) with another configuration.
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    pub(crate) fn with_config(&self, config: Config) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                transport: Arc::clone(&self.inner.transport),
                retry: self.inner.retry,
                timeouts: self.inner.timeouts,
                admin_pause: std::sync::Mutex::new(None),
            }),
        }
    }

    /// The protocol configuration (gateway, credentials, user agent).
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The time limits.
    pub fn timeouts(&self) -> &Timeouts {
        &self.inner.timeouts
    }

    /// Calls any endpoint of `transcend-proto`'s table with retries, timeouts and
    /// tracing (a streamed endpoint is sent with an empty body: use its own method).
    pub async fn call<E>(&self, input: &E::Input) -> Result<E::Output, Error>
    where
        E: Endpoint,
        E::Input: Sync,
    {
        let config = &self.inner.config;
        let first = E::build_request(config, input)?;
        let attempts = Rebuild {
            first: Some(first),
            build: || E::build_request(config, input),
        };
        let response = self
            .execute(E::INFO.name, E::INFO.idempotency, attempts)
            .await?;
        Ok(E::parse_response(response)?)
    }

    /// Sends a request as many times as the policy allows. Error statuses come back as
    /// `Ok(response)` once no retry is left, for the endpoint to read as an API error.
    pub(crate) async fn execute(
        &self,
        endpoint: &'static str,
        idempotency: Idempotency,
        mut attempts: impl Attempts,
    ) -> Result<Response<Bytes>, Error> {
        let Inner {
            transport,
            retry,
            timeouts,
            config,
            ..
        } = &*self.inner;
        let started = Instant::now();
        let span = tracing::info_span!(
            "transcend",
            endpoint,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty
        );
        let call_span = span.clone();
        // The span's fields are recorded once, when the call ends: a formatter shows
        // every recording, so recording each attempt would repeat them.
        let finish = move |attempts: u32, status: Option<StatusCode>| {
            call_span.record("attempts", attempts);
            if let Some(status) = status {
                call_span.record("status", status.as_u16());
            }
        };
        async move {
            let mut attempt = 0u32;
            let mut last_status = None;
            loop {
                attempt += 1;
                let request = match attempts.next().await {
                    Ok(request) => request,
                    Err(error) => {
                        finish(attempt - 1, last_status);
                        return Err(error);
                    }
                };
                let left = timeouts
                    .call
                    .map(|call| call.saturating_sub(started.elapsed()));
                let (limit, limiting) = match left {
                    Some(left) if left < timeouts.attempt => (left, Limit::Call),
                    _ => (timeouts.attempt, Limit::Attempt),
                };
                let attempt_span = tracing::debug_span!(
                    "attempt",
                    attempt,
                    method = %request.method(),
                    path = %request.uri().path()
                );
                let sent = tokio::time::timeout(limit, transport.send(request))
                    .instrument(attempt_span)
                    .await;
                let (outcome, failure) = match sent {
                    Ok(Ok(response)) => {
                        let status = response.status();
                        last_status = Some(status);
                        if status.is_success() {
                            finish(attempt, last_status);
                            crate::metrics::count_call(endpoint, status.as_u16().to_string());
                            return Ok(response);
                        }
                        let retry_after = RetryAfter::from_headers(response.headers());
                        (
                            Outcome::Status {
                                status,
                                retry_after,
                            },
                            Failure::Answer(response),
                        )
                    }
                    Ok(Err(SendFailure::Connect(source))) => {
                        let host = config.base_url().to_owned();
                        (
                            Outcome::ConnectFailed,
                            Failure::Error(Error::Connect { host, source }),
                        )
                    }
                    Ok(Err(SendFailure::Lost(source))) => (
                        Outcome::ConnectionLost,
                        Failure::Error(Error::Send { endpoint, source }),
                    ),
                    Err(_) => {
                        let error = match limiting {
                            Limit::Attempt => Error::Timeout {
                                what: "attempt",
                                after: timeouts.attempt,
                            },
                            Limit::Call => Error::Timeout {
                                what: "call",
                                after: timeouts.call.unwrap_or_default(),
                            },
                        };
                        (Outcome::TimedOut, Failure::Error(error))
                    }
                };
                let decision = if attempts.can_replay() {
                    retry.decide(
                        idempotency,
                        attempt,
                        outcome,
                        SystemTime::now(),
                        fastrand::f64(),
                    )
                } else {
                    RetryDecision::Stop(StopReason::Final)
                };
                let wait = match decision {
                    RetryDecision::RetryAfter(wait)
                        if timeouts
                            .call
                            .is_none_or(|call| started.elapsed() + wait < call) =>
                    {
                        wait
                    }
                    decision => {
                        tracing::debug!(?decision, attempt, "not retrying");
                        finish(attempt, last_status);
                        crate::metrics::count_call(endpoint, outcome_label(&outcome));
                        return failure.into_result();
                    }
                };
                if crate::metrics::ENABLED {
                    crate::metrics::count_retry(endpoint, outcome_label(&outcome));
                    if let Outcome::Status {
                        status: StatusCode::TOO_MANY_REQUESTS,
                        ..
                    } = outcome
                    {
                        crate::metrics::rate_limit_wait(endpoint, wait);
                    }
                }
                tracing::debug!(
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    ?outcome,
                    "retrying"
                );
                tokio::time::sleep(wait).await;
            }
        }
        .instrument(span)
        .await
    }
}

enum Limit {
    Attempt,
    Call,
}

/// How an attempt ended, as the `outcome` (or `reason`) label of the client's figures.
fn outcome_label(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Status { status, .. } => status.as_u16().to_string(),
        Outcome::ConnectFailed => "connect".into(),
        Outcome::ConnectionLost => "send".into(),
        Outcome::TimedOut => "timeout".into(),
        _ => "other".into(),
    }
}

enum Failure {
    Answer(Response<Bytes>),
    Error(Error),
}

impl Failure {
    fn into_result(self) -> Result<Response<Bytes>, Error> {
        match self {
            Self::Answer(response) => Ok(response),
            Self::Error(error) => Err(error),
        }
    }
}

/// Where each attempt's request comes from.
pub(crate) trait Attempts: Send {
    /// The request for the next attempt.
    fn next(&mut self) -> impl std::future::Future<Output = Result<Request<Body>, Error>> + Send;
    /// Whether another attempt can be made (the body can be sent again).
    fn can_replay(&self) -> bool;
}

/// A request whose body is whole bytes: the first attempt sends the request built up
/// front; a retry builds it again (cheaper than copying every request in case of one).
pub(crate) struct Rebuild<F> {
    pub(crate) first: Option<Request<Bytes>>,
    pub(crate) build: F,
}

impl<F> Attempts for Rebuild<F>
where
    F: Fn() -> Result<Request<Bytes>, transcend_proto::Error> + Send,
{
    async fn next(&mut self) -> Result<Request<Body>, Error> {
        let request = match self.first.take() {
            Some(request) => request,
            None => (self.build)()?,
        };
        let (parts, body) = request.into_parts();
        Ok(Request::from_parts(parts, Body::full(body)))
    }

    fn can_replay(&self) -> bool {
        true
    }
}
