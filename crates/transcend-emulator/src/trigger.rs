//! `POST /emulator/v1/webhooks`: sends one signed webhook (a DSR job or an enrichment)
//! to a URL the caller names, with the emulator's key, and answers with what came back:
//! how a team tests its silo before Transcend ever calls it.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, Uri};
use transcend_hyper::Body;
use transcend_proto::server::ServerError;
use transcend_proto::types::{CoreIdentifier, DsrJob, EnrichmentJob, RequestAction};
use transcend_proto::webhook::{JobAnswer, SombraTokenClaims, build_webhook, sign_sombra_token};
use transcend_proto::{Nonce, Transport};

use crate::state::Shared;

/// The path of the trigger API.
pub const TRIGGER_PATH: &str = "/emulator/v1/webhooks";

/// What to send.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Trigger {
    /// Where to send it.
    url: String,
    /// The token's `aud`.
    audience: String,
    /// The person (the token's `value`).
    core_identifier: String,
    /// A DSR job of this type (default ACCESS), unless `enrichment`.
    #[serde(default)]
    action: Option<RequestAction>,
    /// An enrichment webhook instead of a DSR job.
    #[serde(default)]
    enrichment: bool,
}

/// What came back.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TriggerAnswer {
    status: u16,
    answer: String,
    body: String,
}

pub(crate) async fn trigger(shared: &Shared, body: &[u8]) -> Result<Bytes, ServerError> {
    let trigger: Trigger = serde_json::from_slice(body).map_err(|e| ServerError::BadRequest {
        message: format!("invalid trigger: {e}"),
    })?;
    let url: Uri = trigger
        .url
        .parse()
        .ok()
        .filter(|u: &Uri| u.scheme().is_some() && u.authority().is_some())
        .ok_or_else(|| ServerError::BadRequest {
            message: "url must be an absolute URL".into(),
        })?;
    let settings = shared.config.webhooks;
    let claims = SombraTokenClaims::new(
        trigger.audience.clone(),
        trigger.core_identifier.clone(),
        SystemTime::now(),
        Duration::from_secs(settings.token_lifetime_secs),
    )
    .with_jti(uuid::Uuid::new_v4().to_string());
    let token = sign_sombra_token(&claims, &shared.keys.private_pem).map_err(|e| {
        ServerError::Unavailable {
            status: http::StatusCode::INTERNAL_SERVER_ERROR,
            message: format!("cannot sign: {e}"),
        }
    })?;
    let nonce = Nonce::new(shared.nonces.issue("triggered", &trigger.audience));
    let request = if trigger.enrichment {
        build_webhook(
            &url,
            &nonce,
            &token,
            &EnrichmentJob::new(trigger.core_identifier),
        )
    } else {
        let mut job = DsrJob::new(trigger.action.unwrap_or(RequestAction::Access));
        job.core_identifier = Some(CoreIdentifier::new(trigger.core_identifier));
        build_webhook(&url, &nonce, &token, &job)
    }
    .map_err(|e| ServerError::BadRequest {
        message: e.to_string(),
    })?;
    let (parts, body) = request.into_parts();
    let sent = tokio::time::timeout(
        Duration::from_millis(settings.timeout_ms),
        shared
            .transport
            .send(Request::from_parts(parts, Body::full(body))),
    )
    .await;
    let answer = match sent {
        Err(_) => TriggerAnswer {
            status: 0,
            answer: format!("no answer within {} ms", settings.timeout_ms),
            body: String::new(),
        },
        Ok(Err(error)) => TriggerAnswer {
            status: 0,
            answer: format!("failed: {error}"),
            body: String::new(),
        },
        Ok(Ok(response)) => TriggerAnswer {
            status: response.status().as_u16(),
            answer: match JobAnswer::from_response(&response) {
                JobAnswer::Accepted => "accepted".into(),
                JobAnswer::NotFound => "not found (skipped)".into(),
                JobAnswer::Enrichment(decision) => format!("decided {}", decision.status),
                JobAnswer::Failed { status, message } => match message {
                    Some(message) => format!("failed with {status}: {message}"),
                    None => format!("failed with {status}"),
                },
                // A kind of answer added later: its status says enough.
                #[allow(unreachable_patterns)]
                _ => "answered".into(),
            },
            body: String::from_utf8_lossy(&response.body()[..response.body().len().min(4096)])
                .into_owned(),
        },
    };
    tracing::info!(url = %trigger.url, status = answer.status, answer = %answer.answer, "triggered a webhook");
    serde_json::to_vec(&answer)
        .map(Bytes::from)
        .map_err(|e| ServerError::BadRequest {
            message: e.to_string(),
        })
}
