//! Replacing the transport: a closure that asserts on the request, one-shot bodies that
//! must not be retried, files that are reopened.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::{TestServer, json};
use http::{Request, Response, StatusCode};
use transcend_hyper::proto::{Nonce, RetryPolicy};
use transcend_hyper::types::{DatapointUpload, ErasureReport, RequestAction, Subject, SubmitDsr};
use transcend_hyper::{Body, Client, DatapointSource};

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

#[tokio::test]
async fn a_closure_transport_gets_the_same_retries() {
    let calls = Arc::new(Mutex::new(0usize));
    let seen = Arc::clone(&calls);
    let transport = move |request: Request<Body>| {
        let seen = Arc::clone(&seen);
        async move {
            assert_eq!(
                request.uri(),
                "https://multi-tenant.sombra.transcend.io/v1/data-silo"
            );
            assert_eq!(request.method(), "PUT");
            assert_eq!(request.headers()["x-transcend-nonce"], "nonce-1");
            let body = request.into_body().collect_bytes().await?;
            assert_eq!(body, "{\"status\":\"SKIPPED\"}");
            let n = {
                let mut calls = seen.lock().unwrap();
                *calls += 1;
                *calls
            };
            let status = if n == 1 {
                StatusCode::BAD_GATEWAY
            } else {
                StatusCode::OK
            };
            Ok::<_, std::io::Error>(
                Response::builder()
                    .status(status)
                    .body(Bytes::from_static(b"{}"))
                    .unwrap(),
            )
        }
    };
    let client = Client::builder()
        .api_key("key")
        .retry_policy(quick_retries())
        .transport(transport)
        .build()
        .unwrap();
    client
        .report_erasure(&Nonce::new("nonce-1"), &ErasureReport::not_found())
        .await
        .unwrap();
    assert_eq!(*calls.lock().unwrap(), 2, "retried once after the 502");
}

#[tokio::test]
async fn a_refused_connection_from_a_custom_transport_lets_a_submission_retry() {
    let calls = Arc::new(Mutex::new(0usize));
    let seen = Arc::clone(&calls);
    let transport = move |_: Request<Body>| {
        let seen = Arc::clone(&seen);
        async move {
            *seen.lock().unwrap() += 1;
            Err::<Response<Bytes>, _>(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
        }
    };
    let client = Client::builder()
        .api_key("key")
        .retry_policy(quick_retries())
        .transport(transport)
        .build()
        .unwrap();
    let dsr = SubmitDsr::new(RequestAction::Access, Subject::new("id"), "customer");
    let error = client.submit_dsr(&dsr).await.unwrap_err();
    assert!(
        matches!(error, transcend_hyper::Error::Connect { .. }),
        "{error:?}"
    );
    assert_eq!(*calls.lock().unwrap(), 3);
}

#[tokio::test]
async fn a_one_shot_reader_is_never_retried_but_a_file_is_reopened() {
    let server = TestServer::start(false, |i, _| {
        if i < 2 {
            json(503, serde_json::json!({"message": "busy"}))
        } else {
            json(200, serde_json::json!({}))
        }
    })
    .await;
    let client = Client::builder()
        .api_key("key")
        .base_url(&server.url)
        .retry_policy(quick_retries())
        .build()
        .unwrap();

    let reader = std::io::Cursor::new(vec![1u8; 10_000]);
    let error = client
        .upload_datapoint(
            &Nonce::new("n"),
            DatapointUpload::new("a"),
            DatapointSource::reader(reader, Some(10_000)),
        )
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        server.requests().len(),
        1,
        "the reader was consumed: no retry"
    );

    let dir = std::env::temp_dir().join(format!("transcend-reopen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("f.bin");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&[2u8; 10_000])
        .unwrap();
    client
        .upload_datapoint(
            &Nonce::new("n"),
            DatapointUpload::new("b"),
            DatapointSource::file(&path),
        )
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        3,
        "503, then the reopened file went through"
    );
    assert_eq!(requests[1].body_len, 10_000);
    assert_eq!(requests[2].body_len, 10_000);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_missing_file_is_a_source_error_naming_the_path() {
    let client = Client::builder()
        .api_key("key")
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    let error = client
        .upload_datapoint(
            &Nonce::new("n"),
            DatapointUpload::new("a"),
            DatapointSource::file("/nonexistent/dir/file.bin"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, transcend_hyper::Error::Source { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("/nonexistent/dir/file.bin"),
        "{error}"
    );
}
