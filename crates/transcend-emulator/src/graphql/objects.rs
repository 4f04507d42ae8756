//! What the admin API answers, as the emulator builds it from the store.

use async_graphql::{
    ComplexObject, Context, ID, InputValueError, InputValueResult, Scalar, ScalarType,
    SimpleObject, Value,
};

use super::enums::{
    AttributeKeyType, EnricherType, IsoCountryCode, RequestAction, RequestEnricherStatus,
    RequestOrigin, RequestStatus, VisualRequestDataSiloStatus,
};
use super::shared_of;
use crate::store::{AdminRecord, EnricherPart, IdentifierPart, RequestQuery, SiloPart};

/// An ISO 8601 date-time, as text (the schema's `Date`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Date(pub String);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(text) => Ok(Self(text)),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// A request.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Request", complex)]
pub(crate) struct RequestNode {
    pub id: ID,
    pub created_at: Date,
    pub updated_at: Date,
    pub status: RequestStatus,
    #[graphql(name = "type")]
    pub action: RequestAction,
    pub subject_type: String,
    pub locale: String,
    pub details: Option<String>,
    pub email: Option<String>,
    pub core_identifier: String,
    pub country: Option<IsoCountryCode>,
    pub country_sub_division: Option<String>,
    /// Requests made over the REST API change no preferences: always `null`.
    pub purpose: Option<DsrPurposeChange>,
    pub successfully_completed_at: Option<Date>,
    pub days_remaining: Option<i32>,
    pub is_test: bool,
    pub is_silent: bool,
    pub origin: RequestOrigin,
    pub link: String,
    pub attribute_values: Vec<AttributeValue>,
}

impl From<AdminRecord> for RequestNode {
    fn from(record: AdminRecord) -> Self {
        let attribute_values = record
            .attributes
            .iter()
            .flat_map(|(key, values)| {
                values.iter().map(move |value| AttributeValue {
                    id: ID(format!("{key}:{value}")),
                    name: value.clone(),
                    attribute_key: AttributeKey::named(key, AttributeKeyType::Text),
                })
            })
            .collect();
        Self {
            id: ID(record.id),
            created_at: Date(record.created_at.as_str().to_owned()),
            updated_at: Date(record.updated_at.as_str().to_owned()),
            status: RequestStatus::from(&record.status),
            action: RequestAction::from(&record.action),
            subject_type: record.subject_type,
            locale: record.locale,
            details: record.details,
            email: record.email,
            core_identifier: record.core_identifier,
            country: record
                .country
                .as_deref()
                .and_then(IsoCountryCode::from_wire),
            country_sub_division: record.country_sub_division,
            purpose: None,
            successfully_completed_at: record
                .successfully_completed_at
                .map(|at| Date(at.as_str().to_owned())),
            days_remaining: record.days_remaining,
            is_test: record.is_test,
            is_silent: record.is_silent,
            origin: RequestOrigin::from_wire(&record.origin).unwrap_or(RequestOrigin::Api),
            link: record.link,
            attribute_values,
        }
    }
}

/// Who answers for a request or a data silo: the organization's users and teams, as
/// configured (`[[admin.users]]`, `[[admin.teams]]`).
fn owners(ctx: &Context<'_>) -> async_graphql::Result<Vec<UserPreview>> {
    let shared = shared_of(ctx)?;
    Ok(shared
        .config
        .admin
        .users
        .iter()
        .map(|user| UserPreview {
            id: ID(user.id.clone()),
            email: user.email.clone(),
            name: user.name.clone(),
        })
        .collect())
}

fn teams(ctx: &Context<'_>) -> async_graphql::Result<Vec<TeamPreview>> {
    let shared = shared_of(ctx)?;
    Ok(shared
        .config
        .admin
        .teams
        .iter()
        .map(|team| TeamPreview {
            id: ID(team.id.clone()),
            name: team.name.clone(),
        })
        .collect())
}

#[ComplexObject]
impl RequestNode {
    /// The people responsible for the request.
    async fn owners(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<UserPreview>> {
        owners(ctx)
    }

    /// The teams responsible for the request.
    async fn teams(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TeamPreview>> {
        teams(ctx)
    }
}

/// A user of the organization, briefly.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct UserPreview {
    pub id: ID,
    pub email: String,
    pub name: String,
}

/// A team of the organization, briefly.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct TeamPreview {
    pub id: ID,
    pub name: String,
}

/// The preferences a consent request changes (never made by the emulator: its
/// requests come over the REST API; declared so clients that select it run).
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct DsrPurposeChange {
    pub consent: bool,
    pub title: String,
    pub name: String,
    pub enriched_preferences: Vec<EnrichedPreference>,
}

/// A preference a consent request sets.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct EnrichedPreference {
    pub id: String,
    pub name: String,
    pub select_value: Option<EnrichedPreferenceOption>,
    pub boolean_value: Option<bool>,
    pub select_values: Option<Vec<EnrichedPreferenceOption>>,
    pub preference_topic: Option<PreferenceTopicPreview>,
    pub topic: String,
}

