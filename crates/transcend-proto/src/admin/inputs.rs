//! What the admin API's operations take. Fields left `None` are not sent.

use super::schema;

use super::enums::{
    AttributeSupportedResourceType, OrderDirection, RequestAction, RequestDataSiloStatus,
    RequestOrderField, RequestOrigin, RequestStatus, UpdateRequestDataSiloStatus,
};

/// Which requests to list (`RequestFiltersInput`); every field narrows the list.
#[derive(cynic::InputObject, Debug, Clone, Default, PartialEq)]
#[cynic(schema = "admin", graphql_type = "RequestFiltersInput")]
#[non_exhaustive]
pub struct RequestFilters {
    /// Free text over identifiers and details.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Only these statuses.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<RequestStatus>>,
    /// Only these types.
    #[cynic(rename = "type", skip_serializing_if = "Option::is_none")]
    pub action: Option<Vec<RequestAction>>,
    /// Only these origins.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Vec<RequestOrigin>>,
    /// Only these requests.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<cynic::Id>>,
    /// Only silent (or only non-silent) requests.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub is_silent: Option<bool>,
    /// Only test (or only real) requests.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub is_test: Option<bool>,
    /// Only finished (or only open) requests.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub is_closed: Option<bool>,
    /// Made at or after this time (ISO 8601).
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub created_at_after: Option<String>,
    /// Made before this time (ISO 8601).
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub created_at_before: Option<String>,
    /// Changed at or after this time.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub updated_at_after: Option<String>,
    /// Changed before this time.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub updated_at_before: Option<String>,
    /// Holding an identifier with this value.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub identifier_value: Option<String>,
    /// With one of these core identifiers.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub core_identifier_values: Option<Vec<String>>,
    /// With one of these e-mails.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
}

impl RequestFilters {
    /// No filter: every request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only these statuses.
    pub fn status(mut self, statuses: impl IntoIterator<Item = RequestStatus>) -> Self {
        self.status = Some(statuses.into_iter().collect());
        self
    }

    /// Only these types.
    pub fn action(mut self, actions: impl IntoIterator<Item = RequestAction>) -> Self {
        self.action = Some(actions.into_iter().collect());
        self
    }

    /// Only these origins.
    pub fn origin(mut self, origins: impl IntoIterator<Item = RequestOrigin>) -> Self {
        self.origin = Some(origins.into_iter().collect());
        self
    }

    /// Only these requests.
    pub fn ids<S: AsRef<str>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.ids = Some(
            ids.into_iter()
                .map(|id| cynic::Id::new(id.as_ref()))
                .collect(),
        );
        self
    }

    /// Only silent (`true`) or only non-silent (`false`) requests.
    pub fn is_silent(mut self, silent: bool) -> Self {
        self.is_silent = Some(silent);
        self
    }

    /// Only test (`true`) or only real (`false`) requests.
    pub fn is_test(mut self, test: bool) -> Self {
        self.is_test = Some(test);
        self
    }

    /// Made at or after this time (ISO 8601).
    pub fn created_at_after(mut self, at: impl Into<String>) -> Self {
        self.created_at_after = Some(at.into());
        self
    }

    /// Made before this time (ISO 8601).
    pub fn created_at_before(mut self, at: impl Into<String>) -> Self {
        self.created_at_before = Some(at.into());
        self
    }

    /// Holding an identifier with this value.
    pub fn identifier_value(mut self, value: impl Into<String>) -> Self {
        self.identifier_value = Some(value.into());
        self
    }
}

/// One key of a sort order.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct RequestOrder {
    /// What to sort by.
    pub field: RequestOrderField,
    /// Which way.
    pub direction: OrderDirection,
}

impl RequestOrder {
    /// Sorted by `field`, `direction`.
    pub fn new(field: RequestOrderField, direction: OrderDirection) -> Self {
        Self { field, direction }
    }

    /// The order a cursor walk uses so that no request is skipped or repeated while
    /// others change: oldest first, then by id.
    pub fn stable() -> Vec<Self> {
        vec![
            Self::new(RequestOrderField::CreatedAt, OrderDirection::Asc),
            Self::new(RequestOrderField::Id, OrderDirection::Asc),
        ]
    }
}

/// A change that e-mails the person (`CommunicationInput`): approve, cancel.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct CommunicationInput {
    /// The request.
    pub request_id: cynic::Id,
    /// The e-mail's text (a template's `template.defaultMessage`).
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The e-mail's subject.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

impl CommunicationInput {
    /// For this request, with the workflow's default e-mail.
    pub fn new(request_id: &str) -> Self {
        Self {
            request_id: cynic::Id::new(request_id),
            template: None,
            subject: None,
        }
    }

