//! Silo jobs in a Redis stream shared by replicas, against a real `redis-server` the
//! test starts and stops. Each replica is a `RedisQueue` of its own (its own
//! connection and consumer name), as separate processes would have.
//!
//! Needs `redis-server` on the PATH (`.ci/run` installs it when missing). No test
//! measures time: leases are far longer than any renewal interval, and every wait has
//! a generous bound.

#[path = "common/redis_server.rs"]
mod redis_server;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use redis_server::RedisServer;
use transcend_hyper::Client;
use transcend_hyper::silo::queue::{
    Enqueued, JobQueue, Lease, QueueOptions, QueuedJob, RedisQueue, Released, RunningWorkers,
};

fn job(person: &str) -> QueuedJob {
    serde_json::from_value(serde_json::json!({
        "job": {"type": "ERASURE", "coreIdentifier": {"value": person}},
        "core_identifier": person,
        "nonce": format!("nonce-{person}"),
    }))
    .unwrap()
}

fn in_an_hour() -> SystemTime {
    SystemTime::now() + Duration::from_secs(3600)
}

async fn replica(redis: &RedisServer) -> RedisQueue {
    RedisQueue::connect(&redis.url, "users-db").await.unwrap()
}

/// Polls `next` for up to a minute until it hands out a job.
async fn take(
    queue: &RedisQueue,
    consumer: &str,
    lease: Duration,
) -> transcend_hyper::silo::queue::Lease {
    for _ in 0..6000 {
        if let Some(lease) = queue.next(consumer, lease).await.unwrap() {
            return lease;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no job was handed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_twice_is_queued_once_and_a_dead_replicas_job_taken_over() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = (replica(&redis).await, replica(&redis).await);
    assert_eq!(
        a.enqueue("jti-1", in_an_hour(), &job("ada")).await.unwrap(),
        Enqueued::Queued
    );
    assert_eq!(
        b.enqueue("jti-1", in_an_hour(), &job("ada")).await.unwrap(),
        Enqueued::Replayed,
        "the same delivery at another replica"
    );

    // Replica a takes the job and dies holding it.
    let held = take(&a, "a", Duration::from_secs(60)).await;
    assert_eq!(
        (held.deliveries, held.job.core_identifier.as_str()),
        (1, "ada")
    );
    drop(a);
    // Within the lease nobody else gets it; past it (here a short one), b takes it over.
    assert!(
        b.next("b", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    let taken = take(&b, "b", Duration::from_millis(100)).await;
    assert_eq!((taken.id.as_str(), taken.deliveries), (held.id.as_str(), 2));
    b.ack(&taken).await.unwrap();
    let stats = b.stats().await.unwrap();
    assert_eq!(
        (stats.depth, stats.in_flight, stats.dead_letters),
        (0, 0, 0)
    );
    assert!(
        b.next("b", Duration::from_millis(1))
            .await
            .unwrap()
            .is_none(),
        "done once"
    );
}

/// `people`'s jobs queued, and the first taken by a replica under `replica-1` that is
/// then killed holding it.
async fn killed_holding_the_first(redis: &RedisServer, people: &[&str]) -> Lease {
    let before = replica(redis).await;
    for person in people {
        before
            .enqueue(&format!("jti-{person}"), in_an_hour(), &job(person))
            .await
            .unwrap();
    }
    take(&before, "replica-1", Duration::from_secs(60)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_replica_first_takes_back_what_it_held() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let held = killed_holding_the_first(&redis, &["ada", "alan"]).await;
    // The same consumer name after a restart: its own pending entry comes first,
    // though its lease has not run out.
    let after = replica(&redis).await;
    let again = take(&after, "replica-1", Duration::from_secs(60)).await;
    assert_eq!(again.id, held.id);
    after.ack(&again).await.unwrap();
    let next = take(&after, "replica-1", Duration::from_secs(60)).await;
    assert_eq!(next.job.core_identifier, "alan");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_job_that_renews_its_lease_is_not_taken_over() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = (replica(&redis).await, replica(&redis).await);
    a.enqueue("jti-1", in_an_hour(), &job("ada")).await.unwrap();
    let lease = Duration::from_secs(2);
    let held = take(&a, "a", lease).await;
    // For three leases, a renews every 100 ms; b keeps asking.
    for _ in 0..60 {
        a.renew(&held, lease).await.unwrap();
        assert!(
            b.next("b", lease).await.unwrap().is_none(),
            "taken over while renewed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    a.ack(&held).await.unwrap();
    assert_eq!(b.stats().await.unwrap().depth, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_always_fails_is_dead_lettered_after_its_budget() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let queue = Arc::new(replica(&redis).await);
    queue
        .enqueue("jti-1", in_an_hour(), &job("ada"))
        .await
        .unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&runs);
    // A report to nowhere: every run fails with a connection error (not a 409).
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("k")
        .max_attempts(1)
        .build()
        .unwrap();
    let workers = RunningWorkers::start(
        Arc::clone(&queue),
        client,
        QueueOptions::default()
            .workers(1)
            .budget(3)
            .lease(Duration::from_millis(50))
            .poll_interval(Duration::from_millis(10)),
        move |job| {
            counted.fetch_add(1, Ordering::SeqCst);
            async move { Ok(job.reporter.erased().await?) }
        },
    );
    for _ in 0..6000 {
        if queue.stats().await.unwrap().dead_letters == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    workers.shutdown().await;
    let stats = queue.stats().await.unwrap();
    assert_eq!(
        (stats.depth, stats.in_flight, stats.dead_letters),
        (0, 0, 1)
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        3,
        "ran once per delivery of its budget"
    );
    let dead = queue.dead_letters().await.unwrap();
    assert_eq!(
        (dead[0].deliveries, dead[0].job.core_identifier.as_str()),
        (3, "ada")
    );
    assert!(queue.requeue(&dead[0].id).await.unwrap());
    let stats = queue.stats().await.unwrap();
    assert_eq!((stats.depth, stats.dead_letters), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_waits_its_backoff_then_any_replica_takes_it() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = (replica(&redis).await, replica(&redis).await);
    a.enqueue("jti-1", in_an_hour(), &job("ada")).await.unwrap();
    let lease = Duration::from_secs(60);
    let held = take(&a, "a", lease).await;
    a.release(&held, "boom", Duration::from_secs(30), 8)
        .await
        .unwrap();
    // Released with a 30 s backoff under a 60 s lease: it stands as idle as 30 s of a
    // lease. Not past a 60 s lease, so not taken over yet (that would take 30 s more)…
    assert!(b.next("b", lease).await.unwrap().is_none());
    // …but past a 29 s one: its idle time is the backoff's remainder of the lease.
    let retried = b
        .next("b", Duration::from_secs(29))
        .await
        .unwrap()
        .expect("a released job is taken once its backoff has passed");
    assert_eq!(
        (retried.id.as_str(), retried.deliveries),
        (held.id.as_str(), 2)
    );
    assert_eq!(b.stats().await.unwrap().retries, 1);

    // A short backoff under a long lease: released for 100 ms by a replica working with
    // the 60 s lease again, the job stands 59.9 s idle at once, where 100 ms more make
    // it past the lease.
    assert!(b.next("b", lease).await.unwrap().is_none());
    b.release(&retried, "boom", Duration::from_millis(100), 8)
        .await
        .unwrap();
    let again = a
        .next("a", Duration::from_millis(59_900))
        .await
        .unwrap()
        .expect("idle for the lease less the backoff");
    assert_eq!((again.id.as_str(), again.deliveries), (held.id.as_str(), 3));
}

/// Two replicas' workers; one job runs for four leases (the workers renew it) while the
/// other replica keeps taking jobs: the long job is never handed to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_renew_a_long_jobs_lease_and_no_other_replica_takes_it() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = (
        Arc::new(replica(&redis).await),
        Arc::new(replica(&redis).await),
    );
    a.enqueue("jti-long", in_an_hour(), &job("long"))
        .await
        .unwrap();
    let runs = Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("k")
        .build()
        .unwrap();
    let lease = Duration::from_secs(3);
    let start = |queue: &Arc<RedisQueue>, name: &'static str| {
        let runs = Arc::clone(&runs);
        RunningWorkers::start(
            Arc::clone(queue),
            client.clone(),
            QueueOptions::default()
                .workers(1)
                .consumer(name)
                .lease(lease)
                .poll_interval(Duration::from_millis(20)),
            move |job| {
                let person = job.core_identifier.clone();
                runs.lock().unwrap().push((name.to_owned(), person.clone()));
                async move {
                    if person == "long" {
                        // Four leases' work; renewed every lease / 3.
                        tokio::time::sleep(lease * 4).await;
                    }
                    Ok(())
                }
            },
        )
    };
    let workers_a = start(&a, "a");
    // The long job is a's before b starts.
    for _ in 0..6000 {
        if !runs.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let workers_b = start(&b, "b");
    // b works while a's long job runs: short jobs, queued over the long job's time.
    for i in 0..8 {
        b.enqueue(
            &format!("jti-{i}"),
            in_an_hour(),
            &job(&format!("short-{i}")),
        )
        .await
        .unwrap();
        workers_b.notify_queued();
        tokio::time::sleep(lease / 2).await;
    }
    for _ in 0..6000 {
        let stats = a.stats().await.unwrap();
        if (stats.depth, stats.in_flight) == (0, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    workers_a.shutdown().await;
    workers_b.shutdown().await;
    let runs = runs.lock().unwrap().clone();
    let long: Vec<_> = runs.iter().filter(|(_, person)| person == "long").collect();
    assert_eq!(long.len(), 1, "the long job ran once: {runs:?}");
    assert_eq!(long[0].0, "a");
    assert!(
        runs.iter().any(|(by, _)| by == "b"),
        "replica b was taking jobs meanwhile: {runs:?}"
    );
    assert_eq!(runs.len(), 9, "every job ran once: {runs:?}");
    let stats = a.stats().await.unwrap();
    assert_eq!(
        (stats.depth, stats.in_flight, stats.dead_letters),
        (0, 0, 0)
    );
}

/// Entries the queue did not write are never handed to a handler and never stop the
/// queue: one whose data was deleted while pending is acknowledged; one that is not a
/// job is moved to the dead letters with what it held; the job behind them runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_that_are_not_jobs_are_set_aside() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let queue = replica(&redis).await;
    let client = redis::Client::open(redis.url.as_str()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let stream = "{users-db}:jobs";
    // Delivered to "a" and then deleted: pending without data.
    let _: String = redis::cmd("XADD")
        .arg(stream)
        .arg("*")
        .arg("job")
        .arg("{}")
        .query_async(&mut raw)
        .await
        .unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("silo")
        .arg("a")
        .arg("COUNT")
        .arg(1)
        .arg("STREAMS")
        .arg(stream)
        .arg(">")
        .query_async(&mut raw)
        .await
        .unwrap();
    let deleted: Vec<redis::Value> = redis::cmd("XRANGE")
        .arg(stream)
        .arg("-")
        .arg("+")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(deleted.len(), 1);
    let _: i64 = redis::cmd("XTRIM")
        .arg(stream)
        .arg("MAXLEN")
        .arg(0)
        .query_async(&mut raw)
        .await
        .unwrap();
    // Not a job at all, then a real one.
    let _: String = redis::cmd("XADD")
        .arg(stream)
        .arg("*")
        .arg("job")
        .arg("not json")
        .query_async(&mut raw)
        .await
        .unwrap();
    queue
        .enqueue("jti-1", in_an_hour(), &job("ada"))
        .await
        .unwrap();

    let lease = take(&queue, "a", Duration::from_secs(60)).await;
    assert_eq!(lease.job.core_identifier, "ada");
    queue.ack(&lease).await.unwrap();
    let stats = queue.stats().await.unwrap();
    assert_eq!(
        (stats.depth, stats.in_flight, stats.dead_letters),
        (0, 0, 1),
        "{stats:?}"
    );
    let dead: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg("{users-db}:dead")
        .arg("-")
        .arg("+")
        .query_async(&mut raw)
        .await
        .unwrap();
    let fields = &dead[0].1;
    assert!(fields.contains(&("job".to_owned(), "not json".to_owned())));
    assert!(
        fields
            .iter()
            .any(|(k, v)| k == "error" && v.starts_with("not a job this queue can read")),
        "{fields:?}"
    );
}

/// A token spent by an answer given at once and one spent by a queued job share one
/// record: each is refused the other way too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spent_and_queued_tokens_share_one_replay_record() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = (replica(&redis).await, replica(&redis).await);
    assert!(a.spend("jti-answered", in_an_hour()).await.unwrap());
    assert!(!b.spend("jti-answered", in_an_hour()).await.unwrap());
    assert_eq!(
        b.enqueue("jti-answered", in_an_hour(), &job("ada"))
            .await
            .unwrap(),
        Enqueued::Replayed
    );
    assert_eq!(
        a.enqueue("jti-queued", in_an_hour(), &job("ada"))
            .await
            .unwrap(),
        Enqueued::Queued
    );
    assert!(!b.spend("jti-queued", in_an_hour()).await.unwrap());
    assert_eq!(a.stats().await.unwrap().depth, 1);
}

/// A replica killed holding a job and started again under its name, with several
/// workers asking at once: the job is handed to one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_restarted_under_its_name_hands_its_job_to_one_worker() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let held = killed_holding_the_first(&redis, &["ada"]).await;
    let after = Arc::new(replica(&redis).await);
    let asking: Vec<_> = (0..4)
        .map(|_| {
            let after = Arc::clone(&after);
            tokio::spawn(async move {
                after
                    .next("replica-1", Duration::from_secs(60))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut handed = Vec::new();
    for asked in asking {
        handed.extend(asked.await.unwrap());
    }
    assert_eq!(handed.len(), 1, "one worker runs the job: {handed:?}");
    assert_eq!(
        (handed[0].id.as_str(), handed[0].deliveries),
        (held.id.as_str(), 2)
    );
    // Still held by that worker: nobody else gets it while it runs.
    for _ in 0..3 {
        assert!(
            after
                .next("replica-1", Duration::from_secs(60))
                .await
                .unwrap()
                .is_none()
        );
    }
}

/// A job failing after a same-name restart keeps its backoff: the restarted replica
/// does not take it back as its own before the backoff has passed, and the budget is
/// not spent meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_keeps_its_backoff_after_a_restart_under_the_same_name() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let lease = Duration::from_secs(60);
    let before = replica(&redis).await;
    before
        .enqueue("jti-1", in_an_hour(), &job("ada"))
        .await
        .unwrap();
    let first = take(&before, "replica-1", lease).await;
    before
        .release(&first, "database down", Duration::from_secs(30), 3)
        .await
        .unwrap();
    drop(before);
    let after = replica(&redis).await;
    for _ in 0..20 {
        assert!(
            after.next("replica-1", lease).await.unwrap().is_none(),
            "handed out again within its backoff"
        );
    }
    // Past its backoff (a 29 s lease makes 30 s of backoff past), once, with the
    // delivery counted once.
    let retried = after
        .next("replica-1", Duration::from_secs(29))
        .await
        .unwrap()
        .expect("taken once the backoff has passed");
    assert_eq!(retried.deliveries, 2);
    assert_eq!(after.stats().await.unwrap().retries, 1);
}

/// Two workers holding the same job (the first one's lease ran out and the job was
/// taken over) both fail on their last delivery: one dead letter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_reaches_the_dead_letters_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = (replica(&redis).await, replica(&redis).await);
    a.enqueue("jti-1", in_an_hour(), &job("ada")).await.unwrap();
    let stale = take(&a, "a", Duration::from_secs(60)).await;
    let current = take(&b, "b", Duration::from_millis(50)).await;
    assert_eq!((stale.deliveries, current.deliveries), (1, 2));
    assert_eq!(
        a.release(&stale, "timeout", Duration::ZERO, 1)
            .await
            .unwrap(),
        Released::NotHeld,
        "the stale holder moves nothing"
    );
    assert_eq!(
        a.renew(&stale, Duration::from_secs(60)).await.ok(),
        Some(())
    );
    assert_eq!(
        b.release(&current, "timeout", Duration::ZERO, 2)
            .await
            .unwrap(),
        Released::DeadLettered
    );
    assert_eq!(
        b.release(&current, "timeout", Duration::ZERO, 2)
            .await
            .unwrap(),
        Released::NotHeld,
        "twice by the same holder"
    );
    let stats = a.stats().await.unwrap();
    assert_eq!((stats.depth, stats.dead_letters), (0, 1));
    assert_eq!(a.dead_letters().await.unwrap().len(), 1);
}

/// Default consumer names differ from process start to process start (a container's
/// replicas all run as PID 1 on a reused host name); two live processes given one name
/// by hand are noticed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_names_are_unique_and_a_shared_name_is_noticed() {
    let names: std::collections::HashSet<String> =
        (0..100).map(|_| QueueOptions::default().consumer).collect();
    assert_eq!(names.len(), 100);
    assert!(
        names
            .iter()
            .all(|name| name.contains(&std::process::id().to_string()))
    );

    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = (replica(&redis).await, replica(&redis).await);
    let lease = Duration::from_secs(60);
    // A restart under a name is no conflict: the first write finds the old process's id.
    a.next("shared", lease).await.unwrap();
    let restarted = replica(&redis).await;
    restarted.next("shared", lease).await.unwrap();
    assert_eq!(restarted.consumer_conflicts(), 0);
    drop(restarted);
    // Both live: each finds the other's id where it wrote its own.
    for _ in 0..300 {
        a.next("shared", lease).await.unwrap();
        b.next("shared", lease).await.unwrap();
        if a.consumer_conflicts() + b.consumer_conflicts() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(a.consumer_conflicts() + b.consumer_conflicts() > 0);
    assert_eq!(
        (replica(&redis).await).consumer_conflicts(),
        0,
        "counted per process"
    );
}
