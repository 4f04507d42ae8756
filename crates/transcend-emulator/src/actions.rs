//! What a person does from Transcend's dashboard, through the inspection API:
//! `POST /emulator/v1/requests/{id}/approve`, `…/cancel` and `…/revoke`, and for a
//! silo's job
//! `POST /emulator/v1/requests/{id}/jobs/{silo}/redeliver` and `…/skip`.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response};
use percent_encoding::percent_decode_str;
use transcend_proto::server::{Credentials, ServerError};
use transcend_proto::types::RequestStatus;

use crate::auth::{authenticate, require};
use crate::config::Scope;
use crate::inspect::INSPECTION_PREFIX;
use crate::state::Shared;
use crate::store::Event;
use crate::view::JobStatus;

/// An action the inspection API takes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Approve(String),
    Cancel(String),
    Revoke(String),
    Redeliver(String, String),
    Skip(String, String),
}

/// The action a POST path names, if any.
fn action_of(path: &str) -> Option<Action> {
    let rest = path.strip_prefix(INSPECTION_PREFIX)?.strip_prefix('/')?;
    let parts: Vec<String> = rest
        .split('/')
        .map(|p| percent_decode_str(p).decode_utf8_lossy().into_owned())
        .collect();
    match parts
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [id, "approve"] => Some(Action::Approve((*id).to_owned())),
        [id, "cancel"] => Some(Action::Cancel((*id).to_owned())),
        [id, "revoke"] => Some(Action::Revoke((*id).to_owned())),
        [id, "jobs", silo, "redeliver"] => {
            Some(Action::Redeliver((*id).to_owned(), (*silo).to_owned()))
        }
        [id, "jobs", silo, "skip"] => Some(Action::Skip((*id).to_owned(), (*silo).to_owned())),
        _ => None,
    }
}

/// Whether a request is a POST to the inspection API (an action).
pub(crate) fn is_action<B>(request: &Request<B>) -> bool {
    request.method() == Method::POST && action_of(request.uri().path()).is_some()
}

/// Takes the action and answers with the request's view.
pub(crate) fn act<B>(
    shared: &Arc<Shared>,
    request: &Request<B>,
) -> Result<Response<Bytes>, ServerError> {
    // A change, as the admin API's mutations are: a key that may only view is refused.
    let key = authenticate(shared, &Credentials::from_headers(request.headers()))?;
    require(&key, Scope::Manage)?;
    let action = action_of(request.uri().path()).ok_or_else(|| ServerError::NotFound {
        what: "no such action".into(),
    })?;
    let (id, event) = match &action {
        Action::Approve(id) => (id, Event::Approved),
        Action::Cancel(id) => (id, Event::Ended(RequestStatus::Canceled)),
        Action::Revoke(id) => (id, Event::Ended(RequestStatus::Revoked)),
        Action::Skip(id, silo) => (
            id,
            Event::SiloSet {
                silo: silo.clone(),
                status: JobStatus::Skipped,
            },
        ),
        Action::Redeliver(id, silo) => {
            if !shared
                .config
                .data_silos
                .iter()
                .any(|s| s.id == *silo && !s.pull)
            {
                return Err(ServerError::NotFound {
                    what: "no webhook data silo with that id".into(),
                });
            }
            (
                id,
                Event::SiloRetried {
                    silo: silo.clone(),
                    pull: false,
                },
            )
        }
    };
    shared.apply(id, event)?;
    let id = id.clone();
    tracing::info!(?action, "inspection action");
    let view = shared
        .store
        .view(&id)
        .ok_or_else(|| ServerError::NotFound {
            what: "no request with that id".into(),
        })?;
    let body = serde_json::to_vec(&view).map_err(|e| ServerError::BadRequest {
        message: e.to_string(),
    })?;
    let mut response = Response::new(Bytes::from(body));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_paths_are_read() {
        let at = |rest: &str| action_of(&format!("{INSPECTION_PREFIX}/{rest}"));
        assert_eq!(at("r%201/cancel"), Some(Action::Cancel("r 1".into())));
        assert_eq!(at("r/revoke"), Some(Action::Revoke("r".into())));
        assert_eq!(
            at("r/jobs/s/redeliver"),
            Some(Action::Redeliver("r".into(), "s".into()))
        );
        assert_eq!(
            at("r/jobs/s/skip"),
            Some(Action::Skip("r".into(), "s".into()))
        );
        assert_eq!(at("r"), None);
        assert_eq!(at("r/jobs/s"), None);
    }
}
