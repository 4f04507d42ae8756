//! A silo's replicas sharing their jobs through Redis, as real processes: replicas
//! killed with SIGKILL at random while they work, and `redis-server` itself killed and
//! restarted (with `appendonly yes`) mid-run. Every job ends reported and acknowledged,
//! nothing is left pending or dead-lettered. The emulator accepts one report per job
//! (a repeat is answered 409, which a replica counts as done).
//!
//! The replicas are this test binary run again with `REDIS_REPLICA` set (see
//! `replica_process`). Needs `redis-server` (`.ci/run` installs it).

mod common;

#[path = "../../transcend-hyper/tests/common/redis_server.rs"]
mod redis_server;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{client, submit};
use redis_server::RedisServer;
use transcend_emulator::{DataSiloConfig, Emulator, JobStatus};
use transcend_hyper::Client;
use transcend_hyper::silo::queue::{JobQueue, QueueOptions, RedisQueue, RunningWorkers};
use transcend_hyper::types::RequestAction;

const REPLICA: &str = "REDIS_REPLICA";
const JOBS: usize = 200;

/// A replica: works jobs from the Redis queue until killed, reporting each erasure
/// after a random 50-150 ms (so kills land mid-job).
#[test]
fn replica_process() {
    if std::env::var_os(REPLICA).is_none() {
        return;
    }
    let var = |name: &str| std::env::var(name).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = Client::builder()
            .base_url(var("EMULATOR_URL"))
            .api_key(var("API_KEY"))
            .max_attempts(1)
            .build()
            .unwrap();
        let queue = loop {
            match RedisQueue::connect(&var("REDIS_URL"), "warehouse").await {
                Ok(queue) => break queue,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        let _workers = RunningWorkers::start(
            Arc::new(queue),
            client,
            QueueOptions::default()
                .workers(2)
                .lease(Duration::from_secs(1))
                .poll_interval(Duration::from_millis(20))
                .consumer(var("CONSUMER")),
            |job| async move {
                tokio::time::sleep(Duration::from_millis(fastrand::u64(50..150))).await;
                job.reporter.erased().await
            },
        );
        std::future::pending::<()>().await;
    });
}

struct Replica(Child);

impl Replica {
    fn start(emulator: &Emulator, redis: &RedisServer, consumer: &str) -> Self {
        Self(
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "replica_process",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(REPLICA, "1")
                .env("EMULATOR_URL", emulator.base_url())
                .env("API_KEY", emulator.api_key())
                .env("REDIS_URL", &redis.url)
                .env("CONSUMER", consumer)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    }

    fn kill(&mut self) {
        let _ = self.0.kill(); // SIGKILL
        let _ = self.0.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An emulator with a cron silo and `JOBS` erasures queued in Redis by their nonces.
async fn queued_jobs(redis: &RedisServer) -> (Emulator, Vec<String>, RedisQueue) {
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
    for i in 0..JOBS {
        ids.push(submit(&client, RequestAction::Erasure, &format!("person-{i}")).await);
    }
    let queue = RedisQueue::connect(&redis.url, "warehouse").await.unwrap();
    let mut queued = 0;
    for _ in 0..6000 {
        queued += client
            .enqueue_pending(&queue, "warehouse", RequestAction::Erasure, 100)
            .await
            .unwrap();
        if queued == JOBS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(queued, JOBS);
    (emulator, ids, queue)
}

fn resolved(emulator: &Emulator, ids: &[String]) -> usize {
    ids.iter()
        .filter(|id| {
            emulator
                .request(id)
                .is_some_and(|view| view.jobs[0].status == JobStatus::Resolved)
        })
        .count()
}

/// Waits (at most two minutes) until every job is resolved and the queue is empty,
/// with nothing in flight or dead-lettered.
async fn all_done(emulator: &Emulator, ids: &[String], redis: &RedisServer) {
    let observer = loop {
        match RedisQueue::connect(&redis.url, "warehouse").await {
            Ok(queue) => break queue,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    for _ in 0..12_000 {
        if resolved(emulator, ids) == ids.len()
            && observer
                .stats()
                .await
                .is_ok_and(|s| s.depth == 0 && s.in_flight == 0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(resolved(emulator, ids), ids.len(), "every job reported");
    let stats = observer.stats().await.unwrap();
    assert_eq!(
        (stats.depth, stats.in_flight, stats.dead_letters),
        (0, 0, 0),
        "nothing left pending or dead-lettered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_killed_at_random_report_every_job_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (emulator, ids, _queue) = queued_jobs(&redis).await;
    let mut replicas: Vec<Replica> = (0..3)
        .map(|i| Replica::start(&emulator, &redis, &format!("replica-{i}")))
        .collect();
    // Kill one at random every 150 ms while jobs remain, ten times; half the time it
    // comes back under its own name (taking back what it held first), half the time
    // under a new one (its jobs are taken over once their lease runs out).
    let mut kills = 0;
    for kill in 0..10 {
        if resolved(&emulator, &ids) == ids.len() {
            break;
        }
        kills += 1;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let i = fastrand::usize(0..replicas.len());
        replicas[i].kill();
        let name = if kill % 2 == 0 {
            format!("replica-{i}")
        } else {
            format!("replica-{i}-{kill}")
        };
        replicas[i] = Replica::start(&emulator, &redis, &name);
    }
    // Each job takes at least 50 ms and six run at once: the first kill comes while
    // most of the 200 remain.
    assert!(kills > 0, "no replica was killed mid-run");
    all_done(&emulator, &ids, &redis).await;
    drop(replicas);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_mid_run_loses_no_job() {
    let Some(mut redis) = RedisServer::start_durable() else {
        return;
    };
    let (emulator, ids, queue) = queued_jobs(&redis).await;
    drop(queue);
    let replicas: Vec<Replica> = (0..2)
        .map(|i| Replica::start(&emulator, &redis, &format!("replica-{i}")))
        .collect();
    // Once some jobs are done (or a bounded wait has passed), SIGKILL redis-server
    // and start it again on its append-only file.
    for _ in 0..2000 {
        if resolved(&emulator, &ids) >= JOBS / 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    redis.kill_and_restart();
    all_done(&emulator, &ids, &redis).await;
    drop(replicas);
    emulator.shutdown().await;
}
