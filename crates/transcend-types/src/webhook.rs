//! The body of the webhook Transcend sends a data silo for each DSR job.

use crate::{IdentifierType, Locale, RequestAction, Timestamp};

/// A DSR job, as delivered to a data silo's webhook.
///
/// Every field but `type` may be missing in older deliveries, and fields the server adds
/// are ignored.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DsrJob {
    /// What the job asks of the silo.
    #[serde(rename = "type")]
    pub action: RequestAction,
    /// The person's core identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_identifier: Option<CoreIdentifier>,
    /// The class of data subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_subject: Option<DataSubject>,
    /// Whether the DSR is a test request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_test: Option<bool>,
    /// More about the profile, the request, the silo and the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extras: Option<JobExtras>,
}

/// `coreIdentifier` of a job.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct CoreIdentifier {
    /// The identifier.
    pub value: String,
}

/// `dataSubject` of a job.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct DataSubject {
    /// The class of data subject, such as `customer`.
    #[serde(rename = "type")]
    pub subject_type: String,
}

/// `extras` of a job.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JobExtras {
    /// The identifier the silo should look the person up by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<JobProfile>,
    /// The DSR the job belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<JobRequest>,
    /// The silo the job is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_silo: Option<JobDataSilo>,
    /// The organization that runs the silo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<JobOrganization>,
}

/// `extras.profile`: the identifier to look the person up by.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct JobProfile {
    /// The identifier.
    pub identifier: String,
    /// Its type (`email`, `phone`, …).
    #[serde(rename = "type")]
    pub identifier_type: IdentifierType,
}

/// `extras.request`: the DSR a job belongs to.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JobRequest {
    /// The DSR's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The DSR in the dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// When the DSR was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// The person's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
    /// Notes on the DSR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Where the DSR came from (for example `API`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// `extras.dataSilo`: the silo a job is for.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct JobDataSilo {
    /// The silo's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The silo in the dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// `extras.organization`: the organization running the silo.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct JobOrganization {
    /// Its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

impl DsrJob {
    /// A job of the given kind with nothing else set.
    pub fn new(action: RequestAction) -> Self {
        Self {
            action,
            core_identifier: None,
            data_subject: None,
            is_test: None,
            extras: None,
        }
    }

    /// The core identifier's value, if the delivery carried one.
    pub fn core_identifier(&self) -> Option<&str> {
        self.core_identifier_value()
    }

    /// The job with `coreIdentifier.value` set.
    pub fn with_core_identifier(mut self, value: impl Into<String>) -> Self {
        self.core_identifier = Some(CoreIdentifier::new(value));
        self
    }

    fn core_identifier_value(&self) -> Option<&str> {
        self.core_identifier.as_ref().map(|c| c.value.as_str())
    }

    /// The DSR's id, if the delivery carried one.
    pub fn request_id(&self) -> Option<&str> {
        self.extras.as_ref()?.request.as_ref()?.id.as_deref()
    }

    /// The profile identifier to look the person up by, if the delivery carried one.
    pub fn profile(&self) -> Option<&JobProfile> {
        self.extras.as_ref()?.profile.as_ref()
    }
}

impl CoreIdentifier {
    /// A core identifier.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
        }
    }
}

impl DataSubject {
    /// A class of data subject.
    pub fn new(subject_type: impl Into<String>) -> Self {
        Self {
            subject_type: subject_type.into(),
        }
    }
}

impl JobProfile {
    /// A profile identifier and its type.
    pub fn new(identifier: impl Into<String>, identifier_type: IdentifierType) -> Self {
        Self {
            identifier: identifier.into(),
            identifier_type,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_delivery_with_only_a_type_parses() {
        let job: DsrJob = serde_json::from_str(r#"{"type":"ERASURE"}"#).unwrap();
        assert_eq!(job, DsrJob::new(RequestAction::Erasure));
        assert_eq!(job.core_identifier(), None);
        assert_eq!(job.request_id(), None);
    }
}
