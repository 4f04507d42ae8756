//! The workers that run a silo's handler on queued jobs.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::{JobQueue, Lease, Released};
use crate::client::Client;
use crate::metrics;
use crate::silo::job::SiloJob;
use crate::silo::job_error::JobError;

/// How a queued silo runs its jobs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct QueueOptions {
    /// Jobs run at once in this process (default 8).
    pub workers: usize,
    /// How long a worker holds a job before another may take it over; renewed while
    /// the handler runs (default 60 s).
    pub lease: Duration,
    /// Times a job is handed out before it moves to the dead letters (default 8).
    pub budget: u32,
    /// The wait before a failed job is handed out again; it doubles with each
    /// delivery, up to 5 minutes (default 1 s). A `RedisQueue` waits at most the lease.
    pub backoff: Duration,
    /// How often an idle worker looks for jobs another process queued (default 1 s;
    /// jobs this process queues wake a worker at once).
    pub poll_interval: Duration,
    /// This process's name among the queue's consumers (default: [`unique_consumer`]).
    ///
    /// The default is new at every start: a replica in a container (host name reused,
    /// PID 1) never shares it, and the jobs a killed process held are taken over by any
    /// replica once their lease runs out. A name the operator keeps across restarts (a
    /// StatefulSet's pod name, say) lets the restarted process take its jobs back at
    /// once instead; two live processes must never share one (a `RedisQueue` logs an
    /// error when it sees that).
    pub consumer: String,
}

/// A consumer name no other process has: `silo-<host>-<pid>-<random>`.
pub fn unique_consumer() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!(
        "silo-{host}-{}-{:08x}",
        std::process::id(),
        fastrand::u32(..)
    )
}

impl Default for QueueOptions {
    fn default() -> Self {
        Self {
            workers: 8,
            lease: Duration::from_secs(60),
            budget: 8,
            backoff: Duration::from_secs(1),
            poll_interval: Duration::from_secs(1),
            consumer: unique_consumer(),
        }
    }
}

impl QueueOptions {
    /// Sets the number of workers (at least 1).
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Sets the lease.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Sets the delivery budget (at least 1).
    pub fn budget(mut self, budget: u32) -> Self {
        self.budget = budget.max(1);
        self
    }

    /// Sets the first backoff of a failed job.
    pub fn backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets how often an idle worker polls.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets this process's consumer name, kept across restarts (see
    /// [`consumer`](Self::consumer) for what each choice costs).
    pub fn consumer(mut self, name: impl Into<String>) -> Self {
        self.consumer = name.into();
        self
    }
}

/// Workers running, until [`shutdown`](Self::shutdown).
#[derive(Debug)]
pub struct RunningWorkers {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    wake: Arc<Notify>,
}

impl RunningWorkers {
    /// Starts `options.workers` workers taking jobs from `queue` and running `handler`
    /// on each (a [`SiloJob`] whose reporter sends with `client`, with its
    /// [`deliveries`](SiloJob::deliveries) and [`entry_id`](SiloJob::entry_id)).
    ///
    /// A job is done when the handler returns `Ok`, or a report answered 409 (accepted
    /// before). [`JobError::GiveUp`] moves it to the dead letters at once; any other
    /// error releases it for another delivery after the backoff, until the budget is
    /// spent. The error's message and causes ([`JobError::chain`]) go to the log, the
    /// job's span (`error`) and the dead letter.
    pub fn start<Q, H, F>(queue: Arc<Q>, client: Client, options: QueueOptions, handler: H) -> Self
    where
        Q: JobQueue + ?Sized,
        H: Fn(SiloJob) -> F + Send + Sync + 'static,
        F: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let handler = Arc::new(handler);
        let mut tasks: Vec<_> = (0..options.workers.max(1))
            .map(|_| {
                tokio::spawn(work(
                    Arc::clone(&queue),
                    client.clone(),
                    options.clone(),
                    Arc::clone(&handler),
                    Arc::clone(&wake),
                    stopped.clone(),
                ))
            })
            .collect();
        tasks.push(tokio::spawn(watch_queue(queue, stopped)));
        Self { stop, tasks, wake }
    }

    /// Tells an idle worker that a job was just queued (a worker otherwise finds it
    /// within `poll_interval`).
    pub fn notify_queued(&self) {
        self.wake.notify_one();
    }

    /// A handle that does the same, for the code that queues.
    pub(crate) fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Stops taking jobs and waits for the jobs running to finish. A job not finished
    /// stays queued for the next start.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// How often the queue's figures are read (gauges, and the log line once the jobs
/// found at start are done).
const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// Says what this start found in the queue and when it is empty again; feeds the
/// queue's gauges (feature `metrics`).
async fn watch_queue<Q>(queue: Arc<Q>, mut stopped: watch::Receiver<bool>)
where
    Q: JobQueue + ?Sized,
{
    let mut resuming = match queue.stats().await {
        Ok(stats) if stats.depth > 0 => {
            tracing::info!(
                jobs = stats.depth,
                dead_letters = stats.dead_letters,
                "resuming the jobs queued before this start"
            );
            metrics::queue_stats(&stats);
            Some(stats.depth)
        }
        Ok(stats) => {
            metrics::queue_stats(&stats);
            None
        }
        Err(error) => {
            tracing::warn!(%error, "the job queue is unavailable");
            None
        }
    };
    loop {
        if resuming.is_none() && !metrics::ENABLED {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(WATCH_INTERVAL) => {}
            _ = stopped.changed() => return,
        }
        let Ok(stats) = queue.stats().await else {
            continue;
        };
        metrics::queue_stats(&stats);
        if let Some(jobs) = resuming
            && stats.depth == 0
        {
            tracing::info!(
                jobs,
                "the queue is empty: the jobs queued before this start are settled"
            );
            resuming = None;
        }
    }
}

