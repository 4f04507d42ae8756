//! The figures a silo and the client record through the [`metrics`] facade (feature
//! `metrics`). This crate never installs a recorder: the application picks one
//! (`metrics-exporter-prometheus`, say) and every figure below reaches it. Without the
//! feature, or without a recorder, recording costs nothing.
//!
//! The names and labels are part of the API:
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | `transcend_silo_jobs_queued_total` | counter | | verified jobs persisted in a queue |
//! | `transcend_silo_jobs_started_total` | counter | | jobs handed to a handler (each delivery) |
//! | `transcend_silo_jobs_acknowledged_total` | counter | | jobs done and removed from the queue |
//! | `transcend_silo_jobs_retried_total` | counter | `reason` | failed jobs released for another delivery |
//! | `transcend_silo_jobs_dead_lettered_total` | counter | `reason` | jobs moved to the dead letters |
//! | `transcend_silo_job_duration_seconds` | histogram | `outcome` | a handler's run, from start to its result |
//! | `transcend_silo_queue_depth` | gauge | | jobs not yet done, in flight included |
//! | `transcend_silo_queue_in_flight` | gauge | | jobs held by a worker |
//! | `transcend_silo_queue_dead_letters` | gauge | | jobs in the dead letters |
//! | `transcend_silo_queue_oldest_job_age_seconds` | gauge | | age of the oldest job not yet done (0 when none) |
//! | `transcend_silo_webhooks_refused_total` | counter | `reason` | webhook deliveries refused |
//! | `transcend_client_calls_total` | counter | `endpoint`, `outcome` | calls made by the client, by how they ended |
//! | `transcend_client_retries_total` | counter | `endpoint`, `reason` | attempts sent again |
//! | `transcend_client_rate_limit_waits_total` | counter | `endpoint` | waits for a rate limit (429, GraphQL `Too many requests`) |
//! | `transcend_client_rate_limit_wait_seconds` | histogram | `endpoint` | how long each such wait was |
//!
//! Label values: `reason` of a retry or dead letter is `client`, `retry`, `give_up` (see
//! [`JobError`](crate::silo::JobError)) or `budget` (a retry's budget spent);
//! `outcome` of a job is `done`, `retry`, `dead_letter` or `not_held`; `outcome` of a call
//! is its HTTP status (`200`, `409`, …) or `connect`, `timeout`, `send`, `source`,
//! `protocol`; `reason` of a refused webhook is `token_missing`, `token_replayed`,
//! `token_expired`, `token_forged`, `token_other`, `malformed`, `key_unavailable`,
//! `store_unavailable`, `too_large`; `reason` of a client retry is the status, or
//! `connect`, `timeout`, `send`.
//!
//! The queue gauges are read from the queue's [`stats`](crate::silo::queue::JobQueue::stats)
//! by the workers every `poll_interval` (at least once a second).

