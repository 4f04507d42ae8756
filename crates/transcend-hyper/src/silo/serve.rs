//! Answering webhooks: a handler decides per job; the helper verifies, answers, and
//! runs the reporting in the background.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::service::service_fn;
use transcend_proto::types::{ErrorBody, RequestAction};
use transcend_proto::webhook::{JobAnswer, TokenRejection};

use super::enricher::{EnricherJob, EnrichmentDecision};
use super::job::SiloJob;
use super::verifier::{Rejection, WebhookVerifier};
use crate::error::Error;
use crate::server::{RunningServer, Server, ServerLimits};

/// The largest webhook body read (jobs are small JSON documents).
pub const MAX_WEBHOOK_BYTES: usize = 1 << 20;

type Work = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// What the silo does with a job.
#[non_exhaustive]
pub enum Decision {
    /// The person is here: answer 200 and run `work` (the reports) in the background.
    Found(Work),
    /// The person is not here: answer 204; the job is marked skipped.
    NotFound,
    /// Something failed: answer 500 with the message; Transcend delivers again later.
    Failed(String),
}

impl Decision {
    /// Found: `work` sends the reports, after the webhook has been answered.
    pub fn found(work: impl Future<Output = Result<(), Error>> + Send + 'static) -> Self {
        Self::Found(Box::pin(work))
    }
}

impl std::fmt::Debug for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Found(_) => f.write_str("Found"),
            Self::NotFound => f.write_str("NotFound"),
            Self::Failed(message) => write!(f, "Failed({message:?})"),
        }
    }
}

/// Verifies one delivery and lets `handler` decide. For use inside any server (hyper,
/// axum, …): give it the request with its body read, send back the response.
///
/// A refused delivery is answered 401 (400 for a malformed one, 503 when the key could
/// not be fetched) and the reason is logged, never the token.
pub async fn handle_webhook<H, F>(
    verifier: &WebhookVerifier,
    handler: &H,
    request: Request<Bytes>,
) -> Response<Bytes>
where
    H: Fn(SiloJob) -> F,
    F: Future<Output = Decision>,
{
    let job = match verifier.verify(&request).await {
        Ok(job) => job,
        Err(rejection) => return refusal(&rejection),
    };
    let context = JobContext::of(&job);
    handler(job).await.answer(Some(context))
}

/// What a silo with durable jobs does with a verified job, decided before anything is
/// persisted (see [`SiloServer::serve_queued_with`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Triage {
    /// Persist the job and answer 200; the queue's workers run the handler on it.
    Queue,
    /// Answer at once, as [`SiloServer::serve`] does: `NotFound` is 204, `Found(work)`
    /// is 200 with `work` run in this process (not persisted), `Failed` is 500 (the
    /// token is then left unused, for Transcend's next delivery).
    Answer(Decision),
}

impl From<Decision> for Triage {
    fn from(decision: Decision) -> Self {
        Self::Answer(decision)
    }
}

/// Verifies one delivery, lets `triage` decide, and queues the job or answers at once;
/// also says whether a job was queued (to wake a worker).
///
/// The token's first use is recorded in `queue`: with the job when it is queued (both
/// or neither), alone when the answer is `NotFound` or `Found`; a token used before is
/// refused (401) whatever `triage` said, and `Found`'s work then never runs. `triage`
/// decides and must not act: a replayed delivery reaches it before being refused. A
/// queue that cannot be reached answers 503.
pub(crate) async fn handle_queued_webhook<T, TF>(
    verifier: &WebhookVerifier,
    queue: &dyn super::queue::JobQueue,
    triage: &T,
    request: Request<Bytes>,
) -> (Response<Bytes>, bool)
where
    T: Fn(SiloJob) -> TF,
    TF: Future<Output = Triage>,
{
    let (queued, replay_key, expires) = match verifier.check_delivery(&request).await {
        Ok(checked) => checked,
        Err(rejection) => return (refusal(&rejection), false),
    };
    let job = SiloJob::new(
        queued.job.clone(),
        queued.core_identifier.clone(),
        queued.nonce.clone(),
        verifier.client().clone(),
    );
    let context = JobContext::of(&job);
    let unavailable = |e: super::queue::QueueError| {
        refusal(&Rejection::ReplayStore(super::ReplayStoreError(
            e.to_string(),
        )))
    };
    let replayed = || refusal(&Rejection::Token(TokenRejection::Replayed));
    match triage(job).await {
        Triage::Queue => match queue.enqueue(&replay_key, expires, &queued).await {
            Ok(super::queue::Enqueued::Queued) => {
                crate::metrics::count(crate::metrics::JOBS_QUEUED);
                tracing::info!(
                    action = %queued.job.action,
                    request = queued.job.request_id().unwrap_or_default(),
                    "job queued"
                );
                (JobAnswer::Accepted.to_response(), true)
            }
            Ok(super::queue::Enqueued::Replayed) => (replayed(), false),
            Err(e) => (unavailable(e), false),
        },
        Triage::Answer(decision @ Decision::Failed(_)) => (decision.answer(Some(context)), false),
        Triage::Answer(decision) => match queue.spend(&replay_key, expires).await {
            Ok(true) => (decision.answer(Some(context)), false),
            Ok(false) => (replayed(), false),
            Err(e) => (unavailable(e), false),
        },
    }
}

