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
//! - No `MAXLEN` trimming: an entry leaves the stream only when it is done or
//!   dead-lettered.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use redis::aio::ConnectionManager;
use redis::{Script, Value};

use super::{
    DeadLetter, Enqueued, JobQueue, Lease, QueueError, QueueStats, QueuedJob, Released, StoreFuture,
};

const GROUP: &str = "silo";

const ENQUEUE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('XADD', KEYS[2], '*', 'job', ARGV[2])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 1
";

const ACK: &str = r"
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
";

const DEAD_LETTER: &str = r"
redis.call('XADD', KEYS[2], '*', 'job', ARGV[3], 'error', ARGV[4], 'deliveries', ARGV[5], 'from', ARGV[2])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
";

/// A failed job's retry: counted, and its idle time set so that it is past the lease
/// (`ARGV[3]`, what `XAUTOCLAIM` waits for) once the backoff has passed. The holder keeps
/// it (`JUSTID`: no delivery counted). An entry no longer pending is left alone.
const RETRY: &str = r"
local rows = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #rows == 0 then return 0 end
redis.call('INCR', KEYS[2])
redis.call('XCLAIM', KEYS[1], ARGV[1], rows[1][2], 0, ARGV[2], 'IDLE', ARGV[3], 'JUSTID')
return 1
";

