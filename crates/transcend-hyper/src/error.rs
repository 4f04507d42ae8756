//! What can go wrong in a call, by the phase that failed.

use std::time::Duration;

use http::StatusCode;
use transcend_proto::{ApiError, DecodeError, ErrorKind, RetryAfter};

/// An error of the client. Each variant is a phase: building the request, connecting,
/// timing out, sending and receiving, the API's answer, reading that answer.
///
/// The accessors answer the usual questions without a `match`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be built (invalid input or configuration); nothing was sent.
    #[error(transparent)]
    Build(transcend_proto::Error),
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
    /// A body to upload could not be read (a file, a reader).
    #[error("cannot read the upload {what}: {source}")]
    Source {
        /// What was being read (a path, or `reader`).
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The server answered with a success status and a body that cannot be read.
    #[error(transparent)]
    Decode(Box<DecodeError>),
}

impl From<transcend_proto::Error> for Error {
    fn from(error: transcend_proto::Error) -> Self {
        match error {
            transcend_proto::Error::Api(api) => Self::Api(api),
            transcend_proto::Error::Decode(decode) => Self::Decode(decode),
            other => Self::Build(other),
        }
    }
}

impl Error {
    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(error) => Some(error.status),
            Self::Decode(error) => Some(error.status),
            _ => None,
        }
    }

    /// The kind of API error, when the server answered with one.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.api().map(|e| e.kind)
    }

    /// The server's `message`, when it sent one.
    pub fn message(&self) -> Option<&str> {
        self.api().and_then(|e| e.message.as_deref())
    }

    /// The server's request id, when it sent one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api(error) => error.request_id.as_deref(),
            Self::Decode(error) => error.request_id.as_deref(),
            _ => None,
        }
    }

    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<RetryAfter> {
        self.api().and_then(|e| e.retry_after)
    }

    /// The API error, when the server answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(error) => Some(error),
            _ => None,
        }
    }

    /// Whether the same call may succeed if made again later: rate limits, server
    /// errors, timeouts and connection failures. (The client has already retried what
    /// its policy allows.)
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api(error) => error.kind.is_retryable(),
            Self::Connect { .. } | Self::Timeout { .. } | Self::Send { .. } => true,
            _ => false,
        }
    }

    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }
}
