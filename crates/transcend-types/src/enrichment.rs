//! Enrichers ("preflight"): the webhook an enricher receives, its synchronous answer,
//! and the identifiers it adds later (`POST /v1/enrich-identifiers`).

use std::collections::BTreeMap;

use crate::validate::{Checker, ProblemKind, Validate, ValidationError};
use crate::wire_enum::wire_enum;
use crate::{CoreIdentifier, IdentifierType, JobExtras};

wire_enum! {
    /// What an enricher decides about a request: hold it, or cancel it.
    pub enum EnrichmentStatus {
        /// Stop the request until someone looks at it.
        OnHold = "ON_HOLD",
        /// Stop the request for good (emailing the person with a template).
        Canceled = "CANCELED",
    }
}

/// The body of the webhook an enricher receives. Every field but `type` may be missing
/// in older deliveries (`type: "PREFLIGHT"`, `extraIdentifiers`); unknown fields are
/// tolerated.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnrichmentJob {
    /// The kind of delivery.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The identifier to enrich: the one the webhook's token is signed for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_identifier: Option<CoreIdentifier>,
    /// Older deliveries: the identifiers known so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_identifiers: Option<serde_json::Value>,
    /// The request, as for a DSR job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extras: Option<JobExtras>,
}

impl EnrichmentJob {
    /// A job to enrich `identifier`.
    pub fn new(identifier: impl Into<String>) -> Self {
        Self {
            kind: Some("ENRICHMENT".into()),
            request_identifier: Some(CoreIdentifier::new(identifier)),
            extra_identifiers: None,
            extras: None,
        }
    }

    /// The identifier to enrich, if the delivery names one.
    pub fn identifier(&self) -> Option<&str> {
        self.request_identifier.as_ref().map(|i| i.value.as_str())
    }

    /// The request's id, if the delivery carries one.
    pub fn request_id(&self) -> Option<&str> {
        self.extras.as_ref()?.request.as_ref()?.id.as_deref()
    }
}

/// An enricher's synchronous answer to its webhook: hold or cancel the request.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnrichmentAnswer {
    /// The decision.
    pub status: EnrichmentStatus,
    /// The email template to send the person (with `CANCELED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
}

impl EnrichmentAnswer {
    /// Hold the request.
    pub fn on_hold() -> Self {
        Self {
            status: EnrichmentStatus::OnHold,
            template_id: None,
        }
    }

    /// Cancel the request, emailing the person with `template_id`.
    pub fn canceled(template_id: impl Into<String>) -> Self {
        Self {
            status: EnrichmentStatus::Canceled,
            template_id: Some(template_id.into()),
        }
    }
}

/// The body of `POST /v1/enrich-identifiers`: identifiers found for the person, by type,
/// and optionally a decision.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnrichIdentifiers {
    /// The identifiers found, by identifier type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enriched_identifiers: Option<BTreeMap<IdentifierType, Vec<EnrichedIdentifier>>>,
    /// Hold or cancel the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<EnrichmentStatus>,
    /// The email template of a cancellation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub template_id: Option<String>,
    /// The template's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub template_title: Option<String>,
}

impl EnrichIdentifiers {
    /// Adds an identifier of a type.
    pub fn identifier(mut self, kind: IdentifierType, identifier: EnrichedIdentifier) -> Self {
        self.enriched_identifiers
            .get_or_insert_with(BTreeMap::new)
            .entry(kind)
            .or_default()
            .push(identifier);
        self
    }

    /// Holds the request.
    pub fn on_hold(mut self) -> Self {
        self.status = Some(EnrichmentStatus::OnHold);
        self
    }

    /// Cancels the request, emailing the person with `template_id`.
    pub fn canceled(mut self, template_id: impl Into<String>) -> Self {
        self.status = Some(EnrichmentStatus::Canceled);
        self.template_id = Some(template_id.into());
        self
    }
}

/// One identifier an enricher found.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnrichedIdentifier {
    /// The identifier.
    #[schemars(length(min = 1))]
    pub value: String,
    /// For a phone number, its country (`US`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// For a custom identifier, its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl EnrichedIdentifier {
    /// An identifier with this value.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            country_code: None,
            name: None,
        }
    }

    /// Sets the country code of a phone number.
    pub fn country_code(mut self, code: impl Into<String>) -> Self {
        self.country_code = Some(code.into());
        self
    }
}

impl Validate for EnrichIdentifiers {
    fn validate(&self) -> Result<(), ValidationError> {
        let mut checker = Checker::default();
        for (kind, values) in self.enriched_identifiers.iter().flatten() {
            checker.known(
                || format!("enrichedIdentifiers.{kind}"),
                kind.as_str(),
                kind.is_known(),
                IdentifierType::KNOWN_NAMES,
            );
            for (i, value) in values.iter().enumerate() {
                checker.non_empty(
                    || format!("enrichedIdentifiers.{kind}[{i}].value"),
                    &value.value,
                );
            }
        }
        if let Some(status) = &self.status {
            checker.known(
                || "status".into(),
                status.as_str(),
                status.is_known(),
                EnrichmentStatus::KNOWN_NAMES,
            );
        }
        for (field, value) in [
            ("templateId", &self.template_id),
            ("templateTitle", &self.template_title),
        ] {
            if let Some(value) = value {
                checker.non_empty(|| field.into(), value);
            }
        }
        if self.enriched_identifiers.is_none() && self.status.is_none() {
            checker.report(
                "enrichedIdentifiers",
                ProblemKind::Missing {
                    because: "when no status is given (an enrichment adds identifiers or decides)",
                },
            );
        }
        checker.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_of_the_protocol_notes_reads_back() {
        let text = r#"{"enrichedIdentifiers":{"email":[{"value":"a@example.com"}],"phone":[{"value":"+14155550100","countryCode":"US"}]},"status":"ON_HOLD","templateId":"t","templateTitle":"T"}"#;
        let body: EnrichIdentifiers = serde_json::from_str(text).unwrap();
        body.validate().unwrap();
        assert_eq!(serde_json::to_string(&body).unwrap(), text);
        let job: EnrichmentJob = serde_json::from_str(
            r#"{"type":"PREFLIGHT","requestIdentifier":{"value":"u-1"},"extras":{"request":{"id":"r"}},"new":1}"#,
        )
        .unwrap();
        assert_eq!(
            (job.identifier(), job.request_id()),
            (Some("u-1"), Some("r"))
        );
    }

    #[test]
    fn an_empty_enrichment_is_refused() {
        let error = EnrichIdentifiers::default().validate().unwrap_err();
        assert!(error.names_field("enrichedIdentifiers"), "{error}");
    }
}
