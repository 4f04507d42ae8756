//! Why a queued job's handler failed, in the silo's own words.

use std::fmt;

/// Any error, kept with its chain of causes.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why a queued job's handler failed: what the workers do next depends on it, and its
/// message (with its causes) is what the logs, the job's span and the dead letter say.
///
/// A handler may return `Result<(), JobError>`, or `Result<(), transcend_hyper::Error>`
/// (a failed report), which converts into [`JobError::Client`]:
///
/// ```
/// use transcend_hyper::silo::{JobError, SiloJob};
///
/// # struct Db; impl Db { async fn erase(&self, _: &str) -> Result<bool, std::io::Error> { Ok(true) } }
/// async fn erase(db: &Db, job: SiloJob) -> Result<(), JobError> {
///     // The database is down: try again after the backoff.
///     let found = db.erase(&job.core_identifier).await.map_err(JobError::retry)?;
///     if !found && job.unsigned.is_test {
///         // Will never pass: straight to the dead letters, for a person to look at.
///         return Err(JobError::give_up("test requests are not erased here"));
///     }
///     job.reporter.erased().await?; // a failed report: retried; 409 counts as done
///     Ok(())
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum JobError {
    /// A call through the client failed (a report, an upload): retried after the
    /// backoff, except a report answered 409, which was accepted before: done.
    Client(crate::Error),
    /// The silo's own failure that may pass (a database outage, a timeout): retried
    /// after the backoff, dead-lettered once the delivery budget is spent.
    Retry(Cause),
    /// The silo's own failure that will not pass by waiting (the data is in a state a
    /// person must look at): dead-lettered at once.
    GiveUp(Cause),
}

impl JobError {
    /// The silo's own failure, to try again after the backoff.
    pub fn retry(cause: impl Into<Cause>) -> Self {
        Self::Retry(cause.into())
    }

    /// The silo's own failure, not to try again: the job goes to the dead letters.
    pub fn give_up(cause: impl Into<Cause>) -> Self {
        Self::GiveUp(cause.into())
    }

    /// Whether the job's report was accepted before (answered 409 Conflict): the job
    /// is done, and the workers acknowledge it.
    pub fn is_already_reported(&self) -> bool {
        match self {
            Self::Client(error) => is_already_reported(error),
            _ => false,
        }
    }

    /// Whether the job goes to the dead letters without another delivery.
    pub fn is_give_up(&self) -> bool {
        matches!(self, Self::GiveUp(_))
    }

    /// What the workers did with it in a word, for logs and metrics: `client`, `retry`
    /// or `give_up`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Client(_) => "client",
            Self::Retry(_) => "retry",
            Self::GiveUp(_) => "give_up",
        }
    }

    /// The message and each cause's, joined by `: ` (a cause whose text the message
    /// already holds is not repeated): what a dead letter keeps.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let more = cause.to_string();
            if !text.contains(&more) {
                text.push_str(": ");
                text.push_str(&more);
            }
            source = cause.source();
        }
        text
    }
}

/// A report answered 409: Sombra took this job's report before (the job's earlier run
/// reported, then its worker died before the acknowledgement).
pub(crate) fn is_already_reported(error: &crate::Error) -> bool {
    error.status() == Some(http::StatusCode::CONFLICT)
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Client(error) => fmt::Display::fmt(error, f),
            Self::Retry(cause) | Self::GiveUp(cause) => fmt::Display::fmt(cause, f),
        }
    }
}

impl std::error::Error for JobError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Client(error) => error.source(),
            Self::Retry(cause) | Self::GiveUp(cause) => cause.source(),
        }
    }
}

impl From<crate::Error> for JobError {
    fn from(error: crate::Error) -> Self {
        Self::Client(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("connection pool timed out")]
    struct Pool(#[source] std::io::Error);

    #[test]
    fn the_chain_keeps_every_cause_once() {
        let error = JobError::retry(Pool(std::io::Error::other("database unreachable")));
        assert_eq!(
            error.chain(),
            "connection pool timed out: database unreachable"
        );
        assert_eq!(error.kind(), "retry");
        let plain = JobError::give_up("row locked by a migration");
        assert_eq!(plain.chain(), "row locked by a migration");
        assert!(plain.is_give_up() && !plain.is_already_reported());
    }

    #[test]
    fn a_client_error_converts_and_is_not_repeated() {
        let error: JobError = crate::Error::Config("no base URL".into()).into();
        assert_eq!(error.kind(), "client");
        assert_eq!(error.chain(), "invalid client configuration: no base URL");
    }
}
