//! The ureq example, run against a local server: another HTTP library carries the
//! client's requests, with the same wire format and the same retries.

mod common;

#[path = "../examples/ureq_transport.rs"]
#[allow(dead_code)]
mod example;

use common::{TestServer, json, status_body};
use transcend_hyper::proto::ErrorKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ureq_transport_talks_to_a_real_server() {
    let server = TestServer::start(true, |i, _| {
        if i == 0 {
            json(503, serde_json::json!({"message": "warming up"}))
        } else {
            json(200, status_body())
        }
    })
    .await;
    let client = example::ureq_client(&server.url, "key-1").unwrap();
    let status = client.get_dsr("da13").await.unwrap();
    assert_eq!(status.id, "da13");
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "the 503 was retried by the client");
    assert_eq!(requests[1].path, "/v1/data-subject-request/da13");
    assert_eq!(requests[1].headers["authorization"], "Bearer key-1");

    let missing = TestServer::start(true, |_, _| {
        json(404, serde_json::json!({"message": "No such request"}))
    })
    .await;
    let error = example::ureq_client(&missing.url, "key-1")
        .unwrap()
        .get_dsr("x")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), Some(ErrorKind::NotFound));
    assert_eq!(error.message(), Some("No such request"));
}
