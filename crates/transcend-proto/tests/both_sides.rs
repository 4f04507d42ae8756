//! Laws across the two sides of every endpoint:
//! `parse_request(build_request(x)) == x` and `parse_response(build_response(y)) == y`,
//! and errors built by a server read back on the client.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use proptest::prelude::*;
use transcend_proto::endpoint::download_file::DownloadFileEndpoint;
use transcend_proto::endpoint::download_keys::{DownloadKeysEndpoint, DownloadKeysQuery};
use transcend_proto::endpoint::enrich_identifiers::{
    EnrichIdentifiersEndpoint, Enrichment, EnrichmentTarget,
};
use transcend_proto::endpoint::get_dsr::GetDsrEndpoint;
use transcend_proto::endpoint::pending_requests::{PendingRequestsEndpoint, PendingRequestsQuery};
use transcend_proto::endpoint::report_erasure::ReportErasureEndpoint;
use transcend_proto::endpoint::request_identifiers::RequestIdentifiersEndpoint;
use transcend_proto::endpoint::signing_key::{SigningKeyEndpoint, SigningKeyPem};
use transcend_proto::endpoint::submit_dsr::SubmitDsrEndpoint;
use transcend_proto::endpoint::upload_access::UploadAccessEndpoint;
use transcend_proto::endpoint::upload_datapoint::{self, UploadDatapointEndpoint};
use transcend_proto::endpoint::upload_datapoint_chunked::UploadDatapointChunkedEndpoint;
use transcend_proto::server::{Route, ServerError};
use transcend_proto::types::arbitrary as arb;
use transcend_proto::{
    Accepted, ApiKey, Config, Endpoint, ErrorKind, Nonce, Report, Sombra, SombraKey,
};

fn config() -> Config {
    Config::new("api-key")
        .with_sombra(Sombra::Url("http://127.0.0.1:4000".into()))
        .unwrap()
        .with_sombra_key("sombra-key")
        .unwrap()
}

/// Sends the built request through the server side, as a server would receive it.
fn across<E: Endpoint>(input: &E::Input) -> E::Input
where
    E::Input: std::fmt::Debug,
{
    let request = E::build_request(&config(), input).unwrap();
    let routed = Route::of(request.method(), request.uri().path()).unwrap();
    assert_eq!(routed.route.info(), &E::INFO, "routed to itself");
    let incoming = E::parse_request(request).unwrap();
    assert_eq!(incoming.credentials.api_key, Some(ApiKey::new("api-key")));
    assert_eq!(
        incoming.credentials.sombra_key,
        Some(SombraKey::new("sombra-key"))
    );
    incoming.input
}

fn back<E: Endpoint>(output: &E::Output) -> E::Output {
    E::parse_response(E::build_response(output)).unwrap()
}

