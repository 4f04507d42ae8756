//! Reading what a server answers: success bodies with more than we know, bodies that
//! cannot be read, error bodies that are not JSON. Never a panic.

use bytes::Bytes;
use http::{Response, StatusCode};
use proptest::prelude::*;
use transcend_proto::endpoint::get_dsr::GetDsrEndpoint;
use transcend_proto::endpoint::report_erasure::ReportErasureEndpoint;
use transcend_proto::endpoint::signing_key::SigningKeyEndpoint;
use transcend_proto::endpoint::submit_dsr::SubmitDsrEndpoint;
use transcend_proto::types::RequestStatus;
use transcend_proto::{Endpoint, Error, ErrorKind, RetryAfter};

fn response(status: u16, body: &'static str) -> Response<Bytes> {
    Response::builder()
        .status(status)
        .header("x-request-id", "req-7")
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap()
}

#[test]
fn new_fields_and_values_from_the_server_are_kept_not_refused() {
    let body = r#"{"request":{"id":"da13","status":"PAUSED_FOR_REVIEW","type":"NEW_TYPE","subjectType":"customer",
        "email":null,"coreIdentifier":"c","isSilent":true,"isTest":false,"replyToEmailAddresses":[],"link":"l",
        "country":"US","countrySubDivision":"US-CA","brandNew":{"nested":[1]},
        "attributeValues":[{"id":"v1","name":"web","attributeKey":{"name":"Source","type":"TEXT"}}]}}"#;
    let created = SubmitDsrEndpoint::parse_response(response(200, body)).unwrap();
    assert_eq!(
        created.request.status,
        RequestStatus::parse("PAUSED_FOR_REVIEW")
    );
    assert_eq!(created.request.action.as_str(), "NEW_TYPE");
    assert_eq!(created.request.email, None);
    let value = &created.request.attribute_values[0];
    assert_eq!(
        (value.name.as_str(), value.attribute_key.name.as_str()),
        ("web", "Source")
    );
}

#[test]
fn a_success_body_that_cannot_be_read_names_the_json_path() {
    let body = r#"{"request":{"id":"da13","status":42,"type":"ACCESS"}}"#;
    let error = SubmitDsrEndpoint::parse_response(response(200, body)).unwrap_err();
    let Error::Decode(decode) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(decode.path, "request.status");
    assert_eq!(decode.request_id.as_deref(), Some("req-7"));
    assert_eq!(decode.body, body.as_bytes());
    assert!(
        error
            .to_string()
            .starts_with("cannot read the 200 OK response of submit_dsr at `request.status`: "),
        "{error}"
    );
    assert!(!error.is_retryable());

    let error = GetDsrEndpoint::parse_response(response(200, "<html>")).unwrap_err();
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
    let error = GetDsrEndpoint::parse_response(response(200, "")).unwrap_err();
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
}

#[test]
fn error_statuses_become_typed_errors_with_the_servers_message() {
    let body = r#"{"message":"Client error: You have already made this request."}"#;
    let error = SubmitDsrEndpoint::parse_response(response(400, body)).unwrap_err();
    assert_eq!(error.kind(), Some(ErrorKind::Duplicate));
    assert!(error.is_duplicate());
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(
        error.message(),
        Some("Client error: You have already made this request.")
    );
    assert_eq!(error.request_id(), Some("req-7"));
    let other =
        SubmitDsrEndpoint::parse_response(response(400, r#"{"message":"bad email"}"#)).unwrap_err();
    assert_eq!(other.kind(), Some(ErrorKind::BadRequest));
    assert!(!other.is_duplicate());

    let conflict =
        ReportErasureEndpoint::parse_response(response(409, r#"{"message":"finished"}"#))
            .unwrap_err();
    assert_eq!(conflict.kind(), Some(ErrorKind::Conflict));

    let proxy =
        GetDsrEndpoint::parse_response(response(502, "<html>Bad gateway</html>")).unwrap_err();
    assert_eq!(proxy.kind(), Some(ErrorKind::Server));
    assert_eq!(proxy.message(), None);
    assert!(proxy.is_retryable());
    assert_eq!(proxy.api().unwrap().body, "<html>Bad gateway</html>");
}

#[test]
fn rate_limits_carry_retry_after_and_the_window() {
    let limited = Response::builder()
        .status(429)
        .header("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")
        .header("x-ratelimit-limit", "100")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-reset", "1445412480000")
        .body(Bytes::from_static(br#"{"message":"slow down"}"#))
        .unwrap();
    let error = GetDsrEndpoint::parse_response(limited).unwrap_err();
    assert!(matches!(error.retry_after(), Some(RetryAfter::At(_))));
    let window = error.api().unwrap().rate_limit.unwrap();
    assert_eq!((window.limit, window.remaining), (Some(100), Some(0)));
}

#[test]
fn a_signing_key_that_is_not_a_pem_public_key_is_a_decode_error() {
    let error = SigningKeyEndpoint::parse_response(response(200, "not a key")).unwrap_err();
    assert!(error.to_string().contains("BEGIN PUBLIC KEY"), "{error}");
    let error = SigningKeyEndpoint::parse_response(response(
        200,
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ))
    .unwrap_err();
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
}

proptest! {
    #[test]
    fn any_response_reads_without_panicking(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let make = || Response::builder().status(status).body(body.clone()).unwrap();
        let _ = SubmitDsrEndpoint::parse_response(make());
        let _ = GetDsrEndpoint::parse_response(make());
        let _ = ReportErasureEndpoint::parse_response(make());
        let _ = SigningKeyEndpoint::parse_response(make());
        let ok = GetDsrEndpoint::parse_response(make()).is_ok();
        prop_assert!(!ok || StatusCode::from_u16(status).unwrap().is_success());
    }
}
