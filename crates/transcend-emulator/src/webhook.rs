//! Delivering a job's webhook to its silo: signed, retried with backoff, recorded.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{Request, Uri};
use transcend_hyper::{Body, HyperTransport};
use transcend_proto::Transport;
use transcend_proto::types::{
    CoreIdentifier, DataSubject, DsrJob, EnrichmentJob, EnrichmentStatus, IdentifierType,
    JobDataSilo, JobExtras, JobOrganization, JobProfile, JobRequest,
};
use transcend_proto::webhook::{JobAnswer, SombraTokenClaims, build_webhook, sign_sombra_token};
use transcend_proto::{Nonce, SombraToken};

use crate::config::{DataSiloConfig, EnricherConfig};
use crate::state::Shared;
use crate::store::{Detached, Event, LINK_PREFIX, event_time};
use crate::view::{Delivery, EnricherStatus, JobStatus};

/// The subject of an enricher's nonces: `enricher:<id>`, never a silo's.
pub(crate) const ENRICHER_PREFIX: &str = "enricher:";

/// Delivers a request's enrichment webhook to an enricher until it answers or the
/// attempts run out: 200 means identifiers follow (`POST /v1/enrich-identifiers`), 204
/// that it found nothing, and a JSON `ON_HOLD` / `CANCELED` decides at once.
pub(crate) async fn deliver_enrichment(
    shared: Arc<Shared>,
    request_id: String,
    enricher: EnricherConfig,
    round: u32,
) {
    let Some((core_identifier, details)) = shared.store.with_request(&request_id, |request| {
        let mut details = JobRequest::default();
        details.id = Some(request.record.id.clone());
        details.link = Some(format!("{LINK_PREFIX}{}", request.record.id));
        details.created_at = Some(request.created_at.clone());
        details.origin = Some("API".into());
        (request.record.core_identifier.clone(), details)
    }) else {
        return;
    };
    let mut job = EnrichmentJob::new(core_identifier.clone());
    let mut extras = JobExtras::default();
    extras.request = Some(details);
    job.extras = Some(extras);
    let nonce = Nonce::new(
        shared
            .nonces
            .issue(&request_id, &format!("{ENRICHER_PREFIX}{}", enricher.id)),
    );
    let Ok(url) = enricher.webhook_url.parse::<Uri>() else {
        return;
    };
    let target = Target {
        url: &url,
        nonce: &nonce,
        audience: if enricher.audience.is_empty() {
            &enricher.id
        } else {
            &enricher.audience
        },
        core_identifier: &core_identifier,
    };
    let wanted = || {
        shared
            .store
            .enrichment_wanted(&request_id, &enricher.id, round)
    };
    attempt_until_settled(&shared, target, &job, wanted, |_| {}, |attempt, result| {
        let (status, outcome, settled) = match result {
            Ok(JobAnswer::Accepted) => (
                Some(200),
                "accepted".to_owned(),
                Some(EnricherStatus::Waiting),
            ),
            Ok(JobAnswer::NotFound) => (
                Some(204),
                "nothing found".to_owned(),
                Some(EnricherStatus::Resolved),
            ),
            Ok(JobAnswer::Enrichment(answer)) => {
                let status = match answer.status {
                    EnrichmentStatus::Canceled => EnricherStatus::Canceled,
                    _ => EnricherStatus::OnHold,
                };
                (
                    Some(200),
                    format!("answered {}", answer.status),
                    Some(status),
                )
            }
            failed => {
                let (status, outcome) = failure(failed);
                (
                    status,
                    outcome,
                    attempt.exhausted.then_some(EnricherStatus::DeliveryFailed),
                )
            }
        };
        tracing::info!(request = %request_id, enricher = %enricher.id, attempt = attempt.number, ?status, %outcome, "enrichment webhook delivered");
        let answered = settled.is_some_and(|s| s != EnricherStatus::DeliveryFailed);
        let delivered = Event::EnricherDelivered {
            enricher: enricher.id.clone(),
            delivery: Delivery {
                attempt: attempt.number,
                at: event_time(),
                status,
                outcome,
            },
            status: settled,
        };
        if let Err(error) = shared.apply(&request_id, delivered) {
            tracing::debug!(request = %request_id, %error, "an enrichment delivery was not recorded");
        }
        answered
    })
    .await;
}

