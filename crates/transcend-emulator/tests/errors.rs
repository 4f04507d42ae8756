//! Every refusal the emulator makes, with the status, headers and message of the
//! reference pages.

mod common;

use std::time::Duration;

use common::{TestSilo, client, client_with_key, raw};
use transcend_emulator::{ApiKeyConfig, Emulator, EmulatorConfig, RateLimitConfig, Scope};
use transcend_hyper::{Client, DatapointSource};
use transcend_proto::types::*;
use transcend_proto::{ErrorKind, Nonce};

fn dsr(id: &str) -> SubmitDsr {
    SubmitDsr::new(RequestAction::Access, Subject::new(id), "customer")
}

#[tokio::test]
async fn keys_and_scopes() {
    let emulator = Emulator::builder()
        .api_key(ApiKeyConfig::new("viewer", [Scope::View]))
        .api_key(ApiKeyConfig::new("submitter", [Scope::Submit]))
        .start()
        .await
        .unwrap();
    let (status, _, body) = raw(&emulator, "POST", "/v1/data-subject-request", &[], "{}").await;
    assert_eq!(status, 401);
    assert_eq!(
        body["message"],
        "Unauthorized: missing authorization: Bearer <API key>"
    );

    let wrong = client_with_key(&emulator, "nope")
        .submit_dsr(&dsr("a"))
        .await
        .unwrap_err();
    assert_eq!(
        (wrong.kind(), wrong.message()),
        (
            Some(ErrorKind::Unauthorized),
            Some("Unauthorized: invalid API key")
        )
    );

    let no_scope = client_with_key(&emulator, "viewer")
        .submit_dsr(&dsr("a"))
        .await
        .unwrap_err();
    assert_eq!(no_scope.kind(), Some(ErrorKind::Unauthorized));
    assert!(
        no_scope
            .message()
            .unwrap()
            .contains("Submit New Data Subject Request"),
        "{no_scope}"
    );

    let id = client_with_key(&emulator, "submitter")
        .submit_dsr(&dsr("a"))
        .await
        .unwrap()
        .request
        .id;
    let cannot_view = client_with_key(&emulator, "submitter")
        .get_dsr(&id)
        .await
        .unwrap_err();
    assert!(
        cannot_view
            .message()
            .unwrap()
            .contains("View Incoming Requests")
    );
    assert_eq!(
        client_with_key(&emulator, "viewer")
            .get_dsr(&id)
            .await
            .unwrap()
            .id,
        id
    );
    let missing = client_with_key(&emulator, "viewer")
        .get_dsr("no-such-id")
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), Some(ErrorKind::NotFound));
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_self_hosted_sombra_needs_its_key_on_every_call() {
    let emulator = Emulator::builder()
        .sombra_key("internal")
        .start()
        .await
        .unwrap();
    let error = client(&emulator).submit_dsr(&dsr("a")).await.unwrap_err();
    assert_eq!(error.kind(), Some(ErrorKind::Unauthorized));
    assert!(error.message().unwrap().contains("x-sombra-authorization"));
    let with_key = Client::builder()
        .base_url(emulator.base_url())
        .api_key(emulator.api_key())
        .sombra_key("internal")
        .build()
        .unwrap();
    with_key.submit_dsr(&dsr("a")).await.unwrap();
    with_key.signing_key().await.unwrap();
    emulator.shutdown().await;
}

