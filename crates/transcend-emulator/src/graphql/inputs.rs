//! What the admin API's operations take, field for field as the schema declares them.
//! Fields the emulator has no use for are accepted and ignored.

use std::collections::HashSet;

use async_graphql::{ID, InputObject};

use super::enums::{
    AssessmentActionType, AttributeKeyOrderField, AttributeKeyType, AttributeSupportedResourceType,
    DataSiloConnectionState, DataSubjectClass, IsoCountryCode, OrderDirection, RequestAction,
    RequestDataSiloOrderField, RequestDataSiloSortAssociation, RequestDataSiloStatus,
    RequestEnricherOrderField, RequestEnricherSortAssociation, RequestEnricherStatus,
    RequestIdentifierOrderField, RequestIdentifierSource, RequestOrderField, RequestOrigin,
    RequestStatus, TemplateOrderField, TemplateProduct, TemplateType, UpdateRequestDataSiloStatus,
    VisualRequestDataSiloStatus,
};
use super::objects::Date;
use super::{codec_error, invalid};
use crate::store::{RequestQuery, filter_time};

/// Which requests to list.
#[derive(InputObject, Debug, Clone, Default)]
pub(crate) struct RequestFiltersInput {
    pub text: Option<String>,
    pub details: Option<String>,
    pub core_identifier_values: Option<Vec<String>>,
    pub emails: Option<Vec<String>>,
    pub status: Option<Vec<RequestStatus>>,
    #[graphql(name = "type")]
    pub action: Option<Vec<RequestAction>>,
    pub is_archived: Option<bool>,
    pub is_closed: Option<bool>,
    pub is_bounced: Option<bool>,
    pub is_opened: Option<bool>,
    pub origin: Option<Vec<RequestOrigin>>,
    pub is_test: Option<bool>,
    pub is_silent: Option<bool>,
    pub is_context_expired: Option<bool>,
    pub has_unread_emails: Option<bool>,
    pub missing_data_silo_ids: Option<Vec<ID>>,
    pub ids: Option<Vec<ID>>,
    pub subject_ids: Option<Vec<ID>>,
    pub created_at_after: Option<String>,
    pub created_at_before: Option<String>,
    pub updated_at_after: Option<String>,
    pub updated_at_before: Option<String>,
    pub locales: Option<Vec<String>>,
    pub attribute_value_ids: Option<Vec<ID>>,
    pub countries: Option<Vec<IsoCountryCode>>,
    pub country_sub_divisions: Option<Vec<String>>,
    pub owner_ids: Option<Vec<ID>>,
    pub team_ids: Option<Vec<ID>>,
    pub has_enricher_errors: Option<bool>,
    pub identifier_value: Option<String>,
    pub workflow_config_ids: Option<Vec<ID>>,
    pub drop_run_ids: Option<Vec<ID>>,
    pub drop_projected_cppa_status_codes: Option<Vec<i32>>,
    pub partition_keys: Option<Vec<String>>,
    pub partition_ids: Option<Vec<ID>>,
    pub purpose_names: Option<Vec<String>>,
    pub purpose_ids: Option<Vec<ID>>,
    pub consent_matching_state: Option<bool>,
}

impl RequestFiltersInput {
    /// The store's query; a time that is not ISO 8601 is refused as Transcend's
    /// backend refuses it.
    pub(crate) fn query(&self) -> async_graphql::Result<RequestQuery> {
        let time = |field: &str, value: &Option<String>| -> async_graphql::Result<_> {
            value
                .as_deref()
                .map(|v| filter_time(v).ok_or_else(|| codec_error(field, v)))
                .transpose()
        };
        Ok(RequestQuery {
            statuses: self
                .status
                .as_ref()
                .map(|s| s.iter().map(|s| (*s).into()).collect()),
            actions: self
                .action
                .as_ref()
                .map(|a| a.iter().map(|a| (*a).into()).collect()),
            origins: self
                .origin
                .as_ref()
                .map(|o| o.iter().map(|o| o.as_wire().to_owned()).collect()),
            ids: self
                .ids
                .as_ref()
                .map(|ids| ids.iter().map(|id| id.0.clone()).collect::<HashSet<_>>()),
            is_silent: self.is_silent,
            is_test: self.is_test,
            is_closed: self.is_closed,
            created_after: time("createdAtAfter", &self.created_at_after)?,
            created_before: time("createdAtBefore", &self.created_at_before)?,
            updated_after: time("updatedAtAfter", &self.updated_at_after)?,
            updated_before: time("updatedAtBefore", &self.updated_at_before)?,
            identifier_value: self.identifier_value.clone(),
            core_identifiers: self.core_identifier_values.clone(),
            emails: self.emails.clone(),
            text: self.text.clone(),
        })
    }
}

