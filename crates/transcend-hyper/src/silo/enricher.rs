//! Enrichers: a verified enrichment job, what an enricher decides, and how it reports.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::{Response, StatusCode};
use transcend_proto::Nonce;
use transcend_proto::endpoint::enrich_identifiers::EnrichmentTarget;
use transcend_proto::types::{
    EnrichIdentifiers, EnrichedIdentifier, EnrichmentAnswer, EnrichmentJob, IdentifierType,
    JobRequest,
};
use transcend_proto::webhook::JobAnswer;

use crate::client::{Client, EnrichOutcome};
use crate::error::Error;

/// A verified enrichment job.
///
/// **What the signature covers:** [`identifier`](Self::identifier), the identifier to
/// enrich (the token's `value`, which the body's `requestIdentifier` must equal).
/// Everything in [`unsigned`](Self::unsigned) comes from the body and is for logs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EnricherJob {
    /// Signed: the identifier to enrich.
    pub identifier: String,
    /// Not signed: the rest of the body.
    pub unsigned: EnrichmentDetails,
    /// Sends the identifiers found, or a decision, for this job.
    pub reporter: EnrichmentReporter,
}

/// The parts of an enrichment job's body that the token does not cover.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EnrichmentDetails {
    /// The request (id, link, …).
    pub request: Option<JobRequest>,
    /// The whole body.
    pub job: EnrichmentJob,
}

impl EnricherJob {
    pub(crate) fn new(
        job: EnrichmentJob,
        identifier: String,
        nonce: Nonce,
        client: Client,
    ) -> Self {
        Self {
            identifier,
            unsigned: EnrichmentDetails {
                request: job.extras.as_ref().and_then(|e| e.request.clone()),
                job,
            },
            reporter: EnrichmentReporter { client, nonce },
        }
    }

    /// The request's id, if sent (not signed: for logs).
    pub fn request_id(&self) -> Option<&str> {
        self.unsigned.request.as_ref()?.id.as_deref()
    }
}

/// Reports for one enrichment job with its nonce (`POST /v1/enrich-identifiers`).
#[derive(Debug, Clone)]
pub struct EnrichmentReporter {
    client: Client,
    nonce: Nonce,
}

impl EnrichmentReporter {
    /// Sends identifiers found and/or a decision.
    pub async fn enrich(&self, body: EnrichIdentifiers) -> Result<EnrichOutcome, Error> {
        self.client
            .enrich_identifiers(EnrichmentTarget::Nonce(self.nonce.clone()), body)
            .await
    }

    /// Sends identifiers of one type.
    pub async fn identifiers<V: Into<String>>(
        &self,
        kind: IdentifierType,
        values: impl IntoIterator<Item = V>,
    ) -> Result<EnrichOutcome, Error> {
        let body = values
            .into_iter()
            .fold(EnrichIdentifiers::default(), |body, value| {
                body.identifier(kind.clone(), EnrichedIdentifier::new(value))
            });
        self.enrich(body).await
    }

    /// Puts the request on hold.
    pub async fn hold(&self) -> Result<EnrichOutcome, Error> {
        self.enrich(EnrichIdentifiers::default().on_hold()).await
    }

    /// Cancels the request, emailing the person with `template_id`.
    pub async fn cancel(&self, template_id: impl Into<String>) -> Result<EnrichOutcome, Error> {
        self.enrich(EnrichIdentifiers::default().canceled(template_id))
            .await
    }
}

type Work = Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>;

/// What an enricher does with a job.
#[non_exhaustive]
pub enum EnrichmentDecision {
    /// Answer 200 and run `work` (which enriches) in the background.
    Enrich(Work),
    /// Nothing to add: answer 204.
    NothingFound,
    /// Put the request on hold at once (`{"status": "ON_HOLD"}`).
    Hold,
    /// Cancel the request at once, emailing the person with the template.
    Cancel {
        /// The email template.
        template_id: String,
    },
    /// Something failed: answer 500; Transcend delivers again later.
    Failed(String),
}

impl EnrichmentDecision {
    /// Enrich: `work` sends the identifiers, after the webhook has been answered.
    pub fn enrich(work: impl Future<Output = Result<(), Error>> + Send + 'static) -> Self {
        Self::Enrich(Box::pin(work))
    }

    /// The answer to the webhook; enrichment work starts in the background.
    pub(crate) fn answer(self, request_id: Option<String>) -> Response<Bytes> {
        let answer = match self {
            Self::Enrich(work) => {
                tokio::spawn(async move {
                    if let Err(error) = work.await {
                        tracing::warn!(request = ?request_id, %error, "enrichment failed");
                    }
                });
                JobAnswer::Accepted
            }
            Self::NothingFound => JobAnswer::NotFound,
            Self::Hold => JobAnswer::Enrichment(EnrichmentAnswer::on_hold()),
            Self::Cancel { template_id } => {
                JobAnswer::Enrichment(EnrichmentAnswer::canceled(template_id))
            }
            Self::Failed(message) => JobAnswer::Failed {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: Some(message),
            },
        };
        answer.to_response()
    }
}

impl std::fmt::Debug for EnrichmentDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Enrich(_) => f.write_str("Enrich"),
            Self::NothingFound => f.write_str("NothingFound"),
            Self::Hold => f.write_str("Hold"),
            Self::Cancel { template_id } => write!(f, "Cancel({template_id:?})"),
            Self::Failed(message) => write!(f, "Failed({message:?})"),
        }
    }
}
