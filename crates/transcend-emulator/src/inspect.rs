//! The inspection API: `GET /emulator/v1/requests[/{id}]`, everything that happened to
//! each request, for a key with the `view` scope.

use bytes::Bytes;
use http::{Method, Request, Response};
use transcend_proto::server::{Credentials, ServerError};

use crate::auth::{authenticate, require};
use crate::config::Scope;
use crate::files::internal;
use crate::state::Shared;

/// An id as an error quotes it: at most 128 characters.
fn cut(id: &str) -> String {
    id.chars().take(128).collect()
}

/// The prefix of the inspection API.
pub const INSPECTION_PREFIX: &str = "/emulator/v1/requests";

/// Whether `path` is the inspection API's.
pub(crate) fn is_inspection(path: &str) -> bool {
    path.strip_prefix(INSPECTION_PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The most requests one page lists.
const MAX_PAGE: usize = 1_000;
/// The requests a listing without `limit` answers: a listing is always a page, so no
/// call can make the emulator serialise every request it holds.
const DEFAULT_PAGE: usize = 100;

/// `?limit=&offset=` of a listing: the page asked for, newest first.
fn paging(query: Option<&str>) -> Result<(usize, usize), ServerError> {
    let mut limit = DEFAULT_PAGE;
    let mut offset = 0;
    for (name, value) in form_pairs(query.unwrap_or_default()) {
        let number = || {
            value.parse::<usize>().map_err(|_| ServerError::BadRequest {
                message: format!("{name} must be a whole number"),
            })
        };
        match name {
            "limit" => limit = number()?.clamp(1, MAX_PAGE),
            "offset" => offset = number()?,
            _ => {}
        }
    }
    Ok((offset, limit))
}

fn form_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .filter(|(name, _)| !name.is_empty())
}

/// `GET /emulator/v1/requests[/{id}]`, with a key that may view.
pub(crate) fn inspect<B>(
    shared: &Shared,
    request: &Request<B>,
    path: &str,
) -> Result<Response<Bytes>, ServerError> {
    if request.method() != Method::GET {
        return Err(ServerError::MethodNotAllowed {
            method: request.method().clone(),
            allowed: vec![Method::GET],
        });
    }
    let key = authenticate(shared, &Credentials::from_headers(request.headers()))?;
    require(&key, Scope::View)?;
    let body = match path
        .strip_prefix(INSPECTION_PREFIX)
        .and_then(|rest| rest.strip_prefix('/'))
    {
        None | Some("") => {
            let (offset, limit) = paging(request.uri().query())?;
            serde_json::to_vec(&shared.store.page(offset, limit))
        }
        Some(segment) => {
            let id = percent_encoding::percent_decode_str(segment)
                .decode_utf8()
                .map_err(|_| ServerError::NotFound {
                    what: "no request with that id (not UTF-8)".into(),
                })?;
            let view = shared
                .store
                .view(&id)
                .ok_or_else(|| ServerError::NotFound {
                    what: format!("no request with id {}", cut(&id)),
                })?;
            serde_json::to_vec(&view)
        }
    }
    .map_err(|_| internal("inspection"))?;
    Ok(Response::builder()
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Bytes::from(body))
        .unwrap_or_default())
}
