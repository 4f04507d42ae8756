//! Jobs in a Redis stream shared by a silo's replicas (feature `redis`).
//!
//! Keys share the hash tag `{<name>}`, so one cluster slot holds them all: the stream
//! `{name}:jobs`, its consumer group `silo`, the dead letters `{name}:dead`, the replay
//! records `{name}:replay:<key>` and a retry counter `{name}:retries`.
//!
//! - **Enqueue**: one Lua script checks the replay record, `XADD`s the job and then
//!   records the token (`SET … PX`); an append that fails stops the script before the
//!   token is spent.
//! - **Taking jobs**: a consumer first takes back, once each, the entries its name held
//!   when this process first asked (what an earlier process under the same name was
//!   running when it was killed), then takes over entries idle past the lease from any
//!   consumer (`XAUTOCLAIM`: dead replicas, and jobs whose retry backoff has passed),
//!   then reads new ones (`XREADGROUP … >`). Every path is one atomic claim that counts
//!   a delivery, so an entry is handed to one worker at a time.
//! - **Leases** are the entries' idle time: a long job renews its lease with `XCLAIM …
//!   JUSTID` by its own consumer, which resets the idle time.
//! - **A delivery is its count.** Renewing, releasing and dead-lettering check that the
//!   entry's delivery count is still the lease's: a worker whose lease ran out (and whose
//!   job another worker took over) changes nothing.
//! - **Done** is `XACK` + `XDEL` in one script. A failed job is handed to the consumer
//!   `(waiting for retry)`, its idle time set (`XCLAIM … IDLE`) to the lease less the
//!   backoff, so that any replica takes it over (`XAUTOCLAIM`) once the backoff has
//!   passed, and no consumer takes it back early as its own: a backoff longer than the
//!   lease waits the lease. Once delivered `budget` times it is appended to the dead
//!   letters *before* it is acknowledged, in the same script.
//! - **Consumer names**: two live processes under one name are noticed (each writes
//!   `{name}:consumer:<consumer>` with its own random instance id; a process that finds
//!   another's id where it wrote its own logs an error and counts it in
//!   [`RedisQueue::consumer_conflicts`]).
//! - **Entries the queue did not write** never reach a handler nor stop the queue: one
//!   deleted while pending is acknowledged; one that does not read as a job is moved to
//!   the dead letters with its raw `job` field and the reason (counted by `stats`, not
//!   listed by `dead_letters`, which returns jobs).
//! - Replies are read with the redis crate's stream types (`streams` feature).
//! - No `MAXLEN` trimming: an entry leaves the stream only when it is done or
//!   dead-lettered.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime};

use redis::aio::ConnectionManager;
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamPendingCountReply,
    StreamPendingReply, StreamRangeReply, StreamReadOptions, StreamReadReply,
};
use redis::{AsyncCommands, Script};

use super::{
    DeadLetter, Enqueued, JobQueue, Lease, QueueError, QueueStats, QueuedJob, Released, StoreFuture,
};

const GROUP: &str = "silo";

/// The consumer that holds failed jobs through their backoff: no replica's own name, so
/// nobody takes one back as its own before `XAUTOCLAIM` finds it idle past the lease.
const WAITING: &str = "(waiting for retry)";

/// How often a process writes its consumer names' instance records.
const HEARTBEAT: Duration = Duration::from_secs(1);

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

/// Into the dead letters, then out of the stream. With `ARGV[6]` = `1`, only while the
/// entry is still pending with the lease's delivery count (`ARGV[5]`): a worker whose
/// lease was taken over moves nothing, so a job reaches the dead letters once.
static DEAD_LETTER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if ARGV[6] == '1' then
  local rows = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
  if #rows == 0 or rows[1][4] ~= tonumber(ARGV[5]) then return 0 end
end
redis.call('XADD', KEYS[2], '*', 'job', ARGV[3], 'error', ARGV[4], 'deliveries', ARGV[5], 'from', ARGV[2])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
",
    )
});

/// A failed job's retry: counted, handed to the [`WAITING`] consumer, its idle time set
/// so that it is past the lease (what `XAUTOCLAIM` waits for) once the backoff has
/// passed (`ARGV[3]`). `JUSTID`: no delivery counted. Only while the entry is still
/// pending with the lease's delivery count (`ARGV[4]`).
static RETRY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local rows = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #rows == 0 or rows[1][4] ~= tonumber(ARGV[4]) then return 0 end
redis.call('INCR', KEYS[2])
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[5], 0, ARGV[2], 'IDLE', ARGV[3], 'JUSTID')
return 1
",
    )
});

/// A long job's lease renewed: its holder claims it again (`JUSTID`: idle time reset,
/// no delivery counted), only while its delivery count is still the lease's (`ARGV[3]`).
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local rows = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #rows == 0 or rows[1][4] ~= tonumber(ARGV[3]) then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], rows[1][2], 0, ARGV[2], 'JUSTID')
return 1
",
    )
});