fn nonce() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~+/=-]{1,64}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn submit_dsr(dsr in arb::submit_dsr(true), response in arb::submit_dsr_response()) {
        prop_assert_eq!(across::<SubmitDsrEndpoint>(&dsr), dsr);
        prop_assert_eq!(back::<SubmitDsrEndpoint>(&response), response);
    }

    #[test]
    fn get_dsr(id in "\\PC{1,40}", status in arb::dsr_status()) {
        prop_assert_eq!(across::<GetDsrEndpoint>(&id), id);
        prop_assert_eq!(back::<GetDsrEndpoint>(&status), status);
    }

    #[test]
    fn upload_access(nonce in nonce(), upload in arb::access_upload(true)) {
        let report = Report::new(nonce, upload);
        prop_assert_eq!(across::<UploadAccessEndpoint>(&report), report);
        prop_assert_eq!(back::<UploadAccessEndpoint>(&Accepted), Accepted);
    }

    #[test]
    fn report_erasure(nonce in nonce(), report in arb::erasure_report(true)) {
        let report = Report::new(nonce, report);
        prop_assert_eq!(across::<ReportErasureEndpoint>(&report), report);
        prop_assert_eq!(back::<ReportErasureEndpoint>(&Accepted), Accepted);
    }

    #[test]
    fn request_identifiers(query in arb::request_identifiers_query(), page in arb::request_identifiers_page()) {
        prop_assume!(!query.request_id.is_empty());
        prop_assert_eq!(across::<RequestIdentifiersEndpoint>(&query), query);
        prop_assert_eq!(back::<RequestIdentifiersEndpoint>(&page), page);
    }

    #[test]
    fn download_keys(id in "\\PC{1,40}", limit in proptest::option::of(any::<u32>()), offset in proptest::option::of(any::<u32>()), page in arb::download_keys_page()) {
        let mut query = DownloadKeysQuery::new(id);
        query.limit = limit;
        query.offset = offset;
        prop_assert_eq!(across::<DownloadKeysEndpoint>(&query), query);
        prop_assert_eq!(back::<DownloadKeysEndpoint>(&page), page);
    }

    #[test]
    fn download_file(key in "\\PC{1,60}", bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        prop_assert_eq!(across::<DownloadFileEndpoint>(&key), key);
        let bytes = Bytes::from(bytes);
        prop_assert_eq!(back::<DownloadFileEndpoint>(&bytes), bytes);
    }

    #[test]
    fn pending_requests(silo in "\\PC{1,40}", action in arb::request_action(true), limit in proptest::option::of(any::<u32>()), offset in proptest::option::of(any::<u32>()), page in arb::pending_requests_page()) {
        let mut query = PendingRequestsQuery::new(silo, action);
        query.limit = limit;
        query.offset = offset;
        prop_assert_eq!(across::<PendingRequestsEndpoint>(&query), query);
        prop_assert_eq!(back::<PendingRequestsEndpoint>(&page), page);
    }

    #[test]
    fn enrich_identifiers(nonce in nonce(), request in "[a-z0-9-]{1,20}", enricher in "[a-z0-9-]{1,20}", manual in any::<bool>(), body in arb::enrich_identifiers(true)) {
        let target = if manual {
            EnrichmentTarget::Manual { request_id: request, enricher_id: enricher }
        } else {
            EnrichmentTarget::Nonce(Nonce::new(nonce))
        };
        let enrichment = Enrichment::new(target, body);
        prop_assert_eq!(across::<EnrichIdentifiersEndpoint>(&enrichment), enrichment);
        prop_assert_eq!(back::<EnrichIdentifiersEndpoint>(&Accepted), Accepted);
    }

    #[test]
    fn upload_datapoint_chunked(nonce in nonce(), chunk in arb::datapoint_chunk()) {
        let report = Report::new(nonce, chunk);
        prop_assert_eq!(across::<UploadDatapointChunkedEndpoint>(&report), report);
    }

    #[test]
    fn upload_datapoint(nonce in nonce(), upload in arb::datapoint_upload(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let report = Report::new(nonce, upload);
        let request = upload_datapoint::build_streamed_request(&config(), &report, Bytes::from(body.clone()), Some(body.len() as u64)).unwrap();
        prop_assert_eq!(Route::of(request.method(), request.uri().path()).unwrap().route, Route::UploadDatapoint);
        let (incoming, received) = upload_datapoint::parse_streamed_request(request).unwrap();
        prop_assert_eq!(incoming.input, report.clone());
        prop_assert_eq!(received.as_ref(), body.as_slice());
        prop_assert_eq!(across::<UploadDatapointEndpoint>(&report), report);
        prop_assert_eq!(back::<UploadDatapointEndpoint>(&Accepted), Accepted);
    }

    #[test]
    fn server_errors_read_back_as_api_errors(message in "\\PC{1,40}", seconds in 1u64..3600) {
        let cases = [
            (ServerError::BadRequest { message: message.clone() }, ErrorKind::BadRequest),
            (ServerError::Unauthorized { message: message.clone() }, ErrorKind::Unauthorized),
            (ServerError::Conflict { message: message.clone() }, ErrorKind::Conflict),
            (ServerError::PayloadTooLarge { limit: 50 << 20 }, ErrorKind::TooLarge),
            (ServerError::RateLimited { retry_after: Duration::from_secs(seconds), rate_limit: Default::default() }, ErrorKind::RateLimited),
            (ServerError::Unavailable { status: StatusCode::BAD_GATEWAY, message: message.clone() }, ErrorKind::Server),
        ];
        for (error, kind) in cases {
            let parsed = GetDsrEndpoint::parse_response(error.to_response()).unwrap_err();
            prop_assert_eq!(parsed.kind(), Some(kind));
            prop_assert_eq!(parsed.status(), Some(error.status()));
            let message = error.message();
            prop_assert_eq!(parsed.message(), Some(message.as_str()));
        }
    }
}

#[test]
fn the_signing_key_round_trips() {
    use p384::pkcs8::{EncodePublicKey, LineEnding};
    let secret = p384::SecretKey::random(&mut rand_core::OsRng);
    let pem = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let key = SigningKeyPem::parse(pem.clone()).unwrap();
    assert_eq!(back::<SigningKeyEndpoint>(&key), key);
    across::<SigningKeyEndpoint>(&());
}

#[test]
fn a_server_refuses_reports_without_a_nonce_and_bodies_that_break_the_rules() {
    let request = Request::put("/v1/data-silo")
        .body(Bytes::from_static(b"{}"))
        .unwrap();
    let error = ReportErasureEndpoint::parse_request(request).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Client error: missing header x-transcend-nonce"
    );

    let body = br#"{"type":"ACCESS","subject":{"coreIdentifier":"id"},"subjectType":"customer","dataSiloIds":["a"],"ignoreDataSiloIds":["b"]}"#;
    let request = Request::post("/v1/data-subject-request")
        .body(Bytes::from_static(body))
        .unwrap();
    let error = SubmitDsrEndpoint::parse_request(request).unwrap_err();
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert!(
        error
            .to_string()
            .contains("`dataSiloIds` cannot be set together with `ignoreDataSiloIds`"),
        "{error}"
    );

    let body = br#"{"type":"ACCESS","subject":{"coreIdentifier":7},"subjectType":"customer"}"#;
    let request = Request::post("/v1/data-subject-request")
        .body(Bytes::from_static(body))
        .unwrap();
    let error = SubmitDsrEndpoint::parse_request(request).unwrap_err();
    assert!(
        error.to_string().contains("`subject.coreIdentifier`"),
        "{error}"
    );

    let request = Request::get("/v1/data-subject-request")
        .body(Bytes::new())
        .unwrap();
    assert_eq!(
        SubmitDsrEndpoint::parse_request(request)
            .unwrap_err()
            .status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}