/// An option of a preference.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct EnrichedPreferenceOption {
    pub id: String,
    pub name: String,
    pub preference_option: Option<PrivacyCenterPreferenceOptionValue>,
}

/// An option's value in the privacy center.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct PrivacyCenterPreferenceOptionValue {
    pub id: ID,
    pub title: DefinedMessage,
    pub slug: String,
}

/// A preference topic, briefly.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct PreferenceTopicPreview {
    pub id: ID,
    pub slug: String,
    pub title: DefinedMessage,
}

/// One value of a custom field.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct AttributeValue {
    pub id: ID,
    pub attribute_key: AttributeKey,
    pub name: String,
}

/// A custom field.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct AttributeKey {
    pub id: ID,
    pub name: String,
    #[graphql(name = "type")]
    pub kind: AttributeKeyType,
}

impl AttributeKey {
    pub(crate) fn named(name: &str, kind: AttributeKeyType) -> Self {
        Self {
            id: ID(format!("attribute-key:{name}")),
            name: name.to_owned(),
            kind,
        }
    }
}

/// Where a cursor walk stands.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct PageInfo {
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

/// A page of requests. `totalCount` is counted only when asked for.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub(crate) struct RequestsPayload {
    pub nodes: Vec<RequestNode>,
    pub page_info: PageInfo,
    #[graphql(skip)]
    pub query: RequestQuery,
}

#[ComplexObject]
impl RequestsPayload {
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let shared = shared_of(ctx)?;
        Ok(i32::try_from(shared.store.admin_count(&self.query)).unwrap_or(i32::MAX))
    }
}

/// A data silo's part of a request.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct RequestDataSilo {
    pub id: ID,
    pub data_silo_id: ID,
    pub link: String,
    pub details: String,
    pub request: RequestDetails,
    pub status: VisualRequestDataSiloStatus,
    pub data_silo: DataSiloBulkPreview,
    pub error: Option<String>,
}

impl RequestDataSilo {
    pub(crate) fn new(part: SiloPart, title: String) -> Self {
        let details = part.details(&title);
        Self {
            link: format!(
                "{}{}/data-silos/{}",
                crate::store::LINK_PREFIX,
                part.request_id,
                part.data_silo_id
            ),
            details,
            error: part.error.clone(),
            id: ID(part.id),
            data_silo_id: ID(part.data_silo_id.clone()),
            request: RequestDetails {
                id: ID(part.request_id),
                action: RequestAction::from(&part.action),
            },
            status: VisualRequestDataSiloStatus::of(part.status, &part.request_status),
            data_silo: DataSiloBulkPreview {
                id: ID(part.data_silo_id),
                title,
                kind: "server".into(),
                outer_type: None,
                is_live: true,
            },
        }
    }
}

/// A request, briefly.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct RequestDetails {
    pub id: ID,
    #[graphql(name = "type")]
    pub action: RequestAction,
}

/// A data silo, briefly. Every silo of the emulator is a custom integration
/// (`server`: Transcend calls its webhook, or it pulls its jobs), live.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub(crate) struct DataSiloBulkPreview {
    pub id: ID,
    pub title: String,
    #[graphql(name = "type")]
    pub kind: String,
    pub outer_type: Option<String>,
    pub is_live: bool,
}

#[ComplexObject]
impl DataSiloBulkPreview {
    /// The people responsible for the data silo.
    async fn owners(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<UserPreview>> {
        owners(ctx)
    }

    /// The teams responsible for the data silo.
    async fn teams(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TeamPreview>> {
        teams(ctx)
    }
}

/// A page of data silos' parts.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct RequestDataSilosPayload {
    pub nodes: Vec<RequestDataSilo>,
    pub total_count: i32,
}

/// An enricher.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct Enricher {
    pub id: ID,
    pub title: String,
    pub identifiers: Vec<DsrFormIdentifier>,
    #[graphql(name = "type")]
    pub kind: EnricherType,
}

/// An identifier a form or an enricher takes.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct DsrFormIdentifier {
    pub id: String,
    pub name: String,
}

/// An enricher's part of a request.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct RequestEnricher {
    pub id: ID,
    pub enricher: Enricher,
    pub status: RequestEnricherStatus,
}

impl RequestEnricher {
    pub(crate) fn new(part: EnricherPart, manual: bool) -> Self {
        Self {
            id: ID(part.id),
            enricher: Enricher {
                id: ID(part.enricher_id.clone()),
                title: part.enricher_id,
                identifiers: Vec::new(),
                kind: if manual {
                    EnricherType::Person
                } else {
                    EnricherType::Server
                },
            },
            status: RequestEnricherStatus::from(part.status),
        }
    }
}