/// An entry its consumer (`ARGV[2]`) held before this process started, taken back:
/// only while it is still that consumer's with the delivery count it had when listed
/// (`ARGV[4]`), so one worker gets it. Counts a delivery; answers the new count, or 0.
static TAKE_BACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local rows = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #rows == 0 or rows[1][4] ~= tonumber(ARGV[4]) then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3])
return rows[1][4] + 1
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
    /// Per consumer name: the entries it held when this value first asked for a job
    /// (an earlier process's, under the same name), not yet taken back.
    inherited: tokio::sync::Mutex<HashMap<String, VecDeque<(String, u32)>>>,
    /// The lease last asked for by `next`, in milliseconds: what a retry's idle time is
    /// measured against.
    lease_ms: AtomicU64,
    /// This value's random id in the consumer names' instance records.
    instance: String,
    /// Per consumer name: when this value last wrote its instance record.
    heartbeats: Mutex<HashMap<String, Instant>>,
    conflicts: AtomicU64,
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
            inherited: tokio::sync::Mutex::new(HashMap::new()),
            lease_ms: AtomicU64::new(60_000),
            instance: format!("{:016x}", fastrand::u64(..)),
            heartbeats: Mutex::new(HashMap::new()),
            conflicts: AtomicU64::new(0),
        })
    }

    /// How many times this value found another live process writing under one of its
    /// consumer names (each is also logged as an error). Two processes under one name
    /// take back each other's running jobs when one restarts: give each replica its
    /// own name.
    pub fn consumer_conflicts(&self) -> u64 {
        self.conflicts.load(Ordering::Relaxed)
    }

    /// Writes `consumer`'s instance record (at most once per [`HEARTBEAT`]): another
    /// process's id where this one wrote its own means two live processes share the
    /// name. The first write finds the id of the process that ran under the name before
    /// (restarted, killed): that is no conflict.
    async fn heartbeat(&self, consumer: &str, lease: Duration) -> Result<(), QueueError> {
        let first = {
            let heartbeats = self.heartbeats.lock().map_err(error)?;
            match heartbeats.get(consumer) {
                Some(at) if at.elapsed() < HEARTBEAT => return Ok(()),
                Some(_) => false,
                None => true,
            }
        };
        let key = format!(
            "{}consumer:{consumer}",
            self.replay_prefix.trim_end_matches("replay:")
        );
        let ttl = millis(lease.max(HEARTBEAT * 10));
        let mut connection = self.connection.clone();
        let previous: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(&self.instance)
            .arg("PX")
            .arg(ttl)
            .arg("GET")
            .query_async(&mut connection)
            .await
            .map_err(error)?;
        self.heartbeats
            .lock()
            .map_err(error)?
            .insert(consumer.to_owned(), Instant::now());
        if !first && previous.is_some_and(|previous| previous != self.instance) {
            self.conflicts.fetch_add(1, Ordering::Relaxed);
            tracing::error!(
                consumer,
                "another live process uses this consumer name: give each replica its own \
                 (QueueOptions::consumer), or leave the default"
            );
        }
        Ok(())
    }

    /// The entries `consumer` holds now, with their delivery counts, oldest first.
    async fn held_by(&self, consumer: &str) -> Result<VecDeque<(String, u32)>, QueueError> {
        let mut connection = self.connection.clone();
        let mut held = VecDeque::new();
        let mut from = "-".to_owned();
        loop {
            let reply: StreamPendingCountReply = connection
                .xpending_consumer_count(&self.stream, GROUP, &from, "+", 100, consumer)
                .await
                .map_err(error)?;
            let page = reply.ids.len();
            for entry in reply.ids {
                from = format!("({}", entry.id);
                let deliveries = u32::try_from(entry.times_delivered).unwrap_or(u32::MAX);
                held.push_back((entry.id, deliveries));
            }
            if page < 100 {
                return Ok(held);
            }
        }
    }

    /// Takes back one entry `consumer` held before this value first asked, if any is
    /// left that nobody took meanwhile.
    async fn take_back(&self, consumer: &str) -> Result<Option<Lease>, QueueError> {
        let mut inherited = self.inherited.lock().await;
        if !inherited.contains_key(consumer) {
            let held = self.held_by(consumer).await?;
            if !held.is_empty() {
                tracing::info!(
                    consumer,
                    jobs = held.len(),
                    "resuming the jobs this consumer name held when its process stopped"
                );
            }
            inherited.insert(consumer.to_owned(), held);
        }
        let Some(held) = inherited.get_mut(consumer) else {
            return Ok(None);
        };
        while let Some((id, deliveries)) = held.pop_front() {
            let mut connection = self.connection.clone();
            let taken: u32 = TAKE_BACK
                .key(&self.stream)
                .arg(GROUP)
                .arg(consumer)
                .arg(&id)
                .arg(deliveries)
                .invoke_async(&mut connection)
                .await
                .map_err(error)?;
            if taken == 0 {
                continue;
            }
            let reply: StreamRangeReply = connection
                .xrange(&self.stream, &id, &id)
                .await
                .map_err(error)?;
            match reply.ids.into_iter().next() {
                Some(entry) => {
                    if let Some(lease) = self.lease_of(entry, Some(taken)).await? {
                        return Ok(Some(lease));
                    }
                }
                None => {
                    let _: i64 = connection
                        .xack(&self.stream, GROUP, &[&id])
                        .await
                        .map_err(error)?;
                }
            }
        }
        Ok(None)
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

    /// The lease on an entry just handed to a consumer, with its delivery count when
    /// known (1 for a new one), otherwise read from the pending list.
    ///
    /// An entry that is not a job (deleted by hand, or written by something else) is
    /// never handed out: a deleted one is acknowledged, an unreadable one moved to the
    /// dead letters with what it held. `None` then: the caller looks again.
    async fn lease_of(
        &self,
        entry: StreamId,
        deliveries: Option<u32>,
    ) -> Result<Option<Lease>, QueueError> {
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
                    .arg(0)
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
        let deliveries = match deliveries {
            Some(deliveries) => deliveries,
            None => match self.pending(&entry.id).await? {
                Some((_, deliveries)) => deliveries,
                None => return Ok(None),
            },
        };
        Ok(Some(Lease::new(entry.id, deliveries, job)))
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
            self.heartbeat(consumer, lease).await?;
            // Entries that are not jobs are set aside as they are met (`lease_of`);
            // a few rounds, then the caller's next poll goes on.
            for _ in 0..8 {
                // 1. What this consumer name held when this process first asked.
                if let Some(lease) = self.take_back(consumer).await? {
                    return Ok(Some(lease));
                }
                // 2. Entries idle past the lease: a dead consumer's, or a retry whose
                //    backoff has passed.
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
                    match self.lease_of(entry, None).await? {
                        Some(lease) => return Ok(Some(lease)),
                        None => continue,
                    }
                }
                // 3. New entries.
                match self.read_group(consumer, ">").await? {
                    Some(entry) => match self.lease_of(entry, Some(1)).await? {
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
            let mut connection = self.connection.clone();
            let renewed: i64 = RENEW
                .key(&self.stream)
                .arg(GROUP)
                .arg(&lease.id)
                .arg(lease.deliveries)
                .invoke_async(&mut connection)
                .await
                .map_err(error)?;
            if renewed == 0 {
                tracing::warn!(id = %lease.id, "the job's lease ran out and another worker took it over");
            }
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
                let moved: i64 = DEAD_LETTER
                    .key(&self.stream)
                    .key(&self.dead)
                    .arg(GROUP)
                    .arg(&lease.id)
                    .arg(json)
                    .arg(message)
                    .arg(lease.deliveries)
                    .arg(1)
                    .invoke_async(&mut connection)
                    .await
                    .map_err(error)?;
                return Ok(if moved == 1 {
                    Released::DeadLettered
                } else {
                    Released::NotHeld
                });
            }
            // Left pending, as idle as a lease less the backoff: any replica takes it
            // over once the backoff has passed.
            let lease_ms = self.lease_ms.load(Ordering::Relaxed);
            let idle = lease_ms.saturating_sub(millis(backoff));
            let retried: i64 = RETRY
                .key(&self.stream)
                .key(&self.retries)
                .arg(GROUP)
                .arg(&lease.id)
                .arg(idle)
                .arg(lease.deliveries)
                .arg(WAITING)
                .invoke_async(&mut connection)
                .await
                .map_err(error)?;
            Ok(if retried == 1 {
                Released::Retry
            } else {
                Released::NotHeld
            })
        })
    }

    fn stats(&self) -> StoreFuture<'_, Result<QueueStats, QueueError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            type Reply = (u64, u64, Option<u64>, StreamPendingReply, StreamRangeReply);
            let (depth, dead, retries, pending, first): Reply = redis::pipe()
                .xlen(&self.stream)
                .xlen(&self.dead)
                .get(&self.retries)
                .xpending(&self.stream, GROUP)
                .xrange_count(&self.stream, "-", "+", 1)
                .query_async(&mut connection)
                .await
                .map_err(error)?;
            let waiting = match &pending {
                StreamPendingReply::Data(data) => data
                    .consumers
                    .iter()
                    .filter(|consumer| consumer.name == WAITING)
                    .map(|consumer| consumer.pending)
                    .sum(),
                _ => 0,
            };
            // A stream id starts with the milliseconds of its append.
            let oldest = first.ids.first().and_then(|entry| {
                let ms: u64 = entry.id.split('-').next()?.parse().ok()?;
                let at = std::time::UNIX_EPOCH + Duration::from_millis(ms);
                Some(SystemTime::now().duration_since(at).unwrap_or_default())
            });
            Ok(QueueStats {
                depth,
                in_flight: pending.count().saturating_sub(waiting) as u64,
                retries: retries.unwrap_or(0),
                dead_letters: dead,
                oldest_age: oldest,
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
