//! Attacks on a data silo's webhook endpoint, each reproduced: a token for one person
//! used for another, a token without `jti` replayed, forged tokens used to make the silo
//! call Sombra and to slow genuine webhooks down.

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use common::keys;
use http::{Request, Response, StatusCode, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use tokio::sync::watch;
use transcend_hyper::Client;
use transcend_hyper::server::{RunningServer, Server};
use transcend_hyper::silo::{Decision, Rejection, SiloServer, WebhookVerifier};
use transcend_hyper::types::{DsrJob, IdentifierType, JobExtras, JobProfile, RequestAction};
use transcend_proto::webhook::{
    SombraTokenClaims, TokenRejection, build_webhook, sign_sombra_token,
};
use transcend_proto::{Nonce, SombraToken};

const AUDIENCE: &str = "users-db";
const PATIENCE: Duration = Duration::from_secs(30);

/// A Sombra serving the signing key. The first fetch is answered at once; later ones
/// wait until the test releases them, so a test can act while a fetch is in flight.
struct Sombra {
    url: String,
    fetches: Arc<AtomicUsize>,
    release: watch::Sender<bool>,
    _server: RunningServer,
}

async fn sombra(public: &str) -> Sombra {
    let fetches = Arc::new(AtomicUsize::new(0));
    let (release, released) = watch::channel(false);
    let (pem, counter) = (public.to_owned(), Arc::clone(&fetches));
    let server = Server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!("http://{}", server.local_addr());
    let running = server.serve(service_fn(move |_request: Request<Incoming>| {
        let (pem, counter, mut released) = (pem.clone(), Arc::clone(&counter), released.clone());
        async move {
            if counter.fetch_add(1, Ordering::SeqCst) > 0 {
                let _ = released.wait_for(|r| *r).await;
            }
            Ok::<_, Infallible>(
                Response::builder()
                    .header("content-type", "text/plain")
                    .body(Full::new(Bytes::from(pem)))
                    .unwrap(),
            )
        }
    }));
    Sombra {
        url,
        fetches,
        release,
        _server: running,
    }
}

fn verifier(url: &str) -> WebhookVerifier {
    let client = Client::builder()
        .api_key("silo-key")
        .base_url(url)
        .max_attempts(1)
        .build()
        .unwrap();
    WebhookVerifier::new(client, AUDIENCE)
}

fn claims(core: &str, jti: Option<&str>) -> SombraTokenClaims {
    let claims =
        SombraTokenClaims::new(AUDIENCE, core, SystemTime::now(), Duration::from_secs(300));
    match jti {
        Some(jti) => claims.with_jti(jti),
        None => claims,
    }
}

fn delivery(token: &SombraToken, job: &DsrJob) -> Request<Bytes> {
    let url: Uri = "http://127.0.0.1:9/hook".parse().unwrap();
    build_webhook(&url, &Nonce::new("nonce-1"), token, job).unwrap()
}

/// An ERASURE job naming Alan by email only: no core identifier in the body.
fn job_naming_alan_without_core_identifier() -> DsrJob {
    let mut job = DsrJob::new(RequestAction::Erasure);
    let mut extras = JobExtras::default();
    extras.profile = Some(JobProfile::new("alan@example.com", IdentifierType::Email));
    job.extras = Some(extras);
    job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_one_person_cannot_act_on_another() {
    let keys = keys();
    let sombra = sombra(&keys.public).await;
    // One valid, unused token for the attacker's own core identifier...
    let token = sign_sombra_token(&claims("attacker-core", Some("t-1")), &keys.private).unwrap();
    // ...with a body that leaves out the core identifier and names Alan.
    let attack = delivery(&token, &job_naming_alan_without_core_identifier());

    let verifier = verifier(&sombra.url);
    let refused = verifier.verify(&attack).await.unwrap_err();
    assert_eq!(refused, Rejection::Token(TokenRejection::UnboundIdentifier));
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // Through the server helper: 401, and the handler never sees the job.
    let handled = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&handled);
    let silo = SiloServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .serve(verifier, move |_job| {
            seen.fetch_add(1, Ordering::SeqCst);
            async { Decision::NotFound }
        });
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let token = sign_sombra_token(&claims("attacker-core", Some("t-2")), &keys.private).unwrap();
    let url: Uri = silo.url().parse().unwrap();
    let (parts, body) = build_webhook(
        &url,
        &Nonce::new("n"),
        &token,
        &job_naming_alan_without_core_identifier(),
    )
    .unwrap()
    .into_parts();
    let answer = client
        .request(Request::from_parts(parts, Full::new(body)))
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(handled.load(Ordering::SeqCst), 0);
    silo.shutdown().await;
}

#[tokio::test]
async fn a_token_without_jti_is_accepted_once() {
    let keys = keys();
    let sombra = sombra(&keys.public).await;
    let verifier = verifier(&sombra.url);
    let job = DsrJob::new(RequestAction::Erasure).with_core_identifier("user-1");
    let token = sign_sombra_token(&claims("user-1", None), &keys.private).unwrap();
    verifier.verify(&delivery(&token, &job)).await.unwrap();
    let replayed = verifier.verify(&delivery(&token, &job)).await.unwrap_err();
    assert_eq!(replayed, Rejection::Token(TokenRejection::Replayed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tokens_cause_at_most_one_key_fetch_and_never_hold_up_genuine_ones() {
    let (genuine_keys, forger) = (keys(), keys());
    let sombra = sombra(&genuine_keys.public).await;
    let job = DsrJob::new(RequestAction::Erasure).with_core_identifier("user-1");
    let genuine = |jti: &str| {
        delivery(
            &sign_sombra_token(&claims("user-1", Some(jti)), &genuine_keys.private).unwrap(),
            &job,
        )
    };
    let forged = |i: usize| {
        delivery(
            &sign_sombra_token(&claims("user-1", Some(&format!("f-{i}"))), &forger.private)
                .unwrap(),
            &job,
        )
    };
    let verifier = verifier(&sombra.url);
    verifier.verify(&genuine("g-1")).await.unwrap();
    assert_eq!(sombra.fetches.load(Ordering::SeqCst), 1);

    // 100 forgeries at once: the first failing signature causes one refetch (the key
    // may have rotated), which Sombra holds; the others wait for it, not for the cache.
    let mut flood = Vec::new();
    for i in 0..100 {
        let (verifier, request) = (verifier.clone(), forged(i));
        flood.push(tokio::spawn(async move { verifier.verify(&request).await }));
    }
    tokio::time::timeout(PATIENCE, async {
        while sombra.fetches.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("a forgery triggers one refetch");

    // While that fetch is in flight, a genuine webhook is verified with the cached key.
    let during = tokio::time::timeout(PATIENCE, verifier.verify(&genuine("g-2")))
        .await
        .expect("a genuine webhook is not held up by the fetch in flight");
    assert!(during.is_ok(), "{during:?}");

    sombra.release.send(true).unwrap();
    for forgery in flood {
        assert_eq!(
            forgery.await.unwrap().unwrap_err(),
            Rejection::Token(TokenRejection::BadSignature)
        );
    }
    // And within the refetch interval, more forgeries fetch nothing.
    for i in 100..200 {
        assert_eq!(
            verifier.verify(&forged(i)).await.unwrap_err(),
            Rejection::Token(TokenRejection::BadSignature)
        );
    }
    assert_eq!(
        sombra.fetches.load(Ordering::SeqCst),
        2,
        "one fetch for two hundred forgeries"
    );
    verifier.verify(&genuine("g-3")).await.unwrap();
}
