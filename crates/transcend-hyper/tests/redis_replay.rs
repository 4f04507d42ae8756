//! Replay protection shared by replicas, against a real `redis-server` that the test
//! starts on a private Unix socket and stops.
//!
//! Needs `redis-server` on the PATH (`.ci/run` installs it when missing). Without it the
//! tests say so and pass, unless `TRANSCEND_REQUIRE_REDIS` is set, as CI sets it.

#[path = "common/redis_server.rs"]
mod redis_server;

use redis_server::RedisServer;
use transcend_hyper::Client;
use transcend_hyper::proto::webhook::TokenRejection;
use transcend_hyper::silo::testing::TestSigner;
use transcend_hyper::silo::{RedisReplayStore, Rejection, WebhookVerifier};
use transcend_hyper::types::{DsrJob, RequestAction};

fn client() -> Client {
    Client::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("unused")
        .build()
        .unwrap()
}

async fn verifier(signer: &TestSigner, redis: &RedisServer) -> WebhookVerifier {
    let store = RedisReplayStore::connect(&redis.url).await.unwrap();
    signer
        .verifier(client(), "users-db")
        .with_replay_store(store)
}

fn job() -> DsrJob {
    DsrJob::new(RequestAction::Erasure).with_core_identifier("user-1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_sharing_redis_accept_a_token_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let signer = TestSigner::new().unwrap();
    let (first, second) = (
        verifier(&signer, &redis).await,
        verifier(&signer, &redis).await,
    );
    let delivery = signer.webhook("users-db", &job(), "nonce-1").unwrap();

    assert!(first.verify(&delivery).await.is_ok());
    let replayed = second.verify(&delivery).await.unwrap_err();
    assert_eq!(replayed, Rejection::Token(TokenRejection::Replayed));

    // A verifier made later (a restarted replica) refuses it too.
    let restarted = verifier(&signer, &redis).await;
    assert_eq!(
        restarted.verify(&delivery).await.unwrap_err(),
        Rejection::Token(TokenRejection::Replayed)
    );
    // Another token for the same job is a new delivery.
    let again = signer.webhook("users-db", &job(), "nonce-1").unwrap();
    assert!(second.verify(&again).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_racing_on_one_token_accept_it_exactly_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let signer = TestSigner::new().unwrap();
    let replicas = [
        verifier(&signer, &redis).await,
        verifier(&signer, &redis).await,
    ];
    let delivery = signer.webhook("users-db", &job(), "nonce-2").unwrap();
    let mut attempts = Vec::new();
    for i in 0..40 {
        let (replica, delivery) = (replicas[i % 2].clone(), delivery.clone());
        attempts.push(tokio::spawn(async move {
            replica.verify(&delivery).await.is_ok()
        }));
    }
    let mut accepted = 0;
    for attempt in attempts {
        accepted += usize::from(attempt.await.unwrap());
    }
    assert_eq!(accepted, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_a_delivery_is_refused_as_unavailable() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let signer = TestSigner::new().unwrap();
    let verifier = verifier(&signer, &redis).await;
    redis.stop();
    let delivery = signer.webhook("users-db", &job(), "nonce-3").unwrap();
    let refused = verifier.verify(&delivery).await.unwrap_err();
    assert!(matches!(refused, Rejection::ReplayStore(_)), "{refused:?}");
    assert_eq!(refused.status(), http::StatusCode::SERVICE_UNAVAILABLE);
}
