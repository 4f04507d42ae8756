//! `updateRequest(s)`, `notifyAdditionalTime(s)`, `placeRequestOnHold`, `resumeRequest`.

use super::schema;

use super::inputs::{
    AdditionalTimeInput, NotifyAdditionalTimesInput, UpdateRequestInput, UpdateRequestsInput,
};
use super::objects::Request;
use super::operation;

#[derive(cynic::QueryVariables, Debug)]
pub struct UpdateVariables {
    input: UpdateRequestInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "UpdateRequestPayload")]
pub struct UpdatePayload {
    request: Request,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Mutation",
    variables = "UpdateVariables"
)]
pub struct UpdateMutation {
    #[arguments(input: $input)]
    update_request: UpdatePayload,
}

/// `updateRequest`: changes a request's fields (`isSilent: true` is "mark silent").
#[derive(Debug, Clone, Copy)]
pub struct UpdateRequest;

operation!(
    UpdateRequest, "updateRequest", mutation, UpdateMutation,
    |input: &UpdateRequestInput| UpdateVariables { input: input.clone() },
    |data| data.update_request.request => Request
);

#[derive(cynic::QueryVariables, Debug)]
pub struct UpdateManyVariables {
    input: UpdateRequestsInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "UpdateRequestsPayload")]
pub struct UpdateManyPayload {
    requests: Vec<Request>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Mutation",
    variables = "UpdateManyVariables"
)]
pub struct UpdateManyMutation {
    #[arguments(input: $input)]
    update_requests: UpdateManyPayload,
}

/// `updateRequests`: changes several requests at once.
#[derive(Debug, Clone, Copy)]
pub struct UpdateRequests;

operation!(
    UpdateRequests, "updateRequests", mutation, UpdateManyMutation,
    |input: &UpdateRequestsInput| UpdateManyVariables { input: input.clone() },
    |data| data.update_requests.requests => Vec<Request>
);

#[derive(cynic::QueryVariables, Debug)]
pub struct NotifyVariables {
    input: AdditionalTimeInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "NotifyAdditionalTimePayload")]
pub struct NotifyPayload {
    client_mutation_id: Option<String>,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Mutation",
    variables = "NotifyVariables"
)]
pub struct NotifyMutation {
    #[arguments(input: $input)]
    notify_additional_time: NotifyPayload,
}

/// `notifyAdditionalTime`: extends a request's deadline by `additionalTime` days and
/// tells the person (`daysRemaining` grows).
#[derive(Debug, Clone, Copy)]
pub struct NotifyAdditionalTime;

operation!(
    NotifyAdditionalTime, "notifyAdditionalTime", mutation, NotifyMutation,
    |input: &AdditionalTimeInput| NotifyVariables { input: input.clone() },
    |data| { let _ = data.notify_additional_time.client_mutation_id; } => ()
);

#[derive(cynic::QueryVariables, Debug)]
pub struct NotifyManyVariables {
    input: NotifyAdditionalTimesInput,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "NotifyAdditionalTimesPayload")]
pub struct NotifyManyPayload {
    success: bool,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(
    schema = "admin",
    graphql_type = "Mutation",
    variables = "NotifyManyVariables"
)]
pub struct NotifyManyMutation {
    #[arguments(input: $input)]
    notify_additional_times: NotifyManyPayload,
}

/// `notifyAdditionalTimes`: extends several requests' deadlines; whether it succeeded.
#[derive(Debug, Clone, Copy)]
pub struct NotifyAdditionalTimes;

operation!(
    NotifyAdditionalTimes, "notifyAdditionalTimes", mutation, NotifyManyMutation,
    |input: &NotifyAdditionalTimesInput| NotifyManyVariables { input: input.clone() },
    |data| data.notify_additional_times.success => bool
);

#[derive(cynic::QueryVariables, Debug)]
pub struct IdVariables {
    id: cynic::Id,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "PlaceRequestOnHoldPayload")]
pub struct HoldPayload {
    request: Request,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "Mutation", variables = "IdVariables")]
pub struct HoldMutation {
    #[arguments(id: $id)]
    place_request_on_hold: HoldPayload,
}

/// `placeRequestOnHold`: puts an open request `ON_HOLD`.
#[derive(Debug, Clone, Copy)]
pub struct PlaceRequestOnHold;

operation!(
    PlaceRequestOnHold, "placeRequestOnHold", mutation, HoldMutation,
    |id: &str| IdVariables { id: cynic::Id::new(id) },
    |data| data.place_request_on_hold.request => Request
);

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "ResumeRequestPayload")]
pub struct ResumePayload {
    request: Request,
}

#[derive(cynic::QueryFragment, Debug)]
#[cynic(schema = "admin", graphql_type = "Mutation", variables = "IdVariables")]
pub struct ResumeMutation {
    #[arguments(id: $id)]
    resume_request: ResumePayload,
}

/// `resumeRequest`: takes a request off hold, back where it was.
#[derive(Debug, Clone, Copy)]
pub struct ResumeRequest;

operation!(
    ResumeRequest, "resumeRequest", mutation, ResumeMutation,
    |id: &str| IdVariables { id: cynic::Id::new(id) },
    |data| data.resume_request.request => Request
);
