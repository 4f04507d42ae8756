//! The async client of Transcend's data-subject-request (DSR) API, on hyper, tokio and
//! rustls.
//!
//! [`Client`] has a method for every endpoint, retries what is safe to retry, honours
//! `Retry-After`, bounds every call in time, streams file uploads, and traces each call
//! and attempt without ever logging a key, a token or a nonce. Any HTTP library can
//! replace the default transport ([`ClientBuilder::transport`]).
//!
//! ```no_run
//! use transcend_hyper::{Client, DatapointSource, WaitOptions};
//! use transcend_hyper::types::{DatapointUpload, RequestAction, RequestStatus, Subject, SubmitDsr};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), transcend_hyper::Error> {
//! let client = Client::from_env()?; // TRANSCEND_API_KEY, SOMBRA_URL, SOMBRA_API_KEY
//!
//! // A requester: submit, then wait.
//! let dsr = SubmitDsr::new(RequestAction::Access, Subject::new("id-123").email("a@example.com"), "customer");
//! let created = client.submit_dsr(&dsr).await?;
//! let done = client.wait_for_dsr(&created.request.id, WaitOptions::until([RequestStatus::Downloadable])).await?;
//!
//! // A data silo: answer a job with a file, streamed from disk.
//! # let nonce = transcend_hyper::proto::Nonce::new("from the webhook");
//! client.upload_datapoint(&nonce, DatapointUpload::new("profile_picture"), DatapointSource::file("photo.jpg")).await?;
//! # let _ = done; Ok(()) }
//! ```
//!
//! # Retries
//!
//! The decision is [`transcend_proto::RetryPolicy`]'s; the client only sleeps. Reads and
//! reports are retried after connection failures, timeouts, 408, 429, 5xx; a submission
//! only after a failed connect, 429 or 503 (the server cannot have acted on it). A
//! streamed upload is retried only from a file path, which is reopened.
//!
//! # Performance
//!
//! Measured with `cargo bench -p transcend-hyper --bench throughput` against a hyper
//! server on loopback (figures and method in BENCHMARKS.md at the repository root):
//! a 45 MB file uploads at 2.8x the speed of `curl --data-binary @file` with 0.8 MB of
//! RSS growth; `get_dsr` runs at 0.86–0.91x a bare hyper-util client re-sending one
//! pre-built request, the difference being the request building and JSON parsing the
//! bare client skips (the retry loop, timeouts and tracing cost about 1%).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod client;
mod error;
pub mod metrics;
pub mod server;
pub mod silo;
mod transport;
mod upload;
mod wait;

pub mod prelude {
    //! What a program using the client usually needs, in one import:
    //! `use transcend_hyper::prelude::*;`. Brings the client and its builder, the
    //! error and its kind, the types of bodies and enums, and the stream extension
    //! traits that walking jobs and requests needs (`.next()`, `.try_collect()`), so
    //! no direct dependency on `futures-util` is needed.
    pub use crate::types::{DatapointUpload, RequestAction, RequestStatus, Subject, SubmitDsr};
    pub use crate::{
        Client, ClientBuilder, DatapointSource, Error, ErrorKind, Nonce, RetryPolicy, WaitOptions,
    };
    pub use futures_util::{Stream, StreamExt, TryStreamExt};
}

pub use body::Body;
pub use client::{
    Client, ClientBuilder, CompletionSummary, DownloadEvent, DownloadOptions, EnrichOutcome,
    FailedFile, FileDigest, ManifestEntry, ReportDownload, RestartOptions, Timeouts,
};
pub use error::Error;
pub use transport::{HyperTransport, HyperTransportError, MAX_RESPONSE_BYTES};
pub use upload::{CHUNK_SIZE, DatapointSource};
pub use wait::WaitOptions;

pub use futures_util::Stream;
#[cfg(feature = "admin")]
pub use transcend_proto::admin;
pub use transcend_proto::{
    ApiKey, Backend, EnrichmentTarget, ErrorKind, Nonce, Report, ReportBody, RetryPolicy, Sombra,
    SombraKey,
};
pub use transcend_proto::{GraphQlError, GraphQlErrorKind};
pub use transcend_proto::{bytes, http};

pub use transcend_proto as proto;
pub use transcend_proto::types;
