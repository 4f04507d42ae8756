//! The client against baselines in the same run, on 127.0.0.1:
//!
//! 1. `get_dsr` throughput over 20,000 calls at concurrency 1 and 64, against a bare
//!    hyper-util client sending the identical pre-built request to the same server.
//! 2. A 45 MB file to `upload_datapoint`, against `curl --data-binary @file`, and the
//!    growth of this process's peak RSS while the client uploads.
//!
//! The server runs on its own thread. The clients run on a current-thread runtime, then
//! on a two-worker multi-thread runtime. A third row, "proto only", sends requests built
//! and answers parsed by `transcend-proto` through the same transport without the
//! client layer, to show where the difference from the bare client lies.
//! Run: `cargo bench -p transcend-hyper --bench throughput`

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
use hyper_util::rt::TokioExecutor;
use transcend_hyper::proto::Transport;
use transcend_hyper::proto::endpoint::Endpoint;
use transcend_hyper::proto::endpoint::get_dsr::GetDsrEndpoint;
use transcend_hyper::proto::{Config, Nonce, Sombra};
use transcend_hyper::server::Server;
use transcend_hyper::types::DatapointUpload;
use transcend_hyper::{Body, Client, DatapointSource, HyperTransport};

const CALLS: usize = 20_000;
const ROUNDS: usize = 5;
const UPLOAD: usize = 45 << 20;

const STATUS: &[u8] = br#"{"id":"da13d328-3f9d-40d5-9312-9f4fcf3ad0d2","status":"COMPILING","type":"ACCESS","subjectType":"customer","email":"user@example.com","coreIdentifier":"id-123456789"}"#;

/// A server on its own thread (the project's serving loop): answers every request with
/// the status body, after reading (and dropping) the request body.
fn start_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let server = Server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
            tx.send(server.local_addr()).unwrap();
            let _running = server.serve(service_fn(|request: Request<Incoming>| async move {
                let mut body = request.into_body();
                while let Some(frame) = body.frame().await {
                    if frame.is_err() {
                        break;
                    }
                }
                Ok::<_, Infallible>(
                    Response::builder()
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from_static(STATUS)))
                        .unwrap(),
                )
            }));
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap()
}

