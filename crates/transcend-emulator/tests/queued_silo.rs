//! Durable silo jobs with real processes: a silo answers the webhook 200 once the job
//! is in its embedded queue, is killed with SIGKILL before it reports, and the job is
//! done by the silo restarted on the same queue file; the emulator delivered the
//! webhook once. Also: a job that always fails ends in the dead letters after its
//! budget, and the same delivery twice is queued once.
//!
//! The silo processes are this test binary run again with `QUEUED_SILO_CHILD` set
//! (see `silo_process`), so no other binary is needed.

mod common;

#[path = "../../transcend-hyper/tests/common/redis_server.rs"]
mod redis_server;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use common::{client, submit};
use transcend_emulator::{DataSiloConfig, Emulator, JobStatus};
use transcend_hyper::silo::queue::{EmbeddedQueue, JobQueue, QueueOptions, RedisQueue};
use transcend_hyper::silo::{SiloServer, WebhookVerifier};
use transcend_hyper::types::{AccessProfile, RequestAction};
use transcend_hyper::{Client, ErrorKind};

const CHILD: &str = "QUEUED_SILO_CHILD";
const AUDIENCE: &str = "users-db";

/// Waits up to a minute, polling: far above what any step takes, so a busy machine
/// does not make the test fail.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..6000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

/// A silo process: prints its port, reads the emulator's URL and key on stdin, then
/// serves webhooks with the embedded queue at `QUEUE_PATH`. `MODE=hang`: the handler
/// says `handling` and never returns; `MODE=work`: it reports the person's profile.
#[test]
fn silo_process() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = SiloServer::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        println!("port {}", server.addr().port());
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).unwrap();
        let mut words = line.split_whitespace();
        let (url, key) = (words.next().unwrap(), words.next().unwrap());
        let client = Client::builder()
            .base_url(url)
            .api_key(key)
            .build()
            .unwrap();
        let verifier = WebhookVerifier::new(client, AUDIENCE);
        let hang = std::env::var("MODE").as_deref() == Ok("hang");
        let options = QueueOptions::default()
            .workers(2)
            .poll_interval(Duration::from_millis(50))
            .lease(Duration::from_secs(1))
            .consumer(std::env::var("CONSUMER").unwrap_or_else(|_| "silo".into()));
        let handler = move |job: transcend_hyper::silo::SiloJob| async move {
            if hang {
                println!("handling {}", job.core_identifier);
                std::future::pending::<()>().await;
            }
            let profile = AccessProfile::new(job.core_identifier.clone());
            Ok(job.reporter.access(vec![profile]).await?)
        };
        // The embedded queue at QUEUE_PATH, or the Redis queue at REDIS_URL.
        let _running = match std::env::var("REDIS_URL") {
            Ok(url) => {
                let queue = RedisQueue::connect(&url, AUDIENCE).await.unwrap();
                server.serve_queued(verifier, queue, options, handler)
            }
            Err(_) => {
                let queue = EmbeddedQueue::open(std::env::var("QUEUE_PATH").unwrap()).unwrap();
                server.serve_queued(verifier, queue, options, handler)
            }
        };
        println!("serving");
        std::future::pending::<()>().await;
    });
}

struct Silo {
    child: Child,
    stdin: ChildStdin,
    lines: std::io::Lines<BufReader<ChildStdout>>,
    port: u16,
}

impl Silo {
    fn start(queue: &std::path::Path, mode: &str) -> Self {
        Self::start_with(mode, &[("QUEUE_PATH", queue.as_os_str())])
    }

