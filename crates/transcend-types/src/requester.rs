//! What a requester reads back about a request besides its status: the identifiers it
//! holds (`POST /v1/request-identifiers`) and the access report's download keys
//! (`GET /v1/data-subject-request/{id}/download-keys`).

use crate::IdentifierType;
use crate::validate::{Checker, ProblemKind, Validate, ValidationError};
use crate::wire_enum::wire_enum;

wire_enum! {
    /// `restartIdentifierStrategy` of a restart: which identifiers the restarted
    /// request keeps.
    pub enum RestartIdentifierStrategy {
        /// Keep only the verifications the request started with.
        PreserveInitialVerificationsOnly = "PRESERVE_INITIAL_VERIFICATIONS_ONLY",
        /// Keep every verification made since.
        PreserveAllVerifications = "PRESERVE_ALL_VERIFICATIONS",
        /// Drop the identifiers enrichers added.
        RemoveEnrichedIdentifiers = "REMOVE_ENRICHED_IDENTIFIERS",
    }
}

/// The most identifiers one page of `POST /v1/request-identifiers` returns.
pub const MAX_IDENTIFIERS_PAGE: u32 = 100;

/// A page of a request's identifiers (`POST /v1/request-identifiers`).
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RequestIdentifiersQuery {
    /// The request.
    #[schemars(length(min = 1))]
    pub request_id: String,
    /// How many identifiers at most (1 to 100).
    #[schemars(range(min = 1, max = 100))]
    pub first: u32,
    /// How many to skip.
    #[serde(default)]
    pub offset: u32,
}

impl RequestIdentifiersQuery {
    /// The page of `first` identifiers of `request_id` after `offset`.
    pub fn new(request_id: impl Into<String>, first: u32, offset: u32) -> Self {
        Self {
            request_id: request_id.into(),
            first,
            offset,
        }
    }
}

impl Validate for RequestIdentifiersQuery {
    fn validate(&self) -> Result<(), ValidationError> {
        let mut checker = Checker::default();
        checker.non_empty(|| "requestId".into(), &self.request_id);
        if !(1..=MAX_IDENTIFIERS_PAGE).contains(&self.first) {
            checker.report(
                "first",
                ProblemKind::Malformed {
                    value: self.first.to_string(),
                    expected: "a number from 1 to 100",
                },
            );
        }
        checker.finish()
    }
}

/// The answer to `POST /v1/request-identifiers`.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct RequestIdentifiersPage {
    /// This page's identifiers.
    #[serde(default)]
    pub identifiers: Vec<RequestIdentifier>,
}

impl RequestIdentifiersPage {
    /// A page holding these identifiers.
    pub fn new(identifiers: Vec<RequestIdentifier>) -> Self {
        Self { identifiers }
    }
}

/// One identifier of a request: the core identifier, the email, an attested or an
/// enriched one.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct RequestIdentifier {
    /// The identifier's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name of its identifier type in the organization (`email`, `phone`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The value.
    pub value: String,
    /// Its type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub identifier_type: Option<IdentifierType>,
}

impl RequestIdentifier {
    /// An identifier of this type and value, named after its type.
    pub fn new(identifier_type: IdentifierType, value: impl Into<String>) -> Self {
        Self {
            id: None,
            name: Some(identifier_type.as_str().to_owned()),
            value: value.into(),
            identifier_type: Some(identifier_type),
        }
    }
}

/// A page of an access report's files (`GET /v1/data-subject-request/{id}/download-keys`).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DownloadKeysPage {
    /// This page's files.
    #[serde(default)]
    pub nodes: Vec<DownloadKey>,
    /// How many files the report has in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    /// Links to the next and previous pages.
    #[serde(rename = "_links", default, skip_serializing_if = "Option::is_none")]
    pub links: Option<PageLinks>,
}

/// `_links` of a page.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct PageLinks {
    /// The next page, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The previous page, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// One file of an access report and the key that downloads it
/// (`GET /v1/files?downloadKey=…`). Keys expire.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DownloadKey {
    /// The key for `GET /v1/files`.
    pub download_key: String,
    /// Why the file cannot be had, if it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mimetype: Option<String>,
    /// Its size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Its file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The datapoint it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_point: Option<String>,
}

impl DownloadKey {
    /// A key for a file.
    pub fn new(download_key: impl Into<String>) -> Self {
        Self {
            download_key: download_key.into(),
            error: None,
            mimetype: None,
            size: None,
            file_name: None,
            data_point: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_of_the_protocol_notes_parse_and_read_back() {
        let text = r#"{"nodes":[{"downloadKey":"k1","error":null,"mimetype":"application/json","size":12,"fileName":"profile.json","dataPoint":"profile"}],"totalCount":1,"_links":{"next":null,"previous":null}}"#;
        let page: DownloadKeysPage = serde_json::from_str(text).unwrap();
        assert_eq!(page.nodes[0].size, Some(12));
        assert_eq!(page.total_count, Some(1));
        let identifiers: RequestIdentifiersPage = serde_json::from_str(
            r#"{"identifiers":[{"id":"i1","name":"email","value":"a@example.com","type":"email","addedLater":1}]}"#,
        )
        .unwrap();
        assert_eq!(
            identifiers.identifiers[0].identifier_type,
            Some(IdentifierType::Email)
        );
    }

    #[test]
    fn a_page_of_identifiers_holds_at_most_100() {
        assert!(RequestIdentifiersQuery::new("r", 100, 0).validate().is_ok());
        let error = RequestIdentifiersQuery::new("", 101, 0)
            .validate()
            .unwrap_err();
        assert!(
            error.names_field("first") && error.names_field("requestId"),
            "{error}"
        );
    }
}
