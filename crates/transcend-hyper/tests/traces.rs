//! What the client traces: calls and attempts by name, never a key, a token or a
//! nonce.
//!
//! Its own test binary, with the one test installing a global subscriber: tracing
//! caches per call site whether anyone listens, and a thread-local subscriber races with
//! other tests of the same process hitting the same call sites without one.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{TestServer, json};
use transcend_hyper::Client;
use transcend_hyper::proto::{Nonce, RetryPolicy};
use transcend_hyper::types::ErasureReport;

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

/// Collects everything tracing writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn traces_name_calls_and_attempts_but_never_secrets() {
    let server = TestServer::start(true, |i, _| {
        if i == 0 {
            json(503, serde_json::json!({"message": "busy"}))
        } else {
            json(200, serde_json::json!({}))
        }
    })
    .await;
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let client = Client::builder()
        .api_key("secret-api-key")
        .sombra_key("secret-sombra-key")
        .base_url(&server.url)
        .retry_policy(quick_retries())
        .build()
        .unwrap();
    client
        .report_erasure(&Nonce::new("secret-nonce"), &ErasureReport::erased())
        .await
        .unwrap();
    let shown = format!("{client:?}");

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("retrying"), "{text}");
    assert!(text.contains("report_erasure"), "{text}");
    assert!(text.contains("attempt"), "{text}");
    for secret in ["secret-api-key", "secret-sombra-key", "secret-nonce"] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into traces: {text}"
        );
        assert!(
            !shown.contains(secret),
            "{secret} leaked into Debug: {shown}"
        );
    }
}
