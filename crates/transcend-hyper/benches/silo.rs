//! The data silo's webhook path against baselines in the same run, on 127.0.0.1:
//!
//! 1. **Verification cost**: `WebhookVerifier::verify` (parse, ES384, claims, identity
//!    binding, replay record) against a bare ES384 verification of the same tokens
//!    (base64url-decode the signature, p384 verify), per webhook.
//! 2. **Throughput**: webhooks verified and answered per second by `SiloServer` against a
//!    bare hyper HTTP/1.1 server doing the same verification (`parse_webhook` and
//!    `VerificationKey::verify`), 32 keep-alive connections.
//! 3. **Forged traffic**: the p99 latency of genuine webhooks (20 a second) alone, then
//!    while 100 forged webhooks a second arrive, with Sombra answering key fetches in
//!    0.5 s; and how many key fetches the forgeries caused.
//!
//! 4. **Durable jobs**: webhook to 200, p50, one webhook at a time, with the embedded
//!    queue (each job and its replay record committed to disk before the answer)
//!    against in-process handling (`serve`), alternating rounds.
//!
//!    With `redis-server` on the PATH, the same with the Redis queue (a private server on
//!    a Unix socket, `appendonly no`), and jobs per second through three replicas
//!    sharing that Redis against one, each a process of its own (this binary run again)
//!    with 4 workers and a handler that waits 20 ms (I/O-bound).
//!
//! 5. **Embedded queue under many live tokens**: `EmbeddedQueue::enqueue` p50 with 20,000
//!    unexpired replay records in the file against an empty one (a silo taking 70
//!    webhooks a second with Sombra's 5-minute tokens holds that many).
//!
//!    And `next` p50 for a new job behind 5,000 failed jobs waiting out a backoff,
//!    against an empty queue.
//!
//! 6. **Metrics** (`SILO_BENCH_ONLY=metrics`, nothing else): a queued silo's webhook to
//!    200 p50 (one at a time) and jobs per second (2,000 webhooks on 16 connections until
//!    the workers have acknowledged every job), on an embedded queue in a memory-backed
//!    directory so the figures are the silo's own work. Built with the `metrics` feature
//!    it installs a Prometheus recorder first: `benches/metrics_overhead.sh` builds both
//!    and alternates their runs.
//!
//! Run: `cargo bench -p transcend-hyper --features test-util,queue,redis --bench silo`
//! (`SILO_BENCH_ONLY=queue` for 4 and 5 only).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::{TokioExecutor, TokioIo};
use p384::ecdsa::signature::Verifier;
use p384::ecdsa::{Signature, VerifyingKey};
use p384::pkcs8::DecodePublicKey;
use transcend_hyper::Client;
use transcend_hyper::server::Server;
use transcend_hyper::silo::testing::TestSigner;
use transcend_hyper::silo::{Decision, SiloServer, WebhookVerifier};
use transcend_hyper::types::{DsrJob, RequestAction};
use transcend_proto::webhook::{VerificationKey, parse_webhook};

const AUDIENCE: &str = "users-db";
const ROUNDS: usize = 5;

fn job() -> DsrJob {
    DsrJob::new(RequestAction::Erasure).with_core_identifier("user-1")
}

fn deliveries(signer: &TestSigner, n: usize) -> Vec<Request<Bytes>> {
    (0..n)
        .map(|i| {
            signer
                .webhook(AUDIENCE, &job(), format!("nonce-{i}"))
                .unwrap()
        })
        .collect()
}

