//! `approveRequest(s)` and `cancelRequest(s)`.

use super::schema;

use super::inputs::{ApproveRequestsInput, CancelRequestsInput, CommunicationInput};
use super::objects::Request;
use super::operation;

#[derive(cynic::QueryVariables, Debug)]
pub struct CommunicationVariables {
    input: CommunicationInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "ApproveRequestPayload")]
pub struct ApprovePayload {
    request: Request,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Mutation",
    variables = "CommunicationVariables"
)]
pub struct ApproveMutation {
    #[arguments(input: $input)]
    approve_request: ApprovePayload,
}

/// `approveRequest`: approves a request waiting in `APPROVING`. Any other status is
/// refused with "Request must be in an approving state", which
/// [`Error::is_already_done`](crate::Error::is_already_done) recognises.
#[derive(Debug, Clone, Copy)]
pub struct ApproveRequest;

operation!(
    ApproveRequest, "approveRequest", mutation, ApproveMutation,
    |input: &CommunicationInput| CommunicationVariables { input: input.clone() },
    |data| data.approve_request.request => Request
);

#[derive(cynic::QueryVariables, Debug)]
pub struct ApproveManyVariables {
    input: ApproveRequestsInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "ApproveRequestsPayload")]
pub struct ApproveManyPayload {
    requests: Vec<Request>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Mutation",
    variables = "ApproveManyVariables"
)]
pub struct ApproveManyMutation {
    #[arguments(input: $input)]
    approve_requests: ApproveManyPayload,
}

/// `approveRequests`: approves several requests at once.
#[derive(Debug, Clone, Copy)]
pub struct ApproveRequests;

operation!(
    ApproveRequests, "approveRequests", mutation, ApproveManyMutation,
    |input: &ApproveRequestsInput| ApproveManyVariables { input: input.clone() },
    |data| data.approve_requests.requests => Vec<Request>
);

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "CancelRequestPayload")]
pub struct CancelPayload {
    request: Request,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Mutation",
    variables = "CommunicationVariables"
)]
pub struct CancelMutation {
    #[arguments(input: $input)]
    cancel_request: CancelPayload,
}

/// `cancelRequest`: cancels an open request, e-mailing the person unless it is silent.
#[derive(Debug, Clone, Copy)]
pub struct CancelRequest;

operation!(
    CancelRequest, "cancelRequest", mutation, CancelMutation,
    |input: &CommunicationInput| CommunicationVariables { input: input.clone() },
    |data| data.cancel_request.request => Request
);

#[derive(cynic::QueryVariables, Debug)]
pub struct CancelManyVariables {
    input: CancelRequestsInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "CancelRequestsPayload")]
pub struct CancelManyPayload {
    requests: Vec<Request>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Mutation",
    variables = "CancelManyVariables"
)]
pub struct CancelManyMutation {
    #[arguments(input: $input)]
    cancel_requests: CancelManyPayload,
}

/// `cancelRequests`: cancels several requests at once.
#[derive(Debug, Clone, Copy)]
pub struct CancelRequests;

operation!(
    CancelRequests, "cancelRequests", mutation, CancelManyMutation,
    |input: &CancelRequestsInput| CancelManyVariables { input: input.clone() },
    |data| data.cancel_requests.requests => Vec<Request>
);