/// One key of a request order.
#[derive(InputObject, Debug, Clone, Copy)]
pub(crate) struct RequestOrder {
    pub field: RequestOrderField,
    pub direction: OrderDirection,
}

/// Whether an order walks the requests backwards: the emulator orders by
/// `createdAt`, then `id`, ascending or descending as the first key says; other
/// keys are refused.
pub(crate) fn descending(order: &Option<Vec<RequestOrder>>) -> async_graphql::Result<bool> {
    let Some(order) = order else {
        return Ok(false);
    };
    let mut direction = None;
    for key in order {
        if !matches!(
            key.field,
            RequestOrderField::CreatedAt | RequestOrderField::Id
        ) {
            return Err(invalid(format!(
                "the emulator orders requests by createdAt and id only, not by {}",
                key.field.as_wire()
            )));
        }
        direction.get_or_insert(key.direction);
    }
    Ok(direction == Some(OrderDirection::Desc))
}

/// Approve or cancel one request, e-mailing the person.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct CommunicationInput {
    pub request_id: ID,
    pub template: Option<String>,
    pub subject: Option<String>,
}

/// Approve several requests.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct ApproveRequestsInput {
    pub request_ids: Vec<ID>,
    pub template: Option<String>,
    pub subject: Option<String>,
    pub is_silent: Option<bool>,
}

/// Cancel several requests.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct CancelRequestsInput {
    pub request_ids: Vec<ID>,
    pub template: Option<String>,
    pub subject: Option<String>,
    pub is_silent: Option<bool>,
}

/// Change a request's fields.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct UpdateRequestInput {
    pub id: ID,
    pub created_at: Option<String>,
    pub is_test: Option<bool>,
    pub is_silent: Option<bool>,
    pub details: Option<String>,
    pub owner_ids: Option<Vec<ID>>,
    pub team_ids: Option<Vec<ID>>,
    pub attributes: Option<Vec<AttributeInput>>,
    pub status: Option<RequestStatus>,
    pub revoke_download_at: Option<Date>,
}

/// A custom field's values.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct AttributeInput {
    pub key: String,
    pub values: Vec<String>,
}

/// Several requests' changes.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct UpdateRequestsInput {
    pub requests: Vec<UpdateRequestInput>,
}

/// More time for one request.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct AdditionalTimeInput {
    pub request_id: ID,
    pub template: Option<String>,
    pub subject: Option<String>,
    pub additional_time: i32,
}

/// More time for several requests.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct NotifyAdditionalTimesInput {
    pub request_ids: Vec<ID>,
    pub template: Option<String>,
    pub subject: Option<String>,
    pub additional_time: i32,
}

/// Which silos' parts to list.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct RequestDataSiloFiltersInput {
    pub data_silo_id: Option<ID>,
    pub request_id: Option<ID>,
    pub status: Option<Vec<RequestDataSiloStatus>>,
    pub visual_status: Option<VisualRequestDataSiloStatus>,
    pub request_status: Option<Vec<RequestStatus>>,
    pub text: Option<String>,
    pub is_deleted: Option<bool>,
    pub connection_state: Option<Vec<DataSiloConnectionState>>,
    pub has_files: Option<bool>,
    pub has_profiles: Option<bool>,
}