async fn work<Q, H, F>(
    queue: Arc<Q>,
    client: Client,
    options: QueueOptions,
    handler: Arc<H>,
    wake: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
) where
    Q: JobQueue + ?Sized,
    H: Fn(SiloJob) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), JobError>> + Send + 'static,
{
    loop {
        if *stopped.borrow() {
            return;
        }
        let lease = match queue.next(&options.consumer, options.lease).await {
            Ok(Some(lease)) => lease,
            Ok(None) => {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(options.poll_interval) => {}
                    _ = stopped.changed() => return,
                }
                continue;
            }
            Err(error) => {
                tracing::warn!(%error, "the job queue is unavailable");
                tokio::select! {
                    _ = tokio::time::sleep(options.poll_interval) => {}
                    _ = stopped.changed() => return,
                }
                continue;
            }
        };
        let span = tracing::info_span!(
            "queued job",
            id = %lease.id,
            deliveries = lease.deliveries,
            action = %lease.job.job.action,
            request = lease.job.job.request_id().unwrap_or_default(),
            outcome = tracing::field::Empty,
            error = tracing::field::Empty,
        );
        let settled = settle(queue.as_ref(), &client, &options, handler.as_ref(), lease);
        if let Some(backoff) = tracing::Instrument::instrument(settled, span).await {
            // The job is back once its backoff has passed: a worker here looks then,
            // rather than at its next poll.
            let wake = Arc::clone(&wake);
            tokio::spawn(async move {
                tokio::time::sleep(backoff + RETRY_MARGIN).await;
                wake.notify_one();
            });
        }
    }
}

/// Past a retry's backoff before a worker looks for it: the queue's clock (Redis's, in
/// whole milliseconds) must have passed the backoff too.
const RETRY_MARGIN: Duration = Duration::from_millis(10);

/// Runs one job, renewing its lease while the handler works, and settles it; the
/// backoff when it was released for a retry.
async fn settle<Q, H, F>(
    queue: &Q,
    client: &Client,
    options: &QueueOptions,
    handler: &H,
    lease: Lease,
) -> Option<Duration>
where
    Q: JobQueue + ?Sized,
    H: Fn(SiloJob) -> F,
    F: Future<Output = Result<(), JobError>>,
{
    let job = SiloJob::new(
        lease.job.job.clone(),
        lease.job.core_identifier.clone(),
        lease.job.nonce.clone(),
        client.clone(),
    )
    .delivered(lease.id.clone(), lease.deliveries);
    metrics::count(metrics::JOBS_STARTED);
    let started = std::time::Instant::now();
    let handled = {
        let handled = handler(job);
        let mut handled = std::pin::pin!(handled);
        let mut renewal = tokio::time::interval(options.lease / 3);
        renewal.tick().await;
        loop {
            tokio::select! {
                outcome = handled.as_mut() => break outcome,
                _ = renewal.tick() => {
                    if let Err(error) = queue.renew(&lease, options.lease).await {
                        tracing::warn!(%error, "the job's lease could not be renewed");
                    }
                }
            }
        }
    };
    let took = started.elapsed();
    let span = tracing::Span::current();
    let mut retry_in = None;
    let settled = match handled {
        Ok(()) => queue.ack(&lease).await.map(|()| "done"),
        Err(error) if error.is_already_reported() => {
            tracing::info!("the job was reported before (409): done");
            queue.ack(&lease).await.map(|()| "done")
        }
        Err(error) => {
            let message = error.chain();
            span.record("error", message.as_str());
            let exponent = lease.deliveries.saturating_sub(1).min(16);
            let backoff = options
                .backoff
                .saturating_mul(1 << exponent)
                .min(Duration::from_secs(300));
            // Giving up spends the budget now: this delivery is the last.
            let budget = if error.is_give_up() {
                lease.deliveries
            } else {
                options.budget
            };
            match queue.release(&lease, &message, backoff, budget).await {
                Ok(Released::Retry) => {
                    tracing::warn!(error = %message, kind = error.kind(), ?backoff, "the job failed; it will run again");
                    metrics::count_with(metrics::JOBS_RETRIED, "reason", error.kind());
                    retry_in = Some(backoff);
                    Ok("retry")
                }
                Ok(Released::DeadLettered) => {
                    tracing::error!(error = %message, kind = error.kind(), "the job failed for the last time: dead-lettered");
                    let reason = if error.is_give_up() {
                        "give_up"
                    } else {
                        "budget"
                    };
                    metrics::count_with(metrics::JOBS_DEAD_LETTERED, "reason", reason);
                    Ok("dead_letter")
                }
                Ok(_) => {
                    tracing::warn!(error = %message, "the job failed after its lease ran out: another worker holds it now");
                    Ok("not_held")
                }
                Err(queue_error) => Err(queue_error),
            }
        }
    };
    match settled {
        Ok(outcome) => {
            span.record("outcome", outcome);
            if outcome == "done" {
                metrics::count(metrics::JOBS_ACKNOWLEDGED);
            }
            metrics::duration(metrics::JOB_DURATION, outcome, took);
            tracing::debug!(outcome, "job settled");
        }
        // Not settled: the lease runs out and the job is handed out again.
        Err(error) => tracing::warn!(%error, "the job could not be settled"),
    }
    retry_in
}