    /// With this e-mail (`subject`, `text`).
    pub fn email(mut self, subject: impl Into<String>, text: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self.template = Some(text.into());
        self
    }
}

/// Approves several requests at once.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct ApproveRequestsInput {
    /// The requests.
    pub request_ids: Vec<cynic::Id>,
    /// The e-mail's text.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The e-mail's subject.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Makes the requests silent first.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub is_silent: Option<bool>,
}

impl ApproveRequestsInput {
    /// These requests, with the workflow's default e-mail.
    pub fn new<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> Self {
        Self {
            request_ids: ids_of(ids),
            template: None,
            subject: None,
            is_silent: None,
        }
    }
}

/// Cancels several requests at once.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct CancelRequestsInput {
    /// The requests.
    pub request_ids: Vec<cynic::Id>,
    /// The e-mail's text.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The e-mail's subject.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Makes the requests silent first.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub is_silent: Option<bool>,
}

impl CancelRequestsInput {
    /// These requests, with the workflow's default e-mail.
    pub fn new<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> Self {
        Self {
            request_ids: ids_of(ids),
            template: None,
            subject: None,
            is_silent: None,
        }
    }

    /// With this e-mail (`subject`, `text`).
    pub fn email(mut self, subject: impl Into<String>, text: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self.template = Some(text.into());
        self
    }
}

/// Changes a request's fields; `None` leaves a field as it is.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct UpdateRequestInput {
    /// The request.
    pub id: cynic::Id,
    /// Whether the person is sent no e-mail.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub is_silent: Option<bool>,
    /// Whether it is a test request.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub is_test: Option<bool>,
    /// Free-text details.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Custom fields.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<AttributeInput>>,
}

impl UpdateRequestInput {
    /// Changes nothing yet.
    pub fn new(request_id: &str) -> Self {
        Self {
            id: cynic::Id::new(request_id),
            is_silent: None,
            is_test: None,
            details: None,
            attributes: None,
        }
    }

    /// Sets `isSilent`.
    pub fn silent(mut self, silent: bool) -> Self {
        self.is_silent = Some(silent);
        self
    }

    /// Sets `isTest`.
    pub fn test(mut self, test: bool) -> Self {
        self.is_test = Some(test);
        self
    }

    /// Sets `details`.
    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }
}

/// A custom field's values.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct AttributeInput {
    /// The field's name.
    pub key: String,
    /// Its values.
    pub values: Vec<String>,
}

/// Several requests' changes at once.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct UpdateRequestsInput {
    /// The changes.
    pub requests: Vec<UpdateRequestInput>,
}

/// Extends a request's deadline and tells the person.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct AdditionalTimeInput {
    /// The request.
    pub request_id: cynic::Id,
    /// Days added to the deadline.
    pub additional_time: i32,
    /// The e-mail's text.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The e-mail's subject.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

impl AdditionalTimeInput {
    /// `days` more for this request.
    pub fn new(request_id: &str, days: i32) -> Self {
        Self {
            request_id: cynic::Id::new(request_id),
            additional_time: days,
            template: None,
            subject: None,
        }
    }

    /// With this e-mail (`subject`, `text`).
    pub fn email(mut self, subject: impl Into<String>, text: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self.template = Some(text.into());
        self
    }
}

/// Extends several requests' deadlines.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct NotifyAdditionalTimesInput {
    /// The requests.
    pub request_ids: Vec<cynic::Id>,
    /// Days added to each deadline.
    pub additional_time: i32,
    /// The e-mail's text.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The e-mail's subject.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

impl NotifyAdditionalTimesInput {
    /// `days` more for each of these requests.
    pub fn new<S: AsRef<str>>(ids: impl IntoIterator<Item = S>, days: i32) -> Self {
        Self {
            request_ids: ids_of(ids),
            additional_time: days,
            template: None,
            subject: None,
        }
    }
}

/// Which data silos' parts to list.
#[derive(cynic::InputObject, Debug, Clone, Default, PartialEq)]
#[cynic(schema = "admin", graphql_type = "RequestDataSiloFiltersInput")]
#[non_exhaustive]
pub struct RequestDataSiloFilters {
    /// Of this request.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<cynic::Id>,
    /// Of this data silo.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub data_silo_id: Option<cynic::Id>,
    /// In one of these stored statuses.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub status: Option<Vec<RequestDataSiloStatus>>,
    /// Of requests in one of these statuses.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub request_status: Option<Vec<RequestStatus>>,
}

