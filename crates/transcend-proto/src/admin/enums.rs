//! The admin API's enums. Each keeps a value this version does not know as
//! `Unknown(String)`, so an answer never fails to parse because Transcend added one.

use super::schema;

use std::fmt;

macro_rules! admin_enum {
    (
        $(#[doc = $doc:literal])*
        $(#[cynic($($attr:tt)*)])?
        pub enum $name:ident { $( $(#[$vattr:meta])* $variant:ident => $wire:literal, )+ }
    ) => {
        $(#[doc = $doc])*
        #[derive(cynic::Enum, Debug, Clone, PartialEq, Eq, Hash)]
        #[cynic(schema = "admin" $(, $($attr)*)?)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vattr])* #[doc = concat!("`", $wire, "`")] $variant, )+
            /// A value this version does not know yet, kept as received.
            #[cynic(fallback)]
            Unknown(String),
        }

        impl $name {
            /// Every known value, in the schema's order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value as written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Unknown(other) => other,
                }
            }

            /// Reads a wire value; one not in [`Self::KNOWN`] becomes `Unknown`.
            pub fn parse(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::parse(value))
            }
        }
    };
}

admin_enum! {
    /// Where a request is in its life: the values of
    /// [`transcend_types::RequestStatus`], which it converts to and from.
    pub enum RequestStatus {
        RequestMade => "REQUEST_MADE",
        FailedVerification => "FAILED_VERIFICATION",
        Enriching => "ENRICHING",
        OnHold => "ON_HOLD",
        Waiting => "WAITING",
        Compiling => "COMPILING",
        Approving => "APPROVING",
        Delayed => "DELAYED",
        Completed => "COMPLETED",
        Downloadable => "DOWNLOADABLE",
        ViewCategories => "VIEW_CATEGORIES",
        Canceled => "CANCELED",
        Secondary => "SECONDARY",
        SecondaryCompleted => "SECONDARY_COMPLETED",
        SecondaryApproving => "SECONDARY_APPROVING",
        Revoked => "REVOKED",
    }
}

admin_enum! {
    /// A request's type: the values of [`transcend_types::RequestAction`], which it
    /// converts to and from.
    pub enum RequestAction {
        AutomatedDecisionMakingOptOut => "AUTOMATED_DECISION_MAKING_OPT_OUT",
        UseOfSensitiveInformationOptOut => "USE_OF_SENSITIVE_INFORMATION_OPT_OUT",
        ContactOptOut => "CONTACT_OPT_OUT",
        SaleOptOut => "SALE_OPT_OUT",
        TrackingOptOut => "TRACKING_OPT_OUT",
        CustomOptOut => "CUSTOM_OPT_OUT",
        AutomatedDecisionMakingOptIn => "AUTOMATED_DECISION_MAKING_OPT_IN",
        UseOfSensitiveInformationOptIn => "USE_OF_SENSITIVE_INFORMATION_OPT_IN",
        SaleOptIn => "SALE_OPT_IN",
        TrackingOptIn => "TRACKING_OPT_IN",
        ContactOptIn => "CONTACT_OPT_IN",
        CustomOptIn => "CUSTOM_OPT_IN",
        Access => "ACCESS",
        Erasure => "ERASURE",
        Rectification => "RECTIFICATION",
        Restriction => "RESTRICTION",
        BusinessPurpose => "BUSINESS_PURPOSE",
        PlaceOnLegalHold => "PLACE_ON_LEGAL_HOLD",
        RemoveFromLegalHold => "REMOVE_FROM_LEGAL_HOLD",
    }
}

admin_enum! {
    /// How a request was made.
    pub enum RequestOrigin {
        PrivacyCenter => "PRIVACY_CENTER",
        AdminDashboard => "ADMIN_DASHBOARD",
        /// Through Sombra's REST API.
        Api => "API",
        Shopify => "SHOPIFY",
        Drop => "DROP",
    }
}

admin_enum! {
    /// A sort direction.
    pub enum OrderDirection {
        Asc => "ASC",
        Desc => "DESC",
    }
}

admin_enum! {
    /// What requests can be ordered by.
    #[cynic(rename_all = "camelCase")]
    pub enum RequestOrderField {
        CreatedAt => "createdAt",
        UpdatedAt => "updatedAt",
        Id => "id",
        LastTransitionTime => "lastTransitionTime",
        SuccessfullyCompletedAt => "successfullyCompletedAt",
        DaysRemaining => "daysRemaining",
    }
}

admin_enum! {
    /// A data silo's part of a request, as stored (the filter's `status`).
    pub enum RequestDataSiloStatus {
        Queued => "QUEUED",
        Waiting => "WAITING",
        Skipped => "SKIPPED",
        Error => "ERROR",
        Resolved => "RESOLVED",
        ActionRequired => "ACTION_REQUIRED",
        RemoteProcessing => "REMOTE_PROCESSING",
        SkippedDueToException => "SKIPPED_DUE_TO_EXCEPTION",
    }
}

admin_enum! {
    /// A data silo's part of a request, as Transcend's dashboard shows it.
    pub enum VisualRequestDataSiloStatus {
        Queued => "QUEUED",
        Waiting => "WAITING",
        Skipped => "SKIPPED",
        Error => "ERROR",
        Resolved => "RESOLVED",
        ActionRequired => "ACTION_REQUIRED",
        RemoteProcessing => "REMOTE_PROCESSING",
        SkippedDueToException => "SKIPPED_DUE_TO_EXCEPTION",
        WaitingOnDependencies => "WAITING_ON_DEPENDENCIES",
        WaitingOnOtherRequests => "WAITING_ON_OTHER_REQUESTS",
        DataSiloDisconnected => "DATA_SILO_DISCONNECTED",
        DataSiloPaused => "DATA_SILO_PAUSED",
        RequestPending => "REQUEST_PENDING",
        RequestCanceled => "REQUEST_CANCELED",
        Manual => "MANUAL",
    }
}

admin_enum! {
    /// What a data silo's part of a request can be set to.
    pub enum UpdateRequestDataSiloStatus {
        Waiting => "WAITING",
        Resolved => "RESOLVED",
        ActionRequired => "ACTION_REQUIRED",
        Skipped => "SKIPPED",
        SkippedDueToException => "SKIPPED_DUE_TO_EXCEPTION",
    }
}

admin_enum! {
    /// An enricher's part of a request.
    pub enum RequestEnricherStatus {
        Queued => "QUEUED",
        Waiting => "WAITING",
        Skipped => "SKIPPED",
        Error => "ERROR",
        Resolved => "RESOLVED",
        ActionRequired => "ACTION_REQUIRED",
        RemoteProcessing => "REMOTE_PROCESSING",
        WaitingOnDependencies => "WAITING_ON_DEPENDENCIES",
        Polling => "POLLING",
    }
}

admin_enum! {
    /// What kind of enricher (preflight check) it is.
    pub enum EnricherType {
        Sombra => "SOMBRA",
        #[cynic(rename = "email")]
        Email => "email",
        #[cynic(rename = "phone")]
        Phone => "phone",
        Server => "SERVER",
        Person => "PERSON",
        LegalHold => "LEGAL_HOLD",
        AutoApprove => "AUTO_APPROVE",
        RegexMatch => "REGEX_MATCH",
        RegionMatch => "REGION_MATCH",
        Database => "DATABASE",
        Looker => "LOOKER",
        WaitPeriod => "WAIT_PERIOD",
        GovernmentId => "GOVERNMENT_ID",
        CustomFunction => "CUSTOM_FUNCTION",
    }
}

admin_enum! {
    /// The type of an attribute key (a custom field).
    pub enum AttributeKeyType {
        MultiSelect => "MULTI_SELECT",
        SingleSelect => "SINGLE_SELECT",
        Text => "TEXT",
        Email => "EMAIL",
        Telephone => "TELEPHONE",
        Url => "URL",
        Assessment => "ASSESSMENT",
    }
}

admin_enum! {
    /// What an attribute key can be enabled on.
    #[cynic(rename_all = "camelCase")]
    pub enum AttributeSupportedResourceType {
        ActionItem => "actionItem",
        AirgapCookie => "airgapCookie",
        AirgapDataFlow => "airgapDataFlow",
        AssessmentForm => "assessmentForm",
        AssessmentGroup => "assessmentGroup",
        AuditorRun => "auditorRun",
        AuditorSchedule => "auditorSchedule",
        BusinessEntity => "businessEntity",
        DataSubCategory => "dataSubCategory",
        DataPoint => "dataPoint",
        DataPointLevel => "dataPointLevel",
        DataSilo => "dataSilo",
        Enricher => "enricher",
        Identifier => "identifier",
        LegalHold => "legalHold",
        LegalMatter => "legalMatter",
        ProcessingActivity => "processingActivity",
        ProcessingPurposeSubCategory => "processingPurposeSubCategory",
        Prompt => "prompt",
        Request => "request",
        ScannedObject => "scannedObject",
        ScannedObjectPath => "scannedObjectPath",
        Subject => "subject",
        SubDataPoint => "subDataPoint",
        Vendor => "vendor",
    }
}

/// A country (`IsoCountryCode`: the ISO 3166-1 codes, and `EU`), as
/// [`transcend_types::Country`] holds it: `EU` and codes added later are kept as
/// `Country::Unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct CountryCode(pub transcend_types::Country);

impl cynic::Enum for CountryCode {
    type SchemaType = schema::IsoCountryCode;
}

cynic::impl_coercions!(CountryCode, schema::IsoCountryCode);

impl schema::variable::Variable for CountryCode {
    const TYPE: cynic::variables::VariableType =
        cynic::variables::VariableType::Named("IsoCountryCode");
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

macro_rules! same_values {
    ($admin:ident, $types:ident) => {
        impl From<$admin> for transcend_types::$types {
            fn from(value: $admin) -> Self {
                transcend_types::$types::parse(value.as_str())
            }
        }

        impl From<&transcend_types::$types> for $admin {
            fn from(value: &transcend_types::$types) -> Self {
                $admin::parse(value.as_str())
            }
        }

        impl From<transcend_types::$types> for $admin {
            fn from(value: transcend_types::$types) -> Self {
                $admin::parse(value.as_str())
            }
        }

        impl PartialEq<transcend_types::$types> for $admin {
            fn eq(&self, other: &transcend_types::$types) -> bool {
                self.as_str() == other.as_str()
            }
        }
    };
}

same_values!(RequestStatus, RequestStatus);
same_values!(RequestAction, RequestAction);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_enums_hold_the_rest_enums_values() {
        assert_eq!(
            RequestStatus::KNOWN.len(),
            transcend_types::RequestStatus::KNOWN.len()
        );
        for value in transcend_types::RequestStatus::KNOWN {
            assert!(RequestStatus::from(value).as_str() == value.as_str());
            assert!(!matches!(
                RequestStatus::from(value),
                RequestStatus::Unknown(_)
            ));
        }
        for value in transcend_types::RequestAction::KNOWN {
            assert!(!matches!(
                RequestAction::from(value),
                RequestAction::Unknown(_)
            ));
        }
    }

    #[test]
    fn unknown_values_are_kept() {
        let status: RequestStatus = serde_json::from_str("\"TELEPORTED\"").unwrap();
        assert_eq!(status, RequestStatus::Unknown("TELEPORTED".into()));
        assert_eq!(serde_json::to_string(&status).unwrap(), "\"TELEPORTED\"");
        let known: EnricherType = serde_json::from_str("\"email\"").unwrap();
        assert_eq!(known, EnricherType::Email);
        assert_eq!(known.to_string(), "email");
    }
}
