//! Jobs in a Redis stream shared by a silo's replicas (feature `redis`).
//!
//! Keys share the hash tag `{<name>}`, so one cluster slot holds them all: the stream
//! `{name}:jobs`, its consumer group `silo`, the dead letters `{name}:dead`, the replay
//! records `{name}:replay:<key>` and a retry counter `{name}:retries`.
//!
//! - **Enqueue**: one Lua script checks the replay record, `XADD`s the job and then
//!   records the token (`SET … PX`); an append that fails stops the script before the
//!   token is spent.
//! - **Taking jobs**: a consumer first re-reads its own pending entries (what it held
//!   when it was killed), then takes over entries idle past the lease from any consumer
//!   (`XAUTOCLAIM`: dead replicas, and jobs released for a retry), then reads new ones
//!   (`XREADGROUP … >`).
//! - **Leases** are the entries' idle time: a long job renews its lease with `XCLAIM …
//!   JUSTID` by its own consumer, which resets the idle time.
//! - **Done** is `XACK` + `XDEL` in one script. A failed job stays pending, its idle time
//!   set (`XCLAIM … IDLE`) to the lease less the backoff, so that any replica takes it
//!   over (`XAUTOCLAIM`) once the backoff has passed: a backoff longer than the lease
//!   waits the lease. Once delivered `budget` times it is appended to the dead letters
//!   *before* it is acknowledged.
//! - **Entries the queue did not write** never reach a handler nor stop the queue: one
//!   deleted while pending is acknowledged; one that does not read as a job is moved to
//!   the dead letters with its raw `job` field and the reason (counted by `stats`, not
//!   listed by `dead_letters`, which returns jobs).
//! - Replies are read with the redis crate's stream types (`streams` feature).
//! - No `MAXLEN` trimming: an entry leaves the stream only when it is done or
//!   dead-lettered.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use redis::aio::ConnectionManager;
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamClaimOptions, StreamId,
    StreamPendingCountReply, StreamPendingReply, StreamRangeReply, StreamReadOptions,
    StreamReadReply,
};
use redis::{AsyncCommands, Script};

use super::{
    DeadLetter, Enqueued, JobQueue, Lease, QueueError, QueueStats, QueuedJob, Released, StoreFuture,
};

const GROUP: &str = "silo";

static ENQUEUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('XADD', KEYS[2], '*', 'job', ARGV[2])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 1
",
    )
});

static ACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
",
    )
});

static DEAD_LETTER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('XADD', KEYS[2], '*', 'job', ARGV[3], 'error', ARGV[4], 'deliveries', ARGV[5], 'from', ARGV[2])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
",
    )
});

/// A failed job's retry: counted, and its idle time set so that it is past the lease
/// (`ARGV[3]`, what `XAUTOCLAIM` waits for) once the backoff has passed. The holder keeps
/// it (`JUSTID`: no delivery counted). An entry no longer pending is left alone.
static RETRY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local rows = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #rows == 0 then return 0 end
redis.call('INCR', KEYS[2])
redis.call('XCLAIM', KEYS[1], ARGV[1], rows[1][2], 0, ARGV[2], 'IDLE', ARGV[3], 'JUSTID')
return 1
",
    )
});

static REQUEUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local found = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1])
if #found == 0 then return 0 end
local fields = found[1][2]
for i = 1, #fields, 2 do
  if fields[i] == 'job' then
    redis.call('XADD', KEYS[1], '*', 'job', fields[i + 1])
    redis.call('XDEL', KEYS[2], ARGV[1])
    return 1
  end
end
return 0
",
    )
});

