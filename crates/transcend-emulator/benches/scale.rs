//! The emulator holding many requests, against the same emulator holding few, in one
//! run:
//!
//! 1. Submit latency (one at a time, through the SDK's client) with 100,000 stored
//!    requests against 1,000: the duplicate check and the store must not slow down
//!    with size.
//!    The same for a cron silo's first page of pending jobs.
//! 2. Memory per stored request: RSS growth over the 99,000 requests added between.
//! 3. `--data-dir` holding 100,000 requests: the time from `start()` to ready, and a
//!    submit's latency right after the restart against right before it (five
//!    restarts, the median ratio).
//! 4. A 30 MB access report (measured first, in a process that holds nothing yet): RSS
//!    growth while it is received and after, and how long listing the request takes.
//!    The report is streamed from a file so the sending side costs nothing.
//!
//! Run: `cargo bench -p transcend-emulator --bench scale` (`SCALE_BENCH_REQUESTS` to
//! change the 100,000; `SCALE_BENCH_REPORT_ONLY=1` for part 4 alone).

mod common;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use transcend_emulator::{Emulator, EmulatorConfig};
use transcend_hyper::Client;
use transcend_hyper::types::{RequestAction, Subject, SubmitDsr};

const SAMPLES: usize = 2_000;
const SMALL: usize = 1_000;
const RESTARTS: usize = 5;
const REPORTS: usize = 5;
const PULLS: usize = 200;

fn many() -> usize {
    std::env::var("SCALE_BENCH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}

/// A silo that pulls its jobs: requests stay open, as in a real backlog.
fn config(data_dir: Option<std::path::PathBuf>) -> EmulatorConfig {
    let mut config = EmulatorConfig::from_toml(
        r#"
        [[data_silos]]
        id = "warehouse"
        webhook_url = "http://127.0.0.1:9/unused"
        audience = "warehouse"
        pull = true
        "#,
    )
    .unwrap();
    config.data_dir = data_dir;
    config
}

fn client(emulator: &Emulator) -> Client {
    Client::builder()
        .base_url(emulator.base_url())
        .api_key(emulator.api_key())
        .build()
        .unwrap()
}

fn dsr(prefix: &str, i: usize) -> SubmitDsr {
    let action = if i.is_multiple_of(2) {
        RequestAction::Erasure
    } else {
        RequestAction::Access
    };
    SubmitDsr::new(
        action,
        Subject::new(format!("{prefix}-{i}")).email(format!("{prefix}{i}@example.com")),
        "customer",
    )
}

/// Fills the emulator up to `total` requests, 32 at a time.
async fn fill(client: &Client, from: usize, total: usize) {
    futures_util::stream::iter(from..total)
        .map(|i| async move { client.submit_dsr(&dsr("fill", i)).await.unwrap() })
        .buffer_unordered(32)
        .for_each(|_| async {})
        .await;
}

/// Median time for a cron silo to get its first page of pending jobs.
async fn pull_latency(client: &Client) -> Duration {
    let mut times = Vec::with_capacity(PULLS);
    for _ in 0..PULLS {
        let started = Instant::now();
        let first = std::pin::pin!(client.pending_requests("warehouse", RequestAction::Access, 50))
            .next()
            .await;
        times.push(started.elapsed());
        assert!(matches!(first, Some(Ok(_))));
    }
    times.sort();
    times[PULLS / 2]
}

/// Median and p99 of `SAMPLES` submits, one at a time.
async fn latency(client: &Client, prefix: &str) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let started = Instant::now();
        client.submit_dsr(&dsr(prefix, i)).await.unwrap();
        times.push(started.elapsed());
    }
    times.sort();
    (times[SAMPLES / 2], times[SAMPLES * 99 / 100])
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        large_report().await;
        if std::env::var_os("SCALE_BENCH_REPORT_ONLY").is_some() {
            return;
        }
        let many = many();
        let dir = std::env::temp_dir().join(format!("transcend-scale-bench-{}", std::process::id()));

        // 1 and 2, in memory.
        let emulator = Emulator::builder().config(config(None)).start().await.unwrap();
        let api = client(&emulator);
        fill(&api, 0, SMALL).await;
        let (small_p50, small_p99) = latency(&api, "small").await;
        let small_pull = pull_latency(&api).await;
        let rss_before = common::rss();
        let held_before = emulator.request_count();
        fill(&api, SMALL, many).await;
        let added = emulator.request_count() - held_before;
        let rss_after = common::rss();
        let (large_p50, large_p99) = latency(&api, "large").await;
        let large_pull = pull_latency(&api).await;
        println!(
            "submit latency, one at a time, {SAMPLES} samples: {SMALL} stored p50 {small_p50:?} p99 {small_p99:?}; \
             {many} stored p50 {large_p50:?} p99 {large_p99:?} = {:.2}x (p50)",
            large_p50.as_secs_f64() / small_p50.as_secs_f64()
        );
        println!(
            "a cron silo's first page of 50 pending jobs, p50 of {PULLS}: {SMALL} open requests {small_pull:?}; \
             {many} open {large_pull:?} = {:.2}x",
            large_pull.as_secs_f64() / small_pull.as_secs_f64()
        );
        println!(
            "memory: RSS {:.1} MB -> {:.1} MB over {added} requests = {:.0} bytes per stored request",
            rss_before as f64 / 1e6,
            rss_after as f64 / 1e6,
            (rss_after.saturating_sub(rss_before)) as f64 / added as f64
        );
        emulator.shutdown().await;

        // 3. With a data directory: fill once, then RESTARTS rounds of measure,
        //    restart, measure; the median of the rounds' ratios (one restart's ratio
        //    moves with whatever else the machine does in those seconds).
        let mut emulator = Emulator::builder()
            .config(config(Some(dir.clone())))
            .start()
            .await
            .unwrap();
        fill(&client(&emulator), 0, many).await;
        let mut ratios = Vec::new();
        let mut readies = Vec::new();
        for round in 0..RESTARTS {
            let (before_p50, _) = latency(&client(&emulator), &format!("before{round}")).await;
            let held = emulator.request_count();
            emulator.shutdown().await;
            let started = Instant::now();
            emulator = Emulator::builder()
                .config(config(Some(dir.clone())))
                .start()
                .await
                .unwrap();
            readies.push(started.elapsed());
            assert_eq!(emulator.request_count(), held);
            let (after_p50, _) = latency(&client(&emulator), &format!("after{round}")).await;
            ratios.push(after_p50.as_secs_f64() / before_p50.as_secs_f64());
            println!(
                "--data-dir with {held} requests, round {round}: ready {:?} after start; submit p50 \
                 {before_p50:?} before the restart, {after_p50:?} in the first {SAMPLES} after = {:.2}x",
                readies[round],
                ratios[round]
            );
        }
        readies.sort();
        let spread = ratios.clone();
        ratios.sort_by(f64::total_cmp);
        println!(
            "--data-dir restart: ready {:?} (median of {RESTARTS}); submit p50 after/before {:.2}x (median of {spread:.2?})",
            readies[RESTARTS / 2], ratios[RESTARTS / 2]
        );
        emulator.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);

    });
}

