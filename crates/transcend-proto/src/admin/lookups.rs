//! What the organization holds: `templates`, `organization`,
//! `listReducedRequestsForDataSilo`, `attributeKeys`, `internalSubjects`,
//! `initializer`.

use super::schema;

use super::inputs::{AttributeKeysFilters, BulkCompletionReducedRequestInput, TemplateFilters};
use super::objects::{
    AttributeKeysPayload, DataSubjectInternal, Enricher, Organization, TemplatesPayload,
};
use super::operation;

/// An offset page of a list: a filter, `first`, `offset`.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Page<F> {
    /// Which items.
    pub filter: F,
    /// How many (at most [`MAX_PAGE`](super::MAX_PAGE)).
    pub first: i32,
    /// How many to skip.
    pub offset: i32,
}

impl<F> Page<F> {
    /// The first page of 100 of `filter`.
    pub fn first(filter: F) -> Self {
        Self {
            filter,
            first: super::MAX_PAGE,
            offset: 0,
        }
    }

    /// The page starting `offset` items in.
    pub fn offset(mut self, offset: i32) -> Self {
        self.offset = offset;
        self
    }
}

#[derive(cynic::QueryVariables, Debug)]
pub struct TemplatesVariables {
    filter_by: Option<TemplateFilters>,
    first: Option<i32>,
    offset: Option<i32>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Query",
    variables = "TemplatesVariables"
)]
pub struct TemplatesQuery {
    #[arguments(filterBy: $filter_by, first: $first, offset: $offset)]
    templates: TemplatesPayload,
}

/// `templates`: a page of e-mail templates.
#[derive(Debug, Clone, Copy)]
pub struct Templates;

operation!(
    Templates, "templates", query, TemplatesQuery,
    |page: &Page<TemplateFilters>| TemplatesVariables {
        filter_by: Some(page.filter.clone()),
        first: Some(page.first),
        offset: Some(page.offset),
    },
    |data| data.templates => TemplatesPayload
);

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "Query")]
pub struct OrganizationQuery {
    organization: Organization,
}

/// `organization { sombra sombras }`: where the organization's Sombra is.
#[derive(Debug, Clone, Copy)]
pub struct OrganizationSombra;

operation!(
    OrganizationSombra, "organization", query, OrganizationQuery,
    |_unit: &()| (),
    |data| data.organization => Organization
);

#[derive(cynic::QueryVariables, Debug)]
pub struct ReducedVariables {
    input: BulkCompletionReducedRequestInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "ListReducedRequestsForDataSiloPayload"
)]
pub struct ReducedPayload {
    total_count: i32,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Query",
    variables = "ReducedVariables"
)]
pub struct ReducedQuery {
    #[arguments(input: $input)]
    list_reduced_requests_for_data_silo: ReducedPayload,
}

/// `listReducedRequestsForDataSilo { totalCount }`: how many jobs a data silo has
/// open (or resolved).
#[derive(Debug, Clone, Copy)]
pub struct ListReducedRequestsForDataSilo;

operation!(
    ListReducedRequestsForDataSilo, "listReducedRequestsForDataSilo", query, ReducedQuery,
    |input: &BulkCompletionReducedRequestInput| ReducedVariables { input: input.clone() },
    |data| data.list_reduced_requests_for_data_silo.total_count => i32
);

#[derive(cynic::QueryVariables, Debug)]
pub struct AttributeKeysVariables {
    filter_by: Option<AttributeKeysFilters>,
    first: Option<i32>,
    offset: Option<i32>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Query",
    variables = "AttributeKeysVariables"
)]
pub struct AttributeKeysQuery {
    #[arguments(filterBy: $filter_by, first: $first, offset: $offset)]
    attribute_keys: AttributeKeysPayload,
}

/// `attributeKeys`: a page of the organization's custom fields.
#[derive(Debug, Clone, Copy)]
pub struct AttributeKeys;

operation!(
    AttributeKeys, "attributeKeys", query, AttributeKeysQuery,
    |page: &Page<AttributeKeysFilters>| AttributeKeysVariables {
        filter_by: Some(page.filter.clone()),
        first: Some(page.first),
        offset: Some(page.offset),
    },
    |data| data.attribute_keys => AttributeKeysPayload
);

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "Query")]
pub struct SubjectsQuery {
    internal_subjects: Vec<DataSubjectInternal>,
}

/// `internalSubjects`: the organization's data subject types.
#[derive(Debug, Clone, Copy)]
pub struct InternalSubjects;

operation!(
    InternalSubjects, "internalSubjects", query, SubjectsQuery,
    |_unit: &()| (),
    |data| data.internal_subjects => Vec<DataSubjectInternal>
);

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "Query")]
pub struct InitializerQuery {
    initializer: Enricher,
}

/// `initializer`: the enricher that collects identifiers when a request is made, with
/// the identifiers the organization collects.
#[derive(Debug, Clone, Copy)]
pub struct Initializer;

operation!(
    Initializer, "initializer", query, InitializerQuery,
    |_unit: &()| (),
    |data| data.initializer => Enricher
);