#[tokio::test]
async fn invalid_bodies_and_duplicates_are_400_naming_why() {
    // A silo keeps requests open, so that a second one can be a duplicate.
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(silo.silo("a"))
        .start()
        .await
        .unwrap();
    let auth = [
        ("authorization", "Bearer test-key"),
        ("content-type", "application/json"),
    ];
    let (status, _, body) = raw(
        &emulator,
        "POST",
        "/v1/data-subject-request",
        &auth,
        r#"{"type":"ACCESS","subject":{"coreIdentifier":"x"},"subjectType":"customer","dataSiloIds":["a"],"ignoreDataSiloIds":["b"]}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("`dataSiloIds` cannot be set together with `ignoreDataSiloIds`")
    );

    let (status, _, body) = raw(
        &emulator,
        "POST",
        "/v1/data-subject-request",
        &auth,
        r#"{"type":"ACCESS","subject":{}}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("coreIdentifier"),
        "{body}"
    );

    let (status, _, body) = raw(
        &emulator,
        "POST",
        "/v1/data-subject-request",
        &auth,
        "not json",
    )
    .await;
    assert_eq!(status, 400, "{body}");

    let client = client(&emulator);
    client.submit_dsr(&dsr("same-person")).await.unwrap();
    let duplicate = client.submit_dsr(&dsr("same-person")).await.unwrap_err();
    assert_eq!(duplicate.kind(), Some(ErrorKind::Duplicate));
    assert!(duplicate.is_duplicate());
    assert_eq!(duplicate.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(
        duplicate.message(),
        Some("Client error: You have already made this request.")
    );
    // Another type for the same person is not a duplicate.
    let erasure = SubmitDsr::new(
        RequestAction::Erasure,
        Subject::new("same-person"),
        "customer",
    );
    client.submit_dsr(&erasure).await.unwrap();

    let (status, headers, _) = raw(&emulator, "DELETE", "/v1/data-silo", &auth, "").await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "POST, PUT");
    let (status, _, _) = raw(&emulator, "GET", "/v2/nothing", &auth, "").await;
    assert_eq!(status, 404);
    emulator.shutdown().await;
}

#[tokio::test]
async fn nonces_cannot_be_forged_and_silo_keys_stay_in_their_silo() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(silo.silo("a"))
        .data_silo(silo.silo("b"))
        .api_key(ApiKeyConfig::new("admin", Scope::ALL))
        .api_key(ApiKeyConfig::new("silo-a", [Scope::Report]).for_silo("a"))
        .start()
        .await
        .unwrap();
    let admin = client_with_key(&emulator, "admin");
    admin.submit_dsr(&dsr("p")).await.unwrap();
    let received = silo.wait_for(2).await;
    let nonce_of = |id: &str| {
        received
            .iter()
            .find(|r| {
                r.job
                    .extras
                    .as_ref()
                    .unwrap()
                    .data_silo
                    .as_ref()
                    .unwrap()
                    .id
                    .as_deref()
                    == Some(id)
            })
            .unwrap()
            .nonce
            .clone()
    };

    let forged = admin
        .report_erasure(
            &Nonce::new("bm90IGEgbm9uY2U.AAAA"),
            &ErasureReport::erased(),
        )
        .await
        .unwrap_err();
    assert_eq!(forged.kind(), Some(ErrorKind::BadRequest));
    assert!(
        forged
            .message()
            .unwrap()
            .contains("invalid x-transcend-nonce"),
        "{forged}"
    );

    let silo_a = client_with_key(&emulator, "silo-a");
    silo_a
        .report_erasure(&nonce_of("a"), &ErasureReport::erased())
        .await
        .unwrap();
    let other = silo_a
        .report_erasure(&nonce_of("b"), &ErasureReport::erased())
        .await
        .unwrap_err();
    assert_eq!(other.kind(), Some(ErrorKind::Unauthorized));
    assert!(other.message().unwrap().contains("another data silo"));
    let cannot_submit = silo_a.submit_dsr(&dsr("q")).await.unwrap_err();
    assert_eq!(cannot_submit.kind(), Some(ErrorKind::Unauthorized));
    // A nonce is good until its job is finished: a second report for a settled job is
    // 409, as Sombra answers it (while the request itself waits for silo b).
    let again = silo_a
        .report_erasure(&nonce_of("a"), &ErasureReport::erased())
        .await
        .unwrap_err();
    assert_eq!(again.kind(), Some(ErrorKind::Conflict), "{again}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_the_window() {
    let mut config = EmulatorConfig::default();
    config.rate_limit = Some(RateLimitConfig::new(1.0, 2));
    let emulator = Emulator::builder().config(config).start().await.unwrap();
    let client = client_with_key(&emulator, "test-key");
    client.signing_key().await.unwrap();
    client.signing_key().await.unwrap();
    let limited = client.signing_key().await.unwrap_err();
    assert_eq!(limited.kind(), Some(ErrorKind::RateLimited));
    let api = limited.api().unwrap();
    assert_eq!(
        api.retry_after,
        Some(transcend_proto::RetryAfter::Delay(Duration::from_secs(1)))
    );
    let window = api.rate_limit.unwrap();
    assert_eq!((window.limit, window.remaining), (Some(2), Some(0)));
    assert!(window.reset.is_some());
    // The client honours Retry-After and gets through.
    let patient = Client::builder()
        .base_url(emulator.base_url())
        .api_key("test-key")
        .build()
        .unwrap();
    patient.signing_key().await.unwrap();
    emulator.shutdown().await;
}

