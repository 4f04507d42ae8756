//! What the admin API answers: requests, their silos' and enrichers' parts, their
//! identifiers, templates, the organization. Each selects the fields named here, no
//! more; a field the server adds is ignored.

use super::schema;

use super::enums::{
    AttributeKeyType, CountryCode, EnricherType, RequestAction, RequestEnricherStatus,
    RequestOrigin, RequestStatus, VisualRequestDataSiloStatus,
};

/// A request as the admin API returns it.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct Request {
    /// The request's id (a UUID).
    pub id: cynic::Id,
    /// When it was made (ISO 8601).
    pub created_at: String,
    /// When it last changed (ISO 8601).
    pub updated_at: String,
    /// Where it is in its life.
    pub status: RequestStatus,
    /// Its type (`ACCESS`, `ERASURE`, …).
    #[cynic(rename = "type")]
    pub action: RequestAction,
    /// The data subject type (`customer`, …).
    pub subject_type: String,
    /// The person's locale.
    pub locale: String,
    /// Free-text details.
    pub details: Option<String>,
    /// The person's e-mail, when given.
    pub email: Option<String>,
    /// The core identifier.
    pub core_identifier: String,
    /// The country, when known.
    pub country: Option<CountryCode>,
    /// The region within the country, when known.
    pub country_sub_division: Option<String>,
    /// The people responsible for it.
    pub owners: Vec<UserPreview>,
    /// The teams responsible for it.
    pub teams: Vec<TeamPreview>,
    /// When it finished successfully.
    pub successfully_completed_at: Option<String>,
    /// Days left before the deadline (negative once past); `None` once finished.
    pub days_remaining: Option<i32>,
    /// Whether it is a test request.
    pub is_test: bool,
    /// Whether the person is sent no e-mail about it.
    pub is_silent: bool,
    /// How it was made.
    pub origin: RequestOrigin,
    /// Its page in Transcend's dashboard.
    pub link: String,
    /// Its custom fields.
    pub attribute_values: Vec<AttributeValue>,
}

impl Request {
    /// The request's id.
    pub fn id(&self) -> &str {
        self.id.inner()
    }
}

/// One value of a custom field.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct AttributeValue {
    /// The value's id.
    pub id: cynic::Id,
    /// The value.
    pub name: String,
    /// The field it belongs to.
    pub attribute_key: AttributeKey,
}

/// A custom field.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct AttributeKey {
    /// The key's id.
    pub id: cynic::Id,
    /// Its name.
    pub name: String,
    /// What values it takes.
    #[cynic(rename = "type")]
    pub kind: AttributeKeyType,
}

/// Where a cursor walk stands.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct PageInfo {
    /// The cursor to pass as `after` for the next page.
    pub end_cursor: Option<String>,
    /// Whether another page follows.
    pub has_next_page: bool,
}

/// A page of requests. (It leaves `totalCount` out: counting every match is work a
/// cursor walk need not ask of the server for each page; [`CountRequests`] asks once.)
///
/// [`CountRequests`]: super::CountRequests
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct RequestsPayload {
    /// The requests of this page.
    pub nodes: Vec<Request>,
    /// Where the walk stands.
    pub page_info: PageInfo,
}

/// Only the count of requests matching a filter (`first: 0`).
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin", graphql_type = "RequestsPayload")]
#[non_exhaustive]
pub struct RequestCount {
    /// How many match.
    pub total_count: i32,
}

/// A data silo's part of a request.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct RequestDataSilo {
    /// This part's id (what `changeRequestDataSiloStatus` and `retryRequestDataSilo` take).
    pub id: cynic::Id,
    /// The data silo's id.
    pub data_silo_id: cynic::Id,
    /// This part in Transcend's dashboard.
    pub link: String,
    /// What the dashboard says of this part.
    pub details: String,
    /// Where this part stands.
    pub status: VisualRequestDataSiloStatus,
    /// The request.
    pub request: RequestDetails,
    /// The data silo.
    pub data_silo: DataSiloBulkPreview,
    /// The last failure: a delivery the silo did not accept, or the error it reported.
    pub error: Option<String>,
}

/// A user of the organization, briefly.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct UserPreview {
    /// The user's id.
    pub id: cynic::Id,
    /// Their e-mail address.
    pub email: String,
    /// Their name.
    pub name: String,
}

/// A team of the organization, briefly.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct TeamPreview {
    /// The team's id.
    pub id: cynic::Id,
    /// Its name.
    pub name: String,
}

