//! Each endpoint's request, compared with one written out by hand from the reference
//! pages: method, URL, every header, body.

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use serde_json::json;
use transcend_proto::endpoint::get_dsr::GetDsrEndpoint;
use transcend_proto::endpoint::report_erasure::ReportErasureEndpoint;
use transcend_proto::endpoint::signing_key::SigningKeyEndpoint;
use transcend_proto::endpoint::submit_dsr::SubmitDsrEndpoint;
use transcend_proto::endpoint::upload_access::UploadAccessEndpoint;
use transcend_proto::endpoint::upload_datapoint;
use transcend_proto::endpoint::upload_datapoint_chunked::UploadDatapointChunkedEndpoint;
use transcend_proto::types::*;
use transcend_proto::{Config, DEFAULT_USER_AGENT, Endpoint, Report, Sombra};

fn self_hosted() -> Config {
    Config::new("api-key-1")
        .with_sombra(Sombra::Url("https://sombra.acme.test".into()))
        .unwrap()
        .with_sombra_key("sombra-key-1")
        .unwrap()
}

/// Headers as sorted (name, value) pairs, for a readable comparison.
fn pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

fn assert_same<B: AsRef<[u8]>>(actual: &Request<B>, expected: Request<&str>) {
    assert_eq!(actual.method(), expected.method());
    assert_eq!(actual.uri(), expected.uri());
    assert_eq!(pairs(actual.headers()), pairs(expected.headers()));
    let (a, e) = (actual.body().as_ref(), expected.body().as_bytes());
    if e.is_empty() {
        assert!(a.is_empty());
    } else {
        let a: serde_json::Value = serde_json::from_slice(a).unwrap();
        let e: serde_json::Value = serde_json::from_slice(e).unwrap();
        assert_eq!(a, e);
    }
}

fn expected(method: Method, url: &str) -> http::request::Builder {
    Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", "Bearer api-key-1")
        .header("x-sombra-authorization", "Bearer sombra-key-1")
        .header("user-agent", DEFAULT_USER_AGENT)
        .header("accept", "application/json")
}

#[test]
fn submit_dsr() {
    let dsr = SubmitDsr::builder(
        RequestAction::Access,
        Subject::new("id-123456789").email("user@example.com"),
        "customer",
    )
    .locale(Locale::En)
    .build()
    .unwrap();
    let body = r#"{"type":"ACCESS","subject":{"coreIdentifier":"id-123456789","email":"user@example.com"},"subjectType":"customer","locale":"en"}"#;
    let want = expected(
        Method::POST,
        "https://sombra.acme.test/v1/data-subject-request",
    )
    .header("content-type", "application/json")
    .header("content-length", body.len())
    .body(body)
    .unwrap();
    let got = SubmitDsrEndpoint::build_request(&self_hosted(), &dsr).unwrap();
    assert_same(&got, want);
    assert_eq!(got.body().as_ref(), body.as_bytes(), "byte-exact body");
}

#[test]
fn get_dsr() {
    let want = expected(
        Method::GET,
        "https://sombra.acme.test/v1/data-subject-request/da13d328-3f9d-40d5-9312-9f4fcf3ad0d2",
    )
    .header("content-type", "application/json")
    .body("")
    .unwrap();
    let got = GetDsrEndpoint::build_request(
        &self_hosted(),
        &"da13d328-3f9d-40d5-9312-9f4fcf3ad0d2".to_owned(),
    )
    .unwrap();
    assert_same(&got, want);
}

#[test]
fn upload_access() {
    let upload = AccessUpload::ready(vec![
        AccessProfile::new("ben").datapoint("name", json!("Ben Farrell")),
    ]);
    let body = r#"{"profiles":[{"profileId":"ben","profileData":{"name":"Ben Farrell"}}],"status":"READY"}"#;
    let want = expected(Method::POST, "https://sombra.acme.test/v1/data-silo")
        .header("x-transcend-nonce", "nonce-1")
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(body)
        .unwrap();
    let got = UploadAccessEndpoint::build_request(&self_hosted(), &Report::new("nonce-1", upload))
        .unwrap();
    assert_same(&got, want);
}

