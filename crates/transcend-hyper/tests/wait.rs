//! `wait_for_dsr` polls until the status it waits for, and gives up at its deadline.

mod common;

use std::time::Duration;

use common::{TestServer, json};
use transcend_hyper::types::RequestStatus;
use transcend_hyper::{Client, Error, WaitOptions};

fn status(value: &str) -> serde_json::Value {
    serde_json::json!({"id": "da13", "status": value, "type": "ACCESS", "subjectType": "customer",
        "email": null, "coreIdentifier": "id-1"})
}

#[tokio::test]
async fn polls_until_the_status_arrives() {
    let server = TestServer::start(true, |i, _| {
        json(
            200,
            status(if i < 2 { "COMPILING" } else { "DOWNLOADABLE" }),
        )
    })
    .await;
    let client = Client::builder()
        .api_key("k")
        .base_url(&server.url)
        .build()
        .unwrap();
    let options = WaitOptions::until([RequestStatus::Downloadable])
        .interval(Duration::from_millis(10), Duration::from_millis(20));
    let done = client.wait_for_dsr("da13", options).await.unwrap();
    assert_eq!(done.status, RequestStatus::Downloadable);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_terminal_status_ends_the_wait_even_if_another_was_asked_for() {
    let server = TestServer::start(true, |_, _| json(200, status("CANCELED"))).await;
    let client = Client::builder()
        .api_key("k")
        .base_url(&server.url)
        .build()
        .unwrap();
    let done = client
        .wait_for_dsr("da13", WaitOptions::until([RequestStatus::Downloadable]))
        .await
        .unwrap();
    assert_eq!(done.status, RequestStatus::Canceled);
}

#[tokio::test]
async fn the_wait_times_out() {
    let server = TestServer::start(true, |_, _| json(200, status("COMPILING"))).await;
    let client = Client::builder()
        .api_key("k")
        .base_url(&server.url)
        .build()
        .unwrap();
    let options = WaitOptions::default()
        .timeout(Duration::from_millis(100))
        .interval(Duration::from_millis(20), Duration::from_millis(20));
    let error = client.wait_for_dsr("da13", options).await.unwrap_err();
    assert!(
        matches!(error, Error::Timeout { what: "wait", .. }),
        "{error:?}"
    );
    assert!(server.requests().len() >= 2);
}

#[tokio::test]
async fn an_api_error_while_waiting_is_returned() {
    let server = TestServer::start(true, |_, _| {
        json(404, serde_json::json!({"message": "No such request"}))
    })
    .await;
    let client = Client::builder()
        .api_key("k")
        .base_url(&server.url)
        .build()
        .unwrap();
    let error = client
        .wait_for_dsr("nope", WaitOptions::default())
        .await
        .unwrap_err();
    assert_eq!(error.message(), Some("No such request"));
}