/// A silo's jobs in a Redis stream, shared by its replicas. See the module's
/// documentation for the commands; needs Redis 6.2 or later (`XAUTOCLAIM`).
///
/// What a failure of Redis itself costs depends on its persistence: with
/// `appendonly yes` and `appendfsync always` an acknowledged enqueue survives a crash
/// of the server; with `everysec` up to a second of enqueues can be lost; replicas
/// (`WAIT`) guard against losing the machine.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use transcend_hyper::silo::queue::RedisQueue;
/// let queue = RedisQueue::connect("redis://127.0.0.1:6379/", "users-db").await?;
/// # let _ = queue; Ok(()) }
/// ```
pub struct RedisQueue {
    connection: ConnectionManager,
    stream: String,
    dead: String,
    retries: String,
    replay_prefix: String,
    /// Consumers whose own pending entries were read back since this value was made.
    drained: Mutex<HashSet<String>>,
    /// The lease last asked for by `next`, in milliseconds: what a retry's idle time is
    /// measured against.
    lease_ms: AtomicU64,
}

impl std::fmt::Debug for RedisQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisQueue")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

fn error(e: impl std::fmt::Display) -> QueueError {
    QueueError(e.to_string())
}

impl RedisQueue {
    /// Connects to `url` and uses the queue named `name` (the silo's, say), creating
    /// its stream and consumer group if they do not exist.
    pub async fn connect(url: &str, name: &str) -> Result<Self, QueueError> {
        let client = redis::Client::open(url).map_err(error)?;
        let connection = client.get_connection_manager().await.map_err(error)?;
        Self::from_connection(connection, name).await
    }

    /// Uses a connection made elsewhere.
    pub async fn from_connection(
        mut connection: ConnectionManager,
        name: &str,
    ) -> Result<Self, QueueError> {
        let stream = format!("{{{name}}}:jobs");
        let created: redis::RedisResult<()> =
            connection.xgroup_create_mkstream(&stream, GROUP, "0").await;
        match created {
            Ok(_) => {}
            Err(e) if e.code() == Some("BUSYGROUP") => {}
            Err(e) => return Err(error(e)),
        }
        Ok(Self {
            connection,
            dead: format!("{{{name}}}:dead"),
            retries: format!("{{{name}}}:retries"),
            replay_prefix: format!("{{{name}}}:replay:"),
            stream,
            drained: Mutex::new(HashSet::new()),
            lease_ms: AtomicU64::new(60_000),
        })
    }

    /// One entry of the group for `consumer` (`XREADGROUP … COUNT 1 STREAMS <stream>
    /// <from>`): `0` reads back its own pending entries, `>` new ones.
    async fn read_group(&self, consumer: &str, from: &str) -> Result<Option<StreamId>, QueueError> {
        let mut connection = self.connection.clone();
        let options = StreamReadOptions::default().group(GROUP, consumer).count(1);
        let reply: Option<StreamReadReply> = connection
            .xread_options(&[&self.stream], &[from], &options)
            .await
            .map_err(error)?;
        Ok(reply
            .and_then(|reply| reply.keys.into_iter().next())
            .and_then(|key| key.ids.into_iter().next()))
    }

    /// The pending entry `id`: its holder and how many times it was delivered.
    async fn pending(&self, id: &str) -> Result<Option<(String, u32)>, QueueError> {
        let mut connection = self.connection.clone();
        let reply: StreamPendingCountReply = connection
            .xpending_count(&self.stream, GROUP, id, id, 1)
            .await
            .map_err(error)?;
        Ok(reply.ids.into_iter().next().map(|entry| {
            let deliveries = u32::try_from(entry.times_delivered).unwrap_or(u32::MAX);
            (entry.consumer, deliveries)
        }))
    }

