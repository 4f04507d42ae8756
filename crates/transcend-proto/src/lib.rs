//! Sans-IO protocol core of Transcend's data-subject-request (DSR) API.
//!
//! Builds `http::Request`s and reads `http::Response`s for every endpoint, on both
//! sides: a client (any HTTP library) and a server (the emulator, a gateway). It also
//! reads and verifies the webhooks Transcend sends data silos, and decides retries.
//! No sockets, no runtime, no clock: time is an argument.
//!
//! ```
//! use transcend_proto::endpoint::{Endpoint, submit_dsr::SubmitDsrEndpoint};
//! use transcend_proto::types::{RequestAction, Subject, SubmitDsr};
//! use transcend_proto::{Config, http};
//!
//! let config = Config::new("my-api-key");
//! let dsr = SubmitDsr::new(RequestAction::Access, Subject::new("id-123456789"), "customer");
//! let request = SubmitDsrEndpoint::build_request(&config, &dsr)?;
//! assert_eq!(request.method(), http::Method::POST);
//! assert_eq!(request.uri(), "https://multi-tenant.sombra.transcend.io/v1/data-subject-request");
//! assert_eq!(request.headers()["content-type"], "application/json");
//!
//! // Send it with any HTTP library, then read the answer:
//! let response = http::Response::builder().status(200).body(
//!     r#"{"request":{"id":"da13","status":"COMPILING","type":"ACCESS","subjectType":"customer","email":null,"coreIdentifier":"id-123456789"}}"#,
//! )?;
//! let created = SubmitDsrEndpoint::parse_response(response)?;
//! assert_eq!(created.request.id, "da13");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//!
//! - [`endpoint`]: one module per endpoint, each with both sides.
//! - [`server`]: routing and error responses for servers.
//! - [`webhook`]: webhook deliveries, token verification, the silo's answer.
//! - [`RetryPolicy`]: whether and when to retry, as a pure function.
//! - [`Transport`]: plug in an HTTP library; [`testing::RecordingTransport`] for tests.
//!
//! # Performance
//!
//! Building and reading a request costs little more than its JSON. Measured with
//! `cargo bench -p transcend-proto --bench codec`: ratios to bare `serde_json`
//! encode + decode of the same value, same run, medians of 31 alternating rounds, on a
//! 2-core machine (target: at most 1.3x).
//!
//! | case | ratio |
//! |---|---|
//! | full submit request: build + parse (both sides) | 1.23 |
//! | submit response: build + parse | 1.16 |
//! | submit request and response, both sides | 1.25 |
//! | 1.06 MB access upload: build + parse | 1.00 |
//!
//! Run to run, the submit ratios move by about ±0.03; BENCHMARKS.md at the repository
//! root has the absolute times and what was changed to get there.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "admin")]
pub mod admin;
mod codec;
mod config;
pub mod endpoint;
mod error;
mod graphql_error;
pub mod headers;
pub mod openapi;
mod rate_limit;
mod retry;
mod secret;
pub mod server;
mod table;
pub mod testing;
mod transport;
pub mod webhook;

pub use config::{Backend, Config, DEFAULT_USER_AGENT, Sombra};
pub use endpoint::{Accepted, Endpoint, EndpointInfo, EnrichmentTarget, Report, ReportBody};
pub use error::{ApiError, DecodeError, Error, ErrorKind};
pub use graphql_error::{
    GraphQlError, GraphQlErrorKind, GraphQlMessage, RATE_LIMIT_DEFAULT_WAIT, RATE_LIMIT_MARGIN,
};
pub use rate_limit::{RateLimit, RateLimitReset, RetryAfter};
pub use retry::{Idempotency, Outcome, RetryDecision, RetryPolicy, StopReason};
pub use secret::{ApiKey, Nonce, SombraKey, SombraToken};
pub use server::{Route, Service, dispatch};
pub use transport::{CallError, Transport, call};

pub use bytes;
pub use http;
pub use transcend_types as types;
