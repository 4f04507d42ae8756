//! Enrichers' parts of a request: `requestEnrichers`, `retryRequestEnricher`,
//! `skipRequestEnricher`.

use super::schema;

use super::inputs::RequestEnrichersInput;
use super::objects::{RequestEnricher, RequestEnrichersPayload};
use super::operation;

/// Which page of a request's enrichers to read.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RequestEnrichersPage {
    /// The request.
    pub request_id: String,
    /// How many (at most [`MAX_PAGE`](super::MAX_PAGE)).
    pub first: i32,
    /// How many to skip.
    pub offset: i32,
}

impl RequestEnrichersPage {
    /// The first page of 100 of this request's enrichers.
    pub fn first(request_id: &str) -> Self {
        Self {
            request_id: request_id.to_owned(),
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
    input: RequestEnrichersInput,
    first: Option<i32>,
    offset: Option<i32>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "Query", variables = "ListVariables")]
pub struct ListQuery {
    #[arguments(input: $input, first: $first, offset: $offset)]
    request_enrichers: RequestEnrichersPayload,
}

/// `requestEnrichers`: a page of a request's enrichers.
#[derive(Debug, Clone, Copy)]
pub struct RequestEnrichers;

operation!(
    RequestEnrichers, "requestEnrichers", query, ListQuery,
    |page: &RequestEnrichersPage| ListVariables {
        input: RequestEnrichersInput { request_id: cynic::Id::new(&page.request_id) },
        first: Some(page.first),
        offset: Some(page.offset),
    },
    |data| data.request_enrichers => RequestEnrichersPayload
);

#[derive(cynic::QueryVariables, Debug)]
pub struct IdVariables {
    id: cynic::Id,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "RetryRequestEnricherPayload")]
pub struct RetryPayload {
    request_enricher: RequestEnricher,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "Mutation", variables = "IdVariables")]
pub struct RetryMutation {
    #[arguments(id: $id)]
    retry_request_enricher: RetryPayload,
}

/// `retryRequestEnricher`: runs an enricher again.
#[derive(Debug, Clone, Copy)]
pub struct RetryRequestEnricher;

operation!(
    RetryRequestEnricher, "retryRequestEnricher", mutation, RetryMutation,
    |id: &str| IdVariables { id: cynic::Id::new(id) },
    |data| data.retry_request_enricher.request_enricher => RequestEnricher
);

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "SkipRequestEnricherPayload")]
pub struct SkipPayload {
    request_enricher: RequestEnricher,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "Mutation", variables = "IdVariables")]
pub struct SkipMutation {
    #[arguments(id: $id)]
    skip_request_enricher: SkipPayload,
}

/// `skipRequestEnricher`: skips an enricher; "already completed" when it finished.
#[derive(Debug, Clone, Copy)]
pub struct SkipRequestEnricher;

operation!(
    SkipRequestEnricher, "skipRequestEnricher", mutation, SkipMutation,
    |id: &str| IdVariables { id: cynic::Id::new(id) },
    |data| data.skip_request_enricher.request_enricher => RequestEnricher
);
