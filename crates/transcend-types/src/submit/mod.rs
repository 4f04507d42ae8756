//! The body of `POST /v1/data-subject-request`: submitting a DSR for a person.

mod builder;
mod identifiers;

pub use builder::SubmitDsrBuilder;
pub use identifiers::{AttestedExtraIdentifiers, ExtraIdentifier};

use crate::validate::{Checker, ProblemKind, Validate, ValidationError};
use crate::{
    CompletedRequestStatus, Locale, Region, RequestAction, RestartIdentifierStrategy, Timestamp,
};

/// Submits a data subject request (`POST /v1/data-subject-request`).
///
/// The common case is one line; the builder covers the rest:
///
/// ```
/// use transcend_types::{RequestAction, Subject, SubmitDsr, Locale, Validate};
///
/// let simple = SubmitDsr::new(RequestAction::Access, Subject::new("id-123456789"), "customer");
/// assert!(simple.validate().is_ok());
///
/// let detailed = SubmitDsr::builder(RequestAction::Erasure, Subject::new("id-1").email("user@example.com"), "customer")
///     .locale(Locale::FrFr)
///     .is_test(true)
///     .build()?;
/// assert_eq!(detailed.locale, Some(Locale::FrFr));
/// # Ok::<(), transcend_types::ValidationError>(())
/// ```
///
/// `dataSiloIds` and `ignoreDataSiloIds` cannot both be set: [`Validate::validate`]
/// refuses it, as does the published JSON Schema.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("dependencies" = {
    "dataSiloIds": {
        "description": "dataSiloIds and ignoreDataSiloIds cannot both be set.",
        "not": { "required": ["ignoreDataSiloIds"] },
    },
}))]
#[non_exhaustive]
pub struct SubmitDsr {
    /// The kind of request.
    #[serde(rename = "type")]
    pub action: RequestAction,
    /// The person the request is about.
    pub subject: Subject,
    /// Key-value pairs that label the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<Attribute>>,
    /// The class of data subject, such as `customer`.
    #[schemars(length(min = 1))]
    pub subject_type: String,
    /// The region the request is submitted from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// When true, no emails are sent to the person (including confirmations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_silent: Option<bool>,
    /// When true, the request is flagged as a test; it still runs on live integrations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_test: Option<bool>,
    /// Language preference; the API defaults to `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
    /// Miscellaneous details about the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub details: Option<String>,
    /// When the request was received; its SLA starts then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Only these data silos are processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_silo_ids: Option<Vec<String>>,
    /// Addresses copied on every email sent to the person during the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_email_addresses: Option<Vec<String>>,
    /// Every data silo but these is processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_data_silo_ids: Option<Vec<String>>,
    /// The email template sent on submission; the workflow's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub email_receipt_template_id: Option<String>,
    /// When true, the workflow's waiting period is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_waiting_period: Option<bool>,
    /// When true, no receipt email is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_sending_receipt: Option<bool>,
    /// Enrichers and preflight checks to skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_enrichment_checks: Option<Vec<String>>,
    /// Restarts the existing request with this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub request_id: Option<String>,
    /// Uploads a past request directly in this finished state (backlogs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_request_status: Option<CompletedRequestStatus>,
    /// With `requestId`: which identifiers the restarted request keeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_identifier_strategy: Option<RestartIdentifierStrategy>,
    /// Not sent: when true, validation lets through enum values the reference pages do
    /// not list (a request type, locale, identifier type or status Transcend added
    /// after this release), while every other rule still holds. Set it with
    /// [`SubmitDsr::allow_unlisted_values`], deliberately, for values you know the
    /// server takes.
    #[serde(skip)]
    #[schemars(skip)]
    pub allow_unlisted_values: bool,
}

/// The person a DSR is about (`subject`).
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Subject {
    /// The identifier the person has in the company's systems.
    #[schemars(length(min = 1))]
    pub core_identifier: String,
    /// The person's email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub email: Option<String>,
    /// Whether the email address was verified by the company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_is_verified: Option<bool>,
    /// More identifiers of the person, by identifier type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attested_extra_identifiers: Option<AttestedExtraIdentifiers>,
}

impl Subject {
    /// A subject known by its core identifier.
    pub fn new(core_identifier: impl Into<String>) -> Self {
        Self {
            core_identifier: core_identifier.into(),
            email: None,
            email_is_verified: None,
            attested_extra_identifiers: None,
        }
    }

