//! The emulator sheds clients that trickle a request: a body sent a byte at a time is
//! never idle, so the serving loop's minimum receive rate closes it, while a client
//! sending steadily is answered. No test measures time: each waits, with a generous
//! bound, for the server to act.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use transcend_emulator::Emulator;
use transcend_hyper::server::ServerLimits;

const PATIENCE: Duration = Duration::from_secs(20);

/// 1,000 B/s judged over 400 ms windows; the idle and header timeouts long, so only
/// the rate rule can cut a client off.
fn limits() -> ServerLimits {
    ServerLimits::default()
        .header_read_timeout(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(10))
        .min_receive_rate(1_000, Duration::from_millis(400))
}

fn head(emulator: &Emulator, length: usize) -> String {
    format!(
        "POST /v1/data-subject-request HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n",
        emulator.api_key()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_client_is_cut_off_and_a_steady_one_answered() {
    let emulator = Emulator::builder().limits(limits()).start().await.unwrap();
    let addr = emulator.base_url().trim_start_matches("http://").to_owned();

    let stream = TcpStream::connect(&addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(head(&emulator, 100_000).as_bytes())
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        while writer.write_all(b" ").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut buffer = [0u8; 1024];
    let cut = tokio::time::timeout(PATIENCE, async {
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    trickle.abort();
    assert!(cut.is_ok(), "a trickling client must be cut off");

    // The same length of body sent 500 bytes at a time (JSON padded with spaces) is
    // read to its end and answered (here: refused as invalid, which needs all of it).
    let chunks = 8;
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(head(&emulator, chunks * 500).as_bytes())
        .await
        .unwrap();
    for _ in 0..chunks {
        stream.write_all(&[b' '; 500]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut answer = String::new();
    tokio::time::timeout(PATIENCE, stream.read_to_string(&mut answer))
        .await
        .expect("answered")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    emulator.shutdown().await;
}