#[test]
fn report_erasure() {
    let want = expected(Method::PUT, "https://sombra.acme.test/v1/data-silo")
        .header("x-transcend-nonce", "nonce-1")
        .header("content-type", "application/json")
        .header("content-length", 2)
        .body("{}")
        .unwrap();
    let got = ReportErasureEndpoint::build_request(
        &self_hosted(),
        &Report::new("nonce-1", ErasureReport::erased()),
    )
    .unwrap();
    assert_same(&got, want);
}

#[test]
fn upload_datapoint_chunked() {
    let chunk = DatapointChunk::new("friends", vec![], true).file_id("page 3");
    let body = r#"{"dataPointName":"friends","data":[],"fileId":"page 3","isLastPage":true}"#;
    let want = expected(
        Method::POST,
        "https://sombra.acme.test/v1/datapoint-chunked",
    )
    .header("x-transcend-nonce", "nonce-1")
    .header("content-type", "application/json")
    .header("content-length", body.len())
    .body(body)
    .unwrap();
    let got = UploadDatapointChunkedEndpoint::build_request(
        &self_hosted(),
        &Report::new("nonce-1", chunk),
    )
    .unwrap();
    assert_same(&got, want);
}

#[test]
fn upload_datapoint_streams_the_callers_body() {
    let upload = DatapointUpload::new("profile_picture")
        .remote_id("photo 1.jpg")
        .profile_id("ben")
        .skip_status_update(true);
    let want = expected(Method::POST, "https://sombra.acme.test/v1/datapoint")
        .header("x-transcend-nonce", "nonce-1")
        .header("content-type", "application/octet-stream")
        .header("x-transcend-datapoint-name", "profile_picture")
        .header("x-transcend-remote-id", "photo 1.jpg")
        .header("x-transcend-profile-id", "ben")
        .header("x-transcend-skip-status-update", "true")
        .header("content-length", 4)
        .body("")
        .unwrap();
    let got = upload_datapoint::build_streamed_request(
        &self_hosted(),
        &Report::new("nonce-1", upload),
        "data",
        Some(4),
    )
    .unwrap();
    assert_eq!(got.method(), want.method());
    assert_eq!(got.uri(), want.uri());
    assert_eq!(pairs(got.headers()), pairs(want.headers()));
    assert_eq!(*got.body(), "data");
}

#[test]
fn signing_key_asks_for_text() {
    let got = SigningKeyEndpoint::build_request(&Config::new("api-key-1"), &()).unwrap();
    assert_eq!(
        got.uri(),
        "https://multi-tenant.sombra.transcend.io/public-keys/sombra-general-signing-key"
    );
    assert_eq!(got.headers()["accept"], "text/plain");
    assert!(
        got.headers().get("x-sombra-authorization").is_none(),
        "no Sombra key configured"
    );
}

#[test]
fn credentials_and_nonces_are_marked_sensitive() {
    let report = Report::new("nonce-1", ErasureReport::erased());
    let got = ReportErasureEndpoint::build_request(&self_hosted(), &report).unwrap();
    for name in [
        "authorization",
        "x-sombra-authorization",
        "x-transcend-nonce",
    ] {
        assert!(got.headers()[name].is_sensitive(), "{name}");
    }
}

#[test]
fn invalid_inputs_are_refused_before_anything_is_built() {
    let mut dsr = SubmitDsr::new(RequestAction::Access, Subject::new("id"), "customer");
    dsr.data_silo_ids = Some(vec!["a".into()]);
    dsr.ignore_data_silo_ids = Some(vec!["b".into()]);
    let error = SubmitDsrEndpoint::build_request(&Config::new("k"), &dsr).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot build the submit_dsr request: "),
        "{error}"
    );
    assert!(error.to_string().contains("`dataSiloIds`"), "{error}");

    let bad_nonce = Report::new("line\nbreak", ErasureReport::erased());
    let error = ReportErasureEndpoint::build_request(&Config::new("k"), &bad_nonce).unwrap_err();
    assert!(
        !error.to_string().contains("line"),
        "the nonce must not leak: {error}"
    );

    let upload = Report::new("n", DatapointUpload::new("files").remote_id("a\r\nb"));
    let error =
        upload_datapoint::build_streamed_request(&Config::new("k"), &upload, Bytes::new(), None)
            .unwrap_err();
    assert!(
        error.to_string().contains("x-transcend-remote-id"),
        "{error}"
    );
}
