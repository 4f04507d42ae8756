//! Downloading a 200 MB access report of 20 files from the emulator: `download_report`
//! against `curl` fetching the same files (same keys, 4 in parallel) in the same run,
//! and the growth of this process's peak RSS while `download_report` runs.
//!
//! The emulator runs on its own thread; the client on another runtime; curl is its own
//! process. Medians of 3 alternating rounds.
//!
//! Run: `cargo bench -p transcend-emulator --bench report_download`

mod common;

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use transcend_emulator::{DataSiloConfig, Emulator};
use transcend_hyper::server::Server;
use transcend_hyper::types::{
    AccessUpload, DatapointUpload, RequestAction, RequestStatus, Subject, SubmitDsr,
};
use transcend_hyper::{Client, DatapointSource, DownloadOptions, WaitOptions};

const FILES: usize = 20;
const FILE_BYTES: usize = 10 << 20;
const ROUNDS: usize = 3;

/// Resets the peak RSS to the current RSS (Linux: `5` to `/proc/self/clear_refs`).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "transcend-bench-{name}-{:032x}",
        fastrand::u128(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name() != "manifest.json")
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn main() {
    // The emulator and a silo that keeps the nonce, on their own thread.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let nonces: Arc<Mutex<Vec<String>>> = Arc::default();
            let seen = Arc::clone(&nonces);
            let server = Server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
            let url = format!("http://{}/hook", server.local_addr());
            let _silo = server.serve(service_fn(move |request: Request<Incoming>| {
                if let Some(nonce) = request
                    .headers()
                    .get("x-transcend-nonce")
                    .and_then(|v| v.to_str().ok())
                {
                    seen.lock().unwrap().push(nonce.to_owned());
                }
                async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"{}")))) }
            }));
            let emulator = Emulator::builder()
                .data_silo(DataSiloConfig::new("files", &url).actions([RequestAction::Access]))
                .start()
                .await
                .unwrap();
            tx.send((emulator.base_url().to_owned(), emulator.api_key(), nonces))
                .unwrap();
            std::future::pending::<()>().await;
        });
    });
    let (base, key, nonces) = rx.recv().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let client = Client::builder()
        .base_url(&base)
        .api_key(key.as_str())
        .build()
        .unwrap();

    // A report of 20 files of 10 MB.
    let id = runtime.block_on(async {
        let dsr = SubmitDsr::new(RequestAction::Access, Subject::new("bench"), "customer");
        let id = client.submit_dsr(&dsr).await.unwrap().request.id;
        let nonce = loop {
            if let Some(nonce) = nonces.lock().unwrap().first().cloned() {
                break nonce;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let nonce = transcend_hyper::Nonce::new(nonce);
        for i in 0..FILES {
            let bytes: Vec<u8> = (0..FILE_BYTES).map(|b| (b * 31 + i) as u8).collect();
            client
                .upload_datapoint(
                    &nonce,
                    DatapointUpload::new(format!("file{i}")).remote_id(format!("file-{i}.bin")),
                    DatapointSource::bytes(bytes),
                )
                .await
                .unwrap();
        }
        client
            .upload_access(&nonce, &AccessUpload::ready(vec![]))
            .await
            .unwrap();
        client
            .wait_for_dsr(&id, WaitOptions::until([RequestStatus::Downloadable]))
            .await
            .unwrap();
        id
    });
    let total = (FILES * FILE_BYTES) as f64 / 1e6;

    let (mut ours, mut curl, mut growth) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let dir = fresh_dir("ours");
        reset_peak();
        let before = common::rss();
        let started = Instant::now();
        let report = runtime
            .block_on(client.download_report(&id, &dir, DownloadOptions::default().concurrency(4)))
            .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        growth.push(common::rss_peak().saturating_sub(before) as f64 / 1e6);
        assert!(report.is_complete() && report.downloaded == FILES);
        assert_eq!(dir_bytes(&dir), (FILES * FILE_BYTES) as u64);
        ours.push(total / seconds);
        std::fs::remove_dir_all(&dir).unwrap();

        let keys = runtime.block_on(client.download_keys(&id)).unwrap();
        let dir = fresh_dir("curl");
        let mut command = Command::new("curl");
        command
            .args([
                "-s",
                "-f",
                "--no-progress-meter",
                "--parallel",
                "--parallel-max",
                "4",
                "-H",
            ])
            .arg(format!("authorization: Bearer {key}"));
        for (i, k) in keys.iter().enumerate() {
            command
                .arg("-o")
                .arg(dir.join(format!("f{i}")))
                .arg(format!(
                    "{base}{}",
                    transcend_hyper::proto::endpoint::download_file::path(&k.download_key)
                ));
        }
        let started = Instant::now();
        let status = command.status().expect("curl is installed");
        let seconds = started.elapsed().as_secs_f64();
        assert!(status.success());
        assert_eq!(dir_bytes(&dir), (FILES * FILE_BYTES) as u64);
        curl.push(total / seconds);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let (ours, curl, growth) = (median(ours), median(curl), median(growth));
    println!(
        "report download, {FILES} files of {} MB, medians of {ROUNDS} alternating rounds",
        FILE_BYTES >> 20
    );
    println!("  curl --parallel-max 4   {curl:8.0} MB/s");
    println!(
        "  download_report (c=4)   {ours:8.0} MB/s   ratio {:.3} (target >= 0.9)",
        ours / curl
    );
    println!(
        "  peak RSS growth while download_report runs: {growth:.1} MB (target <= 16 MB; emulator in the same process)"
    );
}
