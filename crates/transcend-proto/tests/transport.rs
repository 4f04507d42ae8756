//! Plugging in transports: a closure that asserts on the request, and the recording
//! transport replaying canned answers.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use serde_json::json;
use transcend_proto::endpoint::get_dsr::GetDsrEndpoint;
use transcend_proto::endpoint::submit_dsr::SubmitDsrEndpoint;
use transcend_proto::testing::{RecordingTransport, TransportFailure};
use transcend_proto::types::{RequestAction, Subject, SubmitDsr};
use transcend_proto::{CallError, Config, ErrorKind, call};

#[tokio::test]
async fn a_closure_is_a_transport() {
    let transport = |request: Request<Bytes>| async move {
        assert_eq!(request.method(), "POST");
        assert_eq!(request.headers()["authorization"], "Bearer key");
        let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
        assert_eq!(body["subject"]["coreIdentifier"], "id-1");
        let answer = json!({"request": {"id": "r1", "status": "COMPILING", "type": "ACCESS",
            "subjectType": "customer", "email": null, "coreIdentifier": "id-1"}});
        Ok::<_, std::io::Error>(Response::new(Bytes::from(answer.to_string())))
    };
    let dsr = SubmitDsr::new(RequestAction::Access, Subject::new("id-1"), "customer");
    let created = call::<SubmitDsrEndpoint, _>(&transport, &Config::new("key"), &dsr)
        .await
        .unwrap();
    assert_eq!(created.request.id, "r1");
}

#[tokio::test]
async fn the_recording_transport_records_and_replays_in_order() {
    let transport = RecordingTransport::new();
    transport
        .reply_json(
            StatusCode::OK,
            &json!({"id": "a", "status": "COMPILING", "type": "ACCESS",
            "subjectType": "customer", "email": "a@b.c", "coreIdentifier": "c"}),
        )
        .reply_json(StatusCode::CONFLICT, &json!({"message": "not modifiable"}))
        .fail("connection reset");
    let config = Config::new("key");
    let first = call::<GetDsrEndpoint, _>(&transport, &config, &"a".to_owned())
        .await
        .unwrap();
    assert_eq!(first.email.as_deref(), Some("a@b.c"));
    let second = call::<GetDsrEndpoint, _>(&transport, &config, &"b".to_owned())
        .await
        .unwrap_err();
    assert!(
        matches!(&second, CallError::Protocol(e) if e.kind() == Some(ErrorKind::Conflict)),
        "{second:?}"
    );
    let third = call::<GetDsrEndpoint, _>(&transport, &config, &"c".to_owned())
        .await
        .unwrap_err();
    assert!(
        matches!(&third, CallError::Transport(TransportFailure(m)) if m == "connection reset"),
        "{third:?}"
    );
    let fourth = call::<GetDsrEndpoint, _>(&transport, &config, &"d".to_owned())
        .await
        .unwrap_err();
    assert!(fourth.to_string().contains("no reply queued"), "{fourth}");

    let paths: Vec<String> = transport
        .requests()
        .iter()
        .map(|r| r.uri.path().to_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "/v1/data-subject-request/a",
            "/v1/data-subject-request/b",
            "/v1/data-subject-request/c",
            "/v1/data-subject-request/d"
        ]
    );
    assert_eq!(transport.pending_replies(), 0);
}

#[tokio::test]
async fn an_invalid_input_never_reaches_the_transport() {
    let transport = RecordingTransport::new();
    let dsr = SubmitDsr::new(RequestAction::Access, Subject::new(""), "customer");
    let error = call::<SubmitDsrEndpoint, _>(&transport, &Config::new("key"), &dsr)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("subject.coreIdentifier"),
        "{error}"
    );
    let CallError::Protocol(error) = error else {
        panic!("a validation error is the protocol's");
    };
    assert_eq!(error.kind(), Some(ErrorKind::Invalid));
    assert!(
        error
            .problems()
            .iter()
            .any(|p| p.field == "subject.coreIdentifier")
    );
    assert!(transport.requests().is_empty());
}
