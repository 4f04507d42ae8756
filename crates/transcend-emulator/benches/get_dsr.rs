//! The emulator's `GET /v1/data-subject-request/{id}` against a minimal hyper server
//! that answers a fixed body, both loaded the same way in the same run; and the
//! process's memory while the emulator receives a 50 MB upload.
//!
//! Each server runs alone on its own thread (a current-thread runtime); the load comes
//! from a bare hyper-util client on another thread, 64 requests in flight.
//! Run: `cargo bench -p transcend-emulator --bench get_dsr`

mod common;

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client as BareClient;
use hyper_util::rt::{TokioExecutor, TokioIo};
use transcend_emulator::{DataSiloConfig, Emulator};
use transcend_hyper::server::Server;
use transcend_hyper::{Client, DatapointSource};
use transcend_proto::types::{DatapointUpload, RequestAction, Subject, SubmitDsr};

const CALLS: usize = 20_000;
const CONCURRENCY: usize = 64;
const ROUNDS: usize = 3;

const FIXED: &[u8] = br#"{"id":"da13d328-3f9d-40d5-9312-9f4fcf3ad0d2","status":"DOWNLOADABLE","type":"ACCESS","subjectType":"customer","email":"user@example.com","coreIdentifier":"id-123456789"}"#;

/// Runs a server on its own thread and runtime; returns what it reports, and where to
/// read that thread's CPU time.
fn on_own_thread<T: Send + 'static>(
    start: impl FnOnce(
        std::sync::mpsc::Sender<T>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
    + Send
    + 'static,
) -> (T, CpuClock) {
    let (tx, rx) = std::sync::mpsc::channel();
    let (clock_tx, clock_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = clock_tx.send(CpuClock::current_thread());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(start(tx));
    });
    (rx.recv().unwrap(), clock_rx.recv().unwrap())
}

/// A thread's time on CPU, from `/proc/.../schedstat` (nanoseconds).
struct CpuClock(Option<std::path::PathBuf>);

impl CpuClock {
    fn current_thread() -> Self {
        Self(
            std::fs::read_link("/proc/thread-self")
                .ok()
                .map(|task| std::path::Path::new("/proc").join(task).join("schedstat")),
        )
    }

    fn nanos(&self) -> Option<u64> {
        let text = std::fs::read_to_string(self.0.as_ref()?).ok()?;
        text.split_whitespace().next()?.parse().ok()
    }
}

/// The baseline: a bare hyper HTTP/1.1 server answering a fixed body, with no limits,
/// no routing and no store.
fn minimal_server() -> (SocketAddr, CpuClock) {
    on_own_thread(|tx| {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let service = service_fn(|_: Request<Incoming>| async {
                        Ok::<_, Infallible>(
                            Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from_static(FIXED)))
                                .unwrap(),
                        )
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        })
    })
}

/// An emulator with one finished request; returns its URL and the request's id.
fn emulator(silo_url: String) -> ((String, String), CpuClock) {
    on_own_thread(move |tx| {
        Box::pin(async move {
            let emulator = Emulator::builder()
                .data_silo(DataSiloConfig::new("files", silo_url))
                .start()
                .await
                .unwrap();
            let client = Client::builder()
                .base_url(emulator.base_url())
                .api_key(emulator.api_key())
                .build()
                .unwrap();
            let mut dsr = SubmitDsr::new(
                RequestAction::Erasure,
                Subject::new("id-123456789"),
                "customer",
            );
            dsr.ignore_data_silo_ids = Some(vec!["files".into()]);
            let id = client.submit_dsr(&dsr).await.unwrap().request.id;
            tx.send((emulator.base_url().to_owned(), id)).unwrap();
            std::future::pending::<()>().await;
            drop(emulator);
        })
    })
}

struct Run {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    /// The server thread's CPU time per request.
    cpu: Option<Duration>,
}

