//! The embedded queue: jobs in a redb file on this machine, each webhook's job
//! committed to disk (`Durability::Immediate`) before the webhook is answered.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
};

use super::{
    DeadLetter, Enqueued, JobQueue, Lease, QueueError, QueueStats, QueuedJob, Released, StoreFuture,
};

const JOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("jobs");
/// Every job by when it can next be handed out (`Entry::available_at`), then id: the
/// next job is the first key, found without reading the others.
const READY: TableDefinition<(u64, u64), ()> = TableDefinition::new("ready");
const DEAD: TableDefinition<u64, &[u8]> = TableDefinition::new("dead_letters");
/// Replay keys, with the time (ms since the epoch) their token expires.
const REPLAYS: TableDefinition<&str, u64> = TableDefinition::new("replays");
/// The same records ordered by expiry, so expired ones are found without a scan.
const REPLAY_EXPIRY: TableDefinition<(u64, &str), ()> = TableDefinition::new("replay_expiry");
/// Expired replay records removed by one write, at most: the work per webhook stays
/// bounded, and more than one token expires per token arriving only after a burst.
const EXPIRED_PER_WRITE: usize = 64;
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const NEXT_ID: &str = "next_id";
const RETRIES: &str = "retries";

/// A queue entry as stored.
#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    job: QueuedJob,
    deliveries: u32,
    /// Not handed out before this (ms since the epoch): a retry's backoff.
    not_before: u64,
    /// Held by a worker until this (ms since the epoch).
    leased_until: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    error: String,
    /// When it was queued (ms since the epoch); 0 in files written before this field.
    #[serde(default)]
    queued_at: u64,
}

impl Entry {
    /// When the job can next be handed out: after its lease and its backoff. A new job's
    /// `not_before` is when it was queued, so jobs go out in the order they became
    /// available.
    fn available_at(&self) -> u64 {
        self.leased_until.max(self.not_before)
    }
}

/// Writes `entry` as job `id`, keeping [`READY`] in step (`was_available_at`: the
/// `available_at` of the entry it replaces).
fn put(
    jobs: &mut redb::Table<'_, u64, &'static [u8]>,
    ready: &mut redb::Table<'_, (u64, u64), ()>,
    id: u64,
    was_available_at: Option<u64>,
    entry: &Entry,
) -> Result<(), QueueError> {
    if let Some(at) = was_available_at {
        ready.remove((at, id)).map_err(error)?;
    }
    ready
        .insert((entry.available_at(), id), ())
        .map_err(error)?;
    jobs.insert(id, encode(entry)?.as_slice()).map_err(error)?;
    Ok(())
}

/// Removes job `id` and its [`READY`] key; what it was, if it was there.
fn take(
    jobs: &mut redb::Table<'_, u64, &'static [u8]>,
    ready: &mut redb::Table<'_, (u64, u64), ()>,
    id: u64,
) -> Result<Option<Entry>, QueueError> {
    let removed = jobs.remove(id).map_err(error)?;
    let Some(bytes) = removed else {
        return Ok(None);
    };
    let entry = decode(bytes.value())?;
    drop(bytes);
    ready.remove((entry.available_at(), id)).map_err(error)?;
    Ok(Some(entry))
}

/// Jobs in a redb file: the default queue for a silo on one machine. The file is
/// opened by one process at a time (redb locks it); jobs a killed process held are
/// handed out again as soon as the file is opened anew.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use transcend_hyper::silo::queue::EmbeddedQueue;
/// let queue = EmbeddedQueue::open("silo-jobs.redb")?;
/// # let _ = queue; Ok(()) }
/// ```
#[derive(Clone)]
pub struct EmbeddedQueue {
    db: Arc<Database>,
}

impl std::fmt::Debug for EmbeddedQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmbeddedQueue")
    }
}

fn error(e: impl std::fmt::Display) -> QueueError {
    QueueError(e.to_string())
}

fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn now() -> u64 {
    millis(SystemTime::now())
}

fn later(by: Duration) -> u64 {
    now().saturating_add(u64::try_from(by.as_millis()).unwrap_or(u64::MAX))
}

fn encode(entry: &Entry) -> Result<Vec<u8>, QueueError> {
    serde_json::to_vec(entry).map_err(error)
}

fn decode(bytes: &[u8]) -> Result<Entry, QueueError> {
    serde_json::from_slice(bytes).map_err(error)
}

