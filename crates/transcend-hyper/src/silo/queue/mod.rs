//! Durable silo jobs: a verified webhook is persisted before it is answered, and
//! workers run the handler from the queue, at least once, until the job's report is
//! accepted (or answered 409: already reported). A process killed between the answer
//! and the report loses nothing: the job is still queued, and the next worker to start
//! (this process restarted, or another replica) takes it.
//!
//! [`JobQueue`] is the small trait a queue implements; `EmbeddedQueue` (feature
//! `queue`) keeps the jobs in a redb file on one machine, `RedisQueue` (feature
//! `redis`) in a Redis stream shared by a silo's replicas. Handlers must be idempotent:
//! a job whose worker died after reporting runs again, and its repeated report is
//! answered 409, which counts as done.

#[cfg(feature = "queue")]
mod embedded;
#[cfg(feature = "redis")]
mod redis;
mod workers;

use std::time::{Duration, SystemTime};

use transcend_proto::Nonce;
use transcend_proto::types::DsrJob;

pub use super::replay::StoreFuture;
#[cfg(feature = "queue")]
pub use embedded::EmbeddedQueue;
#[cfg(feature = "redis")]
pub use redis::RedisQueue;
pub use workers::{QueueOptions, RunningWorkers, unique_consumer};

/// A verified job as it is persisted: the body, the identifier its token was issued
/// for, and the nonce to report with.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QueuedJob {
    /// The job's body.
    pub job: DsrJob,
    /// Signed: the person's core identifier.
    pub core_identifier: String,
    /// The nonce of the delivery (never shown in `Debug`).
    pub nonce: Nonce,
}

impl std::fmt::Debug for QueuedJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedJob")
            .field("action", &self.job.action)
            .field("request", &self.job.request_id())
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
    }
}

/// A job handed to a worker, held until it is acknowledged or released.
///
/// The pair of `id` and `deliveries` names one delivery: a queue answers `renew` and
/// `release` for the delivery it handed out last, and ignores a worker whose lease ran
/// out and whose job was handed to another.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Lease {
    /// The queue's id of the entry.
    pub id: String,
    /// How many times it has been handed out, this time included.
    pub deliveries: u32,
    /// The job.
    pub job: QueuedJob,
}

impl Lease {
    /// A lease on entry `id`, handed out for the `deliveries`-th time (for a
    /// [`JobQueue`] written outside this crate).
    pub fn new(id: impl Into<String>, deliveries: u32, job: QueuedJob) -> Self {
        Self {
            id: id.into(),
            deliveries,
            job,
        }
    }
}

/// What became of a delivery offered to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Persisted: answer 200.
    Queued,
    /// Its token was used before: refused as a replay, nothing queued.
    Replayed,
}

/// What became of a job whose handler failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Released {
    /// It will be handed out again after a backoff.
    Retry,
    /// Its delivery budget is spent: it moved to the dead letters.
    DeadLettered,
    /// Nothing changed: the lease had run out and the job was handed out again (or it
    /// is done). Its current holder settles it.
    NotHeld,
}

/// A job that spent its delivery budget, kept for a person to look at and re-queue.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeadLetter {
    /// The id to re-queue it by.
    pub id: String,
    /// How many times it was handed out.
    pub deliveries: u32,
    /// The last error.
    pub error: String,
    /// The job.
    pub job: QueuedJob,
}

/// What a queue holds, for dashboards and alerts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueStats {
    /// Jobs not yet done, in flight included.
    pub depth: u64,
    /// Jobs held by a worker now.
    pub in_flight: u64,
    /// Handler failures that led to a retry, since the queue was created.
    pub retries: u64,
    /// Jobs in the dead letters.
    pub dead_letters: u64,
    /// How long ago the oldest job not yet done was queued; `None` when none is.
    pub oldest_age: Option<Duration>,
}

/// Why the queue could not answer. A webhook that cannot be persisted is answered 503,
/// so Transcend delivers it again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job queue unavailable: {0}")]
pub struct QueueError(pub String);

