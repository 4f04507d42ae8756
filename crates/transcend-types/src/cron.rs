//! What a cron ("pull") data silo reads: the jobs waiting for it
//! (`GET /v1/data-silo/{dataSiloId}/pending-requests/{action}`).

use crate::{IdentifierType, Nonce, Timestamp};

/// A page of the jobs waiting for a silo, oldest first.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct PendingRequestsPage {
    /// This page's jobs.
    #[serde(default)]
    pub items: Vec<PendingRequest>,
}

impl PendingRequestsPage {
    /// A page of these jobs.
    pub fn new(items: Vec<PendingRequest>) -> Self {
        Self { items }
    }
}

/// One job waiting for a cron silo: who it is about, and the nonce that completes it
/// (`PUT /v1/data-silo`).
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PendingRequest {
    /// The identifier to look the person up by.
    pub identifier: String,
    /// Its type (`email`, `coreIdentifier`, …).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub identifier_type: Option<IdentifierType>,
    /// The person's core identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_identifier: Option<String>,
    /// The silo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_silo_id: Option<String>,
    /// The request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The job's nonce: report with it to complete the job.
    // A `Nonce`, so that `Debug` of a job never shows it.
    pub nonce: Nonce,
    /// When the request was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_created_at: Option<Timestamp>,
    /// Days left before the request is overdue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_until_overdue: Option<i64>,
    /// The request's attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<RequestAttribute>>,
    /// The partition the silo belongs to; `null` when none.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::nullable_partition")]
    pub partition: Option<Partition>,
}

impl PendingRequest {
    /// A job for `identifier` completed with `nonce`; the rest unset.
    pub fn new(identifier: impl Into<String>, nonce: impl Into<Nonce>) -> Self {
        Self {
            identifier: identifier.into(),
            identifier_type: None,
            core_identifier: None,
            data_silo_id: None,
            request_id: None,
            nonce: nonce.into(),
            request_created_at: None,
            days_until_overdue: None,
            attributes: None,
            partition: None,
        }
    }
}

/// An attribute of a request as a response carries it.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct RequestAttribute {
    /// The attribute's key.
    pub key: String,
    /// Its values.
    #[serde(default)]
    pub values: Vec<String>,
}

impl RequestAttribute {
    /// An attribute with these values.
    pub fn new<V: Into<String>>(
        key: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        Self {
            key: key.into(),
            values: values.into_iter().map(Into::into).collect(),
        }
    }
}

/// `partition` of a pending job.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct Partition {
    /// Its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The partition key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_of_the_protocol_notes_reads_back_unchanged() {
        let text = r#"{"items":[{"identifier":"user@example.com","type":"email","coreIdentifier":"id-123","dataSiloId":"s","requestId":"r","nonce":"n","requestCreatedAt":"2024-01-01T00:00:00.000Z","daysUntilOverdue":30,"attributes":[{"key":"Source","values":["iOS"]}],"partition":null}]}"#;
        let page: PendingRequestsPage = serde_json::from_str(text).unwrap();
        assert_eq!(page.items[0].days_until_overdue, Some(30));
        assert_eq!(serde_json::to_string(&page).unwrap(), text);
        let with_more: PendingRequestsPage =
            serde_json::from_str(r#"{"items":[{"identifier":"a","nonce":"n","addedLater":true}]}"#)
                .unwrap();
        assert_eq!(with_more.items[0].partition, None);
    }
}