    /// Sets the email address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets whether the email address was verified.
    pub fn email_is_verified(mut self, verified: bool) -> Self {
        self.email_is_verified = Some(verified);
        self
    }

    /// Adds an extra identifier of the given type.
    pub fn extra_identifier(
        mut self,
        kind: crate::IdentifierType,
        identifier: ExtraIdentifier,
    ) -> Self {
        self.attested_extra_identifiers
            .get_or_insert_with(Default::default)
            .push(kind, identifier);
        self
    }

    fn check(&self, checker: &mut Checker) {
        checker.non_empty(|| "subject.coreIdentifier".into(), &self.core_identifier);
        if let Some(email) = &self.email {
            checker.non_empty(|| "subject.email".into(), email);
        }
        if let Some(extra) = &self.attested_extra_identifiers {
            extra.check("subject.attestedExtraIdentifiers", checker);
        }
    }
}

/// A label on a request (`attributes[]`): a key and its values.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct Attribute {
    /// The attribute's key.
    #[schemars(length(min = 1))]
    pub key: String,
    /// Its values.
    pub values: Vec<String>,
}

impl Attribute {
    /// An attribute with its values.
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

impl SubmitDsr {
    /// A request with only the required fields.
    pub fn new(action: RequestAction, subject: Subject, subject_type: impl Into<String>) -> Self {
        Self {
            action,
            subject,
            attributes: None,
            subject_type: subject_type.into(),
            region: None,
            is_silent: None,
            is_test: None,
            locale: None,
            details: None,
            created_at: None,
            data_silo_ids: None,
            reply_to_email_addresses: None,
            ignore_data_silo_ids: None,
            email_receipt_template_id: None,
            skip_waiting_period: None,
            skip_sending_receipt: None,
            skip_enrichment_checks: None,
            request_id: None,
            completed_request_status: None,
            restart_identifier_strategy: None,
            allow_unlisted_values: false,
        }
    }

    /// The escape hatch for values newer than this release: validation then accepts
    /// enum values the reference pages do not list (`RequestAction::parse("NEW_TYPE")`,
    /// a new locale or identifier type) and still checks everything else. Nothing about
    /// it is sent; the server decides whether it knows the value.
    ///
    /// ```
    /// use transcend_types::{RequestAction, Subject, SubmitDsr, Validate};
    ///
    /// let dsr = SubmitDsr::new(RequestAction::parse("BRAND_NEW_TYPE"), Subject::new("id-1"), "customer");
    /// assert!(dsr.validate().is_err());
    /// assert!(dsr.allow_unlisted_values().validate().is_ok());
    /// ```
    pub fn allow_unlisted_values(mut self) -> Self {
        self.allow_unlisted_values = true;
        self
    }

    /// A builder starting from the required fields; [`SubmitDsrBuilder::build`] validates.
    pub fn builder(
        action: RequestAction,
        subject: Subject,
        subject_type: impl Into<String>,
    ) -> SubmitDsrBuilder {
        SubmitDsrBuilder::new(Self::new(action, subject, subject_type))
    }
}

impl Validate for SubmitDsr {
    fn validate(&self) -> Result<(), ValidationError> {
        let mut checker = Checker::default();
        checker.allow_unlisted = self.allow_unlisted_values;
        checker.known(
            || "type".into(),
            self.action.as_str(),
            self.action.is_known(),
            RequestAction::KNOWN_NAMES,
        );
        self.subject.check(&mut checker);
        for (i, attribute) in self.attributes.iter().flatten().enumerate() {
            checker.non_empty(|| format!("attributes[{i}].key"), &attribute.key);
        }
        checker.non_empty(|| "subjectType".into(), &self.subject_type);
        if let Some(region) = &self.region {
            region.check("region", &mut checker);
        }
        if let Some(locale) = &self.locale {
            checker.known(
                || "locale".into(),
                locale.as_str(),
                locale.is_known(),
                Locale::KNOWN_NAMES,
            );
        }
        for (field, value) in [
            ("details", &self.details),
            ("emailReceiptTemplateId", &self.email_receipt_template_id),
            ("requestId", &self.request_id),
        ] {
            if let Some(value) = value {
                checker.non_empty(|| field.into(), value);
            }
        }
        checker.timestamp("createdAt", self.created_at.as_ref());
        for (field, list) in [
            ("dataSiloIds", &self.data_silo_ids),
            ("replyToEmailAddresses", &self.reply_to_email_addresses),
            ("ignoreDataSiloIds", &self.ignore_data_silo_ids),
            ("skipEnrichmentChecks", &self.skip_enrichment_checks),
        ] {
            for (i, value) in list.iter().flatten().enumerate() {
                checker.non_empty(|| format!("{field}[{i}]"), value);
            }
        }
        if self.data_silo_ids.is_some() && self.ignore_data_silo_ids.is_some() {
            checker.report(
                "dataSiloIds",
                ProblemKind::Conflicts {
                    other: "ignoreDataSiloIds".into(),
                },
            );
        }
        if let Some(strategy) = &self.restart_identifier_strategy {
            checker.known(
                || "restartIdentifierStrategy".into(),
                strategy.as_str(),
                strategy.is_known(),
                RestartIdentifierStrategy::KNOWN_NAMES,
            );
            if self.request_id.is_none() {
                checker.report(
                    "requestId",
                    ProblemKind::Missing {
                        because: "when restartIdentifierStrategy is set (it applies to a restart)",
                    },
                );
            }
        }
        if let Some(status) = &self.completed_request_status {
            checker.known(
                || "completedRequestStatus".into(),
                status.as_str(),
                status.is_known(),
                CompletedRequestStatus::KNOWN_NAMES,
            );
        }
        checker.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Country, CountrySubdivision, IdentifierType};

