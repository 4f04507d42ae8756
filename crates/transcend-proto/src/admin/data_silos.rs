//! Each data silo's part of a request: `requestDataSilos`,
//! `changeRequestDataSiloStatus(es)`, `retryRequestDataSilo`.

use super::schema;

use super::inputs::{
    RequestDataSiloFilters, UpdateRequestDataSiloStatusInput, UpdateRequestDataSiloStatusesInput,
};
use super::objects::{RequestDataSilo, RequestDataSilosPayload};
use super::operation;

/// Which page of data silos' parts to read.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct RequestDataSilosPage {
    /// Which parts.
    pub filter: RequestDataSiloFilters,
    /// How many (at most [`MAX_PAGE`](super::MAX_PAGE)).
    pub first: i32,
    /// How many to skip.
    pub offset: i32,
}

impl RequestDataSilosPage {
    /// The first page of 100 of `filter`.
    pub fn first(filter: RequestDataSiloFilters) -> Self {
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
pub struct ListVariables {
    filter_by: RequestDataSiloFilters,
    first: Option<i32>,
    offset: Option<i32>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "Query", variables = "ListVariables")]
pub struct ListQuery {
    #[arguments(filterBy: $filter_by, first: $first, offset: $offset)]
    request_data_silos: RequestDataSilosPayload,
}

/// `requestDataSilos`: a page of data silos' parts of requests.
#[derive(Debug, Clone, Copy)]
pub struct RequestDataSilos;

operation!(
    RequestDataSilos, "requestDataSilos", query, ListQuery,
    |page: &RequestDataSilosPage| ListVariables {
        filter_by: page.filter.clone(),
        first: Some(page.first),
        offset: Some(page.offset),
    },
    |data| data.request_data_silos => RequestDataSilosPayload
);

#[derive(cynic::QueryVariables, Debug)]
pub struct ChangeVariables {
    input: UpdateRequestDataSiloStatusInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "ChangeRequestDataSiloStatusPayload")]
pub struct ChangePayload {
    request_data_silo: RequestDataSilo,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Mutation",
    variables = "ChangeVariables"
)]
pub struct ChangeMutation {
    #[arguments(input: $input)]
    change_request_data_silo_status: ChangePayload,
}

/// `changeRequestDataSiloStatus`: sets one silo's part (`RESOLVED`, `SKIPPED`, …);
/// once every part is settled the request moves on.
#[derive(Debug, Clone, Copy)]
pub struct ChangeRequestDataSiloStatus;

operation!(
    ChangeRequestDataSiloStatus, "changeRequestDataSiloStatus", mutation, ChangeMutation,
    |input: &UpdateRequestDataSiloStatusInput| ChangeVariables { input: input.clone() },
    |data| data.change_request_data_silo_status.request_data_silo => RequestDataSilo
);

#[derive(cynic::QueryVariables, Debug)]
pub struct ChangeManyVariables {
    input: UpdateRequestDataSiloStatusesInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "ChangeRequestDataSiloStatusesPayload"
)]
pub struct ChangeManyPayload {
    count: i32,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Mutation",
    variables = "ChangeManyVariables"
)]
pub struct ChangeManyMutation {
    #[arguments(input: $input)]
    change_request_data_silo_statuses: ChangeManyPayload,
}

/// `changeRequestDataSiloStatuses`: sets several silos' parts of one request; how
/// many changed.
#[derive(Debug, Clone, Copy)]
pub struct ChangeRequestDataSiloStatuses;

operation!(
    ChangeRequestDataSiloStatuses, "changeRequestDataSiloStatuses", mutation, ChangeManyMutation,
    |input: &UpdateRequestDataSiloStatusesInput| ChangeManyVariables { input: input.clone() },
    |data| data.change_request_data_silo_statuses.count => i32
);

#[derive(cynic::QueryVariables, Debug)]
pub struct IdVariables {
    id: cynic::Id,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "RetryRequestDataSiloPayload")]
pub struct RetryPayload {
    request_data_silo: RequestDataSilo,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "Mutation", variables = "IdVariables")]
pub struct RetryMutation {
    #[arguments(id: $id)]
    retry_request_data_silo: RetryPayload,
}

/// `retryRequestDataSilo`: runs a silo's job again (a webhook silo gets a new webhook).
#[derive(Debug, Clone, Copy)]
pub struct RetryRequestDataSilo;

operation!(
    RetryRequestDataSilo, "retryRequestDataSilo", mutation, RetryMutation,
    |id: &str| IdVariables { id: cynic::Id::new(id) },
    |data| data.retry_request_data_silo.request_data_silo => RequestDataSilo
);