/// Part 4, a 30 MB access report, run first so the process holds nothing yet: RSS
/// growth while the emulator receives it and after.
async fn large_report() {
    let emulator = Emulator::builder()
        .config(config(None))
        .start()
        .await
        .unwrap();
    let api = client(&emulator);
    // The report is written to a file and streamed from it, so neither building nor
    // sending it weighs on this process: what grows is the emulator's.
    let file = std::env::temp_dir().join(format!(
        "transcend-scale-report-{}.json",
        std::process::id()
    ));
    let wire = write_report(&file, 430_000);
    // Five reports, each for its own request: the first also pays for what is set up
    // once (the parsing thread and its allocator arena), and what the allocator keeps
    // after any one of them moves with where freed blocks happened to land, so the
    // figures are the worst while received and the median after.
    let (mut peaks, mut afters) = (Vec::new(), Vec::new());
    let start = common::rss();
    for round in 0..REPORTS {
        let id = api
            .submit_dsr(&dsr("report", 2 * round + 1))
            .await
            .unwrap()
            .request
            .id;
        let job = std::pin::pin!(api.pending_requests("warehouse", RequestAction::Access, 50))
            .next()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.request_id.as_deref(), Some(id.as_str()));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = common::rss();
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let started = Instant::now();
        let sent = send_report(&emulator, job.nonce.expose(), &file, wire).await;
        let took = started.elapsed();
        let peak = common::rss_peak();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = common::rss();
        let started = Instant::now();
        let view = emulator.request(&id).unwrap();
        let listed = started.elapsed();
        println!(
            "{:.1} MB access report #{} ({}): received in {took:?}; RSS growth while received \
             {:.1} MB, after {:.2} MB; listing the request {listed:?} ({} files kept on disk)",
            wire as f64 / 1e6,
            round + 1,
            if sent.is_success() {
                "accepted".to_owned()
            } else {
                format!("refused: {sent}")
            },
            peak.saturating_sub(before) as f64 / 1e6,
            after.saturating_sub(before) as f64 / 1e6,
            view.jobs.iter().map(|j| j.files.len()).sum::<usize>(),
        );
        peaks.push(peak.saturating_sub(before));
        afters.push(after.saturating_sub(before));
    }
    let _ = std::fs::remove_file(&file);

    // A 48 MB submission of empty strings (an attribute with 16 million values).
    let file = std::env::temp_dir().join(format!(
        "transcend-scale-submission-{}.json",
        std::process::id()
    ));
    let length = {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        out.write_all(br#"{"type":"ACCESS","subject":{"coreIdentifier":"big"},"subjectType":"customer","attributes":[{"key":"k","values":["""#).unwrap();
        for _ in 0..16_000_000 {
            out.write_all(br#","""#).unwrap();
        }
        out.write_all(b"]}]}").unwrap();
        out.flush().unwrap();
        std::fs::metadata(&file).unwrap().len()
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = common::rss();
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let status = send_file(&emulator, "/v1/data-subject-request", None, &file, length).await;
    let peak = common::rss_peak();
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!(
        "{:.1} MB submission of empty strings: {status}; RSS growth while received {:.1} MB, after {:.1} MB",
        length as f64 / 1e6,
        peak.saturating_sub(before) as f64 / 1e6,
        common::rss().saturating_sub(before) as f64 / 1e6,
    );
    let _ = std::fs::remove_file(&file);
    afters.sort();
    println!(
        "{REPORTS} access reports of {:.1} MB: RSS growth while received at most {:.1} MB; after \
         each, median {:.2} MB; after all {REPORTS}, {:.2} MB in all",
        wire as f64 / 1e6,
        peaks.iter().max().copied().unwrap_or(0) as f64 / 1e6,
        afters[REPORTS / 2] as f64 / 1e6,
        common::rss().saturating_sub(start) as f64 / 1e6,
    );
    emulator.shutdown().await;
}

/// Writes an access report with one datapoint of `rows` objects to `path`, row by row
/// (never held whole); returns its size.
fn write_report(path: &std::path::Path, rows: usize) -> u64 {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(br#"{"profiles":[{"profileId":"p","profileData":{"history":["#)
        .unwrap();
    for i in 0..rows {
        let comma = if i == 0 { "" } else { "," };
        write!(
            out,
            r#"{comma}{{"order":{i},"item":"a book about the analytical engine","n":12345}}"#
        )
        .unwrap();
    }
    out.write_all(br#"]}}],"status":"READY"}"#).unwrap();
    out.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

/// `POST /v1/data-silo` with the report in `path` as the body, streamed from the file.
async fn send_report(
    emulator: &Emulator,
    nonce: &str,
    path: &std::path::Path,
    length: u64,
) -> http::StatusCode {
    send_file(emulator, "/v1/data-silo", Some(nonce), path, length).await
}

/// `POST` to `endpoint` with the JSON in `path` as the body, streamed from the file.
async fn send_file(
    emulator: &Emulator,
    endpoint: &str,
    nonce: Option<&str>,
    path: &std::path::Path,
    length: u64,
) -> http::StatusCode {
    let file = tokio::fs::File::open(path).await.unwrap();
    let frames = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024)
        .map(|chunk| chunk.map(http_body::Frame::data));
    let mut request = http::Request::post(format!("{}{endpoint}", emulator.base_url()))
        .header("authorization", format!("Bearer {}", emulator.api_key()))
        .header("content-type", "application/json")
        .header("content-length", length);
    if let Some(nonce) = nonce {
        request = request.header("x-transcend-nonce", nonce);
    }
    let request = request
        .body(http_body_util::StreamBody::new(frames))
        .unwrap();
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let response = http.request(request).await.unwrap();
    let status = response.status();
    if !status.is_success() {
        use http_body_util::BodyExt;
        let body = response.into_body().collect().await.unwrap().to_bytes();
        println!("{}", String::from_utf8_lossy(&body));
    }
    status
}
