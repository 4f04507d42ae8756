//! A requester's calls beyond submit and status: restart a request, list its
//! identifiers, list its report's download keys, download one file to disk.

use std::path::Path;
use std::time::SystemTime;

use futures_util::{Stream, TryStreamExt};
use http::Request;
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use transcend_proto::endpoint::download_file::DownloadFileEndpoint;
use transcend_proto::endpoint::download_keys::{DownloadKeysEndpoint, DownloadKeysQuery};
use transcend_proto::endpoint::request_identifiers::RequestIdentifiersEndpoint;
use transcend_proto::types::{
    AttestedExtraIdentifiers, DownloadKey, ExtraIdentifier, IdentifierType, MAX_IDENTIFIERS_PAGE,
    RequestIdentifier, RequestIdentifiersQuery, RestartIdentifierStrategy, Subject, SubmitDsr,
    SubmitDsrResponse,
};
use transcend_proto::{Endpoint, Outcome, RetryDecision};

use super::Client;
use crate::body::Body;
use crate::error::Error;
use crate::transport::SendFailure;

/// How to restart a request ([`Client::restart_dsr`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestartOptions {
    /// Which identifiers the restarted request keeps (`restartIdentifierStrategy`).
    pub strategy: Option<RestartIdentifierStrategy>,
    /// Sends the original's identifiers (beyond the core identifier and email) as
    /// `attestedExtraIdentifiers`.
    pub copy_identifiers: bool,
    /// Skips the workflow's waiting period (`skipWaitingPeriod`).
    pub skip_waiting_period: bool,
}

impl RestartOptions {
    /// Keeps the identifiers as `strategy` says.
    pub fn strategy(mut self, strategy: RestartIdentifierStrategy) -> Self {
        self.strategy = Some(strategy);
        self
    }

    /// Copies the original's identifiers into the restart.
    pub fn copy_identifiers(mut self, copy: bool) -> Self {
        self.copy_identifiers = copy;
        self
    }

    /// Skips the waiting period.
    pub fn skip_waiting_period(mut self, skip: bool) -> Self {
        self.skip_waiting_period = skip;
        self
    }
}

/// A file written to disk, as it was received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileDigest {
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

impl Client {
    /// Restarts a request (`POST /v1/data-subject-request` with `requestId`): reads the
    /// original (its type, person and subject type) and, when asked, its identifiers,
    /// then submits the restart.
    pub async fn restart_dsr(
        &self,
        id: &str,
        options: RestartOptions,
    ) -> Result<SubmitDsrResponse, Error> {
        let original = self.get_dsr(id).await?;
        let mut subject = Subject::new(original.core_identifier.clone());
        if let Some(email) = &original.email {
            subject = subject.email(email.clone());
        }
        if options.copy_identifiers {
            let mut extra = AttestedExtraIdentifiers::default();
            let mut identifiers = std::pin::pin!(self.request_identifiers(id));
            while let Some(identifier) = futures_util::StreamExt::next(&mut identifiers).await {
                let identifier = identifier?;
                let kind = identifier.identifier_type.clone();
                match kind {
                    None | Some(IdentifierType::CoreIdentifier) | Some(IdentifierType::Email) => {}
                    Some(kind) => extra
                        .0
                        .entry(kind)
                        .or_default()
                        .push(ExtraIdentifier::new(identifier.value)),
                }
            }
            if !extra.0.is_empty() {
                subject.attested_extra_identifiers = Some(extra);
            }
        }
        let mut restart = SubmitDsr::new(original.action, subject, original.subject_type);
        restart.request_id = Some(id.to_owned());
        restart.restart_identifier_strategy = options.strategy;
        if options.skip_waiting_period {
            restart.skip_waiting_period = Some(true);
        }
        self.submit_dsr(&restart).await
    }