fn unused_client() -> Client {
    Client::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("unused")
        .build()
        .unwrap()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(mut values: Vec<Duration>, p: f64) -> Duration {
    values.sort();
    values[((values.len() as f64 * p) as usize).min(values.len() - 1)]
}

/// Per-webhook time of the verifier and of a bare ES384 verify, alternating rounds.
fn verification_cost(runtime: &tokio::runtime::Runtime) {
    const N: usize = 2000;
    let signer = TestSigner::new().unwrap();
    let bare_key = VerifyingKey::from_public_key_pem(signer.public_key_pem()).unwrap();
    let (mut full, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let requests = deliveries(&signer, N);
        let verifier = signer.verifier(unused_client(), AUDIENCE);
        let started = Instant::now();
        runtime.block_on(async {
            for request in &requests {
                verifier.verify(request).await.unwrap();
            }
        });
        full.push(started.elapsed().as_secs_f64() / N as f64);

        let tokens: Vec<String> = requests
            .iter()
            .map(|r| r.headers()["x-sombra-token"].to_str().unwrap().to_owned())
            .collect();
        let started = Instant::now();
        for token in &tokens {
            let (signed, signature) = token.rsplit_once('.').unwrap();
            let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
            let signature = Signature::from_slice(&signature).unwrap();
            bare_key.verify(signed.as_bytes(), &signature).unwrap();
        }
        bare.push(started.elapsed().as_secs_f64() / N as f64);
    }
    let (full, bare) = (median(full), median(bare));
    println!(
        "verification per webhook: verifier {:.1} µs, bare ES384 {:.1} µs, ratio {:.3} (target <= 1.2)",
        full * 1e6,
        bare * 1e6,
        full / bare
    );
}

/// A bare hyper server verifying each delivery as the silo helper does, answering 204.
async fn bare_server(key: VerificationKey) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let key = Arc::new(key);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            let key = Arc::clone(&key);
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let key = Arc::clone(&key);
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await.unwrap().to_bytes();
                        let request = Request::from_parts(parts, body);
                        let delivery = parse_webhook(&request).unwrap();
                        let status = match key.verify(
                            &delivery.token,
                            AUDIENCE,
                            std::time::SystemTime::now(),
                        ) {
                            Ok(_) => StatusCode::NO_CONTENT,
                            Err(_) => StatusCode::UNAUTHORIZED,
                        };
                        let mut response = Response::new(Full::new(Bytes::new()));
                        *response.status_mut() = status;
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// Sends every delivery to `url` over `concurrency` keep-alive connections; webhooks
/// per second.
async fn blast(url: &str, requests: Vec<Request<Bytes>>, concurrency: usize) -> f64 {
    let client: HttpClient<_, Full<Bytes>> = HttpClient::builder(TokioExecutor::new()).build_http();
    let total = requests.len();
    let queue = Arc::new(std::sync::Mutex::new(requests));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, queue, url) = (client.clone(), Arc::clone(&queue), url.to_owned());
        workers.push(tokio::spawn(async move {
            loop {
                let Some(request) = queue.lock().unwrap().pop() else {
                    return;
                };
                let (mut parts, body) = request.into_parts();
                parts.uri = url.parse().unwrap();
                let response = client
                    .request(Request::from_parts(parts, Full::new(body)))
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                let _ = response.into_body().collect().await;
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

fn throughput() {
    const N: usize = 4000;
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let signer = TestSigner::new().unwrap();
    let key = VerificationKey::from_pem(signer.public_key_pem()).unwrap();
    let verifier = signer.verifier(unused_client(), AUDIENCE);
    let (silo_url, bare_url) = server_runtime.block_on(async {
        let silo = SiloServer::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
            .serve(verifier, |_job| async { Decision::NotFound });
        let url = silo.url();
        std::mem::forget(silo);
        (url, format!("http://{}/hook", bare_server(key).await))
    });
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours.push(client_runtime.block_on(blast(&silo_url, deliveries(&signer, N), 32)));
        bare.push(client_runtime.block_on(blast(&bare_url, deliveries(&signer, N), 32)));
    }
    let (ours, bare) = (median(ours), median(bare));
    println!(
        "webhooks per second: SiloServer {ours:.0}, bare hyper + same verification {bare:.0}, ratio {:.3} (target >= 0.9)",
        ours / bare
    );
}

/// A Sombra answering key fetches in 0.5 s; counts them.
async fn slow_sombra(pem: String, fetches: Arc<AtomicUsize>) -> String {
    let server = Server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!("http://{}", server.local_addr());
    let running = server.serve(service_fn(move |_request: Request<Incoming>| {
        let (pem, fetches) = (pem.clone(), Arc::clone(&fetches));
        async move {
            fetches.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(500)).await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(pem))))
        }
    }));
    std::mem::forget(running);
    url
}