#[tokio::test]
async fn answers_let_through_report_the_window_so_clients_can_slow_down() {
    let mut config = EmulatorConfig::default();
    // A slow refill: the window cannot grow back between the two calls.
    config.rate_limit = Some(RateLimitConfig::new(0.01, 5));
    let emulator = Emulator::builder().config(config).start().await.unwrap();
    let auth = [("authorization", "Bearer test-key")];
    let remaining = |headers: &http::HeaderMap| {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
        };
        (
            number("x-ratelimit-limit"),
            number("x-ratelimit-remaining"),
            number("x-ratelimit-reset"),
        )
    };
    let (status, first, _) = raw(
        &emulator,
        "GET",
        "/public-keys/sombra-general-signing-key",
        &auth,
        "",
    )
    .await;
    assert_eq!(status, 200);
    let (_, second, _) = raw(
        &emulator,
        "GET",
        "/public-keys/sombra-general-signing-key",
        &auth,
        "",
    )
    .await;
    let (limit, left, reset) = remaining(&first);
    assert_eq!((limit, left), (Some(5), Some(4)));
    assert_eq!(remaining(&second).1, Some(3));
    // Epoch milliseconds: precise enough to pace by, and read by `RateLimitReset`.
    let reset = reset.unwrap();
    assert!(reset > 1_000_000_000_000, "{reset}");
    let window = transcend_proto::RateLimit::from_headers(&second).unwrap();
    assert!(matches!(
        window.reset,
        Some(transcend_proto::RateLimitReset::At(_))
    ));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_413_whether_declared_or_streamed() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let mut config = EmulatorConfig::default();
    config.body_limit = 4096;
    config.data_silos.push(silo.silo("a"));
    let emulator = Emulator::builder().config(config).start().await.unwrap();
    let client = client_with_key(&emulator, "test-key");
    client.submit_dsr(&dsr("p")).await.unwrap();
    let nonce = silo.wait_for(1).await.remove(0).nonce;

    let big = AccessUpload::partial(vec![
        AccessProfile::new("p").datapoint("blob", serde_json::json!("x".repeat(10_000))),
    ]);
    let declared = client.upload_access(&nonce, &big).await.unwrap_err();
    assert_eq!(declared.kind(), Some(ErrorKind::TooLarge));

    // No length announced: refused while streaming, and nothing is kept.
    let chunks =
        futures_util::stream::iter((0..10).map(|_| Ok(bytes::Bytes::from(vec![1u8; 1024]))));
    let streamed = client
        .upload_datapoint(
            &nonce,
            DatapointUpload::new("blob"),
            DatapointSource::stream(chunks),
        )
        .await
        .unwrap_err();
    assert_eq!(streamed.kind(), Some(ErrorKind::TooLarge), "{streamed:?}");
    assert!(emulator.requests().requests[0].jobs[0].files.is_empty());
    client
        .upload_datapoint(
            &nonce,
            DatapointUpload::new("small"),
            DatapointSource::bytes(vec![2u8; 1000]),
        )
        .await
        .unwrap();
    emulator.shutdown().await;
}