impl RequestDataSiloFilters {
    /// Every silo's part of this request.
    pub fn request(request_id: &str) -> Self {
        Self {
            request_id: Some(cynic::Id::new(request_id)),
            ..Self::default()
        }
    }
}

/// Sets one data silo's part of a request.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct UpdateRequestDataSiloStatusInput {
    /// The part (a [`RequestDataSilo`](super::RequestDataSilo)'s `id`).
    pub id: cynic::Id,
    /// What to set it to.
    pub status: UpdateRequestDataSiloStatus,
}

impl UpdateRequestDataSiloStatusInput {
    /// Sets the part `id` to `status`.
    pub fn new(id: &str, status: UpdateRequestDataSiloStatus) -> Self {
        Self {
            id: cynic::Id::new(id),
            status,
        }
    }
}

/// Sets several data silos' parts of one request.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct UpdateRequestDataSiloStatusesInput {
    /// The request.
    pub request_id: cynic::Id,
    /// The data silos.
    pub data_silo_ids: Vec<cynic::Id>,
    /// What to set them to.
    pub status: UpdateRequestDataSiloStatus,
}

impl UpdateRequestDataSiloStatusesInput {
    /// Sets these silos' parts of one request to `status`.
    pub fn new<S: AsRef<str>>(
        request_id: &str,
        data_silo_ids: impl IntoIterator<Item = S>,
        status: UpdateRequestDataSiloStatus,
    ) -> Self {
        Self {
            request_id: cynic::Id::new(request_id),
            data_silo_ids: ids_of(data_silo_ids),
            status,
        }
    }
}

/// Whose enrichers to list.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct RequestEnrichersInput {
    /// The request.
    pub request_id: cynic::Id,
}

/// Whose identifiers to list.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct RequestIdentifiersInput {
    /// The requests.
    pub request_ids: Option<Vec<cynic::Id>>,
}

/// Removes identifiers from a request.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct RemoveRequestIdentifiersInput {
    /// The request.
    pub request_id: cynic::Id,
    /// The identifiers (their `id`).
    pub request_identifier_ids: Vec<cynic::Id>,
}

impl RemoveRequestIdentifiersInput {
    /// Removes these identifiers from one request.
    pub fn new<S: AsRef<str>>(
        request_id: &str,
        identifier_ids: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            request_id: cynic::Id::new(request_id),
            request_identifier_ids: ids_of(identifier_ids),
        }
    }
}

/// Which templates to list.
#[derive(cynic::InputObject, Debug, Clone, Default, PartialEq)]
#[cynic(schema = "admin", graphql_type = "TemplateFiltersInput")]
#[non_exhaustive]
pub struct TemplateFilters {
    /// Free text over the title.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl TemplateFilters {
    /// Templates whose title contains `text`; every template for `""`.
    pub fn text(text: &str) -> Self {
        Self {
            text: (!text.is_empty()).then(|| text.to_owned()),
        }
    }
}

/// Which of a data silo's jobs to count.
#[derive(cynic::InputObject, Debug, Clone, PartialEq)]
#[cynic(schema = "admin")]
#[non_exhaustive]
pub struct BulkCompletionReducedRequestInput {
    /// Resolved (`true`) or open (`false`) jobs.
    pub is_resolved: bool,
    /// The data silo.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub data_silo_id: Option<cynic::Id>,
    /// Only requests of this type.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub request_type: Option<RequestAction>,
}

impl BulkCompletionReducedRequestInput {
    /// The open jobs of a data silo.
    pub fn open(data_silo_id: &str) -> Self {
        Self {
            is_resolved: false,
            data_silo_id: Some(cynic::Id::new(data_silo_id)),
            request_type: None,
        }
    }
}

/// Which attribute keys to list.
#[derive(cynic::InputObject, Debug, Clone, Default, PartialEq)]
#[cynic(schema = "admin", graphql_type = "AttributeKeysFiltersInput")]
#[non_exhaustive]
pub struct AttributeKeysFilters {
    /// Enabled on these resources.
    #[cynic(skip_serializing_if = "Option::is_none")]
    pub enabled_on: Option<Vec<AttributeSupportedResourceType>>,
}

impl AttributeKeysFilters {
    /// Keys enabled on these resources.
    pub fn enabled_on(resources: impl IntoIterator<Item = AttributeSupportedResourceType>) -> Self {
        Self {
            enabled_on: Some(resources.into_iter().collect()),
        }
    }
}

fn ids_of<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> Vec<cynic::Id> {
    ids.into_iter()
        .map(|id| cynic::Id::new(id.as_ref()))
        .collect()
}
