//! A verified job, and how a silo reports back for it.

use serde_json::Value;
use transcend_proto::types::{
    AccessProfile, AccessUpload, DatapointUpload, DsrJob, ErasureReport, IdentifierType,
    JobDataSilo, JobRequest, RequestAction,
};
use transcend_proto::{Nonce, ReportBody};

use crate::client::Client;
use crate::error::Error;
use crate::upload::DatapointSource;

/// A verified DSR job for this silo.
///
/// **What the signature covers:** the token binds the delivery to one person, its
/// `value`, which the verifier checked equals the body's `coreIdentifier`: that is
/// [`core_identifier`](Self::core_identifier). Look the person up by it and nothing else.
/// Everything in [`unsigned`](Self::unsigned), and the [`action`](Self::action), comes
/// from the body, which anyone holding one valid token for that person could have
/// written: use it for logging and display, never to choose whose data to read or erase.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SiloJob {
    /// Signed: the person's core identifier, as the token states it.
    pub core_identifier: String,
    /// Not signed: what the job asks (ACCESS, ERASURE, …), from the body.
    pub action: RequestAction,
    /// Not signed: the rest of the body.
    pub unsigned: UnsignedDetails,
    /// Reports for this job.
    pub reporter: Reporter,
    /// Where the job came from in a durable queue: `None` when it came straight from a
    /// webhook ([`SiloServer::serve`](super::SiloServer::serve)) or to a triage.
    pub queued: Option<QueueDelivery>,
}

/// A queued job's entry and delivery: what a handler logs, or uses to decide that a
/// job failing for the fifth time needs a person.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueDelivery {
    /// The queue's id of the entry (a Redis stream id, or the embedded queue's number).
    pub entry_id: String,
    /// How many times the job has been handed to a handler, this time included.
    pub deliveries: u32,
}

/// The parts of a job's body that the token does not cover.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UnsignedDetails {
    /// The identifier Transcend matched the person by, and its type (`email`, …).
    pub profile: Option<(String, IdentifierType)>,
    /// The DSR (id, link, locale, …).
    pub request: Option<JobRequest>,
    /// This silo as Transcend knows it.
    pub data_silo: Option<JobDataSilo>,
    /// Whether the DSR is a test.
    pub is_test: bool,
    /// The whole job body.
    pub job: DsrJob,
}

impl SiloJob {
    pub(crate) fn new(job: DsrJob, core_identifier: String, nonce: Nonce, client: Client) -> Self {
        let extras = job.extras.clone().unwrap_or_default();
        Self {
            action: job.action.clone(),
            core_identifier,
            reporter: Reporter {
                client,
                nonce,
                action: job.action.clone(),
            },
            unsigned: UnsignedDetails {
                profile: extras.profile.map(|p| (p.identifier, p.identifier_type)),
                request: extras.request,
                data_silo: extras.data_silo,
                is_test: job.is_test.unwrap_or(false),
                job,
            },
            queued: None,
        }
    }

    /// The same job, as handed out by a queue.
    pub(crate) fn delivered(mut self, entry_id: String, deliveries: u32) -> Self {
        self.queued = Some(QueueDelivery {
            entry_id,
            deliveries,
        });
        self
    }

    /// How many times a queued job has been handed out, this time included (`None`
    /// when it did not come through a queue).
    pub fn deliveries(&self) -> Option<u32> {
        self.queued.as_ref().map(|queued| queued.deliveries)
    }

    /// The queue entry's id (`None` when the job did not come through a queue).
    pub fn entry_id(&self) -> Option<&str> {
        self.queued.as_ref().map(|queued| queued.entry_id.as_str())
    }

    /// The DSR's id, if sent (not signed: for logs).
    pub fn request_id(&self) -> Option<&str> {
        self.unsigned.request.as_ref()?.id.as_deref()
    }

    /// The nonce reports for this job carry.
    pub fn nonce(&self) -> &Nonce {
        &self.reporter.nonce
    }
}

/// Reports for one job, with the job's nonce, through the client (so retries, timeouts
/// and tracing apply). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Reporter {
    client: Client,
    nonce: Nonce,
    action: RequestAction,
}

impl Reporter {
    /// Any JSON report for this job
    /// ([`AccessUpload`](transcend_proto::types::AccessUpload),
    /// [`ErasureReport`](transcend_proto::types::ErasureReport),
    /// [`DatapointChunk`](transcend_proto::types::DatapointChunk)): see
    /// [`Client::report`](crate::Client::report).
    pub async fn report<T: ReportBody + Sync>(&self, body: &T) -> Result<(), Error> {
        self.client.report(&self.nonce, body).await
    }

    /// JSON datapoints, and the job is done (`status: READY`).
    pub async fn access(&self, profiles: Vec<AccessProfile>) -> Result<(), Error> {
        self.report(&AccessUpload::ready(profiles)).await
    }

    /// JSON datapoints, with more to come.
    pub async fn access_partial(&self, profiles: Vec<AccessProfile>) -> Result<(), Error> {
        self.report(&AccessUpload::partial(profiles)).await
    }

    /// One file for one datapoint, streamed.
    pub async fn file(
        &self,
        upload: DatapointUpload,
        source: DatapointSource,
    ) -> Result<(), Error> {
        self.client
            .upload_datapoint(&self.nonce, upload, source)
            .await
    }

    /// Paged JSON for one datapoint; the last page completes it.
    pub async fn pages(
        &self,
        datapoint: &str,
        pages: impl IntoIterator<Item = Vec<Value>>,
    ) -> Result<usize, Error> {
        self.client
            .upload_datapoint_chunked(&self.nonce, datapoint, pages)
            .await
    }

    /// The person's data is erased (`{}`).
    pub async fn erased(&self) -> Result<(), Error> {
        self.report(&ErasureReport::erased()).await
    }

    /// Any outcome of the reference page (`PUT /v1/data-silo`).
    pub async fn report_erasure(&self, report: &ErasureReport) -> Result<(), Error> {
        self.report(report).await
    }

    /// Nothing about the person here: `{"status": "READY"}` for an ACCESS job,
    /// `{"status": "SKIPPED"}` otherwise.
    pub async fn no_data(&self) -> Result<(), Error> {
        match self.action {
            RequestAction::Access => self.report(&AccessUpload::not_found()).await,
            _ => self.report(&ErasureReport::not_found()).await,
        }
    }

    /// The silo failed; the message is shown in the dashboard.
    pub async fn error(&self, message: impl Into<String>) -> Result<(), Error> {
        self.report(&ErasureReport::error(message)).await
    }
}