/// One key of a silo parts' order.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct RequestDataSiloOrder {
    pub field: RequestDataSiloOrderField,
    pub direction: OrderDirection,
    pub model: Option<RequestDataSiloSortAssociation>,
}

/// Set one silo's part.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct UpdateRequestDataSiloStatusInput {
    pub id: ID,
    pub status: UpdateRequestDataSiloStatus,
}

/// Set several silos' parts of one request.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct UpdateRequestDataSiloStatusesInput {
    pub request_id: ID,
    pub data_silo_ids: Vec<ID>,
    pub status: UpdateRequestDataSiloStatus,
}

/// How many jobs a data silo has.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct BulkCompletionReducedRequestInput {
    pub token: Option<String>,
    pub is_resolved: bool,
    pub data_silo_id: Option<ID>,
    pub communication_id: Option<ID>,
    pub request_type: Option<RequestAction>,
}

/// Whose enrichers to list.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct RequestEnrichersInput {
    pub request_id: ID,
    pub request_identifier_id: Option<ID>,
}

/// Which enrichers to list.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct RequestEnrichersFiltersInput {
    pub text: Option<String>,
    pub statuses: Option<Vec<RequestEnricherStatus>>,
}

/// One key of an enricher parts' order.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct RequestEnricherOrder {
    pub field: RequestEnricherOrderField,
    pub direction: OrderDirection,
    pub model: Option<RequestEnricherSortAssociation>,
}

/// Whose identifiers to list.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct RequestIdentifiersInput {
    pub request_ids: Option<Vec<ID>>,
    pub request_enricher_id: Option<ID>,
    pub updated_at_before: Option<Date>,
    pub updated_at_after: Option<Date>,
}

/// Which identifiers to list.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct RequestIdentifiersFiltersInput {
    pub identifier_name: Option<String>,
    pub identifier_names: Option<Vec<String>>,
    pub text: Option<String>,
    pub is_verified_at_least_once: Option<bool>,
    pub source: Option<Vec<RequestIdentifierSource>>,
    pub updated_at_after: Option<String>,
    pub updated_at_before: Option<String>,
}

/// One key of an identifiers' order.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct RequestIdentifierOrder {
    pub field: RequestIdentifierOrderField,
    pub direction: OrderDirection,
}

/// Remove identifiers from a request.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct RemoveRequestIdentifiersInput {
    pub request_id: ID,
    pub request_identifier_ids: Vec<ID>,
}

/// Which templates to list.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct TemplateFiltersInput {
    pub text: Option<String>,
    pub product: Option<TemplateProduct>,
    pub assessment_action_type: Option<AssessmentActionType>,
    pub types: Option<Vec<TemplateType>>,
}

/// One key of a templates' order.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct TemplateOrder {
    pub field: TemplateOrderField,
    pub direction: OrderDirection,
}

/// Which custom fields to list.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct AttributeKeysFiltersInput {
    pub text: Option<String>,
    pub disabled_on: Option<Vec<AttributeSupportedResourceType>>,
    pub enabled_on: Option<Vec<AttributeSupportedResourceType>>,
    pub is_custom: Option<bool>,
    #[graphql(name = "type")]
    pub kind: Option<Vec<AttributeKeyType>>,
}

/// One key of a custom fields' order.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct AttributeKeyOrder {
    pub field: AttributeKeyOrderField,
    pub direction: OrderDirection,
}

/// Which data subject types to list.
#[derive(InputObject, Debug, Clone)]
pub(crate) struct InternalSubjectsFiltersInput {
    pub text: Option<String>,
    pub ids: Option<Vec<ID>>,
    pub active: Option<Vec<bool>>,
    pub subject_class: Option<Vec<DataSubjectClass>>,
    pub owners: Option<Vec<ID>>,
    pub teams: Option<Vec<ID>>,
    pub actions: Option<Vec<RequestAction>>,
    pub admin_dashboard_default_silent_mode: Option<bool>,
}
