//! The admin API's mutations: each a lifecycle event of the request, or a change of
//! the fields a privacy team edits, noted on the request's timeline.

use async_graphql::{Context, ID, Object};
use transcend_proto::types::RequestStatus as Status;

use super::inputs::{
    AdditionalTimeInput, ApproveRequestsInput, CancelRequestsInput, CommunicationInput,
    NotifyAdditionalTimesInput, RemoveRequestIdentifiersInput, UpdateRequestDataSiloStatusInput,
    UpdateRequestDataSiloStatusesInput, UpdateRequestInput, UpdateRequestsInput,
};
use super::objects::{
    ApproveRequestPayload, ApproveRequestsPayload, CancelRequestPayload, CancelRequestsPayload,
    ChangeRequestDataSiloStatusPayload, ChangeRequestDataSiloStatusesPayload,
    NotifyAdditionalTimePayload, NotifyAdditionalTimesPayload, PlaceRequestOnHoldPayload,
    RemoveRequestIdentifiersPayload, RequestDataSilo, RequestEnricher, RequestNode,
    ResumeRequestPayload, RetryRequestDataSiloPayload, RetryRequestEnricherPayload,
    SkipRequestEnricherPayload, UpdateRequestPayload, UpdateRequestsPayload,
};
use super::query::is_manual;
use super::{invalid, not_found, refused, require, shared_of};
use crate::config::Scope;
use crate::state::Shared;
use crate::store::{Event, parse_part_id};
use crate::view::JobStatus;

/// The admin API's mutations.
pub(crate) struct Mutation;

type Result<T> = async_graphql::Result<T>;

fn request_node(shared: &Shared, id: &str) -> Result<RequestNode> {
    shared
        .store
        .admin_record(id)
        .map(RequestNode::from)
        .ok_or_else(|| not_found(format!("Request {id} not found")))
}

/// Hands a request an event, and answers with the request as it is now.
fn apply(shared: &std::sync::Arc<Shared>, id: &str, event: Event) -> Result<RequestNode> {
    shared.apply(id, event).map_err(refused)?;
    request_node(shared, id)
}

/// Notes the e-mail a change sends the person, unless the request is silent.
fn email(shared: &Shared, id: &str, what: &str, subject: Option<&str>) {
    let silent = shared
        .store
        .admin_record(id)
        .is_some_and(|record| record.is_silent);
    if !silent {
        let subject =
            subject.map_or_else(|| "the workflow's e-mail".to_owned(), |s| format!("{s:?}"));
        shared
            .store
            .note(id, format!("{what}: the person was e-mailed {subject}"));
    }
}

/// A person's decision on a request (approved, canceled): made silent first when
/// asked, then the event, and the e-mail it sends noted.
fn decide(
    shared: &std::sync::Arc<Shared>,
    id: &str,
    silent_first: bool,
    event: Event,
    subject: &Option<String>,
) -> Result<RequestNode> {
    if silent_first {
        shared
            .store
            .update_fields(id, Some(true), None, None)
            .map_err(refused)?;
    }
    let what = match event {
        Event::Approved => "approved",
        _ => "canceled",
    };
    let request = apply(shared, id, event)?;
    email(shared, id, what, subject.as_deref());
    Ok(request)
}

fn silo_part(shared: &Shared, part_id: &str) -> Result<RequestDataSilo> {
    let part = shared
        .store
        .silo_part(part_id)
        .ok_or_else(|| not_found(format!("RequestDataSilo {part_id} not found")))?;
    let title = shared
        .config
        .data_silos
        .iter()
        .find(|s| s.id == part.data_silo_id && !s.title.is_empty())
        .map_or_else(|| part.data_silo_id.clone(), |s| s.title.clone());
    Ok(RequestDataSilo::new(part, title))
}

fn enricher_part(shared: &Shared, part_id: &str) -> Result<RequestEnricher> {
    let part = shared
        .store
        .enricher_part(part_id)
        .ok_or_else(|| not_found(format!("RequestEnricher {part_id} not found")))?;
    let manual = is_manual(shared, &part.enricher_id);
    Ok(RequestEnricher::new(part, manual))
}

/// Hands an enricher's part of a request the event `make` builds, notes it on the
/// request's timeline as `done`, and answers with the part as it is now.
fn on_enricher(
    shared: &std::sync::Arc<Shared>,
    part_id: &str,
    done: &str,
    make: impl FnOnce(&str) -> Event,
) -> Result<RequestEnricher> {
    let (request, enricher) = split_part(part_id, "RequestEnricher")?;
    shared.apply(request, make(enricher)).map_err(refused)?;
    shared
        .store
        .note(request, format!("enricher {enricher} {done}"));
    enricher_part(shared, part_id)
}

