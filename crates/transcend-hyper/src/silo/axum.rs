//! Data-silo webhooks in an axum (or any tower) server (feature `axum`): the same
//! verification, refusals and answers as [`SiloServer`](super::SiloServer).
//!
//! **axum 0.8** (`axum = "0.8"` in your manifest). The extractors and the layer are
//! built on axum 0.8's traits; with axum 0.7 the compiler says "multiple different
//! versions of crate `axum`": upgrade to 0.8 (or verify in your own handler with
//! [`WebhookVerifier::verify`](super::WebhookVerifier::verify), which takes an
//! `http::Request<Bytes>` and works with any framework).
//!
//! An extractor, with the verifier in the router's state:
//!
//! ```no_run
//! use axum::{Router, routing::post};
//! use transcend_hyper::Client;
//! use transcend_hyper::silo::axum::VerifiedJob;
//! use transcend_hyper::silo::{Decision, WebhookVerifier};
//!
//! async fn webhook(VerifiedJob(job): VerifiedJob) -> Decision {
//!     let reporter = job.reporter.clone();
//!     Decision::found(async move { reporter.erased().await })
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = WebhookVerifier::new(Client::from_env()?, "users-db");
//! let app: Router = Router::new().route("/transcend/webhook", post(webhook)).with_state(verifier);
//! # Ok(()) }
//! ```
//!
//! In an application with its own state, the verifier is one of its parts, found
//! through `FromRef`:
//!
//! ```no_run
//! use axum::extract::{FromRef, State};
//! use axum::{Router, routing::post};
//! use transcend_hyper::silo::axum::VerifiedJob;
//! use transcend_hyper::silo::{Decision, WebhookVerifier};
//!
//! #[derive(Clone)]
//! struct AppState {
//!     verifier: WebhookVerifier,
//!     users: std::sync::Arc<Vec<String>>, // the application's own data
//! }
//!
//! impl FromRef<AppState> for WebhookVerifier {
//!     fn from_ref(state: &AppState) -> Self {
//!         state.verifier.clone()
//!     }
//! }
//!
//! async fn webhook(State(state): State<AppState>, VerifiedJob(job): VerifiedJob) -> Decision {
//!     if !state.users.contains(&job.core_identifier) {
//!         return Decision::NotFound;
//!     }
//!     let reporter = job.reporter.clone();
//!     Decision::found(async move { reporter.erased().await })
//! }
//!
//! # fn app(verifier: WebhookVerifier) -> Router {
//! let state = AppState { verifier, users: Default::default() };
//! Router::new().route("/transcend/webhook", post(webhook)).with_state(state)
//! # }
//! ```
//!
//! With durable jobs, [`QueuedWebhook`] is the route's service: it persists each
//! verified job in a [`JobQueue`](super::queue::JobQueue) and answers 200, and workers
//! run the handler from the queue:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use axum::Router;
//! use transcend_hyper::Client;
//! use transcend_hyper::silo::axum::QueuedWebhook;
//! use transcend_hyper::silo::queue::{EmbeddedQueue, QueueOptions, RunningWorkers};
//! use transcend_hyper::silo::WebhookVerifier;
//!
//! let client = Client::from_env()?;
//! let queue = Arc::new(EmbeddedQueue::open("silo-jobs.redb")?);
//! let workers = RunningWorkers::start(Arc::clone(&queue), client.clone(), QueueOptions::default(),
//!     |job| async move { Ok(job.reporter.erased().await?) });
//! let webhook = QueuedWebhook::new(WebhookVerifier::new(client, "users-db"), queue)
//!     .waking(&workers);
//! let app: Router = Router::new().route_service("/transcend/webhook", webhook);
//! # Ok(()) }
//! ```
//!
//! Or a layer in front of any tower service, which puts the verified [`SiloJob`] in the
//! request's extensions (axum's `Extension` extractor takes it from there) and runs the
//! service in a span holding the job's action and request id:
//!
//! ```no_run
//! # use axum::{Extension, Router, routing::post};
//! # use transcend_hyper::silo::axum::VerifyWebhookLayer;
//! # use transcend_hyper::silo::{Decision, SiloJob, WebhookVerifier};
//! # fn app(verifier: WebhookVerifier) -> Router {
//! Router::new()
//!     .route("/transcend/webhook", post(|Extension(job): Extension<SiloJob>| async move { Decision::NotFound }))
//!     .layer(VerifyWebhookLayer::new(verifier))
//! # }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{FromRef, FromRequest};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use transcend_proto::webhook::JobAnswer;

