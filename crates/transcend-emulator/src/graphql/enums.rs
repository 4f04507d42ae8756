//! The admin API's enums as the emulator serves them, each with its values spelt as
//! in the schema, and the conversions to and from the store's own types.

use transcend_proto::types::{RequestAction as Action, RequestStatus as Status};

use crate::view::{EnricherStatus, JobStatus};

/// Declares a GraphQL enum (named as the Rust type) whose values are spelt as given.
macro_rules! schema_enum {
    ($name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        #[doc = concat!("The admin API's `", stringify!($name), "`.")]
        #[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum $name {
            $( #[graphql(name = $wire)] $variant, )+
        }

        impl $name {
            /// The value as the schema spells it.
            #[allow(dead_code)]
            pub(crate) fn as_wire(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }

            /// The value the schema spells so.
            #[allow(dead_code)]
            pub(crate) fn from_wire(value: &str) -> Option<Self> {
                match value {
                    $($wire => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

schema_enum!(RequestStatus {
    RequestMade = "REQUEST_MADE",
    FailedVerification = "FAILED_VERIFICATION",
    Enriching = "ENRICHING",
    OnHold = "ON_HOLD",
    Waiting = "WAITING",
    Compiling = "COMPILING",
    Approving = "APPROVING",
    Delayed = "DELAYED",
    Completed = "COMPLETED",
    Downloadable = "DOWNLOADABLE",
    ViewCategories = "VIEW_CATEGORIES",
    Canceled = "CANCELED",
    Secondary = "SECONDARY",
    SecondaryCompleted = "SECONDARY_COMPLETED",
    SecondaryApproving = "SECONDARY_APPROVING",
    Revoked = "REVOKED",
});

/// Declares `IsoCountryCode`: one value per code, spelt as the code.
macro_rules! country_codes {
    ($($code:ident)+) => {
        /// The admin API's `IsoCountryCode`: the ISO 3166-1 codes, and `EU`.
        #[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(clippy::upper_case_acronyms)]
        #[graphql(rename_items = "UPPERCASE")]
        pub(crate) enum IsoCountryCode {
            $( $code, )+
        }

        impl IsoCountryCode {
            /// The value a code names.
            pub(crate) fn from_wire(value: &str) -> Option<Self> {
                match value {
                    $(stringify!($code) => Some(Self::$code),)+
                    _ => None,
                }
            }
        }
    };
}

country_codes!(
    EU AF AX AL DZ AS AD AO AI AQ AG AR AM AW AU AT AZ BS BH BD
    BB BY BE BZ BJ BM BT BO BA BW BV BR IO VG BN BG BF BI KH CM
    CA CV BQ KY CF TD CL CN CX CC CO KM CG CD CK CR CI HR CU CW
    CY CZ DK DJ DM DO EC EG SV GQ ER EE SZ ET FK FO FJ FI FR GF
    PF TF GA GM GE DE GH GI GR GL GD GP GU GT GG GN GW GY HT HM
    HN HK HU IS IN ID IR IQ IE IM IL IT JM JP JE JO KZ KE KI KW
    KG LA LV LB LS LR LY LI LT LU MO MG MW MY MV ML MT MH MQ MR
    MU YT MX FM MD MC MN ME MS MA MZ MM NA NR NP NL NC NZ NI NE
    NG NU NF KP MK MP NO OM PK PW PS PA PG PY PE PH PN PL PT PR
    QA RE RO RU RW WS SM ST SA SN RS SC SL SG SX SK SI SB SO ZA
    GS KR SS ES LK BL SH KN LC MF PM VC SD SR SJ SE CH SY TW TJ
    TZ TH TL TG TK TO TT TN TR TM TC TV UM VI UG UA AE GB US UY
    UZ VU VA VE VN WF EH YE ZM ZW
);

schema_enum!(RequestAction {
    AutomatedDecisionMakingOptOut = "AUTOMATED_DECISION_MAKING_OPT_OUT",
    UseOfSensitiveInformationOptOut = "USE_OF_SENSITIVE_INFORMATION_OPT_OUT",
    ContactOptOut = "CONTACT_OPT_OUT",
    SaleOptOut = "SALE_OPT_OUT",
    TrackingOptOut = "TRACKING_OPT_OUT",
    CustomOptOut = "CUSTOM_OPT_OUT",
    AutomatedDecisionMakingOptIn = "AUTOMATED_DECISION_MAKING_OPT_IN",
    UseOfSensitiveInformationOptIn = "USE_OF_SENSITIVE_INFORMATION_OPT_IN",
    SaleOptIn = "SALE_OPT_IN",
    TrackingOptIn = "TRACKING_OPT_IN",
    ContactOptIn = "CONTACT_OPT_IN",
    CustomOptIn = "CUSTOM_OPT_IN",
    Access = "ACCESS",
    Erasure = "ERASURE",
    Rectification = "RECTIFICATION",
    Restriction = "RESTRICTION",
    BusinessPurpose = "BUSINESS_PURPOSE",
    PlaceOnLegalHold = "PLACE_ON_LEGAL_HOLD",
    RemoveFromLegalHold = "REMOVE_FROM_LEGAL_HOLD",
});

schema_enum!(RequestOrigin {
    PrivacyCenter = "PRIVACY_CENTER",
    AdminDashboard = "ADMIN_DASHBOARD",
    Api = "API",
    Shopify = "SHOPIFY",
    Drop = "DROP",
});

schema_enum!(OrderDirection {
    Asc = "ASC",
    Desc = "DESC",
});

schema_enum!(RequestOrderField {
    CreatedAt = "createdAt",
    UpdatedAt = "updatedAt",
    Id = "id",
    LastTransitionTime = "lastTransitionTime",
    SuccessfullyCompletedAt = "successfullyCompletedAt",
    DaysRemaining = "daysRemaining",
});

schema_enum!(RequestDataSiloStatus {
    Queued = "QUEUED",
    Waiting = "WAITING",
    Skipped = "SKIPPED",
    Error = "ERROR",
    Resolved = "RESOLVED",
    ActionRequired = "ACTION_REQUIRED",
    RemoteProcessing = "REMOTE_PROCESSING",
    SkippedDueToException = "SKIPPED_DUE_TO_EXCEPTION",
});

schema_enum!(VisualRequestDataSiloStatus {
    Queued = "QUEUED",
    Waiting = "WAITING",
    Skipped = "SKIPPED",
    Error = "ERROR",
    Resolved = "RESOLVED",
    ActionRequired = "ACTION_REQUIRED",
    RemoteProcessing = "REMOTE_PROCESSING",
    SkippedDueToException = "SKIPPED_DUE_TO_EXCEPTION",
    WaitingOnDependencies = "WAITING_ON_DEPENDENCIES",
    WaitingOnOtherRequests = "WAITING_ON_OTHER_REQUESTS",
    DataSiloDisconnected = "DATA_SILO_DISCONNECTED",
    DataSiloPaused = "DATA_SILO_PAUSED",
    RequestPending = "REQUEST_PENDING",
    RequestCanceled = "REQUEST_CANCELED",
    Manual = "MANUAL",
});

schema_enum!(UpdateRequestDataSiloStatus {
    Waiting = "WAITING",
    Resolved = "RESOLVED",
    ActionRequired = "ACTION_REQUIRED",
    Skipped = "SKIPPED",
    SkippedDueToException = "SKIPPED_DUE_TO_EXCEPTION",
});

schema_enum!(RequestDataSiloOrderField {
    CreatedAt = "createdAt",
    UpdatedAt = "updatedAt",
    Title = "title",
});

schema_enum!(RequestDataSiloSortAssociation { DataSilo = "dataSilo" });

schema_enum!(EnricherType {
    Sombra = "SOMBRA",
    Email = "email",
    Phone = "phone",
    Server = "SERVER",
    Person = "PERSON",
    LegalHold = "LEGAL_HOLD",
    AutoApprove = "AUTO_APPROVE",
    RegexMatch = "REGEX_MATCH",
    RegionMatch = "REGION_MATCH",
    Database = "DATABASE",
    Looker = "LOOKER",
    WaitPeriod = "WAIT_PERIOD",
    GovernmentId = "GOVERNMENT_ID",
    CustomFunction = "CUSTOM_FUNCTION",
});

schema_enum!(RequestEnricherStatus {
    Queued = "QUEUED",
    Waiting = "WAITING",
    Skipped = "SKIPPED",
    Error = "ERROR",
    Resolved = "RESOLVED",
    ActionRequired = "ACTION_REQUIRED",
    RemoteProcessing = "REMOTE_PROCESSING",
    WaitingOnDependencies = "WAITING_ON_DEPENDENCIES",
    Polling = "POLLING",
});

schema_enum!(RequestEnricherOrderField {
    CreatedAt = "createdAt",
    UpdatedAt = "updatedAt",
    Title = "title",
    Status = "status",
});

schema_enum!(RequestEnricherSortAssociation { Enricher = "enricher" });

schema_enum!(RequestIdentifierOrderField {
    Name = "name",
    CreatedAt = "createdAt",
    UpdatedAt = "updatedAt",
    Id = "id",
    Value = "value",
    VerifiedAtLeastOnce = "verifiedAtLeastOnce",
});

schema_enum!(RequestIdentifierSource {
    Input = "INPUT",
    Enricher = "ENRICHER",
    DataSilo = "DATA_SILO",
});

schema_enum!(TemplateType {
    Email = "EMAIL",
    Text = "TEXT",
});

schema_enum!(TemplateProduct {
    Dsr = "DSR",
    Assessment = "ASSESSMENT",
    Ropa = "ROPA",
});

schema_enum!(TemplateOrderField {
    Title = "title",
    CreatedAt = "createdAt",
    UpdatedAt = "updatedAt",
});

schema_enum!(AttributeKeyType {
    MultiSelect = "MULTI_SELECT",
    SingleSelect = "SINGLE_SELECT",
    Text = "TEXT",
    Email = "EMAIL",
    Telephone = "TELEPHONE",
    Url = "URL",
    Assessment = "ASSESSMENT",
});

schema_enum!(AttributeSupportedResourceType {
    ActionItem = "actionItem",
    AirgapCookie = "airgapCookie",
    AirgapDataFlow = "airgapDataFlow",
    AssessmentForm = "assessmentForm",
    AssessmentGroup = "assessmentGroup",
    AuditorRun = "auditorRun",
    AuditorSchedule = "auditorSchedule",
    BusinessEntity = "businessEntity",
    DataSubCategory = "dataSubCategory",
    DataPoint = "dataPoint",
    DataPointLevel = "dataPointLevel",
    DataSilo = "dataSilo",
    Enricher = "enricher",
    Identifier = "identifier",
    LegalHold = "legalHold",
    LegalMatter = "legalMatter",
    ProcessingActivity = "processingActivity",
    ProcessingPurposeSubCategory = "processingPurposeSubCategory",
    Prompt = "prompt",
    Request = "request",
    ScannedObject = "scannedObject",
    ScannedObjectPath = "scannedObjectPath",
    Subject = "subject",
    SubDataPoint = "subDataPoint",
    Vendor = "vendor",
});

schema_enum!(DataSiloConnectionState {
    Expired = "EXPIRED",
    NotConfigured = "NOT_CONFIGURED",
    Connected = "CONNECTED",
    PermissionsUpdated = "PERMISSIONS_UPDATED",
    Partial = "PARTIAL",
    Indexing = "INDEXING",
});

schema_enum!(AssessmentActionType {
    FormAssigned = "FORM_ASSIGNED",
    SectionsAssigned = "SECTIONS_ASSIGNED",
    Submitted = "SUBMITTED",
    SectionsSubmitted = "SECTIONS_SUBMITTED",
    InReview = "IN_REVIEW",
    Approved = "APPROVED",
    Rejected = "REJECTED",
    FormChangesRequested = "FORM_CHANGES_REQUESTED",
    SectionsChangesRequested = "SECTIONS_CHANGES_REQUESTED",
});

schema_enum!(AttributeKeyOrderField {
    Name = "name",
    CreatedAt = "createdAt",
    UpdatedAt = "updatedAt",
    IsCustom = "isCustom",
});

schema_enum!(DataSubjectClass {
    EndUser = "END_USER",
    Employee = "EMPLOYEE",
    BusinessContact = "BUSINESS_CONTACT",
    Other = "OTHER",
});

impl From<&Status> for RequestStatus {
    /// A status the admin API does not list shows as `REQUEST_MADE` (the emulator
    /// makes none).
    fn from(status: &Status) -> Self {
        Self::from_wire(status.as_str()).unwrap_or(Self::RequestMade)
    }
}

impl From<RequestStatus> for Status {
    fn from(status: RequestStatus) -> Self {
        Status::parse(status.as_wire())
    }
}

impl From<&Action> for RequestAction {
    /// A type the admin API does not list shows as `ACCESS` (the emulator takes none:
    /// submissions are checked against the same list).
    fn from(action: &Action) -> Self {
        Self::from_wire(action.as_str()).unwrap_or(Self::Access)
    }
}

impl From<RequestAction> for Action {
    fn from(action: RequestAction) -> Self {
        Action::parse(action.as_wire())
    }
}

impl VisualRequestDataSiloStatus {
    /// How a job shows: delivering is `QUEUED`, a failed delivery `ERROR`; the job of
    /// a canceled request that never settled, `REQUEST_CANCELED`.
    pub(crate) fn of(job: JobStatus, request: &Status) -> Self {
        match job {
            JobStatus::Resolved => Self::Resolved,
            JobStatus::Skipped => Self::Skipped,
            _ if matches!(request, Status::Canceled | Status::Revoked) => Self::RequestCanceled,
            JobStatus::Delivering => Self::Queued,
            JobStatus::Waiting => Self::Waiting,
            JobStatus::Error | JobStatus::DeliveryFailed => Self::Error,
            JobStatus::ActionRequired => Self::ActionRequired,
        }
    }
}

impl RequestDataSiloStatus {
    /// The jobs a filter on this stored status finds.
    pub(crate) fn jobs(self) -> &'static [JobStatus] {
        match self {
            Self::Queued => &[JobStatus::Delivering],
            Self::Waiting | Self::RemoteProcessing => &[JobStatus::Waiting],
            Self::Skipped | Self::SkippedDueToException => &[JobStatus::Skipped],
            Self::Error => &[JobStatus::Error, JobStatus::DeliveryFailed],
            Self::Resolved => &[JobStatus::Resolved],
            Self::ActionRequired => &[JobStatus::ActionRequired],
        }
    }
}

impl From<UpdateRequestDataSiloStatus> for JobStatus {
    fn from(status: UpdateRequestDataSiloStatus) -> Self {
        match status {
            UpdateRequestDataSiloStatus::Waiting => JobStatus::Waiting,
            UpdateRequestDataSiloStatus::Resolved => JobStatus::Resolved,
            UpdateRequestDataSiloStatus::ActionRequired => JobStatus::ActionRequired,
            UpdateRequestDataSiloStatus::Skipped
            | UpdateRequestDataSiloStatus::SkippedDueToException => JobStatus::Skipped,
        }
    }
}

impl From<EnricherStatus> for RequestEnricherStatus {
    fn from(status: EnricherStatus) -> Self {
        match status {
            EnricherStatus::Delivering => Self::Queued,
            EnricherStatus::Waiting => Self::Waiting,
            EnricherStatus::Resolved => Self::Resolved,
            EnricherStatus::Skipped => Self::Skipped,
            EnricherStatus::OnHold => Self::ActionRequired,
            EnricherStatus::Canceled => Self::Resolved,
            EnricherStatus::DeliveryFailed => Self::Error,
        }
    }
}