/// Where one webhook goes, and for whom its token is signed.
#[derive(Clone, Copy)]
struct Target<'a> {
    url: &'a Uri,
    nonce: &'a Nonce,
    audience: &'a str,
    core_identifier: &'a str,
}

/// Which attempt this is, and whether the quick attempts are used up (a failure now
/// marks the delivery failed; slower attempts follow).
#[derive(Debug, Clone, Copy)]
struct Attempt {
    number: u32,
    exhausted: bool,
}

/// Sends `job` to `target` until `settle` says an attempt settled it, `wanted` says
/// it is no longer wanted (the request ended, the job was skipped or redelivered), or
/// the attempts run out: `max_attempts` quick ones with a doubling pause, then
/// `slow_attempts` every `slow_interval_ms`, each announced to `next_at`. Each attempt
/// carries a fresh token (new `jti`, `iat`, `exp`) and the same nonce.
async fn attempt_until_settled<J: serde::Serialize>(
    shared: &Shared,
    target: Target<'_>,
    job: &J,
    wanted: impl Fn() -> bool,
    next_at: impl Fn(Option<transcend_proto::types::Timestamp>),
    mut settle: impl FnMut(Attempt, Result<JobAnswer, String>) -> bool,
) {
    let settings = shared.config.webhooks;
    let quick = settings.max_attempts.max(1);
    let total = quick.saturating_add(settings.slow_attempts);
    for number in 1..=total {
        if !wanted() || shared.closing.is_cancelled() {
            next_at(None);
            return;
        }
        let claims = SombraTokenClaims::new(
            target.audience.to_owned(),
            target.core_identifier.to_owned(),
            SystemTime::now(),
            Duration::from_secs(settings.token_lifetime_secs),
        )
        .with_jti(uuid::Uuid::new_v4().to_string());
        let result = match sign_sombra_token(&claims, &shared.keys.private_pem) {
            Ok(token) => {
                send(
                    &shared.transport,
                    target.url,
                    target.nonce,
                    &token,
                    job,
                    settings.timeout_ms,
                )
                .await
            }
            Err(error) => Err(format!("cannot sign the token: {error}")),
        };
        let attempt = Attempt {
            number,
            exhausted: number >= quick,
        };
        if settle(attempt, result) || number == total {
            next_at(None);
            return;
        }
        let pause = if attempt.exhausted {
            let pause = Duration::from_millis(settings.slow_interval_ms);
            next_at(Some(transcend_proto::types::Timestamp::from(
                transcend_proto::types::time::OffsetDateTime::now_utc() + pause,
            )));
            pause
        } else {
            settings.backoff(number)
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = shared.closing.cancelled() => return,
        }
    }
}

/// The status and text recorded for an attempt that did not settle the job.
fn failure(result: Result<JobAnswer, String>) -> (Option<u16>, String) {
    match result {
        Ok(JobAnswer::Failed { status, message }) => (
            Some(status.as_u16()),
            format!("failed: {}", message.unwrap_or_else(|| status.to_string())),
        ),
        Ok(other) => (None, format!("failed: unexpected answer {other:?}")),
        Err(error) => (None, format!("failed: {error}")),
    }
}

/// The organization named in every webhook.
const ORGANIZATION: &str = "Emulated Organization";

