//! What goes over the wire for every endpoint: method, path, headers, body, as a real
//! server on 127.0.0.1 receives it.

mod common;

use common::{TestServer, json, status_body, submit_body};
use serde_json::json as j;
use transcend_hyper::proto::{DEFAULT_USER_AGENT, Nonce};
use transcend_hyper::types::*;
use transcend_hyper::{Client, DatapointSource};

fn client(server: &TestServer) -> Client {
    Client::builder()
        .api_key("api-key-1")
        .sombra_key("sombra-key-1")
        .base_url(&server.url)
        .build()
        .unwrap()
}

fn assert_common(captured: &common::Captured) {
    assert_eq!(captured.headers["authorization"], "Bearer api-key-1");
    assert_eq!(
        captured.headers["x-sombra-authorization"],
        "Bearer sombra-key-1"
    );
    assert_eq!(captured.headers["user-agent"], DEFAULT_USER_AGENT);
}

#[tokio::test]
async fn submit_and_get() {
    let server = TestServer::start(true, |i, _| {
        if i == 0 {
            json(200, submit_body())
        } else {
            json(200, status_body())
        }
    })
    .await;
    let client = client(&server);
    let dsr = SubmitDsr::new(
        RequestAction::Access,
        Subject::new("id-123456789").email("user@example.com"),
        "customer",
    );
    let created = client.submit_dsr(&dsr).await.unwrap();
    assert_eq!(created.request.id, "da13");
    let status = client.get_dsr("da13 / x").await.unwrap();
    assert_eq!(status.status, RequestStatus::Compiling);

    let [submit, get] = <[_; 2]>::try_from(server.requests()).unwrap();
    assert_eq!(
        (submit.method.as_str(), submit.path.as_str()),
        ("POST", "/v1/data-subject-request")
    );
    assert_common(&submit);
    assert_eq!(submit.headers["content-type"], "application/json");
    assert_eq!(submit.headers["accept"], "application/json");
    assert_eq!(
        submit.json(),
        j!({"type": "ACCESS", "subject": {"coreIdentifier": "id-123456789", "email": "user@example.com"}, "subjectType": "customer"})
    );
    assert_eq!(
        (get.method.as_str(), get.path.as_str()),
        ("GET", "/v1/data-subject-request/da13%20%2F%20x")
    );
    assert_common(&get);
    assert!(get.body.is_empty());
}

#[tokio::test]
async fn silo_reports() {
    let server = TestServer::start(true, |_, _| json(200, j!({}))).await;
    let client = client(&server);
    let nonce = Nonce::new("nonce-1");
    client
        .upload_access(
            &nonce,
            &AccessUpload::ready(vec![AccessProfile::new("ben").datapoint("name", j!("Ben"))]),
        )
        .await
        .unwrap();
    client
        .report_erasure(&nonce, &ErasureReport::erased())
        .await
        .unwrap();
    let pages = client
        .upload_datapoint_chunked(
            &nonce,
            "friends",
            vec![vec![j!({"n": 1})], vec![j!({"n": 2})]],
        )
        .await
        .unwrap();
    assert_eq!(pages, 2);

    let captured = server.requests();
    let summary: Vec<(String, String)> = captured
        .iter()
        .map(|c| (c.method.to_string(), c.path.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            ("POST".into(), "/v1/data-silo".into()),
            ("PUT".into(), "/v1/data-silo".into()),
            ("POST".into(), "/v1/datapoint-chunked".into()),
            ("POST".into(), "/v1/datapoint-chunked".into()),
        ]
    );
    for c in &captured {
        assert_common(c);
        assert_eq!(c.headers["x-transcend-nonce"], "nonce-1");
        assert_eq!(c.headers["content-type"], "application/json");
    }
    assert_eq!(
        captured[0].json(),
        j!({"profiles": [{"profileId": "ben", "profileData": {"name": "Ben"}}], "status": "READY"})
    );
    assert_eq!(captured[1].json(), j!({}));
    assert_eq!(
        captured[2].json(),
        j!({"dataPointName": "friends", "data": [{"n": 1}], "fileId": "page 1", "isLastPage": false})
    );
    assert_eq!(
        captured[3].json(),
        j!({"dataPointName": "friends", "data": [{"n": 2}], "fileId": "page 2", "isLastPage": true})
    );
}

