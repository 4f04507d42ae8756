use bytes::Bytes;
use http::{Response, StatusCode};

use super::*;
use crate::{Backend, GraphQlErrorKind};

fn config() -> Config {
    Config::new("secret-key")
        .with_backend(Backend::Url("http://127.0.0.1:4000".into()))
        .unwrap()
}

fn answer(status: u16, body: &str) -> Response<Bytes> {
    Response::builder()
        .status(status)
        .body(Bytes::from(body.to_owned()))
        .unwrap()
}

#[test]
fn an_operation_is_a_post_of_its_generated_document_to_graphql() {
    let request = build_request::<ApproveRequest>(
        &config(),
        &CommunicationInput::new("r-1").email("Re: Your request", "Approved"),
    )
    .unwrap();
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(request.uri(), "http://127.0.0.1:4000/graphql");
    assert_eq!(request.headers()["authorization"], "Bearer secret-key");
    assert_eq!(request.headers()["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    let query = body["query"].as_str().unwrap();
    assert!(
        query.starts_with("mutation ApproveMutation($input: CommunicationInput!)"),
        "{query}"
    );
    assert!(query.contains("approveRequest(input: $input)"), "{query}");
    assert!(query.contains("daysRemaining"), "{query}");
    assert_eq!(body["variables"]["input"]["requestId"], "r-1");
    assert_eq!(body["variables"]["input"]["subject"], "Re: Your request");
    assert_eq!(body["operationName"], "ApproveMutation");
}

#[test]
fn the_document_is_generated_once_and_the_body_is_the_same_after() {
    let first =
        build_request::<ApproveRequest>(&config(), &CommunicationInput::new("r-1")).unwrap();
    let second =
        build_request::<ApproveRequest>(&config(), &CommunicationInput::new("r-1")).unwrap();
    let read =
        |r: &http::Request<Bytes>| serde_json::from_slice::<serde_json::Value>(r.body()).unwrap();
    assert_eq!(read(&first), read(&second));
    let third =
        build_request::<ApproveRequest>(&config(), &CommunicationInput::new("r-2")).unwrap();
    assert_eq!(read(&third)["variables"]["input"]["requestId"], "r-2");
    assert_eq!(read(&third)["query"], read(&first)["query"]);
}

#[test]
fn a_cursor_page_sends_its_filter_order_and_cursor() {
    let page = RequestsPage::first(
        RequestFilters::new()
            .status([RequestStatus::Approving])
            .origin([RequestOrigin::Api]),
    )
    .after("cursor-1");
    let request = build_request::<ListRequests>(&config(), &page).unwrap();
    let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
    let variables = &body["variables"];
    assert_eq!(variables["first"], 100);
    assert_eq!(variables["after"], "cursor-1");
    assert_eq!(
        variables["filterBy"],
        serde_json::json!({"status": ["APPROVING"], "origin": ["API"]})
    );
    assert_eq!(
        variables["orderBy"],
        serde_json::json!([{"field": "createdAt", "direction": "ASC"}, {"field": "id", "direction": "ASC"}])
    );
}

const REQUEST: &str = r#"{"id":"r-1","createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z",
 "status":"COMPILING","type":"ERASURE","subjectType":"customer","locale":"en","details":null,"email":"a@example.com",
 "coreIdentifier":"u-1","country":"EU","countrySubDivision":null,"owners":[],"teams":[],"successfullyCompletedAt":null,"daysRemaining":30,"isTest":false,
 "isSilent":false,"origin":"API","link":"https://app.transcend.io/privacy-requests/incoming-requests/r-1",
 "attributeValues":[],"aFieldAddedLater":1}"#;

#[test]
fn data_is_read_and_unknown_fields_and_values_are_tolerated() {
    let body = format!(
        r#"{{"data":{{"request":{}}}}}"#,
        REQUEST.replace("COMPILING", "TELEPORTED")
    );
    let request = parse_response::<GetRequest, _>(answer(200, &body)).unwrap();
    assert_eq!(request.id(), "r-1");
    assert_eq!(request.status, RequestStatus::Unknown("TELEPORTED".into()));
    assert_eq!(request.action, RequestAction::Erasure);
    assert_eq!(request.days_remaining, Some(30));
    assert_eq!(request.country.unwrap().to_string(), "EU");
}

#[test]
fn errors_are_typed_and_a_partial_answer_is_an_error() {
    let body = format!(
        r#"{{"data":{{"request":{REQUEST}}},"errors":[{{"message":"Too many requests","path":["request"]}}]}}"#
    );
    let error = parse_response::<GetRequest, _>(answer(200, &body)).unwrap_err();
    let graphql = error.graphql().unwrap();
    assert!(graphql.partial);
    assert_eq!(graphql.kind, GraphQlErrorKind::RateLimited);
    assert_eq!(error.kind(), Some(crate::ErrorKind::RateLimited));
    assert!(error.is_retryable());

    let body = r#"{"data":null,"errors":[{"message":"Request must be in an approving state"}]}"#;
    let error = parse_response::<ApproveRequest, _>(answer(200, body)).unwrap_err();
    assert!(error.is_already_done());
    assert!(!error.is_retryable());

    let body = r#"{"errors":[{"message":"Cannot query field \"nope\" on type \"Query\".","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}"#;
    let error = parse_response::<GetRequest, _>(answer(400, body)).unwrap_err();
    assert_eq!(error.graphql().unwrap().kind, GraphQlErrorKind::Invalid);
    assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));
    assert!(!error.is_retryable());

    let body = r#"{"errors":[{"message":"API key is invalid"}]}"#;
    let error = parse_response::<GetRequest, _>(answer(200, body)).unwrap_err();
    assert_eq!(error.kind(), Some(crate::ErrorKind::Unauthorized));
}

#[test]
fn a_body_that_is_not_graphql_is_an_api_error_or_a_decode_error() {
    let error =
        parse_response::<GetRequest, _>(answer(502, "<html>bad gateway</html>")).unwrap_err();
    assert_eq!(error.kind(), Some(crate::ErrorKind::Server));
    let error =
        parse_response::<GetRequest, _>(answer(200, r#"{"data":{"request":{"id":"r-1"}}}"#))
            .unwrap_err();
    assert!(matches!(error, Error::Decode(_)), "{error}");
    let error = parse_response::<GetRequest, _>(answer(200, "{}")).unwrap_err();
    assert!(matches!(error, Error::Decode(_)), "{error}");
}

#[test]
fn the_key_never_shows_in_a_built_request_debug() {
    let request = build_request::<GetRequest>(&config(), "r-1").unwrap();
    assert!(request.headers()["authorization"].is_sensitive());
    assert!(!format!("{request:?}").contains("secret-key"));
}