use super::enricher::{EnricherJob, EnrichmentDecision};
use super::job::SiloJob;
use super::serve::{Decision, MAX_WEBHOOK_BYTES, refusal};
use super::verifier::WebhookVerifier;

/// A verified job, extracted by verifying the request with the [`WebhookVerifier`] of
/// the router's state (or taken from the extensions, when [`VerifyWebhookLayer`]
/// verified it already). A refused delivery never reaches the handler: it is answered 401 (400, 413, 503
/// as the case may be) and the reason logged.
#[derive(Debug, Clone)]
pub struct VerifiedJob(pub SiloJob);

/// The answer to a refused delivery.
#[derive(Debug)]
pub struct WebhookRefused(http::Response<Bytes>);

impl IntoResponse for WebhookRefused {
    fn into_response(self) -> Response {
        self.0.map(Body::from)
    }
}

fn too_large() -> http::Response<Bytes> {
    crate::metrics::count_with(crate::metrics::WEBHOOKS_REFUSED, "reason", "too_large");
    JobAnswer::Failed {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: Some("webhook body too large or broken off".into()),
    }
    .to_response()
}

/// Reads the body (at most [`MAX_WEBHOOK_BYTES`]) and verifies the delivery.
async fn verify(
    verifier: &WebhookVerifier,
    request: Request<Body>,
) -> Result<SiloJob, http::Response<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = Limited::new(body, MAX_WEBHOOK_BYTES)
        .collect()
        .await
        .map_err(|_| too_large())?
        .to_bytes();
    verifier
        .verify(&Request::from_parts(parts, body))
        .await
        .map_err(|rejection| refusal(&rejection))
}

impl<S> FromRequest<S> for VerifiedJob
where
    WebhookVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRefused;

    async fn from_request(mut request: Request<Body>, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(job) = request.extensions_mut().remove::<SiloJob>() {
            return Ok(Self(job));
        }
        let verifier = WebhookVerifier::from_ref(state);
        verify(&verifier, request)
            .await
            .map(Self)
            .map_err(WebhookRefused)
    }
}

/// A verified enrichment job, extracted by verifying the request with the
/// [`WebhookVerifier`] of the router's state. Answer with an [`EnrichmentDecision`].
#[derive(Debug, Clone)]
pub struct VerifiedEnrichment(pub EnricherJob);

impl<S> FromRequest<S> for VerifiedEnrichment
where
    WebhookVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRefused;

    async fn from_request(request: Request<Body>, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = WebhookVerifier::from_ref(state);
        let (parts, body) = request.into_parts();
        let body = Limited::new(body, MAX_WEBHOOK_BYTES)
            .collect()
            .await
            .map_err(|_| WebhookRefused(too_large()))?
            .to_bytes();
        verifier
            .verify_enrichment(&Request::from_parts(parts, body))
            .await
            .map(Self)
            .map_err(|rejection| WebhookRefused(refusal(&rejection)))
    }
}

impl IntoResponse for EnrichmentDecision {
    /// Answers as [`SiloServer::serve_enricher`](super::SiloServer::serve_enricher) does.
    fn into_response(self) -> Response {
        self.answer(None).map(Body::from)
    }
}

impl IntoResponse for Decision {
    /// Answers as [`SiloServer`](super::SiloServer) does: 200 with the work started in
    /// the background, 204, or 500 with the message.
    fn into_response(self) -> Response {
        self.answer(None).map(Body::from)
    }
}

/// A tower layer that verifies every request as a webhook delivery before the inner
/// service sees it: refused ones are answered here; verified ones reach the inner
/// service with the [`SiloJob`] in their extensions and the body read.
#[derive(Debug, Clone)]
pub struct VerifyWebhookLayer {
    verifier: WebhookVerifier,
}

impl VerifyWebhookLayer {
    /// Verifies with `verifier`.
    pub fn new(verifier: WebhookVerifier) -> Self {
        Self { verifier }
    }
}

impl<S> tower_layer::Layer<S> for VerifyWebhookLayer {
    type Service = VerifyWebhook<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyWebhook {
            verifier: self.verifier.clone(),
            inner,
        }
    }
}