/// Genuine webhooks at 20 a second for `seconds`, each on a fresh request; latencies.
async fn genuine_latencies(url: &str, signer: &TestSigner, seconds: u64) -> Vec<Duration> {
    let client: HttpClient<_, Full<Bytes>> = HttpClient::builder(TokioExecutor::new()).build_http();
    let mut latencies = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    for _ in 0..seconds * 20 {
        tick.tick().await;
        let (mut parts, body) = deliveries(signer, 1).pop().unwrap().into_parts();
        parts.uri = url.parse().unwrap();
        let started = Instant::now();
        let response = client
            .request(Request::from_parts(parts, Full::new(body)))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        latencies.push(started.elapsed());
    }
    latencies
}

fn forged_traffic() {
    const SECONDS: u64 = 10;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let signer = TestSigner::new().unwrap();
        let forger = TestSigner::new().unwrap();
        let fetches = Arc::new(AtomicUsize::new(0));
        let sombra = slow_sombra(signer.public_key_pem().to_owned(), Arc::clone(&fetches)).await;
        let client = Client::builder()
            .base_url(&sombra)
            .api_key("silo-key")
            .build()
            .unwrap();
        let verifier = WebhookVerifier::new(client, AUDIENCE);
        let silo = SiloServer::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
            .serve(verifier, |_job| async { Decision::NotFound });
        let url = silo.url();
        // Warm up: the first delivery fetches the key.
        genuine_latencies(&url, &signer, 1).await;
        let quiet = genuine_latencies(&url, &signer, SECONDS).await;

        let before = fetches.load(Ordering::SeqCst);
        let flood_url = url.clone();
        let flood = tokio::spawn(async move {
            let client: HttpClient<_, Full<Bytes>> =
                HttpClient::builder(TokioExecutor::new()).build_http();
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            let mut sent = Vec::new();
            for i in 0..SECONDS * 100 {
                tick.tick().await;
                let request = forger
                    .webhook(AUDIENCE, &job(), format!("forged-{i}"))
                    .unwrap();
                let (mut parts, body) = request.into_parts();
                parts.uri = flood_url.parse().unwrap();
                let client = client.clone();
                sent.push(tokio::spawn(async move {
                    let response = client
                        .request(Request::from_parts(parts, Full::new(body)))
                        .await
                        .unwrap();
                    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
                }));
            }
            for request in sent {
                request.await.unwrap();
            }
        });
        let attacked = genuine_latencies(&url, &signer, SECONDS).await;
        flood.await.unwrap();
        let caused = fetches.load(Ordering::SeqCst) - before;
        let (p99_quiet, p99_attacked) = (percentile(quiet, 0.99), percentile(attacked, 0.99));
        println!(
            "genuine webhook p99: {:.2} ms alone, {:.2} ms under 100 forged/s, ratio {:.2} (target <= 2); key fetches caused by {} forgeries in {SECONDS} s: {caused} (refetch interval 60 s)",
            p99_quiet.as_secs_f64() * 1e3,
            p99_attacked.as_secs_f64() * 1e3,
            p99_attacked.as_secs_f64() / p99_quiet.as_secs_f64(),
            SECONDS * 100,
        );
    });
}

/// p50 of webhook to answer, one at a time.
async fn latencies(url: &str, requests: Vec<Request<Bytes>>) -> Duration {
    let client: HttpClient<_, Full<Bytes>> = HttpClient::builder(TokioExecutor::new()).build_http();
    let mut times = Vec::new();
    for request in requests {
        let (mut parts, body) = request.into_parts();
        parts.uri = url.parse().unwrap();
        let started = Instant::now();
        let response = client
            .request(Request::from_parts(parts, Full::new(body)))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let _ = response.into_body().collect().await;
        times.push(started.elapsed());
    }
    percentile(times, 0.5)
}