/// The answer to a refused delivery: its status and a JSON error body; the reason is
/// logged (never the token).
pub(crate) fn refusal(rejection: &Rejection) -> Response<Bytes> {
    tracing::warn!(reason = %rejection, "webhook refused");
    crate::metrics::count_with(
        crate::metrics::WEBHOOKS_REFUSED,
        "reason",
        rejection.reason(),
    );
    let body = serde_json::to_vec(&ErrorBody::new(rejection.to_string())).unwrap_or_default();
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = rejection.status();
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// What the logs say about a job.
pub(crate) struct JobContext {
    action: RequestAction,
    request_id: Option<String>,
}

impl JobContext {
    pub(crate) fn of(job: &SiloJob) -> Self {
        Self {
            action: job.action.clone(),
            request_id: job.request_id().map(str::to_owned),
        }
    }
}

impl Decision {
    /// The answer to the webhook; found work starts in the background.
    /// Without a context (a `Decision` returned from an axum handler), the job's fields
    /// come from the span the caller is in (`VerifyWebhookLayer` opens one).
    pub(crate) fn answer(self, context: Option<JobContext>) -> Response<Bytes> {
        let answer = match self {
            Decision::Found(work) => {
                let span = match context {
                    Some(c) => tracing::info_span!(
                        "job",
                        action = %c.action,
                        request = c.request_id.as_deref().unwrap_or_default()
                    ),
                    None => tracing::Span::current(),
                };
                span.in_scope(|| tracing::info!("job accepted"));
                tokio::spawn(tracing::Instrument::instrument(
                    async move {
                        if let Err(error) = work.await {
                            tracing::warn!(%error, "reporting failed");
                        }
                    },
                    span,
                ));
                JobAnswer::Accepted
            }
            Decision::NotFound => JobAnswer::NotFound,
            Decision::Failed(message) => JobAnswer::Failed {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: Some(message),
            },
        };
        answer.to_response()
    }
}

/// A data silo's webhook server: bind first (to know the address to register), then
/// serve.
///
/// ```no_run
/// use transcend_hyper::Client;
/// use transcend_hyper::silo::{Decision, SiloServer, WebhookVerifier};
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let verifier = WebhookVerifier::new(Client::from_env()?, "my-silo-audience");
/// let server = SiloServer::bind("127.0.0.1:9000".parse()?).await?;
/// let running = server.serve(verifier, |job| async move {
///     let reporter = job.reporter.clone();
///     Decision::found(async move { reporter.erased().await })
/// });
/// # running.shutdown().await; Ok(()) }
/// ```
#[derive(Debug)]
pub struct SiloServer {
    server: Server,
}

impl SiloServer {
    /// Binds the address (port 0 for an ephemeral one), with the default
    /// [`ServerLimits`].
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        Ok(Self {
            server: Server::bind(addr).await?,
        })
    }

    /// Uses these limits (timeouts, connection cap) instead of the defaults.
    pub fn with_limits(self, limits: ServerLimits) -> Self {
        Self {
            server: self.server.with_limits(limits),
        }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Serves webhooks on any path until [`RunningSilo::shutdown`]. Bodies over
    /// [`MAX_WEBHOOK_BYTES`] are answered 413 without being read further.
    pub fn serve<H, F>(self, verifier: WebhookVerifier, handler: H) -> RunningSilo
    where
        H: Fn(SiloJob) -> F + Send + Sync + 'static,
        F: Future<Output = Decision> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.serve_with(move |request| {
            let (verifier, handler) = (verifier.clone(), Arc::clone(&handler));
            async move { handle_webhook(&verifier, handler.as_ref(), request).await }
        })
    }

    /// Serves webhooks with durable jobs: each verified delivery is persisted in
    /// `queue` (its token's first use recorded with it) before it is answered 200, and
    /// `options.workers` workers run `handler` on the queued jobs, at least once each,
    /// until it returns `Ok` (or a report answered 409: reported before). A job whose
    /// handler fails is retried with a backoff, then dead-lettered after
    /// `options.budget` deliveries, or at once when the handler gives up
    /// ([`JobError`](super::JobError)). A delivery that cannot be persisted is answered 503
    /// (Transcend delivers it again). Handlers must be idempotent.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use transcend_hyper::Client;
    /// use transcend_hyper::silo::queue::{EmbeddedQueue, QueueOptions};
    /// use transcend_hyper::silo::{SiloServer, WebhookVerifier};
    ///
    /// let verifier = WebhookVerifier::new(Client::from_env()?, "users-db");
    /// let queue = EmbeddedQueue::open("silo-jobs.redb")?;
    /// let running = SiloServer::bind("127.0.0.1:9000".parse()?).await?.serve_queued(
    ///     verifier,
    ///     queue,
    ///     QueueOptions::default().workers(4),
    ///     |job| async move { Ok(job.reporter.erased().await?) },
    /// );
    /// # running.shutdown().await; Ok(()) }
    /// ```
    pub fn serve_queued<Q, H, F>(
        self,
        verifier: WebhookVerifier,
        queue: Q,
        options: super::queue::QueueOptions,
        handler: H,
    ) -> RunningSilo
    where
        Q: super::queue::JobQueue,
        H: Fn(SiloJob) -> F + Send + Sync + 'static,
        F: Future<Output = Result<(), super::JobError>> + Send + 'static,
    {
        self.serve_queued_with(
            verifier,
            queue,
            options,
            |_job| std::future::ready(Triage::Queue),
            handler,
        )
    }

    /// As [`serve_queued`](Self::serve_queued), with `triage` deciding for each verified
    /// job whether it is queued ([`Triage::Queue`]) or answered at once
    /// ([`Triage::Answer`]: a person not here is 204 without a queued job).
    ///
    /// The token's first use is recorded in `queue`: with the job when it is queued
    /// (both or neither), alone when the answer is `NotFound` or `Found`; a token used
    /// before is refused (401) whatever `triage` said, and `Found`'s work then never
    /// runs. `triage` decides and must not act: a replayed delivery reaches it before
    /// being refused.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use transcend_hyper::Client;
    /// use transcend_hyper::silo::queue::{EmbeddedQueue, QueueOptions};
    /// use transcend_hyper::silo::{Decision, SiloServer, Triage, WebhookVerifier};
    ///
    /// # fn is_a_customer(_: &str) -> bool { true }
    /// let verifier = WebhookVerifier::new(Client::from_env()?, "users-db");
    /// let queue = EmbeddedQueue::open("silo-jobs.redb")?;
    /// let server = SiloServer::bind("127.0.0.1:9000".parse()?).await?;
    /// let running = server.serve_queued_with(
    ///     verifier,
    ///     queue,
    ///     QueueOptions::default(),
    ///     |job| async move {
    ///         if is_a_customer(&job.core_identifier) {
    ///             Triage::Queue
    ///         } else {
    ///             Decision::NotFound.into()
    ///         }
    ///     },
    ///     |job| async move { Ok(job.reporter.erased().await?) },
    /// );
    /// # running.shutdown().await; Ok(()) }
    /// ```
    pub fn serve_queued_with<Q, T, TF, H, F>(
        self,
        verifier: WebhookVerifier,
        queue: Q,
        options: super::queue::QueueOptions,
        triage: T,
        handler: H,
    ) -> RunningSilo
    where
        Q: super::queue::JobQueue,
        T: Fn(SiloJob) -> TF + Send + Sync + 'static,
        TF: Future<Output = Triage> + Send + 'static,
        H: Fn(SiloJob) -> F + Send + Sync + 'static,
        F: Future<Output = Result<(), super::JobError>> + Send + 'static,
    {
        let queue: Arc<dyn super::queue::JobQueue> = Arc::new(queue);
        let workers = super::queue::RunningWorkers::start(
            Arc::clone(&queue),
            verifier.client().clone(),
            options,
            handler,
        );
        let wake = workers.waker();
        let triage = Arc::new(triage);
        let mut running = self.serve_with(move |request| {
            let (verifier, queue, wake, triage) = (
                verifier.clone(),
                Arc::clone(&queue),
                Arc::clone(&wake),
                Arc::clone(&triage),
            );
            async move {
                let (answer, queued) =
                    handle_queued_webhook(&verifier, queue.as_ref(), triage.as_ref(), request)
                        .await;
                if queued {
                    wake.notify_one();
                }
                answer
            }
        });
        running.workers = Some(workers);
        running
    }

    /// Serves enrichment webhooks (an enricher's) on any path until
    /// [`RunningSilo::shutdown`], with the same limits and refusals as [`serve`](Self::serve).
    pub fn serve_enricher<H, F>(self, verifier: WebhookVerifier, handler: H) -> RunningSilo
    where
        H: Fn(EnricherJob) -> F + Send + Sync + 'static,
        F: Future<Output = EnrichmentDecision> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.serve_with(move |request| {
            let (verifier, handler) = (verifier.clone(), Arc::clone(&handler));
            async move { handle_enrichment(&verifier, handler.as_ref(), request).await }
        })
    }

    /// Serves with `handle` for each request, its body read (at most
    /// [`MAX_WEBHOOK_BYTES`]; a larger one is answered 413).
    fn serve_with<S, Fut>(self, handle: S) -> RunningSilo
    where
        S: Fn(Request<Bytes>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Response<Bytes>> + Send + 'static,
    {
        let service = service_fn(move |request: Request<hyper::body::Incoming>| {
            let handle = handle.clone();
            async move {
                let (parts, body) = request.into_parts();
                let response = match Limited::new(body, MAX_WEBHOOK_BYTES).collect().await {
                    Ok(body) => handle(Request::from_parts(parts, body.to_bytes())).await,
                    Err(_) => {
                        crate::metrics::count_with(
                            crate::metrics::WEBHOOKS_REFUSED,
                            "reason",
                            "too_large",
                        );
                        JobAnswer::Failed {
                            status: StatusCode::PAYLOAD_TOO_LARGE,
                            message: Some("webhook body too large or broken off".into()),
                        }
                        .to_response()
                    }
                };
                Ok::<_, Infallible>(response.map(Full::new))
            }
        });
        RunningSilo {
            server: self.server.serve(service),
            workers: None,
        }
    }
}