/// The service [`VerifyWebhookLayer`] makes.
#[derive(Debug, Clone)]
pub struct VerifyWebhook<S> {
    verifier: WebhookVerifier,
    inner: S,
}

impl<S> tower_service::Service<Request<Body>> for VerifyWebhook<S>
where
    S: tower_service::Service<Request<Body>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let verifier = self.verifier.clone();
        // The clone that was polled ready serves this call; a fresh clone stays behind.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = match Limited::new(body, MAX_WEBHOOK_BYTES).collect().await {
                Ok(body) => body.to_bytes(),
                Err(_) => return Ok(too_large().map(Body::from)),
            };
            let mut request = Request::from_parts(parts, body.clone());
            match verifier.verify(&request).await {
                Ok(job) => {
                    // The job's fields on every event of the handler and its answer
                    // ("job accepted", a failed report).
                    let span = tracing::info_span!(
                        "webhook",
                        action = %job.action,
                        request = job.request_id().unwrap_or_default()
                    );
                    request.extensions_mut().insert(job);
                    tracing::Instrument::instrument(inner.call(request.map(Body::from)), span).await
                }
                Err(rejection) => Ok(refusal(&rejection).map(Body::from)),
            }
        })
    }
}

/// A tower service (for `Router::route_service`) that verifies each webhook, persists
/// its job in a queue (the token's first use recorded with it) and answers 200; a
/// delivery that cannot be persisted is answered 503. Workers
/// ([`RunningWorkers`](super::queue::RunningWorkers)) run the handler from the queue.
#[derive(Clone)]
pub struct QueuedWebhook {
    verifier: WebhookVerifier,
    queue: std::sync::Arc<dyn super::queue::JobQueue>,
    wake: Option<std::sync::Arc<tokio::sync::Notify>>,
    triage: Option<TriageFn>,
}

type TriageFn = std::sync::Arc<
    dyn Fn(SiloJob) -> Pin<Box<dyn Future<Output = super::Triage> + Send>> + Send + Sync,
>;

impl std::fmt::Debug for QueuedWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedWebhook")
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl QueuedWebhook {
    /// Verifies with `verifier`, persists in `queue`.
    pub fn new<Q: super::queue::JobQueue>(
        verifier: WebhookVerifier,
        queue: std::sync::Arc<Q>,
    ) -> Self {
        Self {
            verifier,
            queue,
            wake: None,
            triage: None,
        }
    }

    /// Lets `triage` decide, for each verified job, whether it is queued
    /// ([`Triage::Queue`](super::Triage::Queue), the default) or answered at once
    /// ([`Triage::Answer`](super::Triage::Answer): a person not here is 204 without a
    /// queued job). The rules are [`SiloServer::serve_queued_with`](super::SiloServer::serve_queued_with)'s.
    pub fn triage<T, TF>(mut self, triage: T) -> Self
    where
        T: Fn(SiloJob) -> TF + Send + Sync + 'static,
        TF: Future<Output = super::Triage> + Send + 'static,
    {
        self.triage = Some(std::sync::Arc::new(move |job| Box::pin(triage(job))));
        self
    }

    /// Wakes an idle worker of `workers` as each job is queued (otherwise they find it
    /// within their poll interval).
    pub fn waking(mut self, workers: &super::queue::RunningWorkers) -> Self {
        self.wake = Some(workers.waker());
        self
    }
}

impl tower_service::Service<Request<Body>> for QueuedWebhook {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = match Limited::new(body, MAX_WEBHOOK_BYTES).collect().await {
                Ok(body) => body.to_bytes(),
                Err(_) => return Ok(too_large().map(Body::from)),
            };
            let request = Request::from_parts(parts, body);
            let triage = |job: SiloJob| -> Pin<Box<dyn Future<Output = super::Triage> + Send>> {
                match &this.triage {
                    Some(triage) => triage(job),
                    None => Box::pin(std::future::ready(super::Triage::Queue)),
                }
            };
            let (answer, queued) = super::serve::handle_queued_webhook(
                &this.verifier,
                this.queue.as_ref(),
                &triage,
                request,
            )
            .await;
            if queued && let Some(wake) = &this.wake {
                wake.notify_one();
            }
            Ok(answer.map(Body::from))
        })
    }
}