fn durable_jobs() {
    use transcend_hyper::silo::queue::{EmbeddedQueue, QueueOptions};
    const N: usize = 300;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let signer = TestSigner::new().unwrap();
    let path = std::env::temp_dir().join(format!("silo-bench-{}.redb", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let (direct, queued) = runtime.block_on(async {
        let direct = SiloServer::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
            .serve(signer.verifier(unused_client(), AUDIENCE), |_job| async {
                Decision::found(async { Ok(()) })
            });
        let queued = SiloServer::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
            .serve_queued(
                signer.verifier(unused_client(), AUDIENCE),
                EmbeddedQueue::open(&path).unwrap(),
                QueueOptions::default(),
                |_job| async { Ok(()) },
            );
        (direct, queued)
    });
    let redis = redis_server();
    let on_redis = redis.as_ref().map(|(_, url)| {
        runtime.block_on(async {
            let queue = transcend_hyper::silo::queue::RedisQueue::connect(url, "bench")
                .await
                .unwrap();
            SiloServer::bind("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap()
                .serve_queued(
                    signer.verifier(unused_client(), AUDIENCE),
                    queue,
                    QueueOptions::default(),
                    |_job| async { Ok(()) },
                )
        })
    });
    let (mut ours, mut baseline, mut redis_p50) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        baseline.push(runtime.block_on(latencies(&direct.url(), deliveries(&signer, N))));
        ours.push(runtime.block_on(latencies(&queued.url(), deliveries(&signer, N))));
        if let Some(silo) = &on_redis {
            redis_p50.push(runtime.block_on(latencies(&silo.url(), deliveries(&signer, N))));
        }
    }
    let mid = |mut values: Vec<Duration>| {
        values.sort();
        values[values.len() / 2]
    };
    let (ours, baseline) = (mid(ours), mid(baseline));
    println!(
        "webhook to 200, p50: in-process {baseline:?}, embedded queue (synced commit) {ours:?}, ratio {:.2}",
        ours.as_secs_f64() / baseline.as_secs_f64()
    );
    if !redis_p50.is_empty() {
        let on_redis = mid(redis_p50);
        println!(
            "webhook to 200, p50: in-process {baseline:?}, Redis queue {on_redis:?}, ratio {:.2} (target at most 1.5)",
            on_redis.as_secs_f64() / baseline.as_secs_f64()
        );
    }
    runtime.block_on(async {
        direct.shutdown().await;
        queued.shutdown().await;
        if let Some(silo) = on_redis {
            silo.shutdown().await;
        }
    });
    if let Some((_, url)) = &redis {
        replicas_throughput(&runtime, url);
    }
    if let Some((mut child, _)) = redis {
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = std::fs::remove_file(&path);
}

/// A private redis-server on a Unix socket, killed when the bench ends.
fn redis_server() -> Option<(std::process::Child, String)> {
    let dir = std::env::temp_dir().join(format!("silo-bench-redis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let socket = dir.join("redis.sock");
    let child = std::process::Command::new("redis-server")
        .args(["--port", "0", "--save", "", "--appendonly", "no"])
        .arg("--unixsocket")
        .arg(&socket)
        .arg("--dir")
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..500 {
        if socket.exists() {
            return Some((child, format!("redis+unix://{}", socket.display())));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// A replica process (this bench binary run again with `SILO_BENCH_REPLICA=<url> <name>
/// <consumer>`): 4 workers on the Redis queue, a handler that waits 20 ms; runs until
/// killed.
fn replica_process(spec: &str) {
    use transcend_hyper::silo::queue::{QueueOptions, RedisQueue, RunningWorkers};
    let mut words = spec.split_whitespace();
    let (url, name, consumer) = (
        words.next().unwrap().to_owned(),
        words.next().unwrap().to_owned(),
        words.next().unwrap().to_owned(),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let queue = Arc::new(RedisQueue::connect(&url, &name).await.unwrap());
        let _workers = RunningWorkers::start(
            queue,
            unused_client(),
            QueueOptions::default()
                .workers(4)
                .consumer(consumer)
                .poll_interval(Duration::from_millis(5)),
            |_job| async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(())
            },
        );
        std::future::pending::<()>().await;
    });
}

/// Jobs per second through `replicas` worker processes sharing one Redis.
fn jobs_per_second(
    runtime: &tokio::runtime::Runtime,
    url: &str,
    name: &str,
    replicas: usize,
) -> f64 {
    use transcend_hyper::silo::queue::{JobQueue, QueuedJob, RedisQueue};
    const JOBS: usize = 600;
    let mut processes: Vec<std::process::Child> = (0..replicas)
        .map(|i| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .env("SILO_BENCH_REPLICA", format!("{url} {name} replica-{i}"))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let rate = runtime.block_on(async {
        let feeder = RedisQueue::connect(url, name).await.unwrap();
        let expires = std::time::SystemTime::now() + Duration::from_secs(3600);
        let jobs: Vec<QueuedJob> = (0..JOBS)
            .map(|i| {
                serde_json::from_value(serde_json::json!({
                    "job": {"type": "ERASURE", "coreIdentifier": {"value": format!("p{i}")}},
                    "core_identifier": format!("p{i}"),
                    "nonce": format!("n{i}"),
                }))
                .unwrap()
            })
            .collect();
        let started = Instant::now();
        for (i, job) in jobs.iter().enumerate() {
            feeder
                .enqueue(&format!("k{i}"), expires, job)
                .await
                .unwrap();
        }
        loop {
            let stats = feeder.stats().await.unwrap();
            if stats.depth == 0 {
                assert_eq!((stats.in_flight, stats.dead_letters), (0, 0));
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        JOBS as f64 / started.elapsed().as_secs_f64()
    });
    for process in &mut processes {
        let _ = process.kill();
        let _ = process.wait();
    }
    rate
}

fn replicas_throughput(runtime: &tokio::runtime::Runtime, url: &str) {
    let (mut one, mut three) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        one.push(jobs_per_second(runtime, url, &format!("one-{round}"), 1));
        three.push(jobs_per_second(runtime, url, &format!("three-{round}"), 3));
    }
    let (one, three) = (median(one), median(three));
    println!(
        "jobs per second (20 ms handler, 4 workers a process): one process {one:.0}, three sharing Redis {three:.0}, ratio {:.2} (target at least 2.5)",
        three / one
    );
}

fn main() {
    if let Ok(spec) = std::env::var("SILO_BENCH_REPLICA") {
        return replica_process(&spec);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    if std::env::var("SILO_BENCH_ONLY").as_deref() == Ok("metrics") {
        return metrics_overhead();
    }
    if std::env::var("SILO_BENCH_ONLY").as_deref() != Ok("queue") {
        verification_cost(&runtime);
        throughput();
        forged_traffic();
    }
    durable_jobs();
    runtime.block_on(live_tokens());
}

/// A new embedded queue in a temporary file, a job to put in it and an expiry an hour
/// away for its tokens.
fn scratch_queue() -> (
    std::path::PathBuf,
    transcend_hyper::silo::queue::EmbeddedQueue,
    transcend_hyper::silo::queue::QueuedJob,
    std::time::SystemTime,
) {
    let path = std::env::temp_dir().join(format!("bench-queue-{:032x}.redb", fastrand::u128(..)));
    let queue = transcend_hyper::silo::queue::EmbeddedQueue::open(&path).unwrap();
    let job = serde_json::from_value(serde_json::json!({
        "job": {"type": "ERASURE", "coreIdentifier": {"value": "user"}},
        "core_identifier": "user",
        "nonce": "nonce",
    }))
    .unwrap();
    let later = std::time::SystemTime::now() + Duration::from_secs(3600);
    (path, queue, job, later)
}

/// Enqueue p50 into an embedded queue holding `live` unexpired replay records (each
/// enqueue acknowledged at once, so the job table stays small).
async fn enqueue_p50(live: usize) -> Duration {
    use transcend_hyper::silo::queue::JobQueue;
    let (path, queue, job, later) = scratch_queue();
    // Filled with spent tokens, one synced commit each: the slow part of the bench,
    // not the measured one.
    for i in 0..live {
        queue.spend(&format!("filler-{i}"), later).await.unwrap();
    }
    let mut times = Vec::new();
    for i in 0..300 {
        let started = Instant::now();
        queue
            .enqueue(&format!("measured-{i}"), later, &job)
            .await
            .unwrap();
        times.push(started.elapsed());
        let lease = queue
            .next("bench", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        queue.ack(&lease).await.unwrap();
    }
    drop(queue);
    let _ = std::fs::remove_file(&path);
    percentile(times, 0.5)
}

/// `next` p50 for a new job while `waiting` failed jobs wait out an hour's
/// backoff ahead of it in the queue (Transcend unreachable for a while, say).
async fn next_p50(waiting: usize) -> Duration {
    use transcend_hyper::silo::queue::JobQueue;
    let (path, queue, job, later) = scratch_queue();
    let lease = Duration::from_secs(60);
    for i in 0..waiting {
        queue
            .enqueue(&format!("failed-{i}"), later, &job)
            .await
            .unwrap();
        let held = queue.next("bench", lease).await.unwrap().unwrap();
        queue
            .release(&held, "unreachable", Duration::from_secs(3600), 8)
            .await
            .unwrap();
    }
    let mut times = Vec::new();
    for i in 0..300 {
        queue
            .enqueue(&format!("new-{i}"), later, &job)
            .await
            .unwrap();
        let started = Instant::now();
        let lease = queue.next("bench", lease).await.unwrap().unwrap();
        times.push(started.elapsed());
        queue.ack(&lease).await.unwrap();
    }
    drop(queue);
    let _ = std::fs::remove_file(&path);
    percentile(times, 0.5)
}

async fn live_tokens() {
    let (mut empty, mut full) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        empty.push(enqueue_p50(0).await.as_secs_f64());
        full.push(enqueue_p50(20_000).await.as_secs_f64());
    }
    let (empty, full) = (median(empty), median(full));
    println!(
        "embedded enqueue, p50: empty file {:.3} ms, 20,000 live tokens {:.3} ms, ratio {:.2}",
        empty * 1e3,
        full * 1e3,
        full / empty
    );
    let (mut alone, mut behind) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        alone.push(next_p50(0).await.as_secs_f64());
        behind.push(next_p50(5_000).await.as_secs_f64());
    }
    let (alone, behind) = (median(alone), median(behind));
    println!(
        "embedded next, p50: empty queue {:.3} ms, behind 5,000 jobs in backoff {:.3} ms, ratio {:.2}",
        alone * 1e3,
        behind * 1e3,
        behind / alone
    );
}

/// A queued silo's webhook to 200 p50 and jobs per second, with the figures recorded
/// (feature `metrics`, a Prometheus recorder installed) or compiled out.
fn metrics_overhead() {
    use transcend_hyper::silo::queue::{EmbeddedQueue, JobQueue, QueueOptions};
    #[cfg(feature = "metrics")]
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let memory = std::path::Path::new("/dev/shm");
    let dir = if memory.is_dir() {
        memory.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let path = dir.join(format!("metrics-bench-{:032x}.redb", fastrand::u128(..)));
    let signer = TestSigner::new().unwrap();
    let (p50, rate) = runtime.block_on(async {
        let queue = Arc::new(EmbeddedQueue::open(&path).unwrap());
        let silo = SiloServer::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
            .serve_queued(
                signer.verifier(unused_client(), AUDIENCE),
                Arc::clone(&queue),
                QueueOptions::default().workers(4),
                |_job| async { Ok(()) },
            );
        let settled = |queue: Arc<EmbeddedQueue>| async move {
            while queue.stats().await.unwrap().depth > 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        let p50 = latencies(&silo.url(), deliveries(&signer, 500)).await;
        settled(Arc::clone(&queue)).await;
        let many: Vec<_> = (0..2000)
            .map(|i| {
                signer
                    .webhook(AUDIENCE, &job(), format!("many-{i}"))
                    .unwrap()
            })
            .collect();
        let started = Instant::now();
        blast(&silo.url(), many, 16).await;
        settled(Arc::clone(&queue)).await;
        let rate = 2000.0 / started.elapsed().as_secs_f64();
        silo.shutdown().await;
        (p50, rate)
    });
    #[cfg(feature = "metrics")]
    assert!(
        recorder
            .render()
            .contains("transcend_silo_jobs_acknowledged_total 2500"),
        "the figures were recorded"
    );
    let on = if cfg!(feature = "metrics") {
        "on"
    } else {
        "off"
    };
    println!(
        "metrics {on}: webhook to 200 p50 {} us, {rate:.0} jobs/s",
        p50.as_micros()
    );
    let _ = std::fs::remove_file(&path);
}