/// A durable queue of silo jobs.
pub trait JobQueue: Send + Sync + 'static {
    /// Records the token's `replay_key` until `expires_at` and appends `job`, both or
    /// neither: a failed append never leaves the token spent.
    fn enqueue<'a>(
        &'a self,
        replay_key: &'a str,
        expires_at: SystemTime,
        job: &'a QueuedJob,
    ) -> StoreFuture<'a, Result<Enqueued, QueueError>>;

    /// Records the token's `replay_key` until `expires_at` without a job: its first use
    /// for a delivery answered at once (see [`Triage`](super::Triage)). `false` when it
    /// was used before.
    fn spend<'a>(
        &'a self,
        replay_key: &'a str,
        expires_at: SystemTime,
    ) -> StoreFuture<'a, Result<bool, QueueError>>;

    /// The next job for `consumer`, held for `lease` (its own unfinished jobs first,
    /// then new ones, then those whose holder's lease ran out); `None` when there is
    /// nothing to do now.
    fn next<'a>(
        &'a self,
        consumer: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, Result<Option<Lease>, QueueError>>;

    /// Holds a long job for another `lease`, so no other worker takes it over.
    fn renew<'a>(
        &'a self,
        lease: &'a Lease,
        by: Duration,
    ) -> StoreFuture<'a, Result<(), QueueError>>;

    /// The job is done (reported, or the report answered 409): removes it.
    fn ack<'a>(&'a self, lease: &'a Lease) -> StoreFuture<'a, Result<(), QueueError>>;

    /// The handler failed: hands the job out again after `backoff`, or, once it has
    /// been handed out `budget` times, moves it to the dead letters (before it is
    /// removed from the queue, so it is never lost in between). Only for the delivery
    /// `lease` names ([`Released::NotHeld`] otherwise), so a job is dead-lettered once.
    fn release<'a>(
        &'a self,
        lease: &'a Lease,
        error: &'a str,
        backoff: Duration,
        budget: u32,
    ) -> StoreFuture<'a, Result<Released, QueueError>>;

    /// Depth, jobs in flight, retries, dead letters.
    fn stats(&self) -> StoreFuture<'_, Result<QueueStats, QueueError>>;

    /// The dead letters, oldest first.
    fn dead_letters(&self) -> StoreFuture<'_, Result<Vec<DeadLetter>, QueueError>>;

    /// Puts a dead letter back in the queue with a fresh budget; `false` when there is
    /// no dead letter with this id.
    fn requeue<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Result<bool, QueueError>>;
}

/// A shared queue is a queue: keep one `Arc` for [`stats`](JobQueue::stats) and the
/// dead letters while a server or workers hold others.
impl<Q: JobQueue + ?Sized> JobQueue for std::sync::Arc<Q> {
    fn enqueue<'a>(
        &'a self,
        replay_key: &'a str,
        expires_at: SystemTime,
        job: &'a QueuedJob,
    ) -> StoreFuture<'a, Result<Enqueued, QueueError>> {
        (**self).enqueue(replay_key, expires_at, job)
    }

    fn spend<'a>(
        &'a self,
        replay_key: &'a str,
        expires_at: SystemTime,
    ) -> StoreFuture<'a, Result<bool, QueueError>> {
        (**self).spend(replay_key, expires_at)
    }

    fn next<'a>(
        &'a self,
        consumer: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, Result<Option<Lease>, QueueError>> {
        (**self).next(consumer, lease)
    }

    fn renew<'a>(
        &'a self,
        lease: &'a Lease,
        by: Duration,
    ) -> StoreFuture<'a, Result<(), QueueError>> {
        (**self).renew(lease, by)
    }

    fn ack<'a>(&'a self, lease: &'a Lease) -> StoreFuture<'a, Result<(), QueueError>> {
        (**self).ack(lease)
    }

    fn release<'a>(
        &'a self,
        lease: &'a Lease,
        message: &'a str,
        backoff: Duration,
        budget: u32,
    ) -> StoreFuture<'a, Result<Released, QueueError>> {
        (**self).release(lease, message, backoff, budget)
    }

    fn stats(&self) -> StoreFuture<'_, Result<QueueStats, QueueError>> {
        (**self).stats()
    }

    fn dead_letters(&self) -> StoreFuture<'_, Result<Vec<DeadLetter>, QueueError>> {
        (**self).dead_letters()
    }

    fn requeue<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Result<bool, QueueError>> {
        (**self).requeue(id)
    }
}
