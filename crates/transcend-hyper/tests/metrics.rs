//! A queued silo's figures, read back from a Prometheus recorder after a run: jobs
//! queued, started, acknowledged, retried and dead-lettered, the queue's gauges, the
//! handler's duration, refused webhooks by reason, and the client's calls, retries and
//! rate-limit waits (a Sombra that answers the first report 429).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::put;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper_util::client::legacy::Client as HttpClient;
use transcend_hyper::Client;
use transcend_hyper::silo::queue::{EmbeddedQueue, JobQueue, QueueOptions};
use transcend_hyper::silo::testing::TestSigner;
use transcend_hyper::silo::{JobError, SiloServer};
use transcend_hyper::types::{DsrJob, RequestAction};

const AUDIENCE: &str = "users-db";

/// The value of `name` on the line whose labels include every one of `labels`.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

/// A Sombra whose report endpoint answers its first call 429 (`Retry-After: 0`), then
/// 200.
async fn sombra() -> String {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = Router::new().route(
        "/v1/data-silo",
        put(move || {
            let calls = Arc::clone(&calls);
            async move {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "0")], "{}")
                } else {
                    (StatusCode::OK, [("content-type", "application/json")], "{}")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_silo_records_its_figures() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .unwrap();
    let client = Client::builder()
        .base_url(sombra().await)
        .api_key("users-db-key")
        .build()
        .unwrap();
    let signer = TestSigner::new().unwrap();
    let dir = std::env::temp_dir().join(format!("metrics-{:032x}", fastrand::u128(..)));
    std::fs::create_dir_all(&dir).unwrap();
    let queue = Arc::new(EmbeddedQueue::open(dir.join("jobs.redb")).unwrap());
    let runs = Arc::new(Mutex::new(HashMap::<String, u32>::new()));
    let seen = Arc::clone(&runs);
    let server = SiloServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let running = server.serve_queued(
        signer.verifier(client, AUDIENCE),
        Arc::clone(&queue),
        QueueOptions::default()
            .workers(2)
            .backoff(Duration::from_millis(20))
            .poll_interval(Duration::from_millis(10)),
        move |job| {
            let runs = Arc::clone(&seen);
            async move {
                let who = job.core_identifier.clone();
                assert!(job.entry_id().is_some_and(|id| !id.is_empty()));
                *runs.lock().unwrap().entry(who.clone()).or_default() += 1;
                match who.as_str() {
                    "flaky" if job.deliveries() == Some(1) => {
                        Err(JobError::retry("users-db: connection refused"))
                    }
                    "hopeless" => Err(JobError::give_up("row held by a legal hold")),
                    _ => Ok(job.reporter.erased().await?),
                }
            }
        },
    );
    let http = HttpClient::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let url = running.url();
    let send = |request: Request<Bytes>| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let (mut parts, body) = request.into_parts();
            parts.uri = url.parse().unwrap();
            http.request(Request::from_parts(parts, Full::new(body)))
                .await
                .unwrap()
                .status()
        }
    };
    let deliver = |who: &str, nonce: &str| {
        let job = DsrJob::new(RequestAction::Erasure).with_core_identifier(who);
        signer.webhook(AUDIENCE, &job, nonce).unwrap()
    };
    for (i, who) in ["ada", "alan", "grace", "flaky", "hopeless"]
        .iter()
        .enumerate()
    {
        let delivery = deliver(who, &format!("nonce-{i}"));
        assert_eq!(send(delivery.clone()).await, StatusCode::OK);
        if i == 0 {
            assert_eq!(send(delivery).await, StatusCode::UNAUTHORIZED, "replayed");
        }
    }
    let forger = TestSigner::new().unwrap();
    let forged = forger
        .webhook(
            AUDIENCE,
            &DsrJob::new(RequestAction::Erasure).with_core_identifier("ada"),
            "n",
        )
        .unwrap();
    assert_eq!(send(forged).await, StatusCode::UNAUTHORIZED);

    // Every job settled, and the gauges read after that (every second).
    let mut text = String::new();
    for _ in 0..3000 {
        text = recorder.render();
        if value(&text, "transcend_silo_jobs_acknowledged_total", &[]) == Some(4.0)
            && value(&text, "transcend_silo_queue_dead_letters", &[]) == Some(1.0)
            && value(&text, "transcend_silo_queue_depth", &[]) == Some(0.0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    running.shutdown().await;
    let figure = |name: &str, labels: &[(&str, &str)]| {
        value(&text, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in:\n{text}"))
    };
    assert_eq!(figure("transcend_silo_jobs_queued_total", &[]), 5.0);
    assert_eq!(figure("transcend_silo_jobs_started_total", &[]), 6.0);
    assert_eq!(figure("transcend_silo_jobs_acknowledged_total", &[]), 4.0);
    assert_eq!(
        figure("transcend_silo_jobs_retried_total", &[("reason", "retry")]),
        1.0
    );
    assert_eq!(
        figure(
            "transcend_silo_jobs_dead_lettered_total",
            &[("reason", "give_up")]
        ),
        1.0
    );
    assert_eq!(figure("transcend_silo_queue_depth", &[]), 0.0);
    assert_eq!(figure("transcend_silo_queue_in_flight", &[]), 0.0);
    assert_eq!(figure("transcend_silo_queue_dead_letters", &[]), 1.0);
    assert!(figure("transcend_silo_queue_oldest_job_age_seconds", &[]) >= 0.0);
    assert_eq!(
        figure(
            "transcend_silo_job_duration_seconds_count",
            &[("outcome", "done")]
        ),
        4.0
    );
    assert_eq!(
        figure(
            "transcend_silo_webhooks_refused_total",
            &[("reason", "token_replayed")]
        ),
        1.0
    );
    assert_eq!(
        figure(
            "transcend_silo_webhooks_refused_total",
            &[("reason", "token_forged")]
        ),
        1.0
    );
    // Four erasures reported (one after a 429) through the client.
    assert_eq!(
        figure("transcend_client_calls_total", &[("outcome", "200")]),
        4.0
    );
    assert_eq!(
        figure("transcend_client_retries_total", &[("reason", "429")]),
        1.0
    );
    assert_eq!(figure("transcend_client_rate_limit_waits_total", &[]), 1.0);

    let dead = queue.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].error, "row held by a legal hold");
    assert_eq!(runs.lock().unwrap().get("flaky"), Some(&2));
    assert_eq!(
        runs.lock().unwrap().get("hopeless"),
        Some(&1),
        "given up at once"
    );
    drop(queue);
    let _ = std::fs::remove_dir_all(&dir);
}
