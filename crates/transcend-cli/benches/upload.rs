//! `transcend request upload` measured against baselines in the same run:
//!
//! 1. Throughput: 100,000 rows against the emulator, against the emulator's raw submit
//!    capacity, measured by a bare hyper-util load generator sending the same
//!    submissions (pre-serialised, 50 in flight). Both run as processes of their own
//!    (the generator is this binary again, on one thread like the command), each timed
//!    from start to exit, each against a fresh emulator in this process; three
//!    alternating rounds, medians.
//! 2. Pacing: `--rate 200` on 3,000 rows: the rate sustained and the rows failed.
//! 3. Memory: the command's peak RSS for 10,000 and 1,000,000 rows, against a stub
//!    server answering every submission at once (the command's memory does not
//!    depend on the server; the stub keeps a million rows quick).
//!
//! Run: `cargo bench -p transcend-cli --bench upload` (`UPLOAD_BENCH_SCALE=0.1` for a
//! quick look).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client as BareClient;
use hyper_util::rt::{TokioExecutor, TokioIo};
use transcend_emulator::{Emulator, EmulatorConfig};
use transcend_hyper::bytes::Bytes;
use transcend_hyper::http::{Request, Response};

const PULL_SILO: &str = r#"
[[data_silos]]
id = "warehouse"
webhook_url = "http://127.0.0.1:9/unused"
audience = "warehouse"
pull = true
"#;

const CONCURRENCY: usize = 50;
const ROUNDS: usize = 3;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn scale() -> f64 {
    std::env::var("UPLOAD_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

fn scaled(n: usize) -> usize {
    ((n as f64 * scale()) as usize).max(100)
}

fn write_csv(path: &Path, rows: usize, prefix: &str) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "coreIdentifier,email,requestType").unwrap();
    for i in 0..rows {
        let action = if i.is_multiple_of(2) {
            "ERASURE"
        } else {
            "ACCESS"
        };
        writeln!(out, "{prefix}-{i},{prefix}{i}@example.com,{action}").unwrap();
    }
}

fn body(prefix: &str, i: usize) -> Bytes {
    let action = if i.is_multiple_of(2) {
        "ERASURE"
    } else {
        "ACCESS"
    };
    Bytes::from(format!(
        r#"{{"type":"{action}","subject":{{"coreIdentifier":"{prefix}-{i}","email":"{prefix}{i}@example.com"}},"subjectType":"customer"}}"#
    ))
}

async fn fresh_emulator() -> Emulator {
    Emulator::builder()
        .config(EmulatorConfig::from_toml(PULL_SILO).unwrap())
        .start()
        .await
        .unwrap()
}

/// The bare load generator: `rows` submissions, `CONCURRENCY` in flight. Rows per second.
async fn bare(base: &str, key: &str, rows: usize) -> f64 {
    let client = BareClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let url: transcend_hyper::http::Uri =
        format!("{base}/v1/data-subject-request").parse().unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, url, next, failed) =
                (client.clone(), url.clone(), next.clone(), failed.clone());
            let key = format!("Bearer {key}");
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= rows {
                        break;
                    }
                    let request = Request::post(url.clone())
                        .header("authorization", &key)
                        .header("content-type", "application/json")
                        .body(Full::new(body("bare", i)))
                        .unwrap();
                    let response = client.request(request).await.unwrap();
                    if !response.status().is_success() {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = response.into_body().collect().await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0);
    rows as f64 / started.elapsed().as_secs_f64()
}

struct Run {
    seconds: f64,
    peak_rss_kb: u64,
    summary: serde_json::Value,
}

