//! `requests` (a page, by cursor) and `request` (one).

use super::schema;

use super::inputs::{RequestFilters, RequestOrder};
use super::objects::{Request, RequestCount, RequestsPayload};
use super::operation;

/// Which page of requests to read.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct RequestsPage {
    /// Which requests.
    pub filter: RequestFilters,
    /// How many (at most [`MAX_PAGE`](super::MAX_PAGE)).
    pub first: i32,
    /// The previous page's `endCursor`; `None` for the first page.
    pub after: Option<String>,
    /// The order; empty for the server's.
    pub order_by: Vec<RequestOrder>,
}

impl RequestsPage {
    /// The first page of 100 of `filter`, in the stable order of a cursor walk
    /// (`createdAt`, then `id`).
    pub fn first(filter: RequestFilters) -> Self {
        Self {
            filter,
            first: super::MAX_PAGE,
            after: None,
            order_by: RequestOrder::stable(),
        }
    }

    /// The page after `cursor`, otherwise the same.
    pub fn after(&self, cursor: impl Into<String>) -> Self {
        Self {
            after: Some(cursor.into()),
            ..self.clone()
        }
    }
}

#[derive(cynic::QueryVariables, Debug)]
pub struct RequestsVariables {
    filter_by: Option<RequestFilters>,
    first: Option<i32>,
    after: Option<String>,
    order_by: Option<Vec<RequestOrder>>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Query",
    variables = "RequestsVariables"
)]
pub struct RequestsQuery {
    #[arguments(filterBy: $filter_by, first: $first, after: $after, orderBy: $order_by)]
    requests: RequestsPayload,
}

/// `requests`: a page of requests matching a filter, with the cursor of the next.
#[derive(Debug, Clone, Copy)]
pub struct ListRequests;

operation!(
    ListRequests, "requests", query, RequestsQuery,
    |page: &RequestsPage| RequestsVariables {
        filter_by: Some(page.filter.clone()),
        first: Some(page.first),
        after: page.after.clone(),
        order_by: (!page.order_by.is_empty()).then(|| page.order_by.clone()),
    },
    |data| data.requests => RequestsPayload
);

#[derive(cynic::QueryVariables, Debug)]
pub struct CountVariables {
    filter_by: Option<RequestFilters>,
    first: Option<i32>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "Query", variables = "CountVariables")]
pub struct CountQuery {
    #[arguments(filterBy: $filter_by, first: $first)]
    requests: RequestCount,
}

/// `requests(first: 0) { totalCount }`: how many requests match a filter (what
/// Transcend's CLI asks first, for its progress bar).
#[derive(Debug, Clone, Copy)]
pub struct CountRequests;

operation!(
    CountRequests, "requests", query, CountQuery,
    |filter: &RequestFilters| CountVariables { filter_by: Some(filter.clone()), first: Some(0) },
    |data| data.requests.total_count => i32
);

#[derive(cynic::QueryVariables, Debug)]
pub struct IdVariables {
    id: cynic::Id,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "Query", variables = "IdVariables")]
pub struct RequestQuery {
    #[arguments(id: $id)]
    request: Request,
}

/// `request(id)`: one request.
#[derive(Debug, Clone, Copy)]
pub struct GetRequest;

operation!(
    GetRequest, "request", query, RequestQuery,
    |id: &str| IdVariables { id: cynic::Id::new(id) },
    |data| data.request => Request
);
