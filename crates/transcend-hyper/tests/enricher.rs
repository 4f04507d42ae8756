//! An enricher: its webhook verified and bound to the identifier it names, decisions
//! answered synchronously, identifiers sent in the background with the nonce.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{TestServer, json};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use transcend_hyper::Client;
use transcend_hyper::proto::webhook::TokenRejection;
use transcend_hyper::silo::testing::TestSigner;
use transcend_hyper::silo::{EnrichmentDecision, Rejection, SiloServer};
use transcend_hyper::types::{EnrichmentJob, IdentifierType};

const AUDIENCE: &str = "phone-lookup";

#[tokio::test]
async fn an_enrichment_webhook_is_bound_to_the_identifier_it_names() {
    let signer = TestSigner::new().unwrap();
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("k")
        .build()
        .unwrap();
    let verifier = signer.verifier(client, AUDIENCE);

    let genuine = signer
        .enrichment_webhook(AUDIENCE, &EnrichmentJob::new("user-1"), "n1")
        .unwrap();
    let job = verifier.verify_enrichment(&genuine).await.unwrap();
    assert_eq!(job.identifier, "user-1");
    assert_eq!(
        verifier.verify_enrichment(&genuine).await.unwrap_err(),
        Rejection::Token(TokenRejection::Replayed)
    );

    // A token for user-1 on a body naming someone else.
    let token = signer.token(AUDIENCE, "user-1").unwrap();
    let forged = transcend_hyper::proto::webhook::build_webhook(
        &Uri::from_static("http://enricher.test/"),
        &transcend_hyper::Nonce::new("n2"),
        &token,
        &EnrichmentJob::new("user-2"),
    )
    .unwrap();
    assert_eq!(
        verifier.verify_enrichment(&forged).await.unwrap_err(),
        Rejection::Token(TokenRejection::IdentifierMismatch)
    );
    let unbound = signer
        .enrichment_webhook(AUDIENCE, &EnrichmentJob::default(), "n3")
        .unwrap();
    assert_eq!(
        verifier.verify_enrichment(&unbound).await.unwrap_err(),
        Rejection::Token(TokenRejection::UnboundIdentifier)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_enricher_server_answers_each_decision() {
    let sombra = TestServer::start(true, |_, _| json(200, serde_json::json!({}))).await;
    let signer = TestSigner::new().unwrap();
    let client = Client::builder()
        .base_url(&sombra.url)
        .api_key("k")
        .build()
        .unwrap();
    let enricher = SiloServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .serve_enricher(signer.verifier(client, AUDIENCE), |job| async move {
            match job.identifier.as_str() {
                "hold-me" => EnrichmentDecision::Hold,
                "cancel-me" => EnrichmentDecision::Cancel {
                    template_id: "t-1".into(),
                },
                "nobody" => EnrichmentDecision::NothingFound,
                _ => {
                    let reporter = job.reporter.clone();
                    EnrichmentDecision::enrich(async move {
                        reporter
                            .identifiers(IdentifierType::Phone, ["+14155550100"])
                            .await
                            .map(drop)
                    })
                }
            }
        });
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let send = |identifier: &str| {
        let delivery = signer
            .enrichment_webhook(
                AUDIENCE,
                &EnrichmentJob::new(identifier),
                format!("nonce-{identifier}"),
            )
            .unwrap();
        let (mut parts, body) = delivery.into_parts();
        parts.uri = enricher.url().parse().unwrap();
        http.request(Request::from_parts(parts, Full::new(body)))
    };
    let held = send("hold-me").await.unwrap();
    assert_eq!(held.status(), StatusCode::OK);
    let body = held.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"status": "ON_HOLD"})
    );
    let canceled = send("cancel-me")
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&canceled).unwrap(),
        serde_json::json!({"status": "CANCELED", "templateId": "t-1"})
    );
    assert_eq!(
        send("nobody").await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(send("ada").await.unwrap().status(), StatusCode::OK);

    // The identifiers follow, with the job's nonce.
    let mut sent = None;
    for _ in 0..1000 {
        sent = sombra
            .requests()
            .into_iter()
            .find(|r| r.path == "/v1/enrich-identifiers");
        if sent.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sent = sent.expect("the enrichment arrives");
    assert_eq!(sent.headers["x-transcend-nonce"], "nonce-ada");
    assert_eq!(
        sent.json(),
        serde_json::json!({"enrichedIdentifiers": {"phone": [{"value": "+14155550100"}]}})
    );
    enricher.shutdown().await;
}