#[tokio::test]
async fn no_pages_still_completes_the_datapoint() {
    let server = TestServer::start(true, |_, _| json(200, j!({}))).await;
    let sent = client(&server)
        .upload_datapoint_chunked(&Nonce::new("n"), "friends", Vec::<Vec<_>>::new())
        .await
        .unwrap();
    assert_eq!(sent, 1);
    assert_eq!(
        server.requests()[0].json(),
        j!({"dataPointName": "friends", "data": [], "fileId": "page 1", "isLastPage": true})
    );
}

#[tokio::test]
async fn file_upload_headers_and_bytes() {
    let server = TestServer::start(true, |_, _| json(200, j!({}))).await;
    let dir = std::env::temp_dir().join(format!("transcend-wire-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("photo.jpg");
    std::fs::write(&path, b"\xff\xd8binary\x00bytes").unwrap();
    let upload = DatapointUpload::new("profile_picture")
        .remote_id("photo.jpg")
        .skip_status_update(true);
    client(&server)
        .upload_datapoint(&Nonce::new("nonce-1"), upload, DatapointSource::file(&path))
        .await
        .unwrap();
    let captured = &server.requests()[0];
    assert_eq!(
        (captured.method.as_str(), captured.path.as_str()),
        ("POST", "/v1/datapoint")
    );
    assert_common(captured);
    assert_eq!(captured.headers["content-type"], "application/octet-stream");
    assert_eq!(captured.headers["x-transcend-nonce"], "nonce-1");
    assert_eq!(
        captured.headers["x-transcend-datapoint-name"],
        "profile_picture"
    );
    assert_eq!(captured.headers["x-transcend-remote-id"], "photo.jpg");
    assert_eq!(captured.headers["x-transcend-skip-status-update"], "true");
    assert_eq!(captured.headers["content-length"], "14");
    assert_eq!(captured.body.as_ref(), b"\xff\xd8binary\x00bytes");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn reader_uploads_use_chunked_transfer() {
    let server = TestServer::start(true, |_, _| json(200, j!({}))).await;
    let reader = std::io::Cursor::new(vec![7u8; 200_000]);
    client(&server)
        .upload_datapoint(
            &Nonce::new("n"),
            DatapointUpload::new("blob"),
            DatapointSource::reader(reader, None),
        )
        .await
        .unwrap();
    let captured = &server.requests()[0];
    assert_eq!(captured.headers["transfer-encoding"], "chunked");
    assert!(captured.headers.get("content-length").is_none());
    assert_eq!(captured.body_len, 200_000);
}

#[tokio::test]
async fn byte_streams_upload_as_they_come() {
    let server = TestServer::start(true, |_, _| json(200, j!({}))).await;
    let chunks =
        futures_util::stream::iter((0..5).map(|i| Ok(bytes::Bytes::from(vec![i as u8; 1000]))));
    client(&server)
        .upload_datapoint(
            &Nonce::new("n"),
            DatapointUpload::new("blob"),
            DatapointSource::stream(chunks),
        )
        .await
        .unwrap();
    let captured = &server.requests()[0];
    assert_eq!(captured.body_len, 5000);
    assert_eq!(&captured.body[..1000], &[0u8; 1000][..]);
    assert_eq!(&captured.body[4000..], &[4u8; 1000][..]);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = TestServer::start(true, |_, _| {
        http::Response::builder()
            .status(302)
            .header("location", "http://127.0.0.1:9/elsewhere")
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap()
    })
    .await;
    let error = client(&server).get_dsr("da13").await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(302));
    assert_eq!(
        error.kind(),
        Some(transcend_hyper::proto::ErrorKind::Unexpected)
    );
    assert_eq!(server.requests().len(), 1, "the redirect was not followed");
}

#[tokio::test]
async fn the_signing_key_is_fetched_as_text() {
    use p384_key::public_pem;
    let pem = public_pem();
    let body = pem.clone();
    let server = TestServer::start(true, move |_, _| {
        http::Response::builder()
            .header("content-type", "text/plain")
            .body(http_body_util::Full::new(bytes::Bytes::from(body.clone())))
            .unwrap()
    })
    .await;
    let key = client(&server).signing_key().await.unwrap();
    assert_eq!(key.as_str().trim(), pem.trim());
    let captured = &server.requests()[0];
    assert_eq!(captured.path, "/public-keys/sombra-general-signing-key");
    assert_eq!(captured.headers["accept"], "text/plain");
}

/// A freshly generated P-384 public key in PEM.
mod p384_key {
    use p384::pkcs8::{EncodePublicKey, LineEnding};

    pub fn public_pem() -> String {
        let secret = p384::SecretKey::random(&mut rand_core::OsRng);
        secret
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap()
    }
}