/// Runs `calls` calls of `call` at `concurrency`, returning calls per second.
async fn throughput<F, Fut>(concurrency: usize, call: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let call = call.clone();
        let share = CALLS / concurrency + usize::from(worker < CALLS % concurrency);
        tasks.push(tokio::spawn(async move {
            for _ in 0..share {
                call().await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    CALLS as f64 / started.elapsed().as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

fn main() {
    let addr = start_server();
    let base = format!("http://{addr}");
    for flavour in ["current-thread", "multi-thread (2 workers)"] {
        let runtime = if flavour.starts_with("multi") {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
        } else {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        };
        runtime.block_on(get_dsr_throughput(&base, flavour));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(upload(&base));
}

const ID: &str = "da13d328-3f9d-40d5-9312-9f4fcf3ad0d2";

async fn get_dsr_throughput(base: &str, flavour: &str) {
    let client = Client::builder()
        .api_key("bench-key")
        .base_url(base)
        .build()
        .unwrap();
    let config = Config::new("bench-key")
        .with_sombra(Sombra::Url(base.to_owned()))
        .unwrap();
    let (parts, _) = GetDsrEndpoint::build_request(&config, &ID.to_owned())
        .unwrap()
        .into_parts();
    let bare: BareClient<_, Full<Bytes>> = BareClient::builder(TokioExecutor::new()).build_http();
    let transport = HyperTransport::new(Duration::from_secs(10)).unwrap();

    println!(
        "get_dsr, {CALLS} calls, client on a {flavour} runtime, medians of {ROUNDS} alternating rounds"
    );
    for concurrency in [1usize, 64] {
        let (mut ours, mut theirs, mut proto_only) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let (bare, parts) = (bare.clone(), parts.clone());
            theirs.push(
                throughput(concurrency, move || {
                    let response =
                        bare.request(Request::from_parts(parts.clone(), Full::new(Bytes::new())));
                    async move {
                        let body = response
                            .await
                            .unwrap()
                            .into_body()
                            .collect()
                            .await
                            .unwrap()
                            .to_bytes();
                        std::hint::black_box(body);
                    }
                })
                .await,
            );
            let client = client.clone();
            ours.push(
                throughput(concurrency, move || {
                    let client = client.clone();
                    async move {
                        std::hint::black_box(client.get_dsr(ID).await.unwrap());
                    }
                })
                .await,
            );
            let (transport, config) = (transport.clone(), config.clone());
            proto_only.push(
                throughput(concurrency, move || {
                    let (transport, config) = (transport.clone(), config.clone());
                    async move {
                        let (parts, body) = GetDsrEndpoint::build_request(&config, &ID.to_owned())
                            .unwrap()
                            .into_parts();
                        let request = Request::from_parts(parts, Body::full(body));
                        let response = Transport::send(&transport, request).await.unwrap();
                        std::hint::black_box(GetDsrEndpoint::parse_response(response).unwrap());
                    }
                })
                .await,
            );
        }
        let (ours, theirs, proto_only) = (median(ours), median(theirs), median(proto_only));
        println!(
            "  concurrency {concurrency:>2}: bare hyper-util {theirs:>7.0}/s  transcend-hyper {ours:>7.0}/s  ratio {:.3}   (proto only {proto_only:>7.0}/s, ratio {:.3})",
            ours / theirs,
            proto_only / theirs
        );
    }
}

async fn upload(base: &str) {
    let base = base.to_owned();
    let client = Client::builder()
        .api_key("bench-key")
        .base_url(&base)
        .build()
        .unwrap();
    {
        // The upload.
        let path = std::env::temp_dir().join(format!("transcend-bench-{}.bin", std::process::id()));
        {
            let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            let block: Vec<u8> = (0..1_048_576u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
                .collect();
            for _ in 0..UPLOAD / block.len() {
                file.write_all(&block).unwrap();
            }
        }
        let upload = || {
            let client = client.clone();
            let path = path.clone();
            async move {
                client
                    .upload_datapoint(
                        &Nonce::new("n"),
                        DatapointUpload::new("export"),
                        DatapointSource::file(path),
                    )
                    .await
                    .unwrap();
            }
        };
        upload().await;
        let (mut ours, mut curl) = (Vec::new(), Vec::new());
        let mut growth = 0u64;
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let status = std::process::Command::new("curl")
                .args([
                    "-s",
                    "-o",
                    "/dev/null",
                    "-X",
                    "POST",
                    "-H",
                    "content-type: application/octet-stream",
                ])
                .arg("--data-binary")
                .arg(format!("@{}", path.display()))
                .arg(format!("{base}/v1/datapoint"))
                .status();
            match status {
                Ok(s) if s.success() => curl.push(UPLOAD as f64 / started.elapsed().as_secs_f64()),
                _ => {}
            }

            let baseline = rss_bytes();
            let peak = Arc::new(AtomicU64::new(baseline));
            let done = Arc::new(AtomicBool::new(false));
            let sampler = {
                let (peak, done) = (Arc::clone(&peak), Arc::clone(&done));
                std::thread::spawn(move || {
                    while !done.load(Ordering::Relaxed) {
                        peak.fetch_max(rss_bytes(), Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(2));
                    }
                })
            };
            let started = Instant::now();
            upload().await;
            ours.push(UPLOAD as f64 / started.elapsed().as_secs_f64());
            done.store(true, Ordering::Relaxed);
            sampler.join().unwrap();
            growth = growth.max(peak.load(Ordering::Relaxed).saturating_sub(baseline));
        }
        let ours = median(ours);
        println!("upload_datapoint, 45 MB file, medians of {ROUNDS} alternating rounds");
        if curl.is_empty() {
            println!(
                "  curl not available: transcend-hyper {:.0} MB/s",
                ours / 1e6
            );
        } else {
            let curl = median(curl);
            println!(
                "  curl --data-binary {:>7.0} MB/s   transcend-hyper {:>7.0} MB/s   ratio {:.3} (target >= 0.9)",
                curl / 1e6,
                ours / 1e6,
                ours / curl
            );
        }
        println!(
            "  peak RSS growth while uploading: {:.1} MB (target <= 8 MB)",
            growth as f64 / 1e6
        );
        let _ = std::fs::remove_file(&path);
    }
}
