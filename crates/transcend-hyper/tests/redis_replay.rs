//! Replay protection shared by replicas, against a real `redis-server` that the test
//! starts on a private Unix socket and stops.
//!
//! Needs `redis-server` on the PATH (`.ci/run` installs it when missing). Without it the
//! tests say so and pass, unless `TRANSCEND_REQUIRE_REDIS` is set, as CI sets it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use transcend_hyper::Client;
use transcend_hyper::proto::webhook::TokenRejection;
use transcend_hyper::silo::testing::TestSigner;
use transcend_hyper::silo::{RedisReplayStore, Rejection, WebhookVerifier};
use transcend_hyper::types::{DsrJob, RequestAction};

struct RedisServer {
    child: Child,
    dir: PathBuf,
    url: String,
}

impl RedisServer {
    fn start() -> Option<Self> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            assert!(
                std::env::var_os("TRANSCEND_REQUIRE_REDIS").is_none(),
                "redis-server is required (TRANSCEND_REQUIRE_REDIS is set) but not installed"
            );
            eprintln!("redis-server not installed: skipping the Redis replay tests");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("transcend-redis-{:032x}", fastrand::u128(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("redis.sock");
        let child = Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--save",
                "",
                "--appendonly",
                "no",
                "--unixsocketperm",
                "700",
            ])
            .arg("--unixsocket")
            .arg(&socket)
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !socket.exists() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self {
            child,
            url: format!("redis+unix://{}", socket.display()),
            dir,
        })
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

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
