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

/// Triage before the queue: by core identifier, "queue-me" is queued, "absent" is not
/// here (204), "now" is found and worked in-process, "broken" failed (500).
async fn triage(job: SiloJob, now_runs: Arc<AtomicUsize>) -> transcend_hyper::silo::Triage {
    use transcend_hyper::silo::Triage;
    match job.core_identifier.as_str() {
        "queue-me" => Triage::Queue,
        "absent" => Decision::NotFound.into(),
        "now" => Decision::found(async move {
            now_runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .into(),
        _ => Decision::Failed("broken".into()).into(),
    }
}

/// Every triage answer through `url`, then the queued job run once by the workers and
/// nothing else queued.
async fn triage_answers(
    url: String,
    signer: &TestSigner,
    queue: &transcend_hyper::silo::queue::EmbeddedQueue,
    ran: &AtomicUsize,
    now_runs: &AtomicUsize,
) {
    use transcend_hyper::silo::queue::JobQueue;
    let probe = Probe {
        http: HttpClient::builder(hyper_util::rt::TokioExecutor::new()).build_http(),
        url,
    };
    let deliver = |person: &str| {
        let job = DsrJob::new(RequestAction::Erasure).with_core_identifier(person);
        signer.webhook(AUDIENCE, &job, "nonce-1").unwrap()
    };
    let (queued, absent, now, broken) = (
        deliver("queue-me"),
        deliver("absent"),
        deliver("now"),
        deliver("broken"),
    );
    assert_eq!(probe.send(absent.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(probe.send(now.clone()).await, StatusCode::OK);
    assert_eq!(
        probe.send(broken.clone()).await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        queue.stats().await.unwrap().depth,
        0,
        "answered at once: nothing queued"
    );
    assert_eq!(probe.send(queued.clone()).await, StatusCode::OK);

    // Each token once: a replay is refused whatever the triage says, and the found
    // work does not run again. A failed delivery's token was not spent.
    for replay in [absent, now, queued] {
        assert_eq!(probe.send(replay).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(probe.send(broken).await, StatusCode::INTERNAL_SERVER_ERROR);

    for _ in 0..6000 {
        if ran.load(Ordering::SeqCst) == 1
            && now_runs.load(Ordering::SeqCst) == 1
            && queue.stats().await.unwrap().depth == 0
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(ran.load(Ordering::SeqCst), 1, "the queued job ran once");
    assert_eq!(
        now_runs.load(Ordering::SeqCst),
        1,
        "the found work ran once"
    );
    assert_eq!(queue.stats().await.unwrap().depth, 0);
}

fn temporary_queue(
    name: &str,
) -> (
    std::path::PathBuf,
    Arc<transcend_hyper::silo::queue::EmbeddedQueue>,
) {
    let path = std::env::temp_dir().join(format!("{name}-{:032x}.redb", fastrand::u128(..)));
    let queue = transcend_hyper::silo::queue::EmbeddedQueue::open(&path).unwrap();
    (path, Arc::new(queue))
}

fn counting(
    ran: &Arc<AtomicUsize>,
) -> impl Fn(SiloJob) -> std::future::Ready<Result<(), transcend_hyper::silo::JobError>>
+ Send
+ Sync
+ 'static {
    let ran = Arc::clone(ran);
    move |job| {
        assert_eq!(
            job.core_identifier, "queue-me",
            "only the queued job reaches the workers"
        );
        ran.fetch_add(1, Ordering::SeqCst);
        std::future::ready(Ok(()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queued_service_answers_at_once_what_triage_decides() {
    use transcend_hyper::silo::axum::QueuedWebhook;
    use transcend_hyper::silo::queue::{QueueOptions, RunningWorkers};

    let signer = TestSigner::new().unwrap();
    let (path, queue) = temporary_queue("axum-triage");
    let (ran, now_runs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let workers = RunningWorkers::start(
        Arc::clone(&queue),
        client(),
        QueueOptions::default().workers(1),
        counting(&ran),
    );
    let decided = Arc::clone(&now_runs);
    let webhook = QueuedWebhook::new(signer.verifier(client(), AUDIENCE), Arc::clone(&queue))
        .waking(&workers)
        .triage(move |job| triage(job, Arc::clone(&decided)));
    let (url, task) = serve(Router::new().route_service("/transcend/webhook", webhook)).await;
    triage_answers(url, &signer, &queue, &ran, &now_runs).await;
    workers.shutdown().await;
    task.abort();
    drop(queue);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silo_server_answers_at_once_what_triage_decides() {
    use transcend_hyper::silo::SiloServer;
    use transcend_hyper::silo::queue::QueueOptions;

    let signer = TestSigner::new().unwrap();
    let (path, queue) = temporary_queue("silo-triage");
    let (ran, now_runs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let server = SiloServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = format!("http://{}/transcend/webhook", server.addr());
    let decided = Arc::clone(&now_runs);
    // The server takes an `Arc` of the queue; this test keeps another for its stats.
    let running = server.serve_queued_with(
        signer.verifier(client(), AUDIENCE),
        Arc::clone(&queue),
        QueueOptions::default().workers(1),
        move |job| triage(job, Arc::clone(&decided)),
        counting(&ran),
    );
    triage_answers(url, &signer, &queue, &ran, &now_runs).await;
    running.shutdown().await;
    drop(queue);
    let _ = std::fs::remove_file(&path);
}
