//! Data-silo webhooks in a real `axum::Router` on loopback: the extractor (verifier in
//! the state) and the tower layer answer like `SiloServer`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::post;
use axum::{Extension, Router};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use transcend_hyper::Client;
use transcend_hyper::silo::axum::{VerifiedJob, VerifyWebhookLayer};
use transcend_hyper::silo::testing::TestSigner;
use transcend_hyper::silo::{Decision, SiloJob, WebhookVerifier};
use transcend_hyper::types::{DsrJob, RequestAction};

const AUDIENCE: &str = "users-db";

fn client() -> Client {
    Client::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("unused")
        .build()
        .unwrap()
}

/// Decides like a small silo: ACCESS found (no report sent), ERASURE not here, the
/// rest failed. Counts the jobs it sees.
async fn decide(job: SiloJob, seen: Arc<AtomicUsize>) -> Decision {
    seen.fetch_add(1, Ordering::SeqCst);
    match job.action {
        RequestAction::Access => Decision::found(async { Ok(()) }),
        RequestAction::Erasure => Decision::NotFound,
        _ => Decision::Failed("not supported".into()),
    }
}

async fn serve(app: Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/transcend/webhook",
        listener.local_addr().unwrap()
    );
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, task)
}

struct Probe {
    http: HttpClient<HttpConnector, Full<Bytes>>,
    url: String,
}

impl Probe {
    async fn send(&self, request: Request<Bytes>) -> StatusCode {
        let (mut parts, body) = request.into_parts();
        parts.uri = self.url.parse().unwrap();
        self.http
            .request(Request::from_parts(parts, Full::new(body)))
            .await
            .unwrap()
            .status()
    }
}

async fn every_answer(url: String, signer: &TestSigner, seen: &AtomicUsize) {
    let probe = Probe {
        http: HttpClient::builder(hyper_util::rt::TokioExecutor::new()).build_http(),
        url,
    };
    let job = |action| DsrJob::new(action).with_core_identifier("user-1");
    let deliver = |action| signer.webhook(AUDIENCE, &job(action), "nonce-1").unwrap();

    assert_eq!(
        probe.send(deliver(RequestAction::Access)).await,
        StatusCode::OK
    );
    assert_eq!(
        probe.send(deliver(RequestAction::Erasure)).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        probe.send(deliver(RequestAction::Rectification)).await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(seen.load(Ordering::SeqCst), 3);

    // Refusals never reach the handler.
    let replay = deliver(RequestAction::Access);
    assert_eq!(probe.send(replay.clone()).await, StatusCode::OK);
    assert_eq!(
        probe.send(replay).await,
        StatusCode::UNAUTHORIZED,
        "replayed"
    );
    let forger = TestSigner::new().unwrap();
    let forged = forger
        .webhook(AUDIENCE, &job(RequestAction::Erasure), "n")
        .unwrap();
    assert_eq!(probe.send(forged).await, StatusCode::UNAUTHORIZED, "forged");
    let mut missing = deliver(RequestAction::Erasure);
    missing.headers_mut().remove("x-sombra-token");
    assert_eq!(
        probe.send(missing).await,
        StatusCode::UNAUTHORIZED,
        "no token"
    );
    let unbound = signer
        .webhook(AUDIENCE, &DsrJob::new(RequestAction::Erasure), "n")
        .unwrap();
    assert_eq!(
        probe.send(unbound).await,
        StatusCode::UNAUTHORIZED,
        "unbound"
    );
    let mut garbled = deliver(RequestAction::Erasure);
    *garbled.body_mut() = Bytes::from_static(b"{not json");
    garbled.headers_mut().remove("content-length");
    assert_eq!(
        probe.send(garbled).await,
        StatusCode::BAD_REQUEST,
        "garbled"
    );
    let mut huge = deliver(RequestAction::Erasure);
    *huge.body_mut() = Bytes::from(vec![b' '; 2 << 20]);
    huge.headers_mut().remove("content-length");
    assert_eq!(
        probe.send(huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too large"
    );
    assert_eq!(seen.load(Ordering::SeqCst), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_extractor_verifies_with_the_routers_state() {
    let signer = TestSigner::new().unwrap();
    let verifier: WebhookVerifier = signer.verifier(client(), AUDIENCE);
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let app = Router::new()
        .route(
            "/transcend/webhook",
            post(move |VerifiedJob(job): VerifiedJob| decide(job, Arc::clone(&counter))),
        )
        .with_state(verifier);
    let (url, server) = serve(app).await;
    every_answer(url, &signer, &seen).await;
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_layer_verifies_for_any_service_behind_it() {
    let signer = TestSigner::new().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let app = Router::new()
        .route(
            "/transcend/webhook",
            post(move |Extension(job): Extension<SiloJob>| decide(job, Arc::clone(&counter))),
        )
        .layer(VerifyWebhookLayer::new(signer.verifier(client(), AUDIENCE)));
    let (url, server) = serve(app).await;
    every_answer(url, &signer, &seen).await;
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queued_service_persists_answers_and_workers_run_the_job() {
    use transcend_hyper::silo::axum::QueuedWebhook;
    use transcend_hyper::silo::queue::{EmbeddedQueue, JobQueue, QueueOptions, RunningWorkers};

    let signer = TestSigner::new().unwrap();
    let path = std::env::temp_dir().join(format!("axum-queue-{:032x}.redb", fastrand::u128(..)));
    let queue = Arc::new(EmbeddedQueue::open(&path).unwrap());
    let ran = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&ran);
    let workers = RunningWorkers::start(
        Arc::clone(&queue),
        client(),
        QueueOptions::default().workers(1),
        move |job| {
            let counted = Arc::clone(&counted);
            async move {
                assert_eq!(job.core_identifier, "user-1");
                counted.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        },
    );
    let webhook = QueuedWebhook::new(signer.verifier(client(), AUDIENCE), Arc::clone(&queue))
        .waking(&workers);
    let (url, task) = serve(Router::new().route_service("/transcend/webhook", webhook)).await;
    let probe = Probe {
        http: HttpClient::builder(hyper_util::rt::TokioExecutor::new()).build_http(),
        url,
    };
    let delivery = signer
        .webhook(
            AUDIENCE,
            &DsrJob::new(RequestAction::Erasure).with_core_identifier("user-1"),
            "nonce-1",
        )
        .unwrap();
    assert_eq!(probe.send(delivery.clone()).await, StatusCode::OK);
    assert_eq!(
        probe.send(delivery).await,
        StatusCode::UNAUTHORIZED,
        "replayed"
    );
    for _ in 0..6000 {
        if ran.load(Ordering::SeqCst) == 1 && queue.stats().await.unwrap().depth == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    assert_eq!(queue.stats().await.unwrap().depth, 0);
    workers.shutdown().await;
    task.abort();
    drop(queue);
    let _ = std::fs::remove_file(&path);
}
