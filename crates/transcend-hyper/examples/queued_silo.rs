//! A data silo with durable jobs: each verified webhook is written to a queue file
//! before it is answered 200, and workers erase or export the person from the queue.
//! Killed at any moment, the silo loses nothing: started again on the same file, it
//! resumes the jobs it had queued or was running, and each is reported once.
//!
//! ```sh
//! transcend emulator --config crates/transcend-hyper/examples/queued_silo.toml &
//! TRANSCEND_API_KEY=users-db-key SOMBRA_URL=http://127.0.0.1:4000 \
//!   cargo run -p transcend-hyper --features queue --example queued_silo &
//! for who in ada alan grace; do   # three erasures: the emulator sends each to the silo
//!   curl -s -X POST http://127.0.0.1:4000/v1/data-subject-request \
//!     -H 'authorization: Bearer test-key' -H 'content-type: application/json' \
//!     -d '{"type":"ERASURE","subject":{"coreIdentifier":"user-'$who'"},"subjectType":"customer"}'
//! done
//! kill -9 %2   # while the jobs run (each takes 5 s): answered 200, not yet reported
//! TRANSCEND_API_KEY=users-db-key SOMBRA_URL=http://127.0.0.1:4000 \
//!   cargo run -p transcend-hyper --features queue --example queued_silo
//! # INFO resuming the jobs queued before this start jobs=3
//! # INFO running a queued job entry="1" deliveries=2 … erased …
//! # INFO the queue is empty: the jobs queued before this start are settled jobs=3
//! curl -s http://127.0.0.1:4000/emulator/v1/requests -H 'authorization: Bearer test-key'
//! ```
//!
//! With `--features queue,metrics`, the silo's figures (jobs queued, started, retried,
//! dead-lettered, queue depth, oldest job's age, refused webhooks, the client's calls)
//! are served for Prometheus at `http://127.0.0.1:9464/metrics`.
//!
//! `SILO_QUEUE` names the queue file (default `queued-silo.redb`); one process opens
//! it at a time. Replicas share a `RedisQueue` instead (feature `redis`).

use std::time::Duration;

use transcend_hyper::Client;
use transcend_hyper::silo::queue::{EmbeddedQueue, QueueOptions};
use transcend_hyper::silo::{JobError, SiloJob, SiloServer, WebhookVerifier};
use transcend_hyper::types::{AccessProfile, RequestAction};

/// The silo's own store (here: a slow lookup that may fail).
async fn erase_from_users_db(core_identifier: &str) -> Result<(), std::io::Error> {
    tokio::time::sleep(Duration::from_secs(5)).await;
    if std::env::var_os("USERS_DB_DOWN").is_some() {
        return Err(std::io::Error::other("users-db: connection refused"));
    }
    tracing::info!(core_identifier, "erased");
    Ok(())
}

// snippet: queued-handler
async fn handle(job: SiloJob) -> Result<(), JobError> {
    tracing::info!(
        entry = job.entry_id(),
        deliveries = job.deliveries(),
        "running a queued job"
    );
    match job.action {
        RequestAction::Erasure => {
            // The database is down: retried after the backoff, with this cause in the
            // log and, once the budget is spent, in the dead letter.
            erase_from_users_db(&job.core_identifier)
                .await
                .map_err(JobError::retry)?;
            job.reporter.erased().await?; // answered 409 on a rerun: counted as done
        }
        RequestAction::Access => {
            let profile = AccessProfile::new(job.core_identifier.clone());
            job.reporter.access(vec![profile]).await?;
        }
        // Nothing this silo can do for it, however often it is tried.
        other => return Err(JobError::give_up(format!("{other} is not served here"))),
    }
    Ok(())
}
// end

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .init();
    #[cfg(feature = "metrics")]
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(([127, 0, 0, 1], 9464))
        .install()?;

    // snippet: queued-silo
    let path = std::env::var("SILO_QUEUE").unwrap_or_else(|_| "queued-silo.redb".into());
    let queue = EmbeddedQueue::open(&path)?; // names the file if another process has it
    let verifier = WebhookVerifier::new(Client::from_env()?, "users-db");
    let server = SiloServer::bind("127.0.0.1:9000".parse()?).await?;
    let running = server.serve_queued(
        verifier,
        queue,
        QueueOptions::default().workers(4).budget(6),
        handle,
    );
    // end
    tracing::info!(url = %running.url(), queue = %path, "serving");
    tokio::signal::ctrl_c().await?;
    running.shutdown().await; // running jobs finish; queued ones wait for the next start
    Ok(())
}
