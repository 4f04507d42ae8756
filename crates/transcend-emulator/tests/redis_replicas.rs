//! A silo's replicas sharing their jobs through Redis, as real processes: replicas
//! killed with SIGKILL at random while they work, each with several workers, a database
//! outage that makes every handler fail for a while, and `redis-server` itself killed
//! and restarted (with `appendonly yes`) mid-run. The emulator accepts one report per
//! job (a repeat is answered 409, which a replica counts as done).
//!
//! The chaos run counts, from a log every replica appends to: no job lost; handler
//! runs at most the jobs plus twice the jobs in flight at the kills (a killed run, and
//! one rerun that finds the report already taken); one dead letter for each job that
//! gives up and none for any other; and no retry handed out before its backoff.
//!
//! The replicas are this test binary run again with `REDIS_REPLICA` set (see
//! `replica_process`). Needs `redis-server` (`.ci/run` installs it).

mod common;

#[path = "../../transcend-hyper/tests/common/redis_server.rs"]
mod redis_server;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{client, submit};
use redis_server::RedisServer;
use transcend_emulator::{DataSiloConfig, Emulator, JobStatus};
use transcend_hyper::Client;
use transcend_hyper::silo::JobError;
use transcend_hyper::silo::queue::{JobQueue, QueueOptions, RedisQueue, RunningWorkers};
use transcend_hyper::types::RequestAction;

const REPLICA: &str = "REDIS_REPLICA";
const JOBS: usize = 200;
/// Jobs whose handler gives up (`JobError::GiveUp`): each must reach the dead letters
/// once.
const HOPELESS: usize = 5;
/// The replicas' workers, lease, first backoff and budget.
const WORKERS: usize = 4;
const LEASE: Duration = Duration::from_secs(3);
const BACKOFF: Duration = Duration::from_millis(200);
const BUDGET: u32 = 12;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Appends one line to the run's log (one `write` of a short line with `O_APPEND`:
/// lines of several processes never interleave).
fn log(path: &Path, line: String) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(format!("{line}\n").as_bytes()).unwrap();
}

/// A replica: works jobs from the Redis queue until killed. Each run gives up on the
/// hopeless, fails while the outage file exists (the database is down), and otherwise
/// waits a random 50-150 ms (so kills land mid-job) and reports the erasure. It
/// logs `start` and `end` lines: instance, request, entry, delivery, time, outcome.
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
        let instance: Arc<str> = var("INSTANCE").into();
        let run_log: Arc<PathBuf> = Arc::new(var("RUN_LOG").into());
        let outage: Arc<PathBuf> = Arc::new(var("OUTAGE").into());
        let _workers = RunningWorkers::start(
            Arc::new(queue),
            client,
            QueueOptions::default()
                .workers(WORKERS)
                .lease(LEASE)
                .backoff(BACKOFF)
                .budget(BUDGET)
                .poll_interval(Duration::from_millis(20))
                .consumer(var("CONSUMER")),
            move |job| {
                let (instance, run_log, outage) = (
                    Arc::clone(&instance),
                    Arc::clone(&run_log),
                    Arc::clone(&outage),
                );
                async move {
                    let what = format!(
                        "{instance} {} {} {}",
                        job.request_id().unwrap_or("?"),
                        job.entry_id().unwrap_or("?"),
                        job.deliveries().unwrap_or(0)
                    );
                    log(&run_log, format!("start {what} {}", now_ms()));
                    // A database that is down or a legal hold answers at once; the
                    // erasure itself takes a while.
                    let outcome = if job.core_identifier.starts_with("hopeless") {
                        Err(JobError::give_up(
                            "this person's rows are under a legal hold",
                        ))
                    } else if outage.exists() {
                        Err(JobError::retry("warehouse database: connection refused"))
                    } else {
                        tokio::time::sleep(Duration::from_millis(fastrand::u64(50..150))).await;
                        job.reporter.erased().await.map_err(JobError::from)
                    };
                    let word = match &outcome {
                        Ok(()) => "reported",
                        Err(e) if e.is_already_reported() => "already",
                        Err(e) if e.is_give_up() => "give_up",
                        Err(_) => "failed",
                    };
                    log(&run_log, format!("end {what} {} {word}", now_ms()));
                    outcome
                }
            },
        );
        std::future::pending::<()>().await;
    });
}

/// What the test passes every replica.
struct Run<'a> {
    emulator: &'a Emulator,
    redis: &'a RedisServer,
    log: PathBuf,
    outage: PathBuf,
}

struct Replica(Child);