fn split_part<'a>(id: &'a str, what: &str) -> Result<(&'a str, &'a str)> {
    parse_part_id(id).ok_or_else(|| not_found(format!("{what} {id} not found")))
}

fn update(shared: &std::sync::Arc<Shared>, input: &UpdateRequestInput) -> Result<RequestNode> {
    if input.status.is_some() || input.created_at.is_some() || input.attributes.is_some() {
        return Err(invalid(
            "the emulator changes isSilent, isTest and details; status, createdAt and attributes stay as submitted",
        ));
    }
    shared
        .store
        .update_fields(
            &input.id,
            input.is_silent,
            input.is_test,
            input.details.clone(),
        )
        .map_err(refused)?;
    request_node(shared, &input.id)
}

fn notify(
    shared: &std::sync::Arc<Shared>,
    id: &str,
    days: i32,
    subject: Option<&str>,
) -> Result<()> {
    if days <= 0 {
        return Err(invalid(format!(
            "additionalTime must be a positive number of days, not {days}"
        )));
    }
    shared
        .store
        .extend_deadline(id, i64::from(days))
        .map_err(refused)?;
    email(shared, id, "more time", subject);
    Ok(())
}

#[Object]
impl Mutation {
    /// Approves a request waiting in `APPROVING` (or `SECONDARY_APPROVING`).
    async fn approve_request(
        &self,
        ctx: &Context<'_>,
        input: CommunicationInput,
    ) -> Result<ApproveRequestPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        let request = decide(
            shared,
            &input.request_id,
            false,
            Event::Approved,
            &input.subject,
        )?;
        Ok(ApproveRequestPayload { request })
    }

    /// Approves several requests; stops at the first that cannot be.
    async fn approve_requests(
        &self,
        ctx: &Context<'_>,
        input: ApproveRequestsInput,
    ) -> Result<ApproveRequestsPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        let silent = input.is_silent == Some(true);
        let requests = input
            .request_ids
            .iter()
            .map(|id| decide(shared, id, silent, Event::Approved, &input.subject))
            .collect::<Result<Vec<_>>>()?;
        Ok(ApproveRequestsPayload {
            client_mutation_id: None,
            requests,
        })
    }

    /// Cancels an open request.
    async fn cancel_request(
        &self,
        ctx: &Context<'_>,
        input: CommunicationInput,
    ) -> Result<CancelRequestPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        let canceled = Event::Ended(Status::Canceled);
        let request = decide(shared, &input.request_id, false, canceled, &input.subject)?;
        Ok(CancelRequestPayload {
            client_mutation_id: None,
            request,
        })
    }

    /// Cancels several requests; stops at the first that cannot be.
    async fn cancel_requests(
        &self,
        ctx: &Context<'_>,
        input: CancelRequestsInput,
    ) -> Result<CancelRequestsPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        let silent = input.is_silent == Some(true);
        let requests = input
            .request_ids
            .iter()
            .map(|id| {
                let canceled = Event::Ended(Status::Canceled);
                decide(shared, id, silent, canceled, &input.subject)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(CancelRequestsPayload {
            client_mutation_id: None,
            requests,
        })
    }

    /// Changes a request's fields: `isSilent`, `isTest`, `details`.
    async fn update_request(
        &self,
        ctx: &Context<'_>,
        input: UpdateRequestInput,
    ) -> Result<UpdateRequestPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        Ok(UpdateRequestPayload {
            request: update(shared, &input)?,
        })
    }

    /// Changes several requests' fields.
    async fn update_requests(
        &self,
        ctx: &Context<'_>,
        input: UpdateRequestsInput,
    ) -> Result<UpdateRequestsPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        let requests = input
            .requests
            .iter()
            .map(|change| update(shared, change))
            .collect::<Result<Vec<_>>>()?;
        Ok(UpdateRequestsPayload {
            client_mutation_id: None,
            requests,
        })
    }

    /// Extends a request's deadline by `additionalTime` days and tells the person.
    async fn notify_additional_time(
        &self,
        ctx: &Context<'_>,
        input: AdditionalTimeInput,
    ) -> Result<NotifyAdditionalTimePayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        notify(
            shared,
            &input.request_id,
            input.additional_time,
            input.subject.as_deref(),
        )?;
        Ok(NotifyAdditionalTimePayload {
            client_mutation_id: None,
        })
    }

    /// Extends several requests' deadlines.
    async fn notify_additional_times(
        &self,
        ctx: &Context<'_>,
        input: NotifyAdditionalTimesInput,
    ) -> Result<NotifyAdditionalTimesPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        for id in &input.request_ids {
            notify(shared, id, input.additional_time, input.subject.as_deref())?;
        }
        Ok(NotifyAdditionalTimesPayload {
            client_mutation_id: None,
            success: true,
        })
    }

    /// Puts an open request on hold.
    async fn place_request_on_hold(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<PlaceRequestOnHoldPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        Ok(PlaceRequestOnHoldPayload {
            client_mutation_id: None,
            request: apply(shared, &id, Event::Held)?,
        })
    }

    /// Takes a request off hold, back where it was.
    async fn resume_request(&self, ctx: &Context<'_>, id: ID) -> Result<ResumeRequestPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        Ok(ResumeRequestPayload {
            client_mutation_id: None,
            request: apply(shared, &id, Event::Resumed)?,
        })
    }

    /// Sets a data silo's part of a request; the request moves on once every part is
    /// settled.
    async fn change_request_data_silo_status(
        &self,
        ctx: &Context<'_>,
        input: UpdateRequestDataSiloStatusInput,
    ) -> Result<ChangeRequestDataSiloStatusPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        let (request, silo) = split_part(&input.id, "RequestDataSilo")?;
        set_silo(shared, request, silo, input.status.into())?;
        Ok(ChangeRequestDataSiloStatusPayload {
            request_data_silo: silo_part(shared, &input.id)?,
        })
    }

    /// Sets several data silos' parts of one request.
    async fn change_request_data_silo_statuses(
        &self,
        ctx: &Context<'_>,
        input: UpdateRequestDataSiloStatusesInput,
    ) -> Result<ChangeRequestDataSiloStatusesPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        for silo in &input.data_silo_ids {
            set_silo(shared, &input.request_id, silo, input.status.into())?;
        }
        Ok(ChangeRequestDataSiloStatusesPayload {
            client_mutation_id: None,
            count: i32::try_from(input.data_silo_ids.len()).unwrap_or(i32::MAX),
        })
    }

    /// Runs a data silo's job again: a webhook silo gets a new webhook, a cron silo's
    /// job is open to be pulled again.
    async fn retry_request_data_silo(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<RetryRequestDataSiloPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        let (request, silo) = split_part(&id, "RequestDataSilo")?;
        let config = shared
            .config
            .data_silos
            .iter()
            .find(|s| s.id == silo)
            .ok_or_else(|| not_found(format!("no data silo {silo}")))?;
        let event = Event::SiloRetried {
            silo: silo.to_owned(),
            pull: config.pull,
        };
        shared.apply(request, event).map_err(refused)?;
        shared
            .store
            .note(request, format!("data silo {silo} retried"));
        Ok(RetryRequestDataSiloPayload {
            request_data_silo: silo_part(shared, &id)?,
        })
    }

    /// Runs an enricher again.
    async fn retry_request_enricher(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<RetryRequestEnricherPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        let request_enricher =
            on_enricher(shared, &id, "retried", |enricher| Event::EnricherRetried {
                enricher: enricher.to_owned(),
                manual: is_manual(shared, enricher),
            })?;
        Ok(RetryRequestEnricherPayload { request_enricher })
    }

    /// Skips an enricher; the silos start once every enricher is done.
    async fn skip_request_enricher(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<SkipRequestEnricherPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        let request_enricher =
            on_enricher(shared, &id, "skipped", |enricher| Event::EnricherSkipped {
                enricher: enricher.to_owned(),
            })?;
        Ok(SkipRequestEnricherPayload { request_enricher })
    }

    /// Removes identifiers from a request.
    async fn remove_request_identifiers(
        &self,
        ctx: &Context<'_>,
        input: RemoveRequestIdentifiersInput,
    ) -> Result<RemoveRequestIdentifiersPayload> {
        require(ctx, Scope::Manage)?;
        let shared = shared_of(ctx)?;
        let ids: Vec<String> = input
            .request_identifier_ids
            .iter()
            .map(|id| id.0.clone())
            .collect();
        let removed = shared
            .store
            .remove_identifiers(&input.request_id, &ids)
            .map_err(refused)?;
        Ok(RemoveRequestIdentifiersPayload {
            count: i32::try_from(removed).unwrap_or(i32::MAX),
        })
    }
}

/// Sets a silo's part by hand, noted on the request's timeline.
fn set_silo(
    shared: &std::sync::Arc<Shared>,
    request: &str,
    silo: &str,
    status: JobStatus,
) -> Result<()> {
    let event = Event::SiloSet {
        silo: silo.to_owned(),
        status,
    };
    shared.apply(request, event).map_err(refused)?;
    shared.store.note(
        request,
        format!("data silo {silo} set to {status:?} by hand"),
    );
    Ok(())
}