const REQUEUE: &str = r"
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
";

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
        let created: redis::RedisResult<Value> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&stream)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut connection)
            .await;
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

    /// The entries of a stream reply (`XREADGROUP`, `XAUTOCLAIM`'s second element,
    /// `XRANGE`): (id, fields).
    fn entries(value: &Value) -> Vec<(String, Vec<(String, String)>)> {
        let Value::Array(items) = value else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                let Value::Array(pair) = item else {
                    return None;
                };
                let id = text(pair.first()?)?;
                let Value::Array(fields) = pair.get(1)? else {
                    return None;
                };
                let fields = fields
                    .chunks(2)
                    .filter_map(|kv| Some((text(kv.first()?)?, text(kv.get(1)?)?)))
                    .collect();
                Some((id, fields))
            })
            .collect()
    }

    /// One entry of the group for `consumer` (`XREADGROUP … COUNT 1 STREAMS <stream>
    /// <from>`): `0` reads back its own pending entries, `>` new ones.
    async fn read_group(
        &self,
        consumer: &str,
        from: &str,
    ) -> Result<Vec<(String, Vec<(String, String)>)>, QueueError> {
        let mut connection = self.connection.clone();
        let reply: Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(1)
            .arg("STREAMS")
            .arg(&self.stream)
            .arg(from)
            .query_async(&mut connection)
            .await
            .map_err(error)?;
        // RESP2 answers a list of [stream, entries] pairs; RESP3 a map.
        Ok(match &reply {
            Value::Array(streams) => streams
                .first()
                .and_then(|s| match s {
                    Value::Array(pair) => pair.get(1).map(Self::entries),
                    _ => None,
                })
                .unwrap_or_default(),
            Value::Map(streams) => streams
                .first()
                .map(|(_, v)| Self::entries(v))
                .unwrap_or_default(),
            _ => Vec::new(),
        })
    }

    /// How many times the entry was delivered (`XPENDING` for its id).
    async fn deliveries(&self, id: &str) -> Result<u32, QueueError> {
        let mut connection = self.connection.clone();
        let reply: Value = redis::cmd("XPENDING")
            .arg(&self.stream)
            .arg(GROUP)
            .arg(id)
            .arg(id)
            .arg(1)
            .query_async(&mut connection)
            .await
            .map_err(error)?;
        let count = match &reply {
            Value::Array(rows) => match rows.first() {
                Some(Value::Array(row)) => match row.get(3) {
                    Some(Value::Int(n)) => *n,
                    _ => 1,
                },
                _ => 1,
            },
            _ => 1,
        };
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn lease_of(
        &self,
        id: String,
        fields: &[(String, String)],
    ) -> Result<Option<Lease>, QueueError> {
        let Some((_, json)) = fields.iter().find(|(k, _)| k == "job") else {
            return Ok(None);
        };
        let job: QueuedJob = serde_json::from_str(json).map_err(error)?;
        let deliveries = self.deliveries(&id).await?;
        Ok(Some(Lease {
            id,
            deliveries,
            job,
        }))
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
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
            let queued: i64 = Script::new(ENQUEUE)
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

    fn next<'a>(
        &'a self,
        consumer: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, Result<Option<Lease>, QueueError>> {
        Box::pin(async move {
            self.lease_ms.store(millis(lease), Ordering::Relaxed);
            let mut connection = self.connection.clone();
            // 1. What this consumer held when it last stopped.
            let drained = self.drained.lock().map_err(error)?.contains(consumer);
            if !drained {
                let own = self.read_group(consumer, "0").await?;
                match own.into_iter().next() {
                    Some((id, fields)) => return self.lease_of(id, &fields).await,
                    None => {
                        self.drained
                            .lock()
                            .map_err(error)?
                            .insert(consumer.to_owned());
                    }
                }
            }
            // 2. Entries idle past the lease: a dead consumer's, or released.
            let reply: Value = redis::cmd("XAUTOCLAIM")
                .arg(&self.stream)
                .arg(GROUP)
                .arg(consumer)
                .arg(millis(lease))
                .arg("0")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut connection)
                .await
                .map_err(error)?;
            if let Value::Array(parts) = &reply
                && let Some(claimed) = parts.get(1)
                && let Some((id, fields)) = Self::entries(claimed).into_iter().next()
            {
                return self.lease_of(id, &fields).await;
            }
            // 3. New entries.
            let new = self.read_group(consumer, ">").await?;
            match new.into_iter().next() {
                Some((id, fields)) => self.lease_of(id, &fields).await,
                None => Ok(None),
            }
        })
    }

    fn renew<'a>(
        &'a self,
        lease: &'a Lease,
        _by: Duration,
    ) -> StoreFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            // The holder claims its own entry again: its idle time starts over.
            let mut connection = self.connection.clone();
            let consumers: Value = redis::cmd("XPENDING")
                .arg(&self.stream)
                .arg(GROUP)
                .arg(&lease.id)
                .arg(&lease.id)
                .arg(1)
                .query_async(&mut connection)
                .await
                .map_err(error)?;
            let holder = match &consumers {
                Value::Array(rows) => match rows.first() {
                    Some(Value::Array(row)) => row.get(1).and_then(text),
                    _ => None,
                },
                _ => None,
            };
            let Some(holder) = holder else {
                return Ok(());
            };
            let _: Value = redis::cmd("XCLAIM")
                .arg(&self.stream)
                .arg(GROUP)
                .arg(holder)
                .arg(0)
                .arg(&lease.id)
                .arg("JUSTID")
                .query_async(&mut connection)
                .await
                .map_err(error)?;
            Ok(())
        })
    }

    fn ack<'a>(&'a self, lease: &'a Lease) -> StoreFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let _: i64 = Script::new(ACK)
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
                let _: i64 = Script::new(DEAD_LETTER)
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
            let _: i64 = Script::new(RETRY)
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
            let (depth, dead, retries, pending): (u64, u64, Option<u64>, Value) = redis::pipe()
                .cmd("XLEN")
                .arg(&self.stream)
                .cmd("XLEN")
                .arg(&self.dead)
                .cmd("GET")
                .arg(&self.retries)
                .cmd("XPENDING")
                .arg(&self.stream)
                .arg(GROUP)
                .query_async(&mut connection)
                .await
                .map_err(error)?;
            let in_flight = match &pending {
                Value::Array(summary) => match summary.first() {
                    Some(Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
                    _ => 0,
                },
                _ => 0,
            };
            Ok(QueueStats {
                depth,
                in_flight,
                retries: retries.unwrap_or(0),
                dead_letters: dead,
            })
        })
    }

    fn dead_letters(&self) -> StoreFuture<'_, Result<Vec<DeadLetter>, QueueError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let reply: Value = redis::cmd("XRANGE")
                .arg(&self.dead)
                .arg("-")
                .arg("+")
                .query_async(&mut connection)
                .await
                .map_err(error)?;
            let mut letters = Vec::new();
            for (id, fields) in Self::entries(&reply) {
                let field = |name: &str| {
                    fields
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                let job: QueuedJob = serde_json::from_str(&field("job")).map_err(error)?;
                letters.push(DeadLetter {
                    id,
                    deliveries: field("deliveries").parse().unwrap_or(0),
                    error: field("error"),
                    job,
                });
            }
            Ok(letters)
        })
    }

    fn requeue<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Result<bool, QueueError>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let moved: i64 = Script::new(REQUEUE)
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