/// A request, briefly.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct RequestDetails {
    /// The request's id.
    pub id: cynic::Id,
    /// Its type.
    #[cynic(rename = "type")]
    pub action: RequestAction,
}

/// A data silo, briefly.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct DataSiloBulkPreview {
    /// The silo's id.
    pub id: cynic::Id,
    /// Its name.
    pub title: String,
}

/// A page of data silos' parts.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct RequestDataSilosPayload {
    /// This page.
    pub nodes: Vec<RequestDataSilo>,
    /// How many in all.
    pub total_count: i32,
}

/// An enricher's part of a request.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct RequestEnricher {
    /// This part's id (what `retryRequestEnricher` and `skipRequestEnricher` take).
    pub id: cynic::Id,
    /// Where it stands.
    pub status: RequestEnricherStatus,
    /// The enricher.
    pub enricher: Enricher,
}

/// An enricher (a preflight check).
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct Enricher {
    /// Its id (a UUID).
    pub id: cynic::Id,
    /// Its name.
    pub title: String,
    /// What kind it is.
    #[cynic(rename = "type")]
    pub kind: EnricherType,
    /// The identifiers it takes.
    pub identifiers: Vec<DsrFormIdentifier>,
}

/// An identifier a form or enricher takes.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct DsrFormIdentifier {
    /// Its id.
    pub id: String,
    /// Its name (`email`, `phone`, …).
    pub name: String,
}

/// A page of enrichers' parts.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct RequestEnrichersPayload {
    /// This page.
    pub nodes: Vec<RequestEnricher>,
    /// How many in all.
    pub total_count: i32,
}

/// One identifier of a request.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct RequestIdentifier {
    /// Its id (what `removeRequestIdentifiers` takes).
    pub id: cynic::Id,
    /// Its type's name (`email`, `phone`, …).
    pub name: Option<String>,
    /// The value.
    pub value: String,
    /// Whether it was ever verified.
    pub is_verified_at_least_once: bool,
}

/// A page of identifiers.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct RequestIdentifiersPayload {
    /// This page.
    pub nodes: Vec<RequestIdentifier>,
    /// How many in all.
    pub total_count: i32,
}

/// An e-mail template.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct Template {
    /// Its id.
    pub id: cynic::Id,
    /// Its title (how Transcend's CLI finds it: "Request Canceled", …).
    pub title: String,
    /// The subject line.
    pub subject: Message,
    /// The text.
    pub template: Message,
}

/// A piece of text.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct Message {
    /// Its id.
    pub id: cynic::Id,
    /// The text in the default language.
    pub default_message: String,
}

/// A page of templates.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct TemplatesPayload {
    /// This page.
    pub nodes: Vec<Template>,
    /// How many in all.
    pub total_count: i32,
}

/// The organization of the API key.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct Organization {
    /// Its primary Sombra.
    pub sombra: Sombra,
    /// Every Sombra it has.
    pub sombras: Vec<Sombra>,
    /// Whether AI features, and MCP servers' calls to its Sombra, are on.
    pub ai_setting: Option<AiSetting>,
}

/// The organization's AI settings: an MCP server asks before each Sombra call.
#[derive(cynic::QueryFragment, Debug, Clone, Copy, PartialEq, Eq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct AiSetting {
    /// AI features are on for the organization.
    pub is_ai_enabled: bool,
    /// MCP servers may call the organization's Sombra.
    pub is_mcp_sombra_enabled: bool,
}

/// A Sombra gateway of the organization.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct Sombra {
    /// Its id.
    pub id: cynic::Id,
    /// Its URL for API calls.
    pub customer_url: String,
    /// The version it runs, when known.
    pub version: Option<String>,
}

/// A page of attribute keys.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct AttributeKeysPayload {
    /// This page.
    pub nodes: Vec<AttributeKey>,
    /// How many in all.
    pub total_count: i32,
}

/// A data subject type.
#[derive(cynic::QueryFragment, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct DataSubjectInternal {
    /// Its id.
    pub id: cynic::Id,
    /// Its name (`customer`, …): a submission's `subjectType`.
    #[cynic(rename = "type")]
    pub kind: String,
    /// Whether requests may be made for it.
    pub active: bool,
    /// Whether requests made from the dashboard are silent by default.
    pub admin_dashboard_default_silent_mode: bool,
}