/// Runs the command to the end, sampling its peak RSS.
async fn upload(base: &str, key: &str, csv: &Path, extra: &[&str]) -> Run {
    let _ = std::fs::remove_file(with_suffix(csv, ".journal"));
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_transcend"))
        .args(["request", "upload"])
        .arg(csv)
        .args(["--concurrency", &CONCURRENCY.to_string()])
        .args(extra)
        .env("TRANSCEND_API_KEY", key)
        .env("SOMBRA_URL", base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut peak = 0;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the upload failed");
            break;
        }
        if let Some(hwm) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| field_kb(&s, "VmHWM:"))
        {
            peak = peak.max(hwm);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let summary =
        serde_json::from_slice(&std::fs::read(with_suffix(csv, ".summary.json")).unwrap()).unwrap();
    Run {
        seconds,
        peak_rss_kb: peak,
        summary,
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn field_kb(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A server that creates nothing and answers every submission at once.
async fn stub() -> SocketAddr {
    const CREATED: &[u8] = br#"{"request":{"id":"0b6a6d6e-4f1e-4a4e-9a67-0e6a3a0e0c11","status":"COMPILING","type":"ERASURE","subjectType":"customer","email":null,"coreIdentifier":"x","link":"https://app.transcend.io/privacy-requests/incoming-requests/x"}}"#;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|request: Request<Incoming>| async move {
                    let _ = request.into_body().collect().await;
                    Ok::<_, Infallible>(
                        Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from_static(CREATED)))
                            .unwrap(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// Runs the bare generator in its own process, as the command runs in its own:
/// rows per second from the start of the process to its exit.
async fn bare_process(base: &str, key: &str, rows: usize) -> f64 {
    let started = Instant::now();
    let status = Command::new(std::env::current_exe().unwrap())
        .env(GENERATOR, format!("{base} {key} {rows}"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    rows as f64 / started.elapsed().as_secs_f64()
}

/// Set in the generator's process: `BASE KEY ROWS`.
const GENERATOR: &str = "UPLOAD_BENCH_GENERATOR";

fn main() {
    if let Ok(job) = std::env::var(GENERATOR) {
        let parts: Vec<&str> = job.split(' ').collect();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let rate = runtime.block_on(bare(parts[0], parts[1], parts[2].parse().unwrap()));
        println!("{rate}");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir =
            std::env::temp_dir().join(format!("transcend-upload-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();

        // 1. Throughput against the emulator's raw capacity.
        let rows = scaled(100_000);
        let csv = dir.join("throughput.csv");
        write_csv(&csv, rows, "cli");
        // Three alternating rounds, each side on a fresh emulator; medians.
        let (mut raws, mut clis) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let emulator = fresh_emulator().await;
            raws.push(bare_process(emulator.base_url(), &emulator.api_key(), rows).await);
            emulator.shutdown().await;

            let emulator = fresh_emulator().await;
            let run = upload(emulator.base_url(), &emulator.api_key(), &csv, &[]).await;
            assert_eq!(run.summary["total"]["created"], rows);
            assert_eq!(emulator.requests().requests.len(), rows);
            emulator.shutdown().await;
            clis.push(rows as f64 / run.seconds);
        }
        let (raw, cli_rate) = (median(raws), median(clis));
        println!(
            "throughput, {rows} rows, {CONCURRENCY} in flight, median of {ROUNDS}: bare generator {raw:.0}/s, \
             transcend request upload {cli_rate:.0}/s (whole command, from start to exit) = {:.2}x",
            cli_rate / raw
        );

        // 2. --rate 200.
        let rows = scaled(3_000);
        let csv = dir.join("rate.csv");
        write_csv(&csv, rows, "rate");
        let emulator = fresh_emulator().await;
        let run = upload(
            emulator.base_url(),
            &emulator.api_key(),
            &csv,
            &["--rate", "200"],
        )
        .await;
        let sustained = run.summary["this_run"]["rows_per_sec"].as_f64().unwrap();
        println!(
            "--rate 200, {rows} rows: {sustained:.1}/s sustained = {:.3} of 200, {} failed",
            sustained / 200.0,
            run.summary["total"]["failed"]
        );
        emulator.shutdown().await;

        // 3. Memory, 10k rows against 1M rows.
        let addr = stub().await;
        let base = format!("http://{addr}");
        let mut peaks = Vec::new();
        for rows in [scaled(10_000), scaled(1_000_000)] {
            let csv = dir.join(format!("memory-{rows}.csv"));
            write_csv(&csv, rows, "mem");
            let run = upload(&base, "bench-key", &csv, &[]).await;
            println!(
                "memory, {rows} rows: peak RSS {:.1} MB ({:.0} rows/s against the stub)",
                run.peak_rss_kb as f64 / 1024.0,
                rows as f64 / run.seconds
            );
            peaks.push(run.peak_rss_kb as f64);
        }
        println!(
            "memory ratio (1M rows / 10k rows) = {:.2}x",
            peaks[1] / peaks[0]
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}