impl EmbeddedQueue {
    /// Opens (or creates) the queue file. Leases held by an earlier process are
    /// dropped: that process is gone, since the file is opened by one at a time.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, QueueError> {
        let path = path.as_ref();
        let db = Database::create(path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => QueueError(format!(
                "the queue file {} is open in another process (one process at a time: \
                 give each process its own file, or share a RedisQueue)",
                path.display()
            )),
            other => QueueError(format!(
                "cannot open the queue file {}: {other}",
                path.display()
            )),
        })?;
        let write = db.begin_write().map_err(error)?;
        {
            let mut jobs = write.open_table(JOBS).map_err(error)?;
            write.open_table(DEAD).map_err(error)?;
            let replays = write.open_table(REPLAYS).map_err(error)?;
            let mut expiry = write.open_table(REPLAY_EXPIRY).map_err(error)?;
            if expiry.len().map_err(error)? != replays.len().map_err(error)? {
                // A file written before the index existed (or torn between the two,
                // which one commit rules out): index it again.
                expiry.retain(|_, ()| false).map_err(error)?;
                for record in replays.iter().map_err(error)? {
                    let (key, until) = record.map_err(error)?;
                    expiry
                        .insert((until.value(), key.value()), ())
                        .map_err(error)?;
                }
            }
            write.open_table(META).map_err(error)?;
            // Leases are dropped and the ready index written anew from the jobs (which
            // also indexes a file written before the index existed).
            let mut ready = write.open_table(READY).map_err(error)?;
            ready.retain(|_, ()| false).map_err(error)?;
            let mut held = Vec::new();
            for entry in jobs.iter().map_err(error)? {
                let (id, bytes) = entry.map_err(error)?;
                let mut entry = decode(bytes.value())?;
                if entry.leased_until != 0 {
                    entry.leased_until = 0;
                    held.push((id.value(), encode(&entry)?));
                }
                ready
                    .insert((entry.available_at(), id.value()), ())
                    .map_err(error)?;
            }
            for (id, bytes) in held {
                jobs.insert(id, bytes.as_slice()).map_err(error)?;
            }
        }
        write.commit().map_err(error)?;
        Ok(Self { db: Arc::new(db) })
    }

    /// Runs `work` on a blocking thread with the database.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, QueueError> + Send + 'static,
    ) -> Result<T, QueueError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(error)?
    }
}

/// Records `key`'s first use until `expires` in `write`, unless it is recorded and not
/// expired (`false`); removes up to [`EXPIRED_PER_WRITE`] expired records on the way.
fn first_use(write: &redb::WriteTransaction, key: &str, expires: u64) -> Result<bool, QueueError> {
    let mut replays = write.open_table(REPLAYS).map_err(error)?;
    let mut expiry = write.open_table(REPLAY_EXPIRY).map_err(error)?;
    let current = now();
    let previous = replays.get(key).map_err(error)?.map(|until| until.value());
    if previous.is_some_and(|until| until > current) {
        return Ok(false);
    }
    if let Some(until) = previous {
        expiry.remove((until, key)).map_err(error)?;
    }
    replays.insert(key, expires).map_err(error)?;
    expiry.insert((expires, key), ()).map_err(error)?;
    // Expired records, oldest first: each is in both tables.
    let expired: Vec<(u64, String)> = expiry
        .range(..(current, ""))
        .map_err(error)?
        .take(EXPIRED_PER_WRITE)
        .map(|item| item.map(|(k, _)| (k.value().0, k.value().1.to_owned())))
        .collect::<Result<_, _>>()
        .map_err(error)?;
    for (until, key) in expired {
        expiry.remove((until, key.as_str())).map_err(error)?;
        replays.remove(key.as_str()).map_err(error)?;
    }
    Ok(true)
}

/// A write transaction that need not reach the disk at once (leases: a restart drops
/// them anyway).
fn light(db: &Database) -> Result<redb::WriteTransaction, QueueError> {
    let mut write = db.begin_write().map_err(error)?;
    write.set_durability(Durability::None).map_err(error)?;
    Ok(write)
}

