//! Verifying the webhooks Transcend sends a data silo.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{Request, StatusCode};
use transcend_proto::types::DsrJob;
use transcend_proto::webhook::{TokenRejection, VerificationKey, WebhookError, parse_webhook};

use super::job::SiloJob;
use crate::client::Client;

/// How long a fetched signing key is trusted before it is fetched again.
pub const KEY_TTL: Duration = Duration::from_secs(3600);

/// Verifies webhook deliveries: the `x-sombra-token` (ES384, this silo's audience,
/// scope `coreIdentifier`, not expired), that it was issued for the job's person, and
/// that its `jti` was not seen before. Cheap to clone; clones share the key cache and
/// the record of seen tokens.
///
/// The signing key is fetched from Sombra on first use and kept for an hour; when a
/// signature fails with a cached key, the key is fetched once more in case it rotated.
#[derive(Clone)]
pub struct WebhookVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    audience: String,
    key_ttl: Duration,
    key: tokio::sync::Mutex<Option<(VerificationKey, Instant)>>,
    seen: Mutex<HashMap<String, SystemTime>>,
}

impl std::fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("audience", &self.inner.audience)
            .finish_non_exhaustive()
    }
}

/// Why a delivery was refused. The message never holds the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The token is missing, forged, expired, replayed, or for someone else.
    #[error("webhook token refused: {0}")]
    Token(TokenRejection),
    /// The delivery is not a webhook (missing nonce, body not a job).
    #[error("webhook refused: {0}")]
    Delivery(WebhookError),
    /// The signing key could not be fetched; the delivery may be fine.
    #[error("signing key unavailable: {0}")]
    KeyUnavailable(String),
}

impl Rejection {
    /// The status to answer with: 401 for a token, 400 for a malformed delivery, 503
    /// when the key could not be fetched (Transcend delivers again later).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Token(_) => StatusCode::UNAUTHORIZED,
            Self::Delivery(error) => error.status(),
            Self::KeyUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl WebhookVerifier {
    /// Verifies tokens for `audience` with the key `client`'s Sombra publishes.
    pub fn new(client: Client, audience: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                audience: audience.into(),
                key_ttl: KEY_TTL,
                key: tokio::sync::Mutex::new(None),
                seen: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Sets how long a fetched key is trusted (one hour by default).
    pub fn with_key_ttl(self, ttl: Duration) -> Self {
        let inner = Inner {
            client: self.inner.client.clone(),
            audience: self.inner.audience.clone(),
            key_ttl: ttl,
            key: tokio::sync::Mutex::new(None),
            seen: Mutex::new(HashMap::new()),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The client reports are sent with.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Verifies a delivery and reads its job.
    pub async fn verify(&self, request: &Request<Bytes>) -> Result<SiloJob, Rejection> {
        let delivery = parse_webhook(request).map_err(|e| match e {
            WebhookError::MissingHeader("x-sombra-token") => {
                Rejection::Token(TokenRejection::Missing)
            }
            other => Rejection::Delivery(other),
        })?;
        let now = SystemTime::now();
        let (key, fresh) = self.key(false).await?;
        let verified = match key.verify(&delivery.token, &self.inner.audience, now) {
            Err(TokenRejection::BadSignature) if !fresh => {
                tracing::info!(
                    "webhook signature failed with the cached key; fetching the key again"
                );
                let (key, _) = self.key(true).await?;
                key.verify(&delivery.token, &self.inner.audience, now)
            }
            other => other,
        }
        .map_err(Rejection::Token)?;
        if delivery
            .job
            .core_identifier()
            .is_some_and(|id| id != verified.core_identifier)
        {
            return Err(Rejection::Token(TokenRejection::IdentifierMismatch));
        }
        if let Some(jti) = &verified.jti {
            let mut seen = self.inner.seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.retain(|_, expires| *expires > now);
            if seen.contains_key(jti) {
                return Err(Rejection::Token(TokenRejection::Replayed));
            }
            seen.insert(
                jti.clone(),
                verified.expires_at + transcend_proto::webhook::LEEWAY,
            );
        }
        let job: DsrJob = delivery.job;
        Ok(SiloJob::new(
            job,
            verified.core_identifier,
            delivery.nonce,
            self.inner.client.clone(),
        ))
    }

    /// The cached key, or a fetched one (`refresh` forces a fetch). Returns whether the
    /// key was fetched just now.
    async fn key(&self, refresh: bool) -> Result<(VerificationKey, bool), Rejection> {
        let mut cached = self.inner.key.lock().await;
        if !refresh
            && let Some((key, fetched)) = cached.as_ref()
            && fetched.elapsed() < self.inner.key_ttl
        {
            return Ok((key.clone(), false));
        }
        let pem = self
            .inner
            .client
            .signing_key()
            .await
            .map_err(|e| Rejection::KeyUnavailable(e.to_string()))?;
        let key = VerificationKey::from_pem(pem.as_str())
            .map_err(|e| Rejection::KeyUnavailable(e.to_string()))?;
        *cached = Some((key.clone(), Instant::now()));
        Ok((key, true))
    }
}
