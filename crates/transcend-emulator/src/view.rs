//! The inspection API's documents: everything the emulator knows about each request.

use serde::{Deserialize, Serialize};
use transcend_proto::types::{
    AccessProfile, ErasureReport, RequestAction, RequestIdentifier, RequestStatus, Timestamp,
};

/// A DSR and everything that happened to it (`GET /emulator/v1/requests/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RequestView {
    /// The request id.
    pub id: String,
    /// Its current status.
    pub status: RequestStatus,
    /// Its type.
    #[serde(rename = "type")]
    pub action: RequestAction,
    /// The class of data subject.
    pub subject_type: String,
    /// The person's core identifier.
    pub core_identifier: String,
    /// The person's email, if given.
    pub email: Option<String>,
    /// When it was submitted.
    pub created_at: Timestamp,
    /// Every status it has had, in order.
    pub timeline: Vec<StatusChange>,
    /// One job per data silo in scope (since the last restart).
    pub jobs: Vec<JobView>,
    /// How many times it was restarted.
    #[serde(default)]
    pub restarts: u32,
    /// Its enrichers, while and after it was `ENRICHING`.
    #[serde(default)]
    pub enrichers: Vec<EnricherView>,
    /// The identifiers enrichers added.
    #[serde(default)]
    pub enriched_identifiers: Vec<RequestIdentifier>,
}

/// An enricher's part in a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnricherView {
    /// Its part's id in the admin API (`retryRequestEnricher`, `skipRequestEnricher`).
    #[serde(default)]
    pub id: String,
    /// The enricher.
    pub enricher_id: String,
    /// Where it stands.
    pub status: EnricherStatus,
    /// Every webhook delivery and the answer it got.
    pub deliveries: Vec<Delivery>,
    /// The round of its webhook loop: each retry starts a new one.
    #[serde(default)]
    pub round: u32,
}

impl EnricherView {
    /// An enricher's part of request `request_id`: its webhook is being delivered,
    /// or, for one without a webhook (`manual`), it waits for a person.
    pub(crate) fn new(request_id: &str, enricher: &str, manual: bool, round: u32) -> Self {
        Self {
            id: crate::store::part_id(request_id, enricher),
            enricher_id: enricher.to_owned(),
            status: if manual {
                EnricherStatus::Waiting
            } else {
                EnricherStatus::Delivering
            },
            deliveries: Vec::new(),
            round,
        }
    }
}

/// Where an enricher stands on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum EnricherStatus {
    /// The webhook is being delivered.
    Delivering,
    /// It took the webhook (200); its identifiers are awaited.
    Waiting,
    /// It answered (identifiers, or nothing found).
    Resolved,
    /// It put the request on hold.
    OnHold,
    /// It canceled the request.
    Canceled,
    /// Every delivery failed.
    DeliveryFailed,
    /// A person skipped it.
    Skipped,
}

impl EnricherStatus {
    /// Whether it may still answer: its webhook is out, it took it, or every delivery
    /// failed (a person may still enrich by hand).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::Delivering | Self::Waiting | Self::DeliveryFailed
        )
    }

    /// Whether the silos may start as far as it is concerned.
    pub fn is_done(self) -> bool {
        matches!(self, Self::Resolved | Self::Skipped)
    }
}

/// `GET /emulator/v1/requests`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestList {
    /// Every request, oldest first; or the page asked for (`?limit=&offset=`, newest
    /// first).
    pub requests: Vec<RequestView>,
    /// How many requests there are in all (on a page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
}

/// A status and when the request entered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StatusChange {
    /// The status.
    pub status: RequestStatus,
    /// When.
    pub at: Timestamp,
    /// A change that is not a status change, made from the admin API or the dashboard
    /// ("marked silent", "45 more days", "silo users-db resolved by hand").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl StatusChange {
    /// The request entered `status` at `at`.
    pub(crate) fn new(status: RequestStatus, at: Timestamp) -> Self {
        Self {
            status,
            at,
            note: None,
        }
    }
}

/// Where a silo's job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum JobStatus {
    /// The webhook is being delivered.
    Delivering,
    /// The silo took the job (200) and its reports are awaited.
    Waiting,
    /// Done.
    Resolved,
    /// The person is not in the silo (204), or the silo skipped the job.
    Skipped,
    /// The silo reported an error.
    Error,
    /// The silo says a person has to act.
    ActionRequired,
    /// Every delivery of the webhook failed.
    DeliveryFailed,
}

impl JobStatus {
    /// Whether the job needs nothing more.
    pub fn is_settled(self) -> bool {
        matches!(self, Self::Resolved | Self::Skipped)
    }
}

/// One silo's job in a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JobView {
    /// Its part's id in the admin API (`changeRequestDataSiloStatus`,
    /// `retryRequestDataSilo`).
    #[serde(default)]
    pub id: String,
    /// The silo.
    pub data_silo_id: String,
    /// Where the job stands.
    pub status: JobStatus,
    /// The last message the silo sent.
    pub message: Option<String>,
    /// The silo's polling job, if it reported one.
    pub poll_id: Option<String>,
    /// When the silo asked to be retried, if it did.
    pub retry_after_date: Option<Timestamp>,
    /// Every webhook delivery and the answer it got.
    pub deliveries: Vec<Delivery>,
    /// The profiles received (`POST /v1/data-silo`), merged by profile id.
    pub profiles: Vec<AccessProfile>,
    /// The datapoints reported so far, by any means.
    pub datapoints: Vec<String>,
    /// The pages received (`POST /v1/datapoint-chunked`).
    pub pages: Vec<PageView>,
    /// The files received (`POST /v1/datapoint`).
    pub files: Vec<FileView>,
    /// The reports received (`PUT /v1/data-silo`), in order.
    pub reports: Vec<ErasureReport>,
    /// When the next delivery of a job whose deliveries failed is due (they go on,
    /// more slowly, until the silo answers or the attempts run out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_delivery_at: Option<Timestamp>,
}

/// One webhook delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Delivery {
    /// 1 for the first.
    pub attempt: u32,
    /// When it was sent.
    pub at: Timestamp,
    /// The silo's status code, if it answered.
    pub status: Option<u16>,
    /// What happened: `accepted`, `not found`, `failed: …`.
    pub outcome: String,
}

/// A page of a chunked upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PageView {
    /// The datapoint.
    pub datapoint: String,
    /// The page's id.
    pub file_id: Option<String>,
    /// Its records, when kept in memory (empty when they are on disk).
    pub data: Vec<serde_json::Value>,
    /// Whether it was the last.
    pub is_last_page: bool,
    /// Where its records are kept, as a JSON list, when the page was too large to keep
    /// in memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The size of that file, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A file received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FileView {
    /// The datapoint.
    pub datapoint: String,
    /// The file name shown to the person.
    pub remote_id: Option<String>,
    /// The profile it belongs to (`x-transcend-profile-id`, deprecated), when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
    /// Where the emulator stored it.
    pub path: String,
}