impl Replica {
    /// A replica process under `consumer`, logging as `instance`.
    fn start(run: &Run<'_>, consumer: &str, instance: &str) -> Self {
        Self(
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "replica_process",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(REPLICA, "1")
                .env("EMULATOR_URL", run.emulator.base_url())
                .env("API_KEY", run.emulator.api_key())
                .env("REDIS_URL", &run.redis.url)
                .env("CONSUMER", consumer)
                .env("INSTANCE", instance)
                .env("RUN_LOG", &run.log)
                .env("OUTAGE", &run.outage)
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

/// An emulator with a cron silo and `JOBS` erasures queued in Redis by their nonces
/// (the first `hopeless` of them for people whose handler gives up); the ids of the
/// others, and of the hopeless ones.
async fn queued_jobs(
    redis: &RedisServer,
    hopeless: usize,
) -> (Emulator, Vec<String>, Vec<String>, RedisQueue) {
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
    let (mut ids, mut given_up) = (Vec::new(), Vec::new());
    for i in 0..JOBS {
        if i < hopeless {
            given_up.push(submit(&client, RequestAction::Erasure, &format!("hopeless-{i}")).await);
        } else {
            ids.push(submit(&client, RequestAction::Erasure, &format!("person-{i}")).await);
        }
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
    (emulator, ids, given_up, queue)
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

/// Waits (at most two minutes) until every job is resolved and the queue holds no job
/// but `dead` dead letters.
async fn all_done(emulator: &Emulator, ids: &[String], redis: &RedisServer, dead: u64) {
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
                .is_ok_and(|s| s.depth == 0 && s.in_flight == 0 && s.dead_letters >= dead)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(resolved(emulator, ids), ids.len(), "every job reported");
    let stats = observer.stats().await.unwrap();
    assert_eq!(
        (stats.depth, stats.in_flight, stats.dead_letters),
        (0, 0, dead),
        "nothing left pending; only the given-up jobs dead-lettered"
    );
}

/// One line of the run's log.
#[derive(Debug, Clone)]
struct Line {
    end: bool,
    instance: String,
    request: String,
    entry: String,
    delivery: u32,
    at: u64,
    outcome: String,
}

fn read_log(path: &Path) -> Vec<Line> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split(' ').collect();
            (words.len() >= 6).then(|| Line {
                end: words[0] == "end",
                instance: words[1].to_owned(),
                request: words[2].to_owned(),
                entry: words[3].to_owned(),
                delivery: words[4].parse().unwrap(),
                at: words[5].parse().unwrap(),
                outcome: words.get(6).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

/// Runs started by `instance` and not ended: in flight when it was killed.
fn in_flight(lines: &[Line], instance: &str) -> usize {
    let key = |l: &Line| (l.entry.clone(), l.delivery);
    let ended: HashSet<_> = lines
        .iter()
        .filter(|l| l.end && l.instance == instance)
        .map(key)
        .collect();
    lines
        .iter()
        .filter(|l| !l.end && l.instance == instance && !ended.contains(&key(l)))
        .count()
}

/// The backoff a worker waits after a failed delivery `delivery` (as `QueueOptions`
/// computes it, capped by the lease as a `RedisQueue` is).
fn backoff_after(delivery: u32) -> u64 {
    (BACKOFF.as_millis() as u64 * (1u64 << (delivery - 1).min(16))).min(LEASE.as_millis() as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_killed_at_random_run_each_job_once_through_an_outage() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (emulator, ids, given_up, _queue) = queued_jobs(&redis, HOPELESS).await;
    let dir = std::env::temp_dir().join(format!("replicas-{:032x}", fastrand::u128(..)));
    std::fs::create_dir_all(&dir).unwrap();
    let run = Run {
        emulator: &emulator,
        redis: &redis,
        log: dir.join("runs.log"),
        outage: dir.join("outage"),
    };
    // The database is down from the start for a while: every handler fails, retried
    // after its backoff.
    std::fs::write(&run.outage, b"down").unwrap();
    let mut names: Vec<String> = (0..3).map(|i| format!("replica-{i}")).collect();
    let mut replicas: Vec<Replica> = names
        .iter()
        .map(|name| Replica::start(&run, name, &format!("{name}#0")))
        .collect();
    let mut instances: Vec<String> = names.iter().map(|name| format!("{name}#0")).collect();
    // Kill one at random every 150 ms while jobs remain, twelve times; half the time it
    // comes back under its own name (taking back what it held at once), half the time
    // under a new one (its jobs are taken over once their lease runs out).
    let (mut kills, mut killed_in_flight) = (Vec::new(), 0);
    for kill in 1..=12 {
        if resolved(&emulator, &ids) == ids.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        if kill == 8 {
            // The database is back, once the outage has made some handler fail (the
            // replicas may be slow to start on a busy machine).
            for _ in 0..6000 {
                if read_log(&run.log).iter().any(|l| l.outcome == "failed") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            std::fs::remove_file(&run.outage).unwrap();
        }
        let i = fastrand::usize(0..replicas.len());
        replicas[i].kill();
        kills.push((instances[i].clone(), now_ms()));
        killed_in_flight += in_flight(&read_log(&run.log), &instances[i]);
        if kill % 2 == 1 {
            names[i] = format!("replica-{i}-{kill}");
        }
        instances[i] = format!("{}#{kill}", names[i]);
        replicas[i] = Replica::start(&run, &names[i], &instances[i]);
    }
    let _ = std::fs::remove_file(&run.outage);
    assert!(kills.len() > 3, "replicas were killed mid-run");
    all_done(&emulator, &ids, &redis, HOPELESS as u64).await;
    drop(replicas);

    let lines = read_log(&run.log);
    let starts: Vec<&Line> = lines.iter().filter(|l| !l.end).collect();
    let ends: Vec<&Line> = lines.iter().filter(|l| l.end).collect();
    let failed = ends.iter().filter(|l| l.outcome == "failed").count();
    let runs = starts.len() - failed;
    let (jobs, bound) = (JOBS, JOBS + 2 * killed_in_flight);
    eprintln!(
        "chaos: {jobs} jobs, {} kills with {killed_in_flight} runs in flight, {} handler runs \
         ({failed} failed in the outage, {runs} others, at most {bound}), {} reports \
         accepted, {} answered 409",
        kills.len(),
        starts.len(),
        ends.iter().filter(|l| l.outcome == "reported").count(),
        ends.iter().filter(|l| l.outcome == "already").count(),
    );
    assert!(failed > 0, "the outage made handlers fail");
    assert!(
        runs <= bound,
        "{runs} handler runs for {jobs} jobs: more than {bound}"
    );

    // One dead letter for each hopeless job, none for any other.
    let queue = RedisQueue::connect(&redis.url, "warehouse").await.unwrap();
    let dead = queue.dead_letters().await.unwrap();
    let mut dead_requests: Vec<String> = dead
        .iter()
        .map(|d| d.job.job.request_id().unwrap_or_default().to_owned())
        .collect();
    dead_requests.sort();
    let mut expected = given_up.clone();
    expected.sort();
    assert_eq!(dead_requests, expected, "one dead letter per given-up job");
    assert!(
        dead.iter()
            .all(|d| d.error == "this person's rows are under a legal hold"),
        "the handler's words in the dead letter"
    );

    // No retry handed out before its backoff: the start of delivery d + 1 comes at
    // least the backoff after delivery d failed (unless the failing replica was
    // killed before releasing it: the lease decides then).
    let started: HashMap<(String, u32), u64> = starts
        .iter()
        .map(|l| ((l.entry.clone(), l.delivery), l.at))
        .collect();
    let (mut ratios, mut checked) = (Vec::new(), 0);
    for fail in ends.iter().filter(|l| l.outcome == "failed") {
        let Some(&next) = started.get(&(fail.entry.clone(), fail.delivery + 1)) else {
            continue;
        };
        let killed_between = kills
            .iter()
            .any(|(instance, at)| *instance == fail.instance && *at >= fail.at && *at <= next);
        let backoff = backoff_after(fail.delivery);
        assert!(
            next >= fail.at + backoff || killed_between,
            "{} delivery {} started {} ms after delivery {} failed; its backoff is {backoff} ms",
            fail.request,
            fail.delivery + 1,
            next - fail.at,
            fail.delivery
        );
        checked += 1;
        // The wait measured where no kill came in between.
        if !killed_between {
            ratios.push((next - fail.at) as f64 / backoff as f64);
        }
    }
    eprintln!("chaos: {checked} retries checked against their backoff");
    assert!(checked > 0, "retries were observed");
    ratios.sort_by(f64::total_cmp);
    if let (Some(median), Some(p90)) = (
        ratios.get(ratios.len() / 2),
        ratios.get(ratios.len() * 9 / 10),
    ) {
        eprintln!(
            "chaos: {} retries with no kill between, wait / backoff: median {median:.3}, p90 {p90:.3}",
            ratios.len(),
        );
    }
    emulator.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_mid_run_loses_no_job() {
    let Some(mut redis) = RedisServer::start_durable() else {
        return;
    };
    let (emulator, ids, _, queue) = queued_jobs(&redis, 0).await;
    drop(queue);
    let dir = std::env::temp_dir().join(format!("redis-restart-{:032x}", fastrand::u128(..)));
    std::fs::create_dir_all(&dir).unwrap();
    let run = Run {
        emulator: &emulator,
        redis: &redis,
        log: dir.join("runs.log"),
        outage: dir.join("no-outage"),
    };
    let replicas: Vec<Replica> = (0..2)
        .map(|i| Replica::start(&run, &format!("replica-{i}"), &format!("replica-{i}#0")))
        .collect();
    drop(run);
    // Once some jobs are done (or a bounded wait has passed), SIGKILL redis-server
    // and start it again on its append-only file.
    for _ in 0..2000 {
        if resolved(&emulator, &ids) >= JOBS / 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    redis.kill_and_restart();
    all_done(&emulator, &ids, &redis, 0).await;
    drop(replicas);
    emulator.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
