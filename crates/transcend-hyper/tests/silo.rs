//! Receiving webhooks as a data silo: every forgery refused with its own reason, a
//! rotated key picked up, and the server helper answering per decision and reporting
//! in the background. A test server plays Sombra (signing key and report endpoints).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use common::{Keys, TestServer, json, keys};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use transcend_hyper::Client;
use transcend_hyper::silo::{Decision, Rejection, SiloServer, WebhookVerifier};
use transcend_hyper::types::{
    AccessProfile, CoreIdentifier, DsrJob, IdentifierType, JobExtras, JobProfile, RequestAction,
};
use transcend_proto::webhook::{
    SombraTokenClaims, TokenRejection, build_webhook, sign_sombra_token,
};
use transcend_proto::{Nonce, SombraToken};

const AUDIENCE: &str = "users-db";

/// A token "signed" with HMAC-SHA384 (the key-confusion forgery), made by hand.
fn hs384(claims: &impl serde::Serialize, secret: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"HS384"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    let signed = format!("{header}.{payload}");
    let mut mac = Hmac::<sha2::Sha384>::new_from_slice(secret).unwrap();
    mac.update(signed.as_bytes());
    format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// A Sombra serving a signing key that the test can rotate, and accepting reports.
async fn sombra(public: &str) -> (TestServer, Arc<Mutex<String>>) {
    let current = Arc::new(Mutex::new(public.to_owned()));
    let served = Arc::clone(&current);
    let server = TestServer::start(true, move |_, captured| {
        if captured.path == "/public-keys/sombra-general-signing-key" {
            http::Response::builder()
                .header("content-type", "text/plain")
                .body(Full::new(Bytes::from(served.lock().unwrap().clone())))
                .unwrap()
        } else {
            json(200, serde_json::json!({}))
        }
    })
    .await;
    (server, current)
}

fn key_fetches(server: &TestServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/public-keys/"))
        .count()
}

fn job(core: &str) -> DsrJob {
    let mut job = DsrJob::new(RequestAction::Access);
    job.core_identifier = Some(CoreIdentifier::new(core));
    let mut extras = JobExtras::default();
    extras.profile = Some(JobProfile::new("ada@example.com", IdentifierType::Email));
    job.extras = Some(extras);
    job
}

fn claims(jti: &str) -> SombraTokenClaims {
    SombraTokenClaims::new(
        AUDIENCE,
        "id-1",
        SystemTime::now(),
        Duration::from_secs(300),
    )
    .with_jti(jti)
}

fn delivery(token: &SombraToken, job: &DsrJob) -> Request<Bytes> {
    let url: Uri = "http://127.0.0.1:9/hook".parse().unwrap();
    build_webhook(&url, &Nonce::new("nonce-1"), token, job).unwrap()
}

fn unsigned(header: &str, claims: &SombraTokenClaims) -> SombraToken {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    SombraToken::new(format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(header)))
}

/// What a forgery must be refused for.
type Expected = fn(&TokenRejection) -> bool;

fn verifier(server: &TestServer) -> WebhookVerifier {
    let client = Client::builder()
        .api_key("silo-key")
        .base_url(&server.url)
        .max_attempts(1)
        .build()
        .unwrap();
    WebhookVerifier::new(client, AUDIENCE)
}