/// The job body a silo receives for a request.
pub(crate) fn job_for(request: &Detached, silo: &DataSiloConfig) -> DsrJob {
    let submission = &request.submission();
    let mut job = DsrJob::new(request.record.action.clone());
    job.core_identifier = Some(CoreIdentifier::new(request.record.core_identifier.clone()));
    job.data_subject = Some(DataSubject::new(request.record.subject_type.clone()));
    job.is_test = Some(submission.is_test.unwrap_or(false));
    let profile = match &submission.subject.email {
        Some(email) => JobProfile::new(email.clone(), IdentifierType::Email),
        None => JobProfile::new(
            request.record.core_identifier.clone(),
            IdentifierType::CoreIdentifier,
        ),
    };
    let mut details = JobRequest::default();
    details.id = Some(request.record.id.clone());
    details.link = Some(format!("{LINK_PREFIX}{}", request.record.id));
    details.created_at = Some(request.created_at.clone());
    details.locale = Some(submission.locale.clone().unwrap_or_default());
    details.details = submission.details.clone();
    details.origin = Some("API".into());
    let mut data_silo = JobDataSilo::default();
    data_silo.id = Some(silo.id.clone());
    data_silo.title = Some(silo.title.clone());
    let mut organization = JobOrganization::default();
    organization.name = Some(ORGANIZATION.into());
    let mut extras = JobExtras::default();
    extras.profile = Some(profile);
    extras.request = Some(details);
    extras.data_silo = Some(data_silo);
    extras.organization = Some(organization);
    job.extras = Some(extras);
    job
}

/// Delivers the job until the silo answers, or the attempts run out. Each attempt
/// carries a fresh token (new `jti`, new `iat`/`exp`) and the same nonce.
pub(crate) async fn deliver(
    shared: Arc<Shared>,
    request_id: String,
    silo: DataSiloConfig,
    round: u32,
) {
    let Some(job) = shared
        .store
        .detached(&request_id)
        .map(|request| job_for(&request, &silo))
    else {
        return;
    };
    let nonce = Nonce::new(shared.nonces.issue(&request_id, &silo.id));
    let core_identifier = job.core_identifier().unwrap_or_default().to_owned();
    let url: Uri = match silo.webhook_url.parse() {
        Ok(url) => url,
        Err(_) => return,
    };
    let target = Target {
        url: &url,
        nonce: &nonce,
        audience: &silo.audience,
        core_identifier: &core_identifier,
    };
    let wanted = || shared.store.delivery_wanted(&request_id, &silo.id, round);
    let next_at = |at| shared.store.next_delivery(&request_id, &silo.id, at);
    attempt_until_settled(&shared, target, &job, wanted, next_at, |attempt, result| {
        let (status, outcome, job_status) = match result {
            Ok(JobAnswer::Accepted) => (Some(200), "accepted".to_owned(), Some(JobStatus::Waiting)),
            Ok(JobAnswer::NotFound) => {
                (Some(204), "not found".to_owned(), Some(JobStatus::Skipped))
            }
            failed => {
                let (status, outcome) = failure(failed);
                (
                    status,
                    outcome,
                    attempt.exhausted.then_some(JobStatus::DeliveryFailed),
                )
            }
        };
        tracing::info!(request = %request_id, silo = %silo.id, attempt = attempt.number, ?status, %outcome, "webhook delivered");
        let answered = matches!(job_status, Some(JobStatus::Waiting | JobStatus::Skipped));
        let delivered = Event::JobDelivered {
            silo: silo.id.clone(),
            delivery: Delivery {
                attempt: attempt.number,
                at: event_time(),
                status,
                outcome,
            },
            status: job_status,
        };
        if let Err(error) = shared.apply(&request_id, delivered) {
            tracing::debug!(request = %request_id, %error, "a delivery was not recorded");
        }
        answered
    })
    .await;
}

async fn send<J: serde::Serialize>(
    transport: &HyperTransport,
    url: &Uri,
    nonce: &Nonce,
    token: &SombraToken,
    job: &J,
    timeout_ms: u64,
) -> Result<JobAnswer, String> {
    let request = build_webhook(url, nonce, token, job).map_err(|e| e.to_string())?;
    let (parts, body) = request.into_parts();
    let request = Request::from_parts(parts, Body::full(body));
    let sent =
        tokio::time::timeout(Duration::from_millis(timeout_ms), transport.send(request)).await;
    match sent {
        Err(_) => Err(format!("no answer within {timeout_ms} ms")),
        Ok(Err(error)) => Err(error.to_string()),
        Ok(Ok(response)) => Ok(JobAnswer::from_response(&response)),
    }
}