    fn start_with(mode: &str, env: &[(&str, &std::ffi::OsStr)]) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["silo_process", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .envs(env.iter().copied())
            .env("MODE", mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = loop {
            let line = lines.next().expect("the silo prints its port").unwrap();
            // libtest's "test silo_process ... " may start the line.
            if let Some((_, port)) = line.split_once("port ") {
                break port.trim().parse().unwrap();
            }
        };
        Self {
            child,
            stdin,
            lines,
            port,
        }
    }

    fn connect(&mut self, emulator: &Emulator) {
        writeln!(self.stdin, "{} {}", emulator.base_url(), emulator.api_key()).unwrap();
        self.wait_for("serving");
    }

    /// Reads the silo's output until a line holding `said`.
    fn wait_for(&mut self, said: &str) {
        for line in self.lines.by_ref() {
            if line.unwrap().contains(said) {
                return;
            }
        }
        panic!("the silo ended before saying {said:?}");
    }
}

impl Drop for Silo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn queue_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("transcend-queue-{:032x}.redb", fastrand::u128(..)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silo_killed_after_answering_finishes_the_job_once_restarted() {
    let path = queue_path();
    let mut first = Silo::start(&path, "hang");
    let emulator = Emulator::builder()
        .data_silo(DataSiloConfig::new(
            AUDIENCE,
            format!("http://127.0.0.1:{}/hook", first.port),
        ))
        .start()
        .await
        .unwrap();
    first.connect(&emulator);
    let id = submit(&client(&emulator), RequestAction::Access, "user-ada").await;

    // The job is queued and answered 200; the handler holds it without reporting.
    tokio::task::block_in_place(|| first.wait_for("handling user-ada"));
    let answered = || {
        emulator.request(&id).is_some_and(|view| {
            view.jobs[0]
                .deliveries
                .iter()
                .any(|d| d.status == Some(200))
        })
    };
    until("the webhook answered 200", answered).await;
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();

    let mut second = Silo::start(&path, "work");
    second.connect(&emulator);
    until("the job resolved by the restarted silo", || {
        emulator
            .request(&id)
            .is_some_and(|view| view.jobs[0].status == JobStatus::Resolved)
    })
    .await;
    let view = emulator.request(&id).unwrap();
    assert_eq!(
        view.jobs[0].deliveries.len(),
        1,
        "the webhook was delivered once"
    );
    assert_eq!(view.jobs[0].profiles.len(), 1, "reported once");
    drop(second);
    emulator.shutdown().await;
    let _ = std::fs::remove_file(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_always_fails_is_dead_lettered_and_can_be_requeued() {
    let emulator = Emulator::builder().start().await.unwrap();
    let path = queue_path();
    let queue = EmbeddedQueue::open(&path).unwrap();
    // A job for a nonce the emulator never issued: every report is refused (not 409).
    let job: transcend_hyper::silo::queue::QueuedJob = serde_json::from_value(serde_json::json!({
        "job": {"type": "ACCESS", "coreIdentifier": {"value": "user-1"}},
        "core_identifier": "user-1",
        "nonce": "not-a-nonce",
    }))
    .unwrap();
    let expires = std::time::SystemTime::now() + Duration::from_secs(300);
    assert_eq!(
        queue.enqueue("jti-1", expires, &job).await.unwrap(),
        transcend_hyper::silo::queue::Enqueued::Queued
    );
    assert_eq!(
        queue.enqueue("jti-1", expires, &job).await.unwrap(),
        transcend_hyper::silo::queue::Enqueued::Replayed,
        "the same delivery twice is queued once"
    );
    let queue = std::sync::Arc::new(queue);
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(emulator.api_key())
        .max_attempts(1)
        .build()
        .unwrap();
    let workers = transcend_hyper::silo::queue::RunningWorkers::start(
        std::sync::Arc::clone(&queue),
        client,
        QueueOptions::default()
            .workers(1)
            .budget(3)
            .backoff(Duration::from_millis(10))
            .poll_interval(Duration::from_millis(10)),
        |job| async move {
            let error = job.reporter.access(vec![]).await.unwrap_err();
            assert_ne!(error.kind(), Some(ErrorKind::Conflict));
            Err(error.into())
        },
    );
    for _ in 0..6000 {
        if queue.stats().await.unwrap().dead_letters == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stats = queue.stats().await.unwrap();
    assert_eq!((stats.depth, stats.dead_letters, stats.retries), (0, 1, 2));
    let dead = queue.dead_letters().await.unwrap();
    assert_eq!(dead[0].deliveries, 3);
    assert!(!dead[0].error.is_empty());
    workers.shutdown().await;

    assert!(queue.requeue(&dead[0].id).await.unwrap());
    let stats = queue.stats().await.unwrap();
    assert_eq!((stats.depth, stats.dead_letters), (1, 0));
    emulator.shutdown().await;
    drop(queue);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_silos_jobs_pulled_twice_are_queued_once_and_done_by_workers() {
    let emulator = Emulator::builder()
        .data_silo(
            DataSiloConfig::new("warehouse", "http://127.0.0.1:9/never-called")
                .actions([RequestAction::Erasure])
                .pull(),
        )
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(submit(&client, RequestAction::Erasure, &format!("person-{i}")).await);
    }
    let path = queue_path();
    let queue = std::sync::Arc::new(EmbeddedQueue::open(&path).unwrap());
    let mut queued = 0;
    for _ in 0..6000 {
        queued += client
            .enqueue_pending(queue.as_ref(), "warehouse", RequestAction::Erasure, 2)
            .await
            .unwrap();
        if queued == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(queued, 5);
    let again = client
        .enqueue_pending(queue.as_ref(), "warehouse", RequestAction::Erasure, 2)
        .await
        .unwrap();
    assert_eq!(again, 0, "pulled again, queued once");
    assert_eq!(queue.stats().await.unwrap().depth, 5);

    let workers = transcend_hyper::silo::queue::RunningWorkers::start(
        std::sync::Arc::clone(&queue),
        client.clone(),
        QueueOptions::default()
            .workers(3)
            .poll_interval(Duration::from_millis(10)),
        |job| async move {
            assert!(job.core_identifier.starts_with("person-"));
            Ok(job.reporter.erased().await?)
        },
    );
    for id in &ids {
        until("the cron job done", || {
            emulator
                .request(id)
                .is_some_and(|view| view.jobs[0].status == JobStatus::Resolved)
        })
        .await;
    }
    for _ in 0..6000 {
        if queue.stats().await.unwrap().depth == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(queue.stats().await.unwrap().depth, 0);
    workers.shutdown().await;
    emulator.shutdown().await;
    drop(queue);
    let _ = std::fs::remove_file(&path);
}

/// A worker killed after its report was accepted and before it acknowledged: the job
/// runs again, its report is answered 409, and that counts as done (acknowledged,
/// nothing dead-lettered, the report not accepted twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_reported_before_its_ack_is_done_on_the_409() {
    let emulator = Emulator::builder()
        .data_silo(
            DataSiloConfig::new("warehouse", "http://127.0.0.1:9/never-called")
                .actions([RequestAction::Erasure])
                .pull(),
        )
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let id = submit(&client, RequestAction::Erasure, "person-1").await;
    let path = queue_path();
    let queue = std::sync::Arc::new(EmbeddedQueue::open(&path).unwrap());
    let mut queued = 0;
    for _ in 0..6000 {
        queued += client
            .enqueue_pending(queue.as_ref(), "warehouse", RequestAction::Erasure, 10)
            .await
            .unwrap();
        if queued == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The first worker's report went through; then it died before acknowledging.
    let lease = queue
        .next("dead", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    client
        .report_erasure(&lease.job.nonce, &Default::default())
        .await
        .unwrap();
    drop(lease);
    let reopened = {
        drop(queue);
        std::sync::Arc::new(EmbeddedQueue::open(&path).unwrap())
    };
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&runs);
    let workers = transcend_hyper::silo::queue::RunningWorkers::start(
        std::sync::Arc::clone(&reopened),
        client.clone(),
        QueueOptions::default()
            .workers(1)
            .poll_interval(Duration::from_millis(10)),
        move |job| {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                let repeated = job.reporter.erased().await;
                assert_eq!(
                    repeated.as_ref().err().and_then(|e| e.kind()),
                    Some(ErrorKind::Conflict)
                );
                Ok(repeated?)
            }
        },
    );
    for _ in 0..6000 {
        if reopened.stats().await.unwrap().depth == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    workers.shutdown().await;
    let stats = reopened.stats().await.unwrap();
    assert_eq!((stats.depth, stats.dead_letters, stats.retries), (0, 0, 0));
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(
        emulator.request(&id).unwrap().jobs[0].status,
        JobStatus::Resolved
    );
    emulator.shutdown().await;
    drop(reopened);
    let _ = std::fs::remove_file(&path);
}

/// With the Redis queue: the replica that answered 200 is killed before reporting, and
/// another replica (another consumer) takes the job over once its lease runs out and
/// reports it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_replica_reports_the_job_of_one_killed_after_answering() {
    let Some(redis) = redis_server::RedisServer::start() else {
        return;
    };
    let url = std::ffi::OsString::from(&redis.url);
    let mut first = Silo::start_with(
        "hang",
        &[
            ("REDIS_URL", url.as_os_str()),
            ("CONSUMER", "replica-1".as_ref()),
        ],
    );
    let emulator = Emulator::builder()
        .data_silo(DataSiloConfig::new(
            AUDIENCE,
            format!("http://127.0.0.1:{}/hook", first.port),
        ))
        .start()
        .await
        .unwrap();
    first.connect(&emulator);
    let id = submit(&client(&emulator), RequestAction::Access, "user-ada").await;
    tokio::task::block_in_place(|| first.wait_for("handling user-ada"));
    until("the webhook answered 200", || {
        emulator.request(&id).is_some_and(|view| {
            view.jobs[0]
                .deliveries
                .iter()
                .any(|d| d.status == Some(200))
        })
    })
    .await;
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();

    let mut second = Silo::start_with(
        "work",
        &[
            ("REDIS_URL", url.as_os_str()),
            ("CONSUMER", "replica-2".as_ref()),
        ],
    );
    second.connect(&emulator);
    until("the job resolved by the other replica", || {
        emulator
            .request(&id)
            .is_some_and(|view| view.jobs[0].status == JobStatus::Resolved)
    })
    .await;
    let view = emulator.request(&id).unwrap();
    assert_eq!(
        view.jobs[0].deliveries.len(),
        1,
        "the webhook was delivered once"
    );
    assert_eq!(view.jobs[0].profiles.len(), 1, "reported once");
    drop(second);
    emulator.shutdown().await;
}
