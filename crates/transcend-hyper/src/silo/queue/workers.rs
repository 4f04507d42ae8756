//! The workers that run a silo's handler on queued jobs.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::{JobQueue, Lease, Released};
use crate::client::Client;
use crate::error::Error;
use crate::silo::job::SiloJob;

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
    /// This process's name among the queue's consumers (default: host and pid).
    pub consumer: String,
}

impl Default for QueueOptions {
    fn default() -> Self {
        Self {
            workers: 8,
            lease: Duration::from_secs(60),
            budget: 8,
            backoff: Duration::from_secs(1),
            poll_interval: Duration::from_secs(1),
            consumer: format!("silo-{}", std::process::id()),
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

    /// Sets this process's consumer name.
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
    /// on each (a [`SiloJob`] whose reporter sends with `client`). A job is done when
    /// the handler returns `Ok`, or an error whose status is 409 (its report was
    /// accepted before); any other error releases it for a retry.
    pub fn start<Q, H, F>(queue: Arc<Q>, client: Client, options: QueueOptions, handler: H) -> Self
    where
        Q: JobQueue + ?Sized,
        H: Fn(SiloJob) -> F + Send + Sync + 'static,
        F: Future<Output = Result<(), Error>> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let handler = Arc::new(handler);
        let tasks = (0..options.workers.max(1))
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
    F: Future<Output = Result<(), Error>> + Send + 'static,
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
        run(queue.as_ref(), &client, &options, handler.as_ref(), lease).await;
    }
}

/// Runs one job, renewing its lease while the handler works, and settles it.
async fn run<Q, H, F>(queue: &Q, client: &Client, options: &QueueOptions, handler: &H, lease: Lease)
where
    Q: JobQueue + ?Sized,
    H: Fn(SiloJob) -> F,
    F: Future<Output = Result<(), Error>>,
{
    let span = tracing::info_span!(
        "queued job",
        id = %lease.id,
        deliveries = lease.deliveries,
        action = %lease.job.job.action,
        request = lease.job.job.request_id().unwrap_or_default()
    );
    tracing::Instrument::instrument(settle(queue, client, options, handler, lease), span).await;
}

async fn settle<Q, H, F>(
    queue: &Q,
    client: &Client,
    options: &QueueOptions,
    handler: &H,
    lease: Lease,
) where
    Q: JobQueue + ?Sized,
    H: Fn(SiloJob) -> F,
    F: Future<Output = Result<(), Error>>,
{
    let job = SiloJob::new(
        lease.job.job.clone(),
        lease.job.core_identifier.clone(),
        lease.job.nonce.clone(),
        client.clone(),
    );
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
    let settled = match handled {
        Ok(()) => queue.ack(&lease).await.map(|()| "done"),
        Err(error) if error.status() == Some(http::StatusCode::CONFLICT) => {
            tracing::info!("the job was reported before (409): done");
            queue.ack(&lease).await.map(|()| "done")
        }
        Err(error) => {
            let exponent = lease.deliveries.saturating_sub(1).min(16);
            let backoff = options
                .backoff
                .saturating_mul(1 << exponent)
                .min(Duration::from_secs(300));
            match queue
                .release(&lease, &error.to_string(), backoff, options.budget)
                .await
            {
                Ok(Released::Retry) => {
                    tracing::warn!(%error, ?backoff, "the job failed; it will run again");
                    Ok("released")
                }
                Ok(Released::DeadLettered) => {
                    tracing::error!(%error, "the job failed its last delivery: dead-lettered");
                    Ok("dead-lettered")
                }
                Err(queue_error) => Err(queue_error),
            }
        }
    };
    match settled {
        Ok(outcome) => tracing::debug!(outcome, "job settled"),
        // Not settled: the lease runs out and the job is handed out again.
        Err(error) => tracing::warn!(%error, "the job could not be settled"),
    }
}
