//! For data silos: receive Transcend's webhooks, verify them, decide per job, report.
//!
//! [`WebhookVerifier`] checks each delivery (ES384 token, audience, scope, expiry,
//! replay, the person it was issued for) with the key fetched from Sombra and cached
//! for an hour. [`SiloServer`] serves webhooks with an async handler that returns a
//! [`Decision`]; [`handle_webhook`] does the same inside any server. A job's
//! [`Reporter`] sends the reports with its nonce.

#[cfg(feature = "axum")]
pub mod axum;
mod enricher;
mod job;
mod job_error;
mod keys;
pub mod queue;
#[cfg(feature = "redis")]
mod redis;
mod replay;
mod serve;
#[cfg(feature = "test-util")]
pub mod testing;
mod verifier;

pub use enricher::{EnricherJob, EnrichmentDecision, EnrichmentDetails, EnrichmentReporter};
pub use job::{QueueDelivery, Reporter, SiloJob, UnsignedDetails};
pub use job_error::{Cause, JobError};
#[cfg(feature = "redis")]
pub use redis::RedisReplayStore;
pub use replay::{MemoryReplayStore, ReplayStore, ReplayStoreError, StoreFuture};
pub use serve::{
    Decision, MAX_WEBHOOK_BYTES, RunningSilo, SiloServer, Triage, handle_enrichment, handle_webhook,
};
pub use verifier::{KEY_TTL, REFETCH_INTERVAL, Rejection, WebhookVerifier};
