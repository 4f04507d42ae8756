//! What can go wrong in a call, by the phase that failed.

use std::time::Duration;

use http::StatusCode;
use transcend_proto::{ApiError, ErrorKind, RateLimit, RetryAfter};

/// An error of the client. Each variant is a phase: the protocol layer (building the
/// request, the API's error answer, reading that answer), configuring, connecting,
/// timing out, sending and receiving, reading an upload's source.
///
/// The accessors answer the usual questions without a `match`; for the protocol phase
/// they are [`transcend_proto::Error`]'s own.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be built (nothing was sent), the server answered with an
    /// error status, or its success answer could not be read.
    #[error(transparent)]
    Protocol(transcend_proto::Error),
    /// The client could not be configured.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// No connection could be made; the request never left.
    #[error("cannot connect to {host}: {source}")]
    Connect {
        /// The host the request was for.
        host: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An attempt or the whole call ran out of time.
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// `attempt`, `call`, or `wait` (for [`wait_for_dsr`](crate::Client::wait_for_dsr)).
        what: &'static str,
        /// The limit that was reached.
        after: Duration,
    },
    /// The connection failed while the request was sent or the answer received; the
    /// server may have acted on it.
    #[error("connection failed during {endpoint}: {source}")]
    Send {
        /// The endpoint called.
        endpoint: &'static str,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A durable job queue could not take or give a job (see
    /// [`silo::queue`](crate::silo::queue)).
    #[error(transparent)]
    Queue(#[from] crate::silo::queue::QueueError),
    /// A body to upload could not be read (a file, a reader).
    #[error("cannot read the upload {what}: {source}")]
    Source {
        /// What was being read (a path, or `reader`).
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl From<transcend_proto::Error> for Error {
    fn from(error: transcend_proto::Error) -> Self {
        Self::Protocol(error)
    }
}

impl Error {
    /// The protocol-layer error, when this is one.
    pub fn protocol(&self) -> Option<&transcend_proto::Error> {
        match self {
            Self::Protocol(error) => Some(error),
            _ => None,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        self.protocol()?.status()
    }

    /// The kind of API error, when the server answered with one.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.protocol()?.kind()
    }

    /// The server's `message`, when it sent one.
    pub fn message(&self) -> Option<&str> {
        self.protocol()?.message()
    }

    /// The server's request id, when it sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.protocol()?.request_id()
    }

    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<RetryAfter> {
        self.protocol()?.retry_after()
    }

    /// The server's `X-RateLimit-*` window, when it sent one.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.protocol()?.rate_limit()
    }

    /// The API error, when the server answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        self.protocol()?.api()
    }

    /// Whether the same call may succeed if made again later: rate limits, server
    /// errors, timeouts and connection failures. (The client has already retried what
    /// its policy allows.)
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Protocol(error) => error.is_retryable(),
            Self::Connect { .. } | Self::Timeout { .. } | Self::Send { .. } | Self::Queue(_) => {
                true
            }
            _ => false,
        }
    }

    /// Whether the admin API said the change had been made already (approving a
    /// request no longer waiting, skipping an enricher that finished): count it as
    /// done.
    pub fn is_already_done(&self) -> bool {
        self.protocol()
            .is_some_and(transcend_proto::Error::is_already_done)
    }

    /// Every rule the input broke, each naming its field (`subject.coreIdentifier`);
    /// empty unless the request could not be built ([`ErrorKind::Invalid`]: nothing
    /// was sent).
    pub fn problems(&self) -> &[transcend_proto::types::FieldProblem] {
        self.protocol()
            .map_or(&[], transcend_proto::Error::problems)
    }

    /// Whether the server refused a submission as a repeat of an open request
    /// ([`ErrorKind::Duplicate`]): the DSR exists already.
    pub fn is_duplicate(&self) -> bool {
        self.protocol()
            .is_some_and(transcend_proto::Error::is_duplicate)
    }

    /// The admin API's GraphQL error, when it answered with one.
    pub fn graphql(&self) -> Option<&transcend_proto::GraphQlError> {
        self.protocol()?.graphql()
    }

    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }
}