/// Verifies one enrichment delivery and lets `handler` decide; for use inside any
/// server, like [`handle_webhook`].
pub async fn handle_enrichment<H, F>(
    verifier: &WebhookVerifier,
    handler: &H,
    request: Request<Bytes>,
) -> Response<Bytes>
where
    H: Fn(EnricherJob) -> F,
    F: Future<Output = EnrichmentDecision>,
{
    match verifier.verify_enrichment(&request).await {
        Ok(job) => {
            let request_id = job.request_id().map(str::to_owned);
            tracing::info!(request = ?request_id, "enrichment job accepted for a decision");
            handler(job).await.answer(request_id)
        }
        Err(rejection) => refusal(&rejection),
    }
}

/// A running silo server.
#[derive(Debug)]
pub struct RunningSilo {
    server: RunningServer,
    workers: Option<super::queue::RunningWorkers>,
}

impl RunningSilo {
    /// The address it serves.
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The webhook URL to register (any path is served).
    pub fn url(&self) -> String {
        format!("http://{}/transcend/webhook", self.addr())
    }

    /// How many connections are open now.
    pub fn open_connections(&self) -> usize {
        self.server.open_connections()
    }

    /// Stops accepting connections and closes the open ones once their requests are
    /// answered (within the grace period).
    pub async fn shutdown(self) {
        self.server.shutdown().await;
        if let Some(workers) = self.workers {
            workers.shutdown().await;
        }
    }
}
