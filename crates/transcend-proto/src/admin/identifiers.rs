//! A request's identifiers: `requestIdentifiers`, `removeRequestIdentifiers`.

use super::schema;

use super::inputs::{RemoveRequestIdentifiersInput, RequestIdentifiersInput};
use super::objects::RequestIdentifiersPayload;
use super::operation;

/// Which page of requests' identifiers to read.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RequestIdentifiersPage {
    /// The requests.
    pub request_ids: Vec<String>,
    /// How many (at most [`MAX_PAGE`](super::MAX_PAGE)).
    pub first: i32,
    /// How many to skip.
    pub offset: i32,
}

impl RequestIdentifiersPage {
    /// The first page of 100 of this request's identifiers.
    pub fn first(request_id: &str) -> Self {
        Self {
            request_ids: vec![request_id.to_owned()],
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
    input: RequestIdentifiersInput,
    first: Option<i32>,
    offset: Option<i32>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "Query", variables = "ListVariables")]
pub struct ListQuery {
    #[arguments(input: $input, first: $first, offset: $offset)]
    request_identifiers: RequestIdentifiersPayload,
}

/// `requestIdentifiers`: a page of requests' identifiers.
#[derive(Debug, Clone, Copy)]
pub struct RequestIdentifiers;

operation!(
    RequestIdentifiers, "requestIdentifiers", query, ListQuery,
    |page: &RequestIdentifiersPage| ListVariables {
        input: RequestIdentifiersInput {
            request_ids: Some(page.request_ids.iter().map(cynic::Id::new).collect()),
        },
        first: Some(page.first),
        offset: Some(page.offset),
    },
    |data| data.request_identifiers => RequestIdentifiersPayload
);

#[derive(cynic::QueryVariables, Debug)]
pub struct RemoveVariables {
    input: RemoveRequestIdentifiersInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "RemoveRequestIdentifiersPayload")]
pub struct RemovePayload {
    count: i32,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Mutation",
    variables = "RemoveVariables"
)]
pub struct RemoveMutation {
    #[arguments(input: $input)]
    remove_request_identifiers: RemovePayload,
}

/// `removeRequestIdentifiers`: removes identifiers from a request; how many went.
#[derive(Debug, Clone, Copy)]
pub struct RemoveRequestIdentifiers;

operation!(
    RemoveRequestIdentifiers, "removeRequestIdentifiers", mutation, RemoveMutation,
    |input: &RemoveRequestIdentifiersInput| RemoveVariables { input: input.clone() },
    |data| data.remove_request_identifiers.count => i32
);
