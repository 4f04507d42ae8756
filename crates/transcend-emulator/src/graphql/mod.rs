//! Transcend's admin GraphQL API, played over the emulator's store: `POST /graphql`
//! with every query and mutation of the project's schema file, the same keys, scopes
//! and rate limit as Sombra's API, and the errors Transcend's tooling knows (`API key
//! is invalid`, `Too many requests` with `x-ratelimit-reset`, validation failures).
//!
//! The schema comes from the types here (async-graphql); a test compares it with the
//! schema file the client is generated from.

mod enums;
mod inputs;
mod mutation;
mod objects;
mod query;

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use async_graphql::{EmptySubscription, ErrorExtensions, Schema};
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use transcend_proto::server::{Credentials, ServerError};

use crate::config::{ApiKeyConfig, Scope};
use crate::state::Shared;
use crate::store::Refused;

pub(crate) use mutation::Mutation;
pub(crate) use query::Query;

/// Where the admin API is served.
pub const GRAPHQL_PATH: &str = "/graphql";

/// The largest GraphQL request taken: a document and its variables.
const MAX_BODY: u64 = 4 * 1024 * 1024;

/// The emulator's admin schema.
pub(crate) type AdminSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema, with limits on what one document may ask for: no query can make the
/// emulator do unbounded work.
pub(crate) fn schema() -> AdminSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .limit_depth(12)
        .limit_complexity(50_000)
        .limit_recursive_depth(32)
        .limit_directives(16)
        .finish()
}

/// The admin schema the emulator serves, in GraphQL's schema language.
pub fn admin_schema_sdl() -> String {
    schema().sdl()
}

/// The key a GraphQL request authenticated with.
pub(crate) struct Caller(pub Arc<ApiKeyConfig>);

/// The emulator, from a resolver.
pub(crate) fn shared_of<'a>(
    ctx: &async_graphql::Context<'a>,
) -> async_graphql::Result<&'a Arc<Shared>> {
    ctx.data::<Arc<Shared>>()
}

/// Refuses an operation when the key lacks `scope`.
pub(crate) fn require(ctx: &async_graphql::Context<'_>, scope: Scope) -> async_graphql::Result<()> {
    let caller = ctx.data::<Caller>()?;
    if caller.0.scopes.contains(&scope) {
        Ok(())
    } else {
        Err(coded(
            format!(
                "Unauthorized: the API key does not have the scope \"{}\"",
                scope.title()
            ),
            "FORBIDDEN",
        ))
    }
}

/// An error with `extensions.code`.
pub(crate) fn coded(message: impl Into<String>, code: &'static str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

/// Input that is refused as it is.
pub(crate) fn invalid(message: impl Into<String>) -> async_graphql::Error {
    coded(message, "BAD_USER_INPUT")
}

/// A value Transcend's backend cannot decode (its input validation).
pub(crate) fn codec_error(field: &str, value: &str) -> async_graphql::Error {
    invalid(format!(
        "Failed to decode codec: {field} {:?} is not an ISO 8601 date",
        value.chars().take(64).collect::<String>()
    ))
}

/// No such thing.
pub(crate) fn not_found(what: impl Into<String>) -> async_graphql::Error {
    coded(what, "NOT_FOUND")
}

/// A refusal of the store, as the admin API words it.
pub(crate) fn refused(error: ServerError) -> async_graphql::Error {
    match error {
        ServerError::NotFound { what } => not_found(what),
        ServerError::Conflict { message } | ServerError::BadRequest { message } => invalid(message),
        other => coded(other.to_string(), "INTERNAL_SERVER_ERROR"),
    }
}

impl From<Refused> for async_graphql::Error {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::NotFound(what) => not_found(what),
            Refused::Conflict(message) | Refused::AlreadyDone(message) => invalid(message),
        }
    }
}

/// Answers `POST /graphql`.
pub(crate) async fn serve(shared: &Arc<Shared>, request: Request<Incoming>) -> Response<Bytes> {
    if request.method() != Method::POST {
        let mut response = ServerError::MethodNotAllowed {
            method: request.method().clone(),
            allowed: vec![Method::POST],
        }
        .to_response();
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return response;
    }
    let credentials = Credentials::from_headers(request.headers());
    let key = match crate::auth::authenticate(shared, &credentials) {
        Ok(key) => key,
        Err(_) => {
            return answer(
                StatusCode::UNAUTHORIZED,
                errors("API key is invalid", "UNAUTHENTICATED"),
            );
        }
    };
    if let Some(limiter) = &shared.rate {
        let taken = limiter
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take(&key.key, Instant::now(), SystemTime::now());
        if let Err(limited) = taken {
            let mut response = answer(StatusCode::OK, errors("Too many requests", "RATE_LIMITED"));
            let reset = SystemTime::now() + limited.retry_after;
            let reset = transcend_proto::types::Timestamp::from_datetime(reset.into());
            if let Ok(value) = HeaderValue::from_str(reset.as_str()) {
                response
                    .headers_mut()
                    .insert(transcend_proto::headers::X_RATELIMIT_RESET, value);
            }
            if let Some(limit) = limited.rate_limit.limit {
                response.headers_mut().insert(
                    transcend_proto::headers::X_RATELIMIT_LIMIT,
                    HeaderValue::from(limit),
                );
            }
            response.headers_mut().insert(
                transcend_proto::headers::X_RATELIMIT_REMAINING,
                HeaderValue::from(0u64),
            );
            return response;
        }
    }
    let limit = shared.config.body_limit.min(MAX_BODY);
    let body = match http_body_util::Limited::new(
        request.into_body(),
        usize::try_from(limit).unwrap_or(usize::MAX),
    )
    .collect()
    .await
    {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            return answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                errors(
                    &format!("Client error: the request is over {limit} bytes"),
                    "BAD_REQUEST",
                ),
            );
        }
    };
    let graphql: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return answer(
                StatusCode::BAD_REQUEST,
                errors(
                    &format!("Client error: the body is not a GraphQL request: {error}"),
                    "BAD_REQUEST",
                ),
            );
        }
    };
    if let Err(error) = async_graphql::parser::parse_query(&graphql.query) {
        let message = format!("Syntax Error: syntax error: {error}");
        return answer(
            StatusCode::BAD_REQUEST,
            errors(&message, "GRAPHQL_PARSE_FAILED"),
        );
    }
    let schema = shared.admin.clone();
    let graphql = graphql.data(Arc::clone(shared)).data(Caller(key));
    let response = schema.execute(graphql).await;
    let mut status = StatusCode::OK;
    let mut body = serde_json::to_value(&response).unwrap_or_default();
    // Errors without a code come from validation, before anything ran: Apollo's
    // code and status for them.
    if response.data == async_graphql::Value::Null
        && let Some(errors) = body.get_mut("errors").and_then(|e| e.as_array_mut())
        && errors.iter().all(|e| e.get("extensions").is_none())
    {
        status = StatusCode::BAD_REQUEST;
        for error in errors {
            error["extensions"] = serde_json::json!({"code": "GRAPHQL_VALIDATION_FAILED"});
        }
    }
    answer(status, body)
}

fn errors(message: &str, code: &str) -> serde_json::Value {
    serde_json::json!({
        "errors": [{"message": message, "extensions": {"code": code}}],
        "data": null,
    })
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(serde_json::to_vec(&body).unwrap_or_default()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