/// A page of enrichers' parts.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct RequestEnrichersPayload {
    pub nodes: Vec<RequestEnricher>,
    pub total_count: i32,
}

/// One identifier of a request.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct RequestIdentifier {
    pub id: ID,
    pub value: String,
    pub name: Option<String>,
    pub is_verified_at_least_once: bool,
}

impl From<IdentifierPart> for RequestIdentifier {
    fn from(part: IdentifierPart) -> Self {
        let identifier = part.identifier;
        Self {
            id: ID(identifier.id.unwrap_or_default()),
            value: identifier.value,
            name: identifier
                .name
                .or_else(|| identifier.identifier_type.map(|t| t.to_string())),
            is_verified_at_least_once: part.verified,
        }
    }
}

/// A page of identifiers.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct RequestIdentifiersPayload {
    pub nodes: Vec<RequestIdentifier>,
    pub total_count: i32,
}

/// A piece of text.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct Message {
    pub id: ID,
    pub default_message: String,
}

/// An e-mail template.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct Template {
    pub id: ID,
    pub title: String,
    pub template: Message,
    pub subject: Message,
}

/// A page of templates.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct TemplatesPayload {
    pub nodes: Vec<Template>,
    pub total_count: i32,
}

/// The organization.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct Organization {
    pub sombra: Sombra,
    pub sombras: Vec<Sombra>,
    pub ai_setting: Option<AiSetting>,
}

/// The organization's AI settings, from the configuration.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub(crate) struct AiSetting {
    pub is_ai_enabled: bool,
    pub is_mcp_sombra_enabled: bool,
}

/// A Sombra gateway.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct Sombra {
    pub id: ID,
    pub customer_url: String,
    pub version: Option<String>,
}

/// How many jobs a data silo has.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct ListReducedRequestsForDataSiloPayload {
    pub total_count: i32,
}

/// A page of custom fields.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct AttributeKeysPayload {
    pub nodes: Vec<AttributeKey>,
    pub total_count: i32,
}

/// A request type a data subject type takes.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct Action {
    pub id: ID,
    #[graphql(name = "type")]
    pub action: RequestAction,
}

/// A text with its id.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct DefinedMessage {
    pub id: String,
    pub default_message: String,
}

/// A data subject type.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct DataSubjectInternal {
    pub id: ID,
    #[graphql(name = "type")]
    pub kind: String,
    pub title: DefinedMessage,
    pub actions: Vec<Action>,
    pub supports_authorized_agent: bool,
    pub active: bool,
    pub admin_dashboard_default_silent_mode: bool,
}

/// `approveRequest`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct ApproveRequestPayload {
    pub request: RequestNode,
}

/// `approveRequests`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct ApproveRequestsPayload {
    pub client_mutation_id: Option<String>,
    pub requests: Vec<RequestNode>,
}

/// `cancelRequest`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct CancelRequestPayload {
    pub client_mutation_id: Option<String>,
    pub request: RequestNode,
}

/// `cancelRequests`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct CancelRequestsPayload {
    pub client_mutation_id: Option<String>,
    pub requests: Vec<RequestNode>,
}

/// `updateRequest`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct UpdateRequestPayload {
    pub request: RequestNode,
}

/// `updateRequests`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct UpdateRequestsPayload {
    pub client_mutation_id: Option<String>,
    pub requests: Vec<RequestNode>,
}

/// `notifyAdditionalTime`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct NotifyAdditionalTimePayload {
    pub client_mutation_id: Option<String>,
}

/// `notifyAdditionalTimes`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct NotifyAdditionalTimesPayload {
    pub client_mutation_id: Option<String>,
    pub success: bool,
}

/// `placeRequestOnHold`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct PlaceRequestOnHoldPayload {
    pub client_mutation_id: Option<String>,
    pub request: RequestNode,
}

/// `resumeRequest`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct ResumeRequestPayload {
    pub client_mutation_id: Option<String>,
    pub request: RequestNode,
}

/// `changeRequestDataSiloStatus`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct ChangeRequestDataSiloStatusPayload {
    pub request_data_silo: RequestDataSilo,
}

/// `changeRequestDataSiloStatuses`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct ChangeRequestDataSiloStatusesPayload {
    pub client_mutation_id: Option<String>,
    pub count: i32,
}

/// `retryRequestDataSilo`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct RetryRequestDataSiloPayload {
    pub request_data_silo: RequestDataSilo,
}

/// `retryRequestEnricher`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct RetryRequestEnricherPayload {
    pub request_enricher: RequestEnricher,
}

/// `skipRequestEnricher`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct SkipRequestEnricherPayload {
    pub request_enricher: RequestEnricher,
}

/// `removeRequestIdentifiers`'s answer.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct RemoveRequestIdentifiersPayload {
    pub count: i32,
}