    /// The lease on an entry just handed to a consumer; `first` when it came new (its
    /// first delivery), otherwise its deliveries are read from the pending list.
    ///
    /// An entry that is not a job (deleted by hand, or written by something else) is
    /// never handed out: a deleted one is acknowledged, an unreadable one moved to the
    /// dead letters with what it held. `None` then: the caller looks again.
    async fn lease_of(&self, entry: StreamId, first: bool) -> Result<Option<Lease>, QueueError> {
        let raw: Option<String> = entry.get("job");
        let parsed = raw.as_deref().map(serde_json::from_str::<QueuedJob>);
        let job = match parsed {
            Some(Ok(job)) => job,
            Some(Err(e)) => {
                let mut connection = self.connection.clone();
                let _: i64 = DEAD_LETTER
                    .key(&self.stream)
                    .key(&self.dead)
                    .arg(GROUP)
                    .arg(&entry.id)
                    .arg(raw.unwrap_or_default())
                    .arg(format!("not a job this queue can read: {e}"))
                    .arg(1)
                    .invoke_async(&mut connection)
                    .await
                    .map_err(error)?;
                tracing::error!(id = %entry.id, error = %e, "an unreadable entry was dead-lettered");
                return Ok(None);
            }
            None => {
                let mut connection = self.connection.clone();
                let _: i64 = connection
                    .xack(&self.stream, GROUP, &[&entry.id])
                    .await
                    .map_err(error)?;
                return Ok(None);
            }
        };
        let deliveries = if first {
            1
        } else {
            match self.pending(&entry.id).await? {
                Some((_, deliveries)) => deliveries,
                None => return Ok(None),
            }
        };
        Ok(Some(Lease {
            id: entry.id,
            deliveries,
            job,
        }))
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl JobQueue for RedisQueue {
    fn enqueue<'a>(
        &'a self,
        replay_key: &'a str,
        expires_at: SystemTime,
        job: &'a QueuedJob,
    ) -> StoreFuture<'a, Result<Enqueued, QueueError>> {
        Box::pin(async move {
            let json = serde_json::to_string(job).map_err(error)?;
            let ttl = expires_at
                .duration_since(SystemTime::now())
                .unwrap_or_default();
            let mut connection = self.connection.clone();
            let queued: i64 = ENQUEUE
                .key(format!("{}{replay_key}", self.replay_prefix))
                .key(&self.stream)
                .arg(millis(ttl))
                .arg(json)
                .invoke_async(&mut connection)
                .await
                .map_err(error)?;
            Ok(if queued == 1 {
                Enqueued::Queued
            } else {
                Enqueued::Replayed
            })
        })
    }