async fn load(
    client: &BareClient<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    url: &str,
    server: &CpuClock,
) -> Run {
    let cpu_before = server.nanos();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url) = (client.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(CALLS / CONCURRENCY + 1);
            for _ in 0..CALLS / CONCURRENCY {
                let request = Request::get(&url)
                    .header("authorization", "Bearer test-key")
                    .body(Full::new(Bytes::new()))
                    .unwrap();
                let sent = Instant::now();
                let response = client.request(request).await.unwrap();
                assert!(response.status().is_success());
                std::hint::black_box(response.into_body().collect().await.unwrap().to_bytes());
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let per_second = latencies.len() as f64 / started.elapsed().as_secs_f64();
    let cpu = cpu_before
        .zip(server.nanos())
        .map(|(before, after)| Duration::from_nanos((after - before) / latencies.len() as u64));
    latencies.sort();
    Run {
        per_second,
        p50: latencies[latencies.len() / 2],
        p99: latencies[latencies.len() * 99 / 100],
        cpu,
    }
}

fn main() {
    // A silo that accepts every job and keeps each webhook's nonce, for the upload below.
    let nonces: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&nonces);
    let (silo, _) = on_own_thread(move |tx| {
        Box::pin(async move {
            let server = Server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
            tx.send(format!("http://{}/hook", server.local_addr()))
                .unwrap();
            let _running = server.serve(service_fn(move |request: Request<Incoming>| {
                if let Some(nonce) = request
                    .headers()
                    .get("x-transcend-nonce")
                    .and_then(|v| v.to_str().ok())
                {
                    seen.lock().unwrap().push(nonce.to_owned());
                }
                async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"{}")))) }
            }));
            std::future::pending::<()>().await;
        })
    });
    let (minimal_addr, minimal_cpu) = minimal_server();
    let minimal = format!(
        "http://{minimal_addr}/v1/data-subject-request/da13d328-3f9d-40d5-9312-9f4fcf3ad0d2"
    );
    let ((base, id), emulator_cpu) = emulator(silo);
    let emulated = format!("{base}/v1/data-subject-request/{id}");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client: BareClient<_, Full<Bytes>> = BareClient::builder(TokioExecutor::new()).build_http();
        load(&client, &minimal, &minimal_cpu).await;
        load(&client, &emulated, &emulator_cpu).await;
        let (mut theirs, mut ours) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            theirs.push(load(&client, &minimal, &minimal_cpu).await);
            ours.push(load(&client, &emulated, &emulator_cpu).await);
        }
        let median = |runs: &mut Vec<Run>| {
            runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
            runs.remove(runs.len() / 2)
        };
        let (theirs, ours) = (median(&mut theirs), median(&mut ours));
        println!("GET /v1/data-subject-request/{{id}}, {CALLS} calls, {CONCURRENCY} in flight, medians of {ROUNDS} alternating rounds");
        let show = |name: &str, run: &Run| {
            println!(
                "  {name:<20} {:>8.0}/s  p50 {:>8.2?}  p99 {:>8.2?}  server CPU {:>7.2?}/request",
                run.per_second,
                run.p50,
                run.p99,
                run.cpu.unwrap_or_default()
            )
        };
        show("minimal hyper server", &theirs);
        show("emulator", &ours);
        println!("  throughput ratio {:.3} (target >= 0.7)", ours.per_second / theirs.per_second);
        if let (Some(a), Some(b)) = (theirs.cpu, ours.cpu) {
            println!(
                "  server CPU ratio {:.3}: the throughput the emulator's thread could sustain is {:.3}x the minimal server's",
                b.as_secs_f64() / a.as_secs_f64(),
                a.as_secs_f64() / b.as_secs_f64()
            );
        }
    });

    // Memory while the emulator receives a 50 MB upload (it streams it to disk). The
    // client streams from a file too, so the process's RSS shows both sides' buffers.
    runtime.block_on(async {
        let path = std::env::temp_dir().join(format!(
            "transcend-emulator-bench-{}.bin",
            std::process::id()
        ));
        {
            let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            let block = vec![7u8; 1 << 20];
            for _ in 0..50 {
                file.write_all(&block).unwrap();
            }
        }
        let client = Client::builder()
            .base_url(&base)
            .api_key("test-key")
            .build()
            .unwrap();
        client
            .submit_dsr(&SubmitDsr::new(
                RequestAction::Access,
                Subject::new("uploader"),
                "customer",
            ))
            .await
            .unwrap();
        let nonce = loop {
            if let Some(nonce) = nonces.lock().unwrap().first().cloned() {
                break transcend_proto::Nonce::new(nonce);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        client
            .upload_datapoint(
                &nonce,
                DatapointUpload::new("warmup"),
                DatapointSource::bytes(vec![0u8; 4096]),
            )
            .await
            .unwrap();
        let baseline = common::rss();
        let peak = Arc::new(AtomicU64::new(baseline));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, done) = (Arc::clone(&peak), Arc::clone(&done));
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    peak.fetch_max(common::rss(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        };
        let started = Instant::now();
        client
            .upload_datapoint(
                &nonce,
                DatapointUpload::new("export").skip_status_update(true),
                DatapointSource::file(&path),
            )
            .await
            .unwrap();
        let elapsed = started.elapsed();
        done.store(true, Ordering::Relaxed);
        sampler.join().unwrap();
        let _ = std::fs::remove_file(&path);
        println!("50 MB upload received in {elapsed:.2?}");
        println!(
            "  peak RSS growth while receiving: {:.1} MB (client and emulator in one process)",
            peak.load(Ordering::Relaxed).saturating_sub(baseline) as f64 / 1e6
        );
    });
}