#[tokio::test]
async fn every_forgery_is_refused_with_its_own_reason() {
    let (genuine_keys, other_keys) = (keys(), keys());
    let (server, _) = sombra(&genuine_keys.public).await;
    let verifier = verifier(&server);
    let sign =
        |claims: &SombraTokenClaims, key: &Keys| sign_sombra_token(claims, &key.private).unwrap();

    let genuine = sign(&claims("jti-1"), &genuine_keys);
    let verified = verifier
        .verify(&delivery(&genuine, &job("id-1")))
        .await
        .unwrap();
    assert_eq!(verified.core_identifier, "id-1");
    assert_eq!(
        verified.unsigned.profile,
        Some(("ada@example.com".into(), IdentifierType::Email))
    );
    assert_eq!(verified.nonce(), &Nonce::new("nonce-1"));

    let mut missing = delivery(&genuine, &job("id-1"));
    missing.headers_mut().remove("x-sombra-token");
    let mut wrong_audience = claims("jti-3");
    wrong_audience.aud = "another-silo".into();
    let mut wrong_scope = claims("jti-4");
    wrong_scope.scope = "admin".into();
    let expired = SombraTokenClaims::new(
        AUDIENCE,
        "id-1",
        SystemTime::now() - Duration::from_secs(3600),
        Duration::from_secs(60),
    );
    let hs384 = hs384(&claims("jti-5"), genuine_keys.public.as_bytes());

    let cases: Vec<(&str, Request<Bytes>, Expected)> = vec![
        ("missing token", missing, |r| *r == TokenRejection::Missing),
        (
            "garbled token",
            delivery(&SombraToken::new("not-a-jwt"), &job("id-1")),
            |r| matches!(r, TokenRejection::Malformed { .. }),
        ),
        (
            "alg none",
            delivery(
                &unsigned(r#"{"alg":"none"}"#, &claims("jti-2")),
                &job("id-1"),
            ),
            |r| matches!(r, TokenRejection::AlgorithmNotAllowed { alg } if alg == "none"),
        ),
        (
            "HS384 with the public key",
            delivery(&SombraToken::new(hs384), &job("id-1")),
            |r| matches!(r, TokenRejection::AlgorithmNotAllowed { alg } if alg == "HS384"),
        ),
        (
            "another key",
            delivery(&sign(&claims("jti-6"), &other_keys), &job("id-1")),
            |r| *r == TokenRejection::BadSignature,
        ),
        (
            "wrong audience",
            delivery(&sign(&wrong_audience, &genuine_keys), &job("id-1")),
            |r| matches!(r, TokenRejection::WrongAudience { .. }),
        ),
        (
            "wrong scope",
            delivery(&sign(&wrong_scope, &genuine_keys), &job("id-1")),
            |r| matches!(r, TokenRejection::WrongScope { .. }),
        ),
        (
            "expired",
            delivery(&sign(&expired, &genuine_keys), &job("id-1")),
            |r| matches!(r, TokenRejection::Expired { .. }),
        ),
        ("replayed jti", delivery(&genuine, &job("id-1")), |r| {
            *r == TokenRejection::Replayed
        }),
        (
            "token for someone else",
            delivery(&sign(&claims("jti-7"), &genuine_keys), &job("id-2")),
            |r| *r == TokenRejection::IdentifierMismatch,
        ),
    ];
    let mut messages = std::collections::HashSet::new();
    for (name, request, expected) in cases {
        let rejection = verifier.verify(&request).await.unwrap_err();
        assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED, "{name}");
        let Rejection::Token(reason) = &rejection else {
            panic!("{name}: {rejection:?}")
        };
        assert!(expected(reason), "{name}: {reason:?}");
        assert!(
            !rejection.to_string().contains(genuine.expose()),
            "{name}: the token leaked"
        );
        messages.insert(reason.to_string());
    }
    assert_eq!(
        messages.len(),
        10,
        "each forgery has its own reason: {messages:?}"
    );
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_the_key_is_cached_meanwhile() {
    let (old, new) = (keys(), keys());
    let (server, served) = sombra(&old.public).await;
    let verifier = verifier(&server);
    for jti in ["a", "b", "c"] {
        let token = sign_sombra_token(&claims(jti), &old.private).unwrap();
        verifier
            .verify(&delivery(&token, &job("id-1")))
            .await
            .unwrap();
    }
    assert_eq!(key_fetches(&server), 1, "cached for an hour");

    *served.lock().unwrap() = new.public.clone();
    let token = sign_sombra_token(&claims("d"), &new.private).unwrap();
    verifier
        .verify(&delivery(&token, &job("id-1")))
        .await
        .unwrap();
    assert_eq!(
        key_fetches(&server),
        2,
        "refetched once on the failed signature"
    );

    // A token from neither key, within the refetch interval: refused, no fetch.
    let stranger = sign_sombra_token(&claims("e"), &keys().private).unwrap();
    let rejection = verifier
        .verify(&delivery(&stranger, &job("id-1")))
        .await
        .unwrap_err();
    assert_eq!(rejection, Rejection::Token(TokenRejection::BadSignature));
    assert_eq!(key_fetches(&server), 2);

    // Past the interval (here zero), the next failing signature refetches once more.
    let verifier = verifier.with_key_timing(Duration::from_secs(3600), Duration::ZERO);
    let token = sign_sombra_token(&claims("f"), &new.private).unwrap();
    verifier
        .verify(&delivery(&token, &job("id-1")))
        .await
        .unwrap();
    assert_eq!(key_fetches(&server), 3, "a new cache fetches on first use");
    let stranger = sign_sombra_token(&claims("g"), &keys().private).unwrap();
    assert!(
        verifier
            .verify(&delivery(&stranger, &job("id-1")))
            .await
            .is_err()
    );
    assert_eq!(key_fetches(&server), 4);
}

#[tokio::test]
async fn an_unreachable_sombra_is_a_503_not_a_401() {
    let client = Client::builder()
        .api_key("k")
        .base_url("http://127.0.0.1:9")
        .max_attempts(1)
        .build()
        .unwrap();
    let verifier = WebhookVerifier::new(client, AUDIENCE);
    let token = sign_sombra_token(&claims("x"), &keys().private).unwrap();
    let rejection = verifier
        .verify(&delivery(&token, &job("id-1")))
        .await
        .unwrap_err();
    assert!(
        matches!(rejection, Rejection::KeyUnavailable(_)),
        "{rejection:?}"
    );
    assert_eq!(rejection.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_per_decision_and_reports_in_the_background() {
    let keys = keys();
    let (sombra, _) = sombra(&keys.public).await;
    let server = SiloServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let running = server.serve(verifier(&sombra), |job| async move {
        // Straight from the webhook: no queue entry, no delivery count.
        assert_eq!((job.deliveries(), job.entry_id()), (None, None));
        match job.action {
            RequestAction::Access => {
                let reporter = job.reporter.clone();
                Decision::found(async move {
                    reporter
                        .access(vec![
                            AccessProfile::new("ada").datapoint("name", serde_json::json!("Ada")),
                        ])
                        .await
                })
            }
            RequestAction::Erasure => Decision::NotFound,
            _ => Decision::Failed("not supported here".into()),
        }
    });
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let send = |action: RequestAction, jti: &str, private: &str| {
        let mut body_job = job("id-1");
        body_job.action = action;
        let token = sign_sombra_token(&claims(jti), private).unwrap();
        let url: Uri = running.url().parse().unwrap();
        let (parts, body) = build_webhook(&url, &Nonce::new("nonce-9"), &token, &body_job)
            .unwrap()
            .into_parts();
        client.request(Request::from_parts(parts, Full::new(body)))
    };
    assert_eq!(
        send(RequestAction::Access, "1", &keys.private)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        send(RequestAction::Erasure, "2", &keys.private)
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        send(RequestAction::Rectification, "3", &keys.private)
            .await
            .unwrap()
            .status(),
        500
    );
    let forged = send(RequestAction::Access, "4", &self::keys().private)
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let body = forged.into_body().collect().await.unwrap().to_bytes();
    assert!(
        String::from_utf8_lossy(&body).contains("signature"),
        "{body:?}"
    );

    // The background report reached Sombra with the job's nonce.
    let mut report = None;
    for _ in 0..500 {
        report = sombra
            .requests()
            .into_iter()
            .find(|r| r.path == "/v1/data-silo");
        if report.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let report = report.expect("the access report was sent");
    assert_eq!(report.headers["x-transcend-nonce"], "nonce-9");
    assert_eq!(report.json()["status"], "READY");
    running.shutdown().await;
}

#[tokio::test]
async fn a_jobs_reporter_sends_each_kind_of_report_with_its_nonce() {
    let keys = keys();
    let (sombra, _) = sombra(&keys.public).await;
    let verifier = verifier(&sombra);
    let verified = |action: RequestAction, jti: &'static str| {
        let verifier = verifier.clone();
        let private = keys.private.clone();
        async move {
            let mut body = job("id-1");
            body.action = action;
            let token = sign_sombra_token(&claims(jti), &private).unwrap();
            verifier.verify(&delivery(&token, &body)).await.unwrap()
        }
    };
    let access = verified(RequestAction::Access, "r1").await;
    access.reporter.no_data().await.unwrap();
    access
        .reporter
        .pages("friends", vec![vec![serde_json::json!({"n": 1})]])
        .await
        .unwrap();
    let erasure = verified(RequestAction::Erasure, "r2").await;
    erasure.reporter.no_data().await.unwrap();
    erasure.reporter.error("disk full").await.unwrap();

    let reports: Vec<(String, String, serde_json::Value)> = sombra
        .requests()
        .into_iter()
        .filter(|r| !r.path.starts_with("/public-keys/"))
        .map(|r| {
            assert_eq!(r.headers["x-transcend-nonce"], "nonce-1");
            (r.method.to_string(), r.path.clone(), r.json())
        })
        .collect();
    assert_eq!(
        reports,
        [
            (
                "POST".into(),
                "/v1/data-silo".into(),
                serde_json::json!({"status": "READY"})
            ),
            (
                "POST".into(),
                "/v1/datapoint-chunked".into(),
                serde_json::json!({"dataPointName": "friends", "data": [{"n": 1}], "fileId": "page 1", "isLastPage": true})
            ),
            (
                "PUT".into(),
                "/v1/data-silo".into(),
                serde_json::json!({"status": "SKIPPED"})
            ),
            (
                "PUT".into(),
                "/v1/data-silo".into(),
                serde_json::json!({"message": "disk full", "profileStatus": "ERROR"})
            ),
        ]
    );
}
