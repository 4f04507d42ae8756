//! One HTTP request to the emulator: injected faults first, then the OpenAPI document,
//! the inspection API, or the Sombra API (through the endpoint table's dispatch).

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use transcend_proto::dispatch;
use transcend_proto::server::{Credentials, Reply, ServerError};

use crate::actions::{act, is_action};
use crate::api::{Api, FileBody};
use crate::auth::{authenticate, require};
use crate::config::Scope;
use crate::inspect::{inspect, is_inspection};
use crate::limits::Fault;
use crate::state::Shared;
use crate::trigger::{TRIGGER_PATH, trigger};

/// Where the OpenAPI 3.1 document of the API is served (no key needed).
pub const OPENAPI_PATH: &str = "/openapi.json";

/// The whole state as JSON: `GET` exports it, `POST` imports an export (a key that
/// may view).
pub const STATE_PATH: &str = "/emulator/v1/state";

/// The connection is to be closed without an answer (an injected fault).
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
pub(crate) struct Dropped;

/// What the emulator answers with: whole bytes or a streamed report file.
pub(crate) type Answer = Response<Reply<FileBody>>;

fn whole(response: Response<Bytes>) -> Answer {
    response.map(Reply::full)
}

pub(crate) async fn handle(api: Api, request: Request<Incoming>) -> Result<Answer, Dropped> {
    let shared = Arc::clone(&api.0);
    if request.uri().path() == OPENAPI_PATH && request.method() == http::Method::GET {
        let mut response = Response::new(shared.openapi.clone());
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        return Ok(whole(response));
    }
    if let Some(page) = crate::dashboard::serve(request.method(), request.uri().path()) {
        return Ok(whole(page));
    }
    if request.uri().path() == STATE_PATH {
        return Ok(whole(
            state_io(&shared, request)
                .await
                .unwrap_or_else(|e| e.to_response()),
        ));
    }
    if request.uri().path() == TRIGGER_PATH {
        return Ok(whole(
            triggered(&shared, request)
                .await
                .unwrap_or_else(|e| e.to_response()),
        ));
    }
    if is_action(&request) {
        return Ok(whole(
            act(&shared, &request).unwrap_or_else(|e| e.to_response()),
        ));
    }
    if is_inspection(request.uri().path()) {
        let path = request.uri().path().to_owned();
        let answered = inspect(&shared, &request, &path).unwrap_or_else(|e| e.to_response());
        return Ok(whole(answered));
    }
    if let Some(faults) = &shared.faults {
        let latency = faults.lock().map(|f| f.latency()).unwrap_or_default();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let fault = faults.lock().map(|mut f| f.next()).unwrap_or(Fault::None);
        match fault {
            Fault::None => {}
            Fault::Error500 => return Ok(unavailable(StatusCode::INTERNAL_SERVER_ERROR)),
            Fault::Error502 => return Ok(unavailable(StatusCode::BAD_GATEWAY)),
            Fault::Drop => return Err(Dropped),
        }
    }
    if request.uri().path() == crate::graphql::GRAPHQL_PATH {
        return Ok(whole(crate::graphql::serve(&shared, request).await));
    }
    let changes_state = request.method() != http::Method::GET;
    let rate_key = shared.rate.as_ref().and_then(|_| {
        Credentials::from_headers(request.headers())
            .api_key
            .map(|key| key.expose().to_owned())
    });
    let mut answer = dispatch(&api, request).await;
    if let (Some(limiter), Some(key)) = (&shared.rate, rate_key)
        && answer.status() != StatusCode::TOO_MANY_REQUESTS
    {
        let window = limiter
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .window(
                &key,
                std::time::Instant::now(),
                std::time::SystemTime::now(),
            );
        rate_limit_headers(answer.headers_mut(), &window);
    }
    // A fault after the request took effect: it is stored, the answer is lost.
    if changes_state
        && answer.status().is_success()
        && let Some(faults) = &shared.faults
    {
        let fault = faults
            .lock()
            .map(|mut f| f.next_after())
            .unwrap_or(Fault::None);
        if fault != Fault::None {
            tracing::info!(?fault, "injected a fault after the request took effect");
        }
        match fault {
            Fault::None => {}
            Fault::Error500 => return Ok(unavailable(StatusCode::INTERNAL_SERVER_ERROR)),
            Fault::Error502 => return Ok(unavailable(StatusCode::BAD_GATEWAY)),
            Fault::Drop => return Err(Dropped),
        }
    }
    Ok(answer)
}

