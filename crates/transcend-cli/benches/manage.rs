//! The admin API's bulk commands measured against baselines in the same run:
//!
//! 1. `transcend request approve` of 10,000 requests waiting in the emulator, 50 in
//!    flight, against a bare hyper-util generator posting the same `approveRequest`
//!    mutations, pre-built, 50 in flight (the ids listed beforehand, not timed). Each
//!    round starts two fresh emulators of 10,000 requests; three alternating rounds,
//!    medians. The command's time includes finding the requests and its journal.
//! 2. `transcend request export` of every request with its identifiers: the command's
//!    peak RSS at 100,000 requests against 10,000, and rows per second.
//!
//! Run: `cargo bench -p transcend-cli --bench manage` (`MANAGE_BENCH_SCALE=0.1` for a
//! quick look, `MANAGE_BENCH_ONLY=approve` for the first alone).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use http_body_util::{BodyExt, Full};
use transcend_emulator::{Emulator, EmulatorConfig};
use transcend_hyper::Client;
use transcend_hyper::admin::{self, RequestFilters};
use transcend_hyper::bytes::Bytes;
use transcend_hyper::types::{RequestAction, Subject, SubmitDsr};

const CONCURRENCY: usize = 50;
const ROUNDS: usize = 3;

fn scale() -> f64 {
    std::env::var("MANAGE_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

fn scaled(n: usize) -> usize {
    ((n as f64 * scale()) as usize).max(100)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn emulator() -> Emulator {
    let config = EmulatorConfig::from_toml("[lifecycle]\napproval = true\n").unwrap();
    Emulator::builder().config(config).start().await.unwrap()
}

fn client(emulator: &Emulator) -> Client {
    Client::builder()
        .base_url(emulator.base_url())
        .backend_url(emulator.base_url())
        .api_key(emulator.api_key())
        .build()
        .unwrap()
}

async fn fill(emulator: &Emulator, n: usize) {
    let client = client(emulator);
    futures_util::stream::iter(0..n)
        .map(|i| {
            let client = &client;
            async move {
                let dsr = SubmitDsr::new(
                    RequestAction::ContactOptOut,
                    Subject::new(format!("person-{i}")).email(format!("p{i}@example.com")),
                    "customer",
                );
                client.submit_dsr(&dsr).await.unwrap();
            }
        })
        .buffer_unordered(32)
        .for_each(|_| async {})
        .await;
}

/// Seconds for the bare generator to approve every request waiting.
async fn bare_approve(emulator: &Emulator) -> f64 {
    let client = client(emulator);
    let ids: Vec<String> = client
        .requests(RequestFilters::new().status([admin::RequestStatus::Approving]))
        .map_ok(|r| r.id().to_owned())
        .try_collect()
        .await
        .unwrap();
    let config = client.config().clone();
    let bodies: Vec<Bytes> = ids
        .iter()
        .map(|id| {
            admin::build_request::<admin::ApproveRequest>(
                &config,
                &admin::CommunicationInput::new(id),
            )
            .unwrap()
            .into_body()
        })
        .collect();
    let bare = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let url = format!("{}/graphql", emulator.base_url());
    let key = format!("Bearer {}", emulator.api_key());
    let started = Instant::now();
    futures_util::stream::iter(bodies)
        .map(|body| {
            let request = transcend_hyper::http::Request::post(&url)
                .header("authorization", &key)
                .header("content-type", "application/json")
                .body(Full::new(body))
                .unwrap();
            let bare = &bare;
            async move {
                let response = bare.request(request).await.unwrap();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                assert!(!body.windows(8).any(|w| w == b"\"errors\""));
            }
        })
        .buffer_unordered(CONCURRENCY)
        .for_each(|_| async {})
        .await;
    started.elapsed().as_secs_f64()
}

fn command(emulator: &Emulator, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_transcend"));
    command
        .args(args)
        .current_dir(dir)
        .env("TRANSCEND_API_KEY", emulator.api_key())
        .env("TRANSCEND_API_URL", emulator.base_url())
        .env("SOMBRA_URL", emulator.base_url())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Runs a command to its end: seconds, and its peak RSS in kB.
async fn timed(mut command: Command) -> (f64, u64) {
    let started = Instant::now();
    let mut child = command.spawn().unwrap();
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut peak = 0;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "the command failed");
            break;
        }
        if let Some(hwm) = std::fs::read_to_string(&status_file).ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<u64>()
                .ok()
        }) {
            peak = peak.max(hwm);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (started.elapsed().as_secs_f64(), peak)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!("transcend-manage-bench-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let n = scaled(10_000);

        let (mut bare_rates, mut command_rates) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let (a, b) = (emulator().await, emulator().await);
            fill(&a, n).await;
            fill(&b, n).await;
            let journal = dir.join(format!("approve-{round}.journal"));
            let approve = command(&b, &dir, &[
                "request",
                "approve",
                "--concurrency",
                &CONCURRENCY.to_string(),
                "--journal",
                journal.to_str().unwrap(),
            ]);
            let (bare, cli) = if round % 2 == 0 {
                let bare = bare_approve(&a).await;
                (bare, timed(approve).await.0)
            } else {
                let cli = timed(approve).await.0;
                (bare_approve(&a).await, cli)
            };
            bare_rates.push(n as f64 / bare);
            command_rates.push(n as f64 / cli);
            a.shutdown().await;
            b.shutdown().await;
        }
        let (bare, cli) = (median(bare_rates), median(command_rates));
        println!("| approving {n} requests, {CONCURRENCY} in flight | bare hyper-util, pre-built mutations | `transcend request approve` | ratio |");
        println!("|---|---|---|---|");
        println!("| approvals per second (median of {ROUNDS}) | {bare:.0}/s | {cli:.0}/s | **{:.2}** |", cli / bare);

        if std::env::var("MANAGE_BENCH_ONLY").as_deref() == Ok("approve") {
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
        let mut peaks = Vec::new();
        for total in [scaled(10_000), scaled(100_000)] {
            let emulator = emulator().await;
            fill(&emulator, total).await;
            let file = dir.join(format!("export-{total}.csv"));
            let export = command(&emulator, &dir, &[
                "request",
                "export",
                "--all-statuses",
                "--file",
                file.to_str().unwrap(),
            ]);
            let (seconds, peak) = timed(export).await;
            let rows = std::fs::read_to_string(&file).unwrap().lines().count() - 1;
            assert_eq!(rows, total);
            peaks.push((total, peak, rows as f64 / seconds));
            emulator.shutdown().await;
        }
        println!();
        println!("| `transcend request export` with identifiers | requests | peak RSS | rows/s |");
        println!("|---|---|---|---|");
        for (total, peak, rate) in &peaks {
            println!("| | {total} | {:.1} MB | {rate:.0}/s |", *peak as f64 / 1024.0);
        }
        println!(
            "| peak RSS, {} against {} | | **{:.2}** | |",
            peaks[1].0,
            peaks[0].0,
            peaks[1].1 as f64 / peaks[0].1 as f64
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}
