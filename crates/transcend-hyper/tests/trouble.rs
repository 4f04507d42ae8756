//! Behaviour under trouble, against real servers on 127.0.0.1: rate limits, server
//! errors, broken connections, silence, oversize bodies.
//!
//! Elapsed times are only checked from below where a wait is the behaviour under test
//! (`Retry-After`, a timeout), and from above with wide margins, to show nothing hangs.

mod common;

use std::time::{Duration, Instant};

use common::{TestServer, json, never_answer, raw_server, reset_mid_response, status_body};
use serde_json::json as j;
use transcend_hyper::proto::{ErrorKind, RetryPolicy};
use transcend_hyper::types::{RequestAction, Subject, SubmitDsr};
use transcend_hyper::{Client, Error};

fn client(url: &str) -> Client {
    Client::builder()
        .api_key("key")
        .base_url(url)
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_backoff(Duration::from_millis(10), Duration::from_millis(50)),
        )
        .build()
        .unwrap()
}

fn dsr() -> SubmitDsr {
    SubmitDsr::new(RequestAction::Access, Subject::new("id-1"), "customer")
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_succeeds() {
    let server = TestServer::start(true, |i, _| {
        if i == 0 {
            let mut response = json(429, j!({"message": "Too many requests"}));
            response
                .headers_mut()
                .insert("retry-after", "1".parse().unwrap());
            response
        } else {
            json(200, status_body())
        }
    })
    .await;
    let started = Instant::now();
    let status = client(&server.url).get_dsr("da13").await.unwrap();
    assert_eq!(status.id, "da13");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited only {:?}",
        started.elapsed()
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_submission_is_also_retried_after_429() {
    let server = TestServer::start(true, |i, _| {
        if i == 0 {
            let mut response = json(429, j!({"message": "slow down"}));
            response
                .headers_mut()
                .insert("retry-after", "0".parse().unwrap());
            response
        } else {
            json(200, common::submit_body())
        }
    })
    .await;
    client(&server.url).submit_dsr(&dsr()).await.unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn server_errors_are_retried_until_the_attempts_run_out() {
    let server = TestServer::start(true, |_, _| json(500, j!({"message": "boom"}))).await;
    let error = client(&server.url).get_dsr("da13").await.unwrap_err();
    assert_eq!(
        server.requests().len(),
        3,
        "exactly the configured attempts"
    );
    assert_eq!(error.kind(), Some(ErrorKind::Server));
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(error.message(), Some("boom"));
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_submission_that_got_a_500_is_not_sent_twice() {
    let server = TestServer::start(true, |_, _| json(500, j!({"message": "maybe created"}))).await;
    let error = client(&server.url).submit_dsr(&dsr()).await.unwrap_err();
    assert_eq!(server.requests().len(), 1);
    assert_eq!(error.kind(), Some(ErrorKind::Server));
}

#[tokio::test]
async fn a_413_is_final_and_typed() {
    let server = TestServer::start(false, |_, _| {
        json(413, j!({"message": "Request entity too large"}))
    })
    .await;
    let error = client(&server.url)
        .upload_access(
            &"n".into(),
            &transcend_hyper::types::AccessUpload::not_found(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), Some(ErrorKind::TooLarge));
    assert!(!error.is_retryable());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_connection_reset_mid_response_is_a_send_error_and_retried_when_safe() {
    let (url, connections) = raw_server(reset_mid_response).await;
    let error = client(&url).get_dsr("da13").await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Send {
                endpoint: "get_dsr",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(*connections.lock().unwrap(), 3, "a read is retried");

    let (url, connections) = raw_server(reset_mid_response).await;
    let error = client(&url).submit_dsr(&dsr()).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Send {
                endpoint: "submit_dsr",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(*connections.lock().unwrap(), 1, "a submission is not");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_near_the_deadline() {
    let (url, connections) = raw_server(never_answer).await;
    let client = Client::builder()
        .api_key("key")
        .base_url(&url)
        .attempt_timeout(Duration::from_millis(300))
        .max_attempts(1)
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client.get_dsr("da13").await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            error,
            Error::Timeout {
                what: "attempt",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_timeout() && error.is_retryable());
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    assert_eq!(*connections.lock().unwrap(), 1);
}

#[tokio::test]
async fn the_call_deadline_bounds_retries_too() {
    let (url, connections) = raw_server(never_answer).await;
    let client = Client::builder()
        .api_key("key")
        .base_url(&url)
        .attempt_timeout(Duration::from_millis(200))
        .call_timeout(Some(Duration::from_millis(500)))
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(10)
                .with_backoff(Duration::from_millis(1), Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    let error = client.get_dsr("da13").await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    let attempts = *connections.lock().unwrap();
    assert!(
        (2..10).contains(&attempts),
        "the deadline stopped the retries: {attempts}"
    );
}

#[tokio::test]
async fn no_server_at_all_is_a_connect_error_and_even_a_submission_is_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = client(&url).submit_dsr(&dsr()).await.unwrap_err();
    assert!(matches!(error, Error::Connect { .. }), "{error:?}");
    assert!(error.to_string().contains("cannot connect"), "{error}");
}

#[tokio::test]
async fn a_success_body_that_is_not_json_is_a_decode_error() {
    let server = TestServer::start(true, |_, _| {
        http::Response::builder()
            .status(200)
            .body(http_body_util::Full::new(bytes::Bytes::from_static(
                b"<html>",
            )))
            .unwrap()
    })
    .await;
    let error = client(&server.url).get_dsr("da13").await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Protocol(transcend_hyper::proto::Error::Decode(_))
        ),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 1, "not retried");
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused() {
    let error = Client::builder()
        .api_key("k")
        .base_url("http://sombra.acme.test")
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error:?}");
}