    /// Every identifier of a request (`POST /v1/request-identifiers`), a page of 100 at
    /// a time as the stream is read.
    pub fn request_identifiers<'a>(
        &'a self,
        id: &'a str,
    ) -> impl Stream<Item = Result<RequestIdentifier, Error>> + 'a {
        futures_util::stream::try_unfold(Some(0u32), move |offset| async move {
            let Some(offset) = offset else {
                return Ok(None);
            };
            let query = RequestIdentifiersQuery::new(id, MAX_IDENTIFIERS_PAGE, offset);
            let page = self.call::<RequestIdentifiersEndpoint>(&query).await?;
            let full = page.identifiers.len() == MAX_IDENTIFIERS_PAGE as usize;
            let next = full.then(|| offset + MAX_IDENTIFIERS_PAGE);
            Ok::<_, Error>(Some((
                futures_util::stream::iter(page.identifiers.into_iter().map(Ok)),
                next,
            )))
        })
        .try_flatten()
    }

    /// Every download key of a request's access report
    /// (`GET /v1/data-subject-request/{id}/download-keys`), paging by `limit`/`offset`
    /// until the total is reached or a page comes back short.
    pub async fn download_keys(&self, id: &str) -> Result<Vec<DownloadKey>, Error> {
        const PAGE: u32 = 100;
        let mut keys = Vec::new();
        loop {
            let offset = u32::try_from(keys.len()).unwrap_or(u32::MAX);
            let query = DownloadKeysQuery::new(id).page(PAGE, offset);
            let page = self.call::<DownloadKeysEndpoint>(&query).await?;
            let count = page.nodes.len();
            keys.extend(page.nodes);
            let total = page.total_count.map(|t| t as usize);
            let has_next = page.links.as_ref().and_then(|l| l.next.as_ref()).is_some();
            let done = count == 0
                || total.is_some_and(|t| keys.len() >= t)
                || (total.is_none() && !has_next && count < PAGE as usize);
            if done {
                return Ok(keys);
            }
        }
    }

    /// Downloads one file (`GET /v1/files?downloadKey=…`) to `path`, streamed: written
    /// to `path` with `.part` appended, hashed on the way, renamed when complete. Retried
    /// as the retry policy says (it is a read); an expired key is an API error for which
    /// [`transcend_proto::endpoint::download_file::is_expired_key`] holds.
    pub async fn download_file(&self, key: &str, path: &Path) -> Result<FileDigest, Error> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let outcome = match self.download_once(key, path).await {
                Ok(digest) => return Ok(digest),
                Err(error) => error,
            };
            let as_outcome = match &outcome {
                Error::Protocol(error) => match error.status() {
                    Some(status) => Outcome::Status {
                        status,
                        retry_after: error.retry_after(),
                    },
                    None => return Err(outcome),
                },
                Error::Connect { .. } => Outcome::ConnectFailed,
                Error::Send { .. } => Outcome::ConnectionLost,
                Error::Timeout { .. } => Outcome::TimedOut,
                _ => return Err(outcome),
            };
            let decision = self.retry_policy().decide(
                DownloadFileEndpoint::INFO.idempotency,
                attempt,
                as_outcome,
                SystemTime::now(),
                fastrand::f64(),
            );
            match decision {
                RetryDecision::RetryAfter(wait) => {
                    tracing::info!(
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "retrying a download"
                    );
                    tokio::time::sleep(wait).await;
                }
                _ => return Err(outcome),
            }
        }
    }

    async fn download_once(&self, key: &str, path: &Path) -> Result<FileDigest, Error> {
        let request = DownloadFileEndpoint::build_request(self.config(), &key.to_owned())?;
        let request: Request<Body> = request.map(Body::full);
        let attempt = self.timeouts().attempt;
        let sent = tokio::time::timeout(attempt, self.inner.transport.send_streaming(request))
            .await
            .map_err(|_| Error::Timeout {
                what: "attempt",
                after: attempt,
            })?;
        let response = sent.map_err(|failure| match failure {
            SendFailure::Connect(source) => Error::Connect {
                host: self.config().base_url().to_owned(),
                source,
            },
            SendFailure::Lost(source) => Error::Send {
                endpoint: DownloadFileEndpoint::INFO.name,
                source,
            },
        })?;
        let (parts, mut body) = response.into_parts();
        if !parts.status.is_success() {
            // Error bodies are small JSON; read at most 64 KiB of one.
            let bytes = http_body_util::Limited::new(body, 64 << 10)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let response = http::Response::from_parts(parts, bytes);
            return Err(DownloadFileEndpoint::parse_response(response)
                .err()
                .map(Error::from)
                .unwrap_or_else(|| Error::Config("a failed download answered success".into())));
        }
        let partial = path.with_extension(match path.extension() {
            Some(ext) => format!("{}.part", ext.to_string_lossy()),
            None => "part".into(),
        });
        let source = |e: std::io::Error| Error::Source {
            what: partial.display().to_string(),
            source: e,
        };
        let mut file = tokio::fs::File::create(&partial).await.map_err(source)?;
        let (mut size, mut hash) = (0u64, Sha256::new());
        let written: Result<(), Error> = async {
            loop {
                let frame = tokio::time::timeout(attempt, body.frame())
                    .await
                    .map_err(|_| Error::Timeout {
                        what: "attempt",
                        after: attempt,
                    })?;
                let Some(frame) = frame else { break };
                let frame = frame.map_err(|source| Error::Send {
                    endpoint: DownloadFileEndpoint::INFO.name,
                    source,
                })?;
                if let Ok(data) = frame.into_data() {
                    size += data.len() as u64;
                    hash.update(&data);
                    file.write_all(&data).await.map_err(source)?;
                }
            }
            file.flush().await.map_err(source)
        }
        .await;
        drop(file);
        if let Err(error) = written {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(error);
        }
        tokio::fs::rename(&partial, path).await.map_err(source)?;
        Ok(FileDigest {
            size,
            sha256: hex(&hash.finalize()),
        })
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
