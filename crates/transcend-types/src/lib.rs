//! Wire types of Transcend's data-subject-request (DSR) API.
//!
//! Every request and response body of the API, and every enum in them, with serde,
//! JSON Schemas (schemars) and validation against the rules of the reference pages.
//! No HTTP and no I/O: `transcend-proto` builds requests from these types.
//!
//! ```
//! use transcend_types::{RequestAction, RequestStatus, Subject, SubmitDsr, SubmitDsrResponse, Validate};
//!
//! let dsr = SubmitDsr::new(RequestAction::Access, Subject::new("id-123456789").email("user@example.com"), "customer");
//! dsr.validate()?;
//! let body = serde_json::to_string(&dsr)?;
//! assert_eq!(body, r#"{"type":"ACCESS","subject":{"coreIdentifier":"id-123456789","email":"user@example.com"},"subjectType":"customer"}"#);
//!
//! // Responses keep values this version does not know, and write them back unchanged.
//! let answer: SubmitDsrResponse = serde_json::from_str(
//!     r#"{"request":{"id":"da13","status":"SOMETHING_NEW","type":"ACCESS","subjectType":"customer","email":null,"coreIdentifier":"id-1"}}"#,
//! )?;
//! assert_eq!(answer.request.status, RequestStatus::Unknown("SOMETHING_NEW".into()));
//! assert_eq!(answer.request.status.as_str(), "SOMETHING_NEW");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Unknown values and fields
//!
//! Each enum ends in `Unknown(String)`: a response never fails because Transcend added a
//! status or a type. Structs ignore fields they do not know. Validation
//! ([`Validate::validate`]) is stricter: a request may only carry the values the
//! reference pages list.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod access;
mod action;
mod cron;
mod datapoint;
mod dsr;
mod enrichment;
mod erasure;
mod error_body;
mod identifier;
mod locale;
mod region;
mod report_status;
mod requester;
pub mod schema;
pub mod secret;
mod status;
mod submit;
mod timestamp;
mod validate;
mod webhook;
mod wire_enum;

#[cfg(any(test, feature = "proptest"))]
pub mod arbitrary;

pub use access::{AccessProfile, AccessUpload};
pub use action::{CompletedRequestStatus, RequestAction};
pub use cron::{Partition, PendingRequest, PendingRequestsPage, RequestAttribute};
pub use datapoint::{DatapointChunk, DatapointUpload};
pub use dsr::{AttributeKeyName, DsrRecord, DsrStatus, RequestAttributeValue, SubmitDsrResponse};
pub use enrichment::{
    EnrichIdentifiers, EnrichedIdentifier, EnrichmentAnswer, EnrichmentJob, EnrichmentStatus,
};
pub use erasure::{ErasedProfile, ErasureReport};
pub use error_body::ErrorBody;
pub use identifier::IdentifierType;
pub use locale::Locale;
pub use region::{Country, CountrySubdivision, Region, SubdivisionError};
pub use report_status::{AccessStatus, IntegrationStatus, ProfileStatus};
pub use requester::{
    DownloadKey, DownloadKeysPage, MAX_IDENTIFIERS_PAGE, PageLinks, RequestIdentifier,
    RequestIdentifiersPage, RequestIdentifiersQuery, RestartIdentifierStrategy,
};
pub use secret::{ApiKey, Nonce, SombraKey, SombraToken};
pub use status::RequestStatus;
pub use submit::{
    AttestedExtraIdentifiers, Attribute, ExtraIdentifier, Subject, SubmitDsr, SubmitDsrBuilder,
};
pub use timestamp::{Timestamp, TimestampError};
pub use validate::{FieldProblem, ProblemKind, Validate, ValidationError};
pub use webhook::{
    CoreIdentifier, DataSubject, DsrJob, JobDataSilo, JobExtras, JobOrganization, JobProfile,
    JobRequest,
};

/// Re-export of `time`, whose `OffsetDateTime` converts to and from [`Timestamp`].
pub use time;
