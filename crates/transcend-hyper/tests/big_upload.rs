//! A 50 MB file goes to `POST /v1/datapoint` streamed: it arrives intact, and the
//! process's memory grows by far less than the file. Alone in its binary so that no
//! other test shares the measured process.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{DIGEST_START, TestServer, digest, json};
use transcend_hyper::proto::Nonce;
use transcend_hyper::types::DatapointUpload;
use transcend_hyper::{Client, DatapointSource};

const SIZE: usize = 50 << 20;

fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_file_is_streamed_with_bounded_memory() {
    // The file: a repeating pattern, written in pieces.
    let dir = std::env::temp_dir().join(format!("transcend-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("export.bin");
    let mut expected = DIGEST_START;
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let block: Vec<u8> = (0..1_048_576u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        for _ in 0..SIZE / block.len() {
            file.write_all(&block).unwrap();
            expected = digest(expected, &block);
        }
    }

    // The server digests the body as it arrives and keeps none of it.
    let server = TestServer::start(false, |_, _| json(200, serde_json::json!({}))).await;
    let client = Client::builder()
        .api_key("key")
        .base_url(&server.url)
        .build()
        .unwrap();
    // Warm up the pool and allocator so the baseline includes them.
    client
        .upload_datapoint(
            &Nonce::new("n"),
            DatapointUpload::new("warmup"),
            DatapointSource::bytes(vec![0u8; 1024]),
        )
        .await
        .unwrap();

    let Some(baseline) = rss_bytes() else {
        eprintln!("no /proc/self/status: memory not measured");
        return;
    };
    let peak = Arc::new(AtomicU64::new(baseline));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (Arc::clone(&peak), Arc::clone(&done));
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Some(rss) = rss_bytes() {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    client
        .upload_datapoint(
            &Nonce::new("n"),
            DatapointUpload::new("export"),
            DatapointSource::file(&path),
        )
        .await
        .unwrap();
    done.store(true, Ordering::Relaxed);
    sampler.await.unwrap();

    let received = server.requests().pop().unwrap();
    assert_eq!(received.body_len, SIZE as u64);
    assert_eq!(received.body_digest, expected, "the bytes arrived intact");
    assert_eq!(received.headers["content-length"], SIZE.to_string());
    let growth = peak.load(Ordering::Relaxed).saturating_sub(baseline);
    eprintln!(
        "peak RSS growth while uploading 50 MB: {:.1} MB",
        growth as f64 / 1e6
    );
    assert!(
        growth < 16 << 20,
        "memory grew by {growth} bytes: the file was buffered"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