#[tokio::test]
async fn injected_faults_are_repeatable() {
    let mut config = EmulatorConfig::default();
    config.faults.error_500 = 1.0;
    let emulator = Emulator::builder().config(config).start().await.unwrap();
    let error = client_with_key(&emulator, "test-key")
        .signing_key()
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    emulator.shutdown().await;

    let mut config = EmulatorConfig::default();
    config.faults.drop_connection = 1.0;
    let emulator = Emulator::builder().config(config).start().await.unwrap();
    let error = client_with_key(&emulator, "test-key")
        .get_dsr("x")
        .await
        .unwrap_err();
    assert!(
        matches!(error, transcend_hyper::Error::Send { .. }),
        "{error:?}"
    );
    // The inspection API is never faulted.
    let (status, _, _) = raw(
        &emulator,
        "GET",
        "/emulator/v1/requests",
        &[("authorization", "Bearer test-key")],
        "",
    )
    .await;
    assert_eq!(status, 200);
    emulator.shutdown().await;
}

#[tokio::test]
async fn inspection_needs_a_key_that_may_view() {
    let emulator = Emulator::builder().start().await.unwrap();
    let id = client(&emulator)
        .submit_dsr(&dsr("p"))
        .await
        .unwrap()
        .request
        .id;
    let (status, _, _) = raw(&emulator, "GET", "/emulator/v1/requests", &[], "").await;
    assert_eq!(status, 401);
    let (status, _, list) = raw(
        &emulator,
        "GET",
        "/emulator/v1/requests",
        &[("authorization", "Bearer test-key")],
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["requests"][0]["id"], id.as_str());
    let (status, _, one) = raw(
        &emulator,
        "GET",
        &format!("/emulator/v1/requests/{id}"),
        &[("authorization", "Bearer test-key")],
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(one["status"], "DOWNLOADABLE");
    assert_eq!(one["timeline"].as_array().unwrap().len(), 3);
    let (status, _, _) = raw(
        &emulator,
        "GET",
        "/emulator/v1/requests/nope",
        &[("authorization", "Bearer test-key")],
        "",
    )
    .await;
    assert_eq!(status, 404);
    emulator.shutdown().await;
}

#[tokio::test]
async fn errors_never_echo_a_huge_input_back() {
    let emulator = Emulator::builder().start().await.unwrap();
    let auth = [
        ("authorization", "Bearer test-key"),
        ("content-type", "application/json"),
    ];
    // A 10 MB value where an enum is expected.
    let bad_enum = format!(
        r#"{{"type":"{}","subject":{{"coreIdentifier":"a"}},"subjectType":"customer"}}"#,
        "X".repeat(10 << 20)
    );
    let (status, _, body) = raw(
        &emulator,
        "POST",
        "/v1/data-subject-request",
        &auth,
        &bad_enum,
    )
    .await;
    assert_eq!(status, 400);
    let message = body["message"].as_str().unwrap();
    assert!(message.len() <= 2100, "{} bytes", message.len());
    assert!(message.contains("type"), "{message}");

    // Hundreds of thousands of empty attribute keys: each a problem, few of them listed.
    let attributes = vec![r#"{"key":"","values":[]}"#; 200_000].join(",");
    let many = format!(
        r#"{{"type":"ACCESS","subject":{{"coreIdentifier":"a"}},"subjectType":"customer","attributes":[{attributes}]}}"#
    );
    let (status, _, body) = raw(&emulator, "POST", "/v1/data-subject-request", &auth, &many).await;
    assert_eq!(status, 400);
    let message = body["message"].as_str().unwrap();
    assert!(message.len() <= 2100, "{} bytes", message.len());
    assert!(message.contains("more"), "{message}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_openapi_document_is_served_without_a_key() {
    let emulator = Emulator::builder().start().await.unwrap();
    let (status, headers, document) = raw(&emulator, "GET", "/openapi.json", &[], "").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document["paths"]["/v1/data-subject-request"]["post"]["operationId"],
        "submit_dsr"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn faults_after_a_request_took_effect_lose_the_answer_not_the_request() {
    let mut config = EmulatorConfig::default();
    config.faults.error_500_after = 1.0;
    // A pull silo keeps the request open, so a second submission is a duplicate.
    config.data_silos =
        vec![transcend_emulator::DataSiloConfig::new("warehouse", "http://127.0.0.1:9/").pull()];
    let emulator = Emulator::builder().config(config).start().await.unwrap();
    let client = client(&emulator);
    let lost = client.submit_dsr(&dsr("after-1")).await.unwrap_err();
    assert_eq!(lost.status().map(|s| s.as_u16()), Some(500));
    // The request was stored: the emulator holds it, and sending it again is refused
    // as a duplicate, which a client must read as "created earlier".
    assert_eq!(emulator.requests().requests.len(), 1);
    let again = client.submit_dsr(&dsr("after-1")).await.unwrap_err();
    assert!(again.message().unwrap().contains("already made"), "{again}");
    // Reads are not faulted after the fact.
    let id = emulator.requests().requests[0].id.clone();
    assert!(client.get_dsr(&id).await.is_ok());
    emulator.shutdown().await;

    let mut config = EmulatorConfig::default();
    config.faults.drop_connection_after = 1.0;
    let emulator = Emulator::builder().config(config).start().await.unwrap();
    let client = common::client_with_key(&emulator, "test-key");
    let dropped = client.submit_dsr(&dsr("after-2")).await.unwrap_err();
    assert!(dropped.is_retryable(), "{dropped}");
    assert_eq!(emulator.requests().requests.len(), 1);
    emulator.shutdown().await;
}

/// Every door of the emulator's own that changes something (each `POST` under
/// `/emulator/v1/`, which the dashboard's buttons call) needs `manage`, as the admin
/// API's mutations do: a key that may view and submit is refused at each, and nothing
/// changes; a key that may manage goes through.
#[tokio::test]
async fn a_view_only_key_is_refused_at_every_emulator_door_that_changes() {
    let emulator = Emulator::builder()
        .api_key(ApiKeyConfig::new("viewer", [Scope::View, Scope::Submit]))
        .api_key(ApiKeyConfig::new("manager", [Scope::View, Scope::Manage]))
        .start()
        .await
        .unwrap();
    let id = client_with_key(&emulator, "viewer")
        .submit_dsr(&dsr("a"))
        .await
        .unwrap()
        .request
        .id;
    let as_viewer = [("authorization", "Bearer viewer")];
    let trigger = r#"{"url":"http://127.0.0.1:9/x","audience":"a","coreIdentifier":"a"}"#;
    let doors = [
        format!("/emulator/v1/requests/{id}/approve"),
        format!("/emulator/v1/requests/{id}/cancel"),
        format!("/emulator/v1/requests/{id}/revoke"),
        format!("/emulator/v1/requests/{id}/jobs/users-db/skip"),
        format!("/emulator/v1/requests/{id}/jobs/users-db/redeliver"),
        "/emulator/v1/state".to_owned(),
        "/emulator/v1/webhooks".to_owned(),
    ];
    for door in &doors {
        let body = if door.ends_with("webhooks") {
            trigger
        } else {
            "{}"
        };
        let (status, _, answer) = raw(&emulator, "POST", door, &as_viewer, body).await;
        assert_eq!(status, 401, "{door}: {answer}");
        assert!(
            answer["message"]
                .as_str()
                .is_some_and(|m| m.contains("Manage Request Compilation")),
            "{door}: {answer}"
        );
    }
    let before = emulator.request(&id).unwrap();
    assert_ne!(before.status, RequestStatus::Canceled, "nothing changed");
    // Reading stays open to the viewer; the manager may write.
    let (status, _, state) = raw(&emulator, "GET", "/emulator/v1/state", &as_viewer, "").await;
    assert_eq!(status, 200);
    let as_manager = [("authorization", "Bearer manager")];
    let (status, _, answer) = raw(
        &emulator,
        "POST",
        "/emulator/v1/state",
        &as_manager,
        &state.to_string(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    emulator.shutdown().await;
}