    fn access() -> SubmitDsr {
        SubmitDsr::new(
            RequestAction::Access,
            Subject::new("id-123456789").email("user@example.com"),
            "customer",
        )
    }

    #[test]
    fn the_minimal_request_is_valid_and_serializes_only_what_is_set() {
        let dsr = access();
        dsr.validate().unwrap();
        assert_eq!(
            serde_json::to_value(&dsr).unwrap(),
            serde_json::json!({
                "type": "ACCESS",
                "subject": { "coreIdentifier": "id-123456789", "email": "user@example.com" },
                "subjectType": "customer",
            })
        );
    }

    #[test]
    fn empty_required_fields_are_named() {
        let dsr = SubmitDsr::new(RequestAction::Access, Subject::new(""), "");
        let error = dsr.validate().unwrap_err();
        assert!(error.names_field("subject.coreIdentifier"), "{error}");
        assert!(error.names_field("subjectType"), "{error}");
    }

    #[test]
    fn both_silo_lists_are_refused_with_the_reason() {
        let mut dsr = access();
        dsr.data_silo_ids = Some(vec!["a".into()]);
        dsr.ignore_data_silo_ids = Some(vec!["b".into()]);
        let error = dsr.validate().unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid request body: `dataSiloIds` cannot be set together with `ignoreDataSiloIds`: set one or neither"
        );
        dsr.ignore_data_silo_ids = None;
        dsr.validate().unwrap();
    }

    #[test]
    fn unknown_enum_values_and_bad_dates_are_refused_before_sending() {
        let mut dsr = access();
        dsr.action = RequestAction::parse("TELEPORT");
        dsr.locale = Some(Locale::parse("xx-XX"));
        dsr.created_at = Some(serde_json::from_str("\"last tuesday\"").unwrap());
        dsr.completed_request_status = Some(CompletedRequestStatus::parse("DONE"));
        let error = dsr.validate().unwrap_err();
        for field in ["type", "locale", "createdAt", "completedRequestStatus"] {
            assert!(error.names_field(field), "{field} missing from {error}");
        }
        assert!(error.to_string().contains("\"last tuesday\""), "{error}");
    }

    #[test]
    fn custom_identifiers_need_a_name_and_values_cannot_be_empty() {
        let mut dsr = access();
        dsr.subject = Subject::new("id")
            .extra_identifier(IdentifierType::Custom, ExtraIdentifier::new("mbrook"))
            .extra_identifier(IdentifierType::Email, ExtraIdentifier::new(""));
        let error = dsr.validate().unwrap_err();
        assert!(
            error.names_field("subject.attestedExtraIdentifiers.custom[0].name"),
            "{error}"
        );
        assert!(
            error.names_field("subject.attestedExtraIdentifiers.email[0].value"),
            "{error}"
        );
    }

    #[test]
    fn region_rules_apply_inside_the_request() {
        let mut dsr = access();
        dsr.region = Some(Region {
            country: Some(Country::DE),
            country_sub_division: Some(CountrySubdivision::parse("US-CA").unwrap()),
        });
        assert!(dsr.validate().unwrap_err().names_field("region.country"));
    }
}