impl JobQueue for EmbeddedQueue {
    fn enqueue<'a>(
        &'a self,
        replay_key: &'a str,
        expires_at: SystemTime,
        job: &'a QueuedJob,
    ) -> StoreFuture<'a, Result<Enqueued, QueueError>> {
        let (key, expires, entry) = (
            replay_key.to_owned(),
            millis(expires_at),
            Entry {
                job: job.clone(),
                deliveries: 0,
                not_before: now(),
                leased_until: 0,
                error: String::new(),
                queued_at: now(),
            },
        );
        Box::pin(self.blocking(move |db| {
            let mut write = db.begin_write().map_err(error)?;
            write.set_durability(Durability::Immediate).map_err(error)?;
            if !first_use(&write, &key, expires)? {
                return Ok(Enqueued::Replayed);
            }
            {
                let mut meta = write.open_table(META).map_err(error)?;
                let id = meta.get(NEXT_ID).map_err(error)?.map_or(1, |v| v.value());
                meta.insert(NEXT_ID, id + 1).map_err(error)?;
                let mut jobs = write.open_table(JOBS).map_err(error)?;
                let mut ready = write.open_table(READY).map_err(error)?;
                put(&mut jobs, &mut ready, id, None, &entry)?;
            }
            write.commit().map_err(error)?;
            Ok(Enqueued::Queued)
        }))
    }

    fn spend<'a>(
        &'a self,
        replay_key: &'a str,
        expires_at: SystemTime,
    ) -> StoreFuture<'a, Result<bool, QueueError>> {
        let (key, expires) = (replay_key.to_owned(), millis(expires_at));
        Box::pin(self.blocking(move |db| {
            let mut write = db.begin_write().map_err(error)?;
            write.set_durability(Durability::Immediate).map_err(error)?;
            if !first_use(&write, &key, expires)? {
                return Ok(false);
            }
            write.commit().map_err(error)?;
            Ok(true)
        }))
    }

    fn next<'a>(
        &'a self,
        _consumer: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, Result<Option<Lease>, QueueError>> {
        Box::pin(self.blocking(move |db| {
            let write = light(db)?;
            let found = {
                let mut jobs = write.open_table(JOBS).map_err(error)?;
                let mut ready = write.open_table(READY).map_err(error)?;
                let current = now();
                let first = ready
                    .range(..=(current, u64::MAX))
                    .map_err(error)?
                    .next()
                    .transpose()
                    .map_err(error)?
                    .map(|(key, _)| key.value());
                let entry = match first {
                    Some((_, id)) => jobs.get(id).map_err(error)?.map(|b| decode(b.value())),
                    None => None,
                };
                match (first, entry.transpose()?) {
                    (Some((at, id)), Some(mut entry)) => {
                        entry.deliveries += 1;
                        entry.leased_until = later(lease);
                        put(&mut jobs, &mut ready, id, Some(at), &entry)?;
                        Some(Lease::new(id.to_string(), entry.deliveries, entry.job))
                    }
                    (Some(key), None) => {
                        // A key without its job (never written so; harmless to drop).
                        ready.remove(key).map_err(error)?;
                        None
                    }
                    (None, _) => None,
                }
            };
            write.commit().map_err(error)?;
            Ok(found)
        }))
    }

    fn renew<'a>(
        &'a self,
        lease: &'a Lease,
        by: Duration,
    ) -> StoreFuture<'a, Result<(), QueueError>> {
        let id = lease.id.parse::<u64>().unwrap_or(0);
        let deliveries = lease.deliveries;
        Box::pin(self.blocking(move |db| {
            let write = light(db)?;
            {
                let mut jobs = write.open_table(JOBS).map_err(error)?;
                let mut ready = write.open_table(READY).map_err(error)?;
                let entry = jobs.get(id).map_err(error)?.map(|b| decode(b.value()));
                // Only the delivery this lease names: one handed out again is another's.
                let entry = entry.transpose()?.filter(|e| e.deliveries == deliveries);
                if let Some(mut entry) = entry {
                    let was = entry.available_at();
                    entry.leased_until = later(by);
                    put(&mut jobs, &mut ready, id, Some(was), &entry)?;
                }
            }
            write.commit().map_err(error)
        }))
    }

    fn ack<'a>(&'a self, lease: &'a Lease) -> StoreFuture<'a, Result<(), QueueError>> {
        let id = lease.id.parse::<u64>().unwrap_or(0);
        Box::pin(self.blocking(move |db| {
            let mut write = db.begin_write().map_err(error)?;
            write.set_durability(Durability::Immediate).map_err(error)?;
            {
                let mut jobs = write.open_table(JOBS).map_err(error)?;
                let mut ready = write.open_table(READY).map_err(error)?;
                take(&mut jobs, &mut ready, id)?;
            }
            write.commit().map_err(error)
        }))
    }

    fn release<'a>(
        &'a self,
        lease: &'a Lease,
        message: &'a str,
        backoff: Duration,
        budget: u32,
    ) -> StoreFuture<'a, Result<Released, QueueError>> {
        let id = lease.id.parse::<u64>().unwrap_or(0);
        let deliveries = lease.deliveries;
        let message = message.to_owned();
        Box::pin(self.blocking(move |db| {
            let mut write = db.begin_write().map_err(error)?;
            write.set_durability(Durability::Immediate).map_err(error)?;
            let released = {
                let mut jobs = write.open_table(JOBS).map_err(error)?;
                let mut ready = write.open_table(READY).map_err(error)?;
                let entry = jobs.get(id).map_err(error)?.map(|b| decode(b.value()));
                // Only the delivery this lease names: a job handed out again after this
                // lease ran out is its new holder's to settle.
                let Some(mut entry) = entry.transpose()?.filter(|e| e.deliveries == deliveries)
                else {
                    return Ok(Released::NotHeld);
                };
                let was = entry.available_at();
                entry.error = message;
                entry.leased_until = 0;
                if entry.deliveries >= budget {
                    // Into the dead letters and out of the queue in one commit.
                    write
                        .open_table(DEAD)
                        .map_err(error)?
                        .insert(id, encode(&entry)?.as_slice())
                        .map_err(error)?;
                    take(&mut jobs, &mut ready, id)?;
                    Released::DeadLettered
                } else {
                    entry.not_before = later(backoff);
                    put(&mut jobs, &mut ready, id, Some(was), &entry)?;
                    let mut meta = write.open_table(META).map_err(error)?;
                    let retries = meta.get(RETRIES).map_err(error)?.map_or(0, |v| v.value());
                    meta.insert(RETRIES, retries + 1).map_err(error)?;
                    Released::Retry
                }
            };
            write.commit().map_err(error)?;
            Ok(released)
        }))
    }

    fn stats(&self) -> StoreFuture<'_, Result<QueueStats, QueueError>> {
        Box::pin(self.blocking(|db| {
            let read = db.begin_read().map_err(error)?;
            let jobs = read.open_table(JOBS).map_err(error)?;
            let current = now();
            let mut stats = QueueStats::default();
            for item in jobs.iter().map_err(error)? {
                let (_, bytes) = item.map_err(error)?;
                let entry = decode(bytes.value())?;
                stats.depth += 1;
                if entry.leased_until > current {
                    stats.in_flight += 1;
                }
                let queued_at = if entry.queued_at == 0 {
                    entry.not_before
                } else {
                    entry.queued_at
                };
                let age = Duration::from_millis(current.saturating_sub(queued_at));
                stats.oldest_age = stats.oldest_age.max(Some(age));
            }
            stats.dead_letters = read.open_table(DEAD).map_err(error)?.len().map_err(error)?;
            stats.retries = read
                .open_table(META)
                .map_err(error)?
                .get(RETRIES)
                .map_err(error)?
                .map_or(0, |v| v.value());
            Ok(stats)
        }))
    }

    fn dead_letters(&self) -> StoreFuture<'_, Result<Vec<DeadLetter>, QueueError>> {
        Box::pin(self.blocking(|db| {
            let read = db.begin_read().map_err(error)?;
            let dead = read.open_table(DEAD).map_err(error)?;
            let mut letters = Vec::new();
            for item in dead.iter().map_err(error)? {
                let (id, bytes) = item.map_err(error)?;
                let entry = decode(bytes.value())?;
                letters.push(DeadLetter {
                    id: id.value().to_string(),
                    deliveries: entry.deliveries,
                    error: entry.error,
                    job: entry.job,
                });
            }
            Ok(letters)
        }))
    }

    fn requeue<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Result<bool, QueueError>> {
        let Ok(id) = id.parse::<u64>() else {
            return Box::pin(std::future::ready(Ok(false)));
        };
        Box::pin(self.blocking(move |db| {
            let mut write = db.begin_write().map_err(error)?;
            write.set_durability(Durability::Immediate).map_err(error)?;
            let found = {
                let mut dead = write.open_table(DEAD).map_err(error)?;
                let entry = dead.remove(id).map_err(error)?.map(|b| decode(b.value()));
                match entry.transpose()? {
                    Some(mut entry) => {
                        entry.deliveries = 0;
                        entry.queued_at = now();
                        entry.not_before = now();
                        entry.leased_until = 0;
                        let mut jobs = write.open_table(JOBS).map_err(error)?;
                        let mut ready = write.open_table(READY).map_err(error)?;
                        put(&mut jobs, &mut ready, id, None, &entry)?;
                        true
                    }
                    None => false,
                }
            };
            write.commit().map_err(error)?;
            Ok(found)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> QueuedJob {
        serde_json::from_value(serde_json::json!({
            "job": {"type": "ERASURE", "coreIdentifier": {"value": "ada"}},
            "core_identifier": "ada",
            "nonce": "nonce-1",
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn spent_and_queued_tokens_share_one_replay_record() {
        let path = std::env::temp_dir().join(format!("spend-{:032x}.redb", fastrand::u128(..)));
        let queue = EmbeddedQueue::open(&path).unwrap();
        let later = SystemTime::now() + Duration::from_secs(3600);
        assert!(queue.spend("answered", later).await.unwrap());
        assert!(!queue.spend("answered", later).await.unwrap());
        assert_eq!(
            queue.enqueue("answered", later, &job()).await.unwrap(),
            Enqueued::Replayed
        );
        assert_eq!(
            queue.enqueue("queued", later, &job()).await.unwrap(),
            Enqueued::Queued
        );
        assert!(!queue.spend("queued", later).await.unwrap());
        // An expired record is no longer a use.
        let past = SystemTime::now() - Duration::from_secs(1);
        assert!(queue.spend("expired", past).await.unwrap());
        assert!(queue.spend("expired", later).await.unwrap());
        assert_eq!(queue.stats().await.unwrap().depth, 1);
        drop(queue);
        let _ = std::fs::remove_file(&path);
    }

    /// A worker whose lease ran out (its job handed to another) settles nothing: the
    /// job reaches the dead letters once, by its current holder.
    #[tokio::test]
    async fn a_stale_lease_moves_nothing() {
        let path = std::env::temp_dir().join(format!("stale-{:032x}.redb", fastrand::u128(..)));
        let queue = EmbeddedQueue::open(&path).unwrap();
        let later = SystemTime::now() + Duration::from_secs(3600);
        queue.enqueue("t", later, &job()).await.unwrap();
        let stale = queue.next("a", Duration::ZERO).await.unwrap().unwrap();
        let current = queue
            .next("b", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((stale.deliveries, current.deliveries), (1, 2));
        assert_eq!(
            queue
                .release(&stale, "late", Duration::ZERO, 1)
                .await
                .unwrap(),
            Released::NotHeld
        );
        queue.renew(&stale, Duration::ZERO).await.unwrap();
        assert!(
            queue
                .next("c", Duration::from_secs(60))
                .await
                .unwrap()
                .is_none(),
            "the stale renewal did not shorten the current lease"
        );
        assert_eq!(
            queue
                .release(&current, "late", Duration::ZERO, 2)
                .await
                .unwrap(),
            Released::DeadLettered
        );
        let stats = queue.stats().await.unwrap();
        assert_eq!((stats.depth, stats.dead_letters), (0, 1));
        drop(queue);
        let _ = std::fs::remove_file(&path);
    }

    /// The lock error names the file, and what to do.
    #[test]
    fn a_second_opener_is_told_which_file_is_taken() {
        let path = std::env::temp_dir().join(format!("locked-{:032x}.redb", fastrand::u128(..)));
        let first = EmbeddedQueue::open(&path).unwrap();
        let second = EmbeddedQueue::open(&path).unwrap_err();
        assert!(second.0.contains(&path.display().to_string()), "{second}");
        assert!(second.0.contains("another process"), "{second}");
        drop(first);
        let _ = std::fs::remove_file(&path);
    }

    fn job_of(person: &str) -> QueuedJob {
        let mut job = job();
        job.core_identifier = person.to_owned();
        job
    }

    /// Jobs and ready keys: always as many.
    fn indexed(queue: &EmbeddedQueue) -> u64 {
        let read = queue.db.begin_read().unwrap();
        let jobs = read.open_table(JOBS).unwrap().len().unwrap();
        let ready = read.open_table(READY).unwrap().len().unwrap();
        assert_eq!(jobs, ready, "every job has one ready key");
        jobs
    }

    #[tokio::test]
    async fn jobs_go_out_in_order_past_those_held_or_waiting_and_after_a_reopen() {
        let path = std::env::temp_dir().join(format!("ready-{:032x}.redb", fastrand::u128(..)));
        let queue = EmbeddedQueue::open(&path).unwrap();
        let later = SystemTime::now() + Duration::from_secs(3600);
        let lease = Duration::from_secs(600);
        for (i, person) in ["one", "two", "three"].into_iter().enumerate() {
            let queued = queue
                .enqueue(&format!("t{i}"), later, &job_of(person))
                .await
                .unwrap();
            assert_eq!(queued, Enqueued::Queued);
        }
        assert_eq!(indexed(&queue), 3);
        let one = queue.next("w", lease).await.unwrap().unwrap();
        let two = queue.next("w", lease).await.unwrap().unwrap();
        assert_eq!(
            (one.job.core_identifier.as_str(), one.deliveries),
            ("one", 1)
        );
        assert_eq!(two.job.core_identifier, "two");
        // One waits out an hour's backoff; three is next, then nothing.
        let released = queue
            .release(&one, "failed", Duration::from_secs(3600), 8)
            .await
            .unwrap();
        assert_eq!(released, Released::Retry);
        let three = queue.next("w", lease).await.unwrap().unwrap();
        assert_eq!(three.job.core_identifier, "three");
        assert!(queue.next("w", lease).await.unwrap().is_none());
        queue.renew(&three, lease).await.unwrap();
        queue.ack(&two).await.unwrap();
        assert_eq!(indexed(&queue), 2);
        assert_eq!(queue.stats().await.unwrap().in_flight, 1);

        // Reopened: the lease on three is gone, one still waits.
        drop(queue);
        let queue = EmbeddedQueue::open(&path).unwrap();
        assert_eq!(indexed(&queue), 2);
        let again = queue.next("w", lease).await.unwrap().unwrap();
        assert_eq!(
            (again.job.core_identifier.as_str(), again.deliveries),
            ("three", 2)
        );
        assert!(queue.next("w", lease).await.unwrap().is_none());

        // Dead-lettered and re-queued: out of the index, then back in it.
        assert_eq!(
            queue
                .release(&again, "failed", Duration::ZERO, 2)
                .await
                .unwrap(),
            Released::DeadLettered
        );
        assert_eq!(indexed(&queue), 1);
        assert!(queue.requeue(&again.id).await.unwrap());
        assert_eq!(indexed(&queue), 2);
        let requeued = queue.next("w", lease).await.unwrap().unwrap();
        assert_eq!(
            (requeued.job.core_identifier.as_str(), requeued.deliveries),
            ("three", 1)
        );
        drop(queue);
        let _ = std::fs::remove_file(&path);
    }

    fn lengths(queue: &EmbeddedQueue) -> (u64, u64) {
        let read = queue.db.begin_read().unwrap();
        let replays = read.open_table(REPLAYS).unwrap().len().unwrap();
        let expiry = read.open_table(REPLAY_EXPIRY).unwrap().len().unwrap();
        (replays, expiry)
    }

    #[tokio::test]
    async fn expired_replay_records_go_as_tokens_arrive_and_the_index_is_rebuilt() {
        let path = std::env::temp_dir().join(format!("expiry-{:032x}.redb", fastrand::u128(..)));
        let queue = EmbeddedQueue::open(&path).unwrap();
        let past = SystemTime::now() - Duration::from_secs(60);
        let later = SystemTime::now() + Duration::from_secs(3600);
        // 100 records already expired (the first write removes the ones before it).
        for i in 0..100 {
            queue.spend(&format!("old-{i}"), past).await.unwrap();
        }
        let (replays, expiry) = lengths(&queue);
        assert_eq!(replays, expiry);
        assert!(replays <= 100);
        queue.spend("live-1", later).await.unwrap();
        queue.enqueue("live-2", later, &job()).await.unwrap();
        queue.spend("live-3", later).await.unwrap();
        assert_eq!(lengths(&queue), (3, 3), "only the live records are left");
        assert!(!queue.spend("live-2", later).await.unwrap());

        // A file whose index is missing is indexed again when opened.
        {
            let write = queue.db.begin_write().unwrap();
            write
                .open_table(REPLAY_EXPIRY)
                .unwrap()
                .retain(|_, ()| false)
                .unwrap();
            write.commit().unwrap();
        }
        assert_eq!(lengths(&queue), (3, 0));
        drop(queue);
        let queue = EmbeddedQueue::open(&path).unwrap();
        assert_eq!(lengths(&queue), (3, 3));
        assert!(!queue.spend("live-1", later).await.unwrap());
        drop(queue);
        let _ = std::fs::remove_file(&path);
    }
}