    fn spend<'a>(
        &'a self,
        replay_key: &'a str,
        expires_at: SystemTime,
    ) -> StoreFuture<'a, Result<bool, QueueError>> {
        Box::pin(async move {
            let ttl = expires_at
                .duration_since(SystemTime::now())
                .unwrap_or_default();
            let mut connection = self.connection.clone();
            let set: Option<String> = redis::cmd("SET")
                .arg(format!("{}{replay_key}", self.replay_prefix))
                .arg("1")
                .arg("NX")
                .arg("PX")
                .arg(millis(ttl))
                .query_async(&mut connection)
                .await
                .map_err(error)?;
            Ok(set.is_some())
        })
    }

    fn next<'a>(
        &'a self,
        consumer: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, Result<Option<Lease>, QueueError>> {
        Box::pin(async move {
            self.lease_ms.store(millis(lease), Ordering::Relaxed);
            // Entries that are not jobs are set aside as they are met (`lease_of`);
            // a few rounds, then the caller's next poll goes on.
            for _ in 0..8 {
                // 1. What this consumer held when it last stopped.
                let drained = self.drained.lock().map_err(error)?.contains(consumer);
                if !drained {
                    match self.read_group(consumer, "0").await? {
                        Some(entry) => match self.lease_of(entry, false).await? {
                            Some(lease) => return Ok(Some(lease)),
                            None => continue,
                        },
                        None => {
                            self.drained
                                .lock()
                                .map_err(error)?
                                .insert(consumer.to_owned());
                        }
                    }
                }
                // 2. Entries idle past the lease: a dead consumer's, or released.
                let mut connection = self.connection.clone();
                let claimed: StreamAutoClaimReply = connection
                    .xautoclaim_options(
                        &self.stream,
                        GROUP,
                        consumer,
                        millis(lease),
                        "0",
                        StreamAutoClaimOptions::default().count(1),
                    )
                    .await
                    .map_err(error)?;
                if let Some(entry) = claimed.claimed.into_iter().next() {
                    match self.lease_of(entry, false).await? {
                        Some(lease) => return Ok(Some(lease)),
                        None => continue,
                    }
                }
                // 3. New entries.
                match self.read_group(consumer, ">").await? {
                    Some(entry) => match self.lease_of(entry, true).await? {
                        Some(lease) => return Ok(Some(lease)),
                        None => continue,
                    },
                    None => return Ok(None),
                }
            }
            Ok(None)
        })
    }

    fn renew<'a>(
        &'a self,
        lease: &'a Lease,
        _by: Duration,
    ) -> StoreFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            // The holder claims its own entry again: its idle time starts over.
            let Some((holder, _)) = self.pending(&lease.id).await? else {
                return Ok(());
            };
            let mut connection = self.connection.clone();
            let _: Vec<String> = connection
                .xclaim_options(
                    &self.stream,
                    GROUP,
                    holder,
                    0,
                    &[&lease.id],
                    StreamClaimOptions::default().with_justid(),
                )
                .await
                .map_err(error)?;
            Ok(())
        })
    }

    fn ack<'a>(&'a self, lease: &'a Lease) -> StoreFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let _: i64 = ACK
                .key(&self.stream)
                .arg(GROUP)
                .arg(&lease.id)
                .invoke_async(&mut connection)
                .await
                .map_err(error)?;
            Ok(())
        })
    }

    fn release<'a>(
        &'a self,
        lease: &'a Lease,
        message: &'a str,
        backoff: Duration,
        budget: u32,
    ) -> StoreFuture<'a, Result<Released, QueueError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            if lease.deliveries >= budget {
                let json = serde_json::to_string(&lease.job).map_err(error)?;
                let _: i64 = DEAD_LETTER
                    .key(&self.stream)
                    .key(&self.dead)
                    .arg(GROUP)
                    .arg(&lease.id)
                    .arg(json)
                    .arg(message)
                    .arg(lease.deliveries)
                    .invoke_async(&mut connection)
                    .await
                    .map_err(error)?;
                return Ok(Released::DeadLettered);
            }
            // Left pending, as idle as a lease less the backoff: any replica takes it
            // over once the backoff has passed.
            let lease_ms = self.lease_ms.load(Ordering::Relaxed);
            let idle = lease_ms.saturating_sub(millis(backoff));
            let _: i64 = RETRY
                .key(&self.stream)
                .key(&self.retries)
                .arg(GROUP)
                .arg(&lease.id)
                .arg(idle)
                .invoke_async(&mut connection)
                .await
                .map_err(error)?;
            Ok(Released::Retry)
        })
    }

    fn stats(&self) -> StoreFuture<'_, Result<QueueStats, QueueError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let (depth, dead, retries, pending): (u64, u64, Option<u64>, StreamPendingReply) =
                redis::pipe()
                    .xlen(&self.stream)
                    .xlen(&self.dead)
                    .get(&self.retries)
                    .xpending(&self.stream, GROUP)
                    .query_async(&mut connection)
                    .await
                    .map_err(error)?;
            Ok(QueueStats {
                depth,
                in_flight: pending.count() as u64,
                retries: retries.unwrap_or(0),
                dead_letters: dead,
            })
        })
    }

    fn dead_letters(&self) -> StoreFuture<'_, Result<Vec<DeadLetter>, QueueError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let reply: StreamRangeReply = connection.xrange_all(&self.dead).await.map_err(error)?;
            let mut letters = Vec::new();
            for entry in reply.ids {
                let field = |name: &str| entry.get::<String>(name).unwrap_or_default();
                let job: QueuedJob = match serde_json::from_str(&field("job")) {
                    Ok(job) => job,
                    // Set aside because it could not be read: shown by `error`; its
                    // raw `job` field stays in the dead-letter stream.
                    Err(_) => continue,
                };
                letters.push(DeadLetter {
                    deliveries: field("deliveries").parse().unwrap_or(0),
                    error: field("error"),
                    id: entry.id,
                    job,
                });
            }
            Ok(letters)
        })
    }

    fn requeue<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Result<bool, QueueError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let moved: i64 = REQUEUE
                .key(&self.stream)
                .key(&self.dead)
                .arg(id)
                .invoke_async(&mut connection)
                .await
                .map_err(error)?;
            Ok(moved == 1)
        })
    }
}