/// Verified jobs persisted in a queue.
pub const JOBS_QUEUED: &str = "transcend_silo_jobs_queued_total";
/// Jobs handed to a handler, each delivery.
pub const JOBS_STARTED: &str = "transcend_silo_jobs_started_total";
/// Jobs done and removed from the queue.
pub const JOBS_ACKNOWLEDGED: &str = "transcend_silo_jobs_acknowledged_total";
/// Failed jobs released for another delivery (`reason`).
pub const JOBS_RETRIED: &str = "transcend_silo_jobs_retried_total";
/// Jobs moved to the dead letters (`reason`).
pub const JOBS_DEAD_LETTERED: &str = "transcend_silo_jobs_dead_lettered_total";
/// A handler's run (`outcome`), in seconds.
pub const JOB_DURATION: &str = "transcend_silo_job_duration_seconds";
/// Jobs not yet done.
pub const QUEUE_DEPTH: &str = "transcend_silo_queue_depth";
/// Jobs held by a worker.
pub const QUEUE_IN_FLIGHT: &str = "transcend_silo_queue_in_flight";
/// Jobs in the dead letters.
pub const QUEUE_DEAD_LETTERS: &str = "transcend_silo_queue_dead_letters";
/// Age of the oldest job not yet done, in seconds.
pub const QUEUE_OLDEST_AGE: &str = "transcend_silo_queue_oldest_job_age_seconds";
/// Webhook deliveries refused (`reason`).
pub const WEBHOOKS_REFUSED: &str = "transcend_silo_webhooks_refused_total";
/// Calls made by the client (`endpoint`, `outcome`).
pub const CLIENT_CALLS: &str = "transcend_client_calls_total";
/// Attempts sent again (`endpoint`, `reason`).
pub const CLIENT_RETRIES: &str = "transcend_client_retries_total";
/// Waits for a rate limit (`endpoint`).
pub const CLIENT_RATE_LIMIT_WAITS: &str = "transcend_client_rate_limit_waits_total";
/// How long each rate-limit wait was (`endpoint`), in seconds.
pub const CLIENT_RATE_LIMIT_WAIT: &str = "transcend_client_rate_limit_wait_seconds";

#[cfg(feature = "metrics")]
mod record {
    use std::time::Duration;

    pub(crate) fn count(name: &'static str) {
        metrics::counter!(name).increment(1);
    }

    pub(crate) fn count_with(name: &'static str, label: &'static str, value: &'static str) {
        metrics::counter!(name, label => value).increment(1);
    }

    pub(crate) fn count_call(endpoint: &'static str, outcome: String) {
        metrics::counter!(super::CLIENT_CALLS, "endpoint" => endpoint, "outcome" => outcome)
            .increment(1);
    }

    pub(crate) fn count_retry(endpoint: &'static str, reason: String) {
        metrics::counter!(super::CLIENT_RETRIES, "endpoint" => endpoint, "reason" => reason)
            .increment(1);
    }

    pub(crate) fn rate_limit_wait(endpoint: &'static str, wait: Duration) {
        metrics::counter!(super::CLIENT_RATE_LIMIT_WAITS, "endpoint" => endpoint).increment(1);
        metrics::histogram!(super::CLIENT_RATE_LIMIT_WAIT, "endpoint" => endpoint)
            .record(wait.as_secs_f64());
    }

    pub(crate) fn duration(name: &'static str, outcome: &'static str, took: Duration) {
        metrics::histogram!(name, "outcome" => outcome).record(took.as_secs_f64());
    }

    pub(crate) fn gauge(name: &'static str, value: f64) {
        metrics::gauge!(name).set(value);
    }
}

#[cfg(not(feature = "metrics"))]
mod record {
    use std::time::Duration;

    pub(crate) fn count(_: &'static str) {}
    pub(crate) fn count_with(_: &'static str, _: &'static str, _: &'static str) {}
    pub(crate) fn count_call(_: &'static str, _: String) {}
    pub(crate) fn count_retry(_: &'static str, _: String) {}
    pub(crate) fn rate_limit_wait(_: &'static str, _: Duration) {}
    pub(crate) fn duration(_: &'static str, _: &'static str, _: Duration) {}
    pub(crate) fn gauge(_: &'static str, _: f64) {}
}

pub(crate) use record::*;

/// Whether figures are recorded at all (the feature is on): lets callers skip work
/// that only feeds a figure, such as reading the queue's stats.
pub(crate) const ENABLED: bool = cfg!(feature = "metrics");

/// The queue's figures, as gauges.
pub(crate) fn queue_stats(stats: &crate::silo::queue::QueueStats) {
    gauge(QUEUE_DEPTH, stats.depth as f64);
    gauge(QUEUE_IN_FLIGHT, stats.in_flight as f64);
    gauge(QUEUE_DEAD_LETTERS, stats.dead_letters as f64);
    gauge(
        QUEUE_OLDEST_AGE,
        stats.oldest_age.unwrap_or_default().as_secs_f64(),
    );
}