/// `GET` or `POST` [`STATE_PATH`]: export the whole state, or import an export.
async fn state_io(
    shared: &Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Bytes>, ServerError> {
    let key = authenticate(shared, &Credentials::from_headers(request.headers()))?;
    // Reading the state needs `view`; replacing it, as every POST under /emulator/v1/,
    // needs `manage`.
    let needed = if request.method() == http::Method::GET {
        Scope::View
    } else {
        Scope::Manage
    };
    require(&key, needed)?;
    let answer = match *request.method() {
        http::Method::GET => {
            let shared = Arc::clone(shared);
            // Serialising a large state is work for a blocking thread, not the server's.
            tokio::task::spawn_blocking(move || {
                serde_json::to_vec(&crate::state::export(&shared)).unwrap_or_default()
            })
            .await
            .map_err(|_| crate::files::internal("the export"))?
        }
        http::Method::POST => {
            let limit = shared.config.body_limit;
            let body = http_body_util::Limited::new(
                request.into_body(),
                usize::try_from(limit).unwrap_or(usize::MAX),
            )
            .collect()
            .await
            .map_err(|_| ServerError::PayloadTooLarge { limit })?
            .to_bytes();
            let state = serde_json::from_slice(&body).map_err(|e| ServerError::BadRequest {
                message: format!("not an export: {e}"),
            })?;
            let imported = crate::state::import(shared, state)
                .map_err(|message| ServerError::BadRequest { message })?;
            serde_json::to_vec(&serde_json::json!({ "imported": imported })).unwrap_or_default()
        }
        _ => {
            return Err(ServerError::MethodNotAllowed {
                method: request.method().clone(),
                allowed: vec![http::Method::GET, http::Method::POST],
            });
        }
    };
    let mut response = Response::new(Bytes::from(answer));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// `POST /emulator/v1/webhooks` with a key that may manage: send one signed webhook.
async fn triggered(
    shared: &Shared,
    request: Request<Incoming>,
) -> Result<Response<Bytes>, ServerError> {
    if request.method() != http::Method::POST {
        return Err(ServerError::MethodNotAllowed {
            method: request.method().clone(),
            allowed: vec![http::Method::POST],
        });
    }
    let key = authenticate(shared, &Credentials::from_headers(request.headers()))?;
    require(&key, Scope::Manage)?;
    let body = http_body_util::Limited::new(request.into_body(), 64 << 10)
        .collect()
        .await
        .map_err(|_| ServerError::PayloadTooLarge { limit: 64 << 10 })?
        .to_bytes();
    let answer = trigger(shared, &body).await?;
    let mut response = Response::new(answer);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// The `X-RateLimit-*` headers of an answer that was let through. The reset is in epoch
/// milliseconds (one of the forms clients read), precise enough to pace by.
fn rate_limit_headers(headers: &mut http::HeaderMap, window: &transcend_proto::RateLimit) {
    use transcend_proto::headers::{X_RATELIMIT_LIMIT, X_RATELIMIT_REMAINING, X_RATELIMIT_RESET};
    if let Some(limit) = window.limit {
        headers.insert(X_RATELIMIT_LIMIT, http::HeaderValue::from(limit));
    }
    if let Some(remaining) = window.remaining {
        headers.insert(X_RATELIMIT_REMAINING, http::HeaderValue::from(remaining));
    }
    if let Some(transcend_proto::RateLimitReset::At(at)) = window.reset {
        let millis = at
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        if let Ok(value) = http::HeaderValue::from_str(&millis.to_string()) {
            headers.insert(X_RATELIMIT_RESET, value);
        }
    }
}

fn unavailable(status: StatusCode) -> Answer {
    whole(
        ServerError::Unavailable {
            status,
            message: "injected fault".into(),
        }
        .to_response(),
    )
}
