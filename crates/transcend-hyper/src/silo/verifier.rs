//! Verifying the webhooks Transcend sends a data silo.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, StatusCode};
use sha2::{Digest, Sha256};
use transcend_proto::SombraToken;
use transcend_proto::webhook::{
    TokenRejection, VerificationKey, VerifiedToken, WebhookError, parse_enrichment_webhook,
    parse_webhook,
};

use super::enricher::EnricherJob;
use super::job::SiloJob;
use super::keys::{KeyCache, KeySource};
use super::replay::{MemoryReplayStore, ReplayStore, ReplayStoreError};
use crate::client::Client;

/// How long a fetched signing key is trusted before it is fetched again.
pub const KEY_TTL: Duration = Duration::from_secs(3600);

/// The least time between two fetches of the signing key caused by signatures that do
/// not verify: forged deliveries cause at most one fetch per interval. The first
/// failing signature is refetched for at once, so a rotated key is picked up by the
/// first delivery signed with it.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// Verifies webhook deliveries: the `x-sombra-token` (ES384, this silo's audience,
/// scope `coreIdentifier`, not expired), that it was issued for the person the job's
/// body names (a body without a core identifier is refused), and that the token was not
/// used before. Cheap to clone; clones share the key cache and the replay store.
///
/// The signing key is fetched from Sombra on first use and kept for an hour. When a
/// signature fails with the cached key, the key may have rotated: it is fetched again,
/// but at most once per [`REFETCH_INTERVAL`], by one task while the others keep
/// verifying with the cached key, so forged traffic cannot make the silo call Sombra.
///
/// Replays are refused by the token's `jti`, or, for a token without one, by a digest
/// of its signed part; the record lives in a [`ReplayStore`], in memory by default
/// ([`with_replay_store`](Self::with_replay_store) for one shared by replicas).
#[derive(Clone)]
pub struct WebhookVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    audience: String,
    keys: Arc<KeyCache>,
    replays: Arc<dyn ReplayStore>,
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
    /// The replay store could not say whether the token was used before.
    #[error(transparent)]
    ReplayStore(ReplayStoreError),
}

impl Rejection {
    /// A short, stable word for the reason: the `reason` label of
    /// [`metrics::WEBHOOKS_REFUSED`](crate::metrics::WEBHOOKS_REFUSED).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Token(TokenRejection::Missing) => "token_missing",
            Self::Token(TokenRejection::Replayed) => "token_replayed",
            Self::Token(TokenRejection::Expired { .. }) => "token_expired",
            Self::Token(
                TokenRejection::BadSignature
                | TokenRejection::AlgorithmNotAllowed { .. }
                | TokenRejection::Malformed { .. },
            ) => "token_forged",
            Self::Token(_) => "token_other",
            Self::Delivery(_) => "malformed",
            Self::KeyUnavailable(_) => "key_unavailable",
            Self::ReplayStore(_) => "store_unavailable",
        }
    }

    /// The status to answer with: 401 for a token, 400 for a malformed delivery, 503
    /// when the key or the replay store is unavailable (Transcend delivers again later).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Token(_) => StatusCode::UNAUTHORIZED,
            Self::Delivery(error) => error.status(),
            Self::KeyUnavailable(_) | Self::ReplayStore(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl WebhookVerifier {
    /// Verifies tokens for `audience` with the key `client`'s Sombra publishes; reports
    /// go through `client` too.
    pub fn new(client: Client, audience: impl Into<String>) -> Self {
        let keys = KeyCache::new(KeySource::Sombra(client.clone()), KEY_TTL, REFETCH_INTERVAL);
        Self::assemble(
            client,
            audience.into(),
            keys,
            Arc::new(MemoryReplayStore::new()),
        )
    }

    /// Verifies tokens for `audience` with one fixed key, never fetched (tests, or a
    /// deployment that pins the key); reports go through `client`.
    pub fn with_key(client: Client, audience: impl Into<String>, key: VerificationKey) -> Self {
        let keys = KeyCache::new(KeySource::Fixed(key), KEY_TTL, REFETCH_INTERVAL);
        Self::assemble(
            client,
            audience.into(),
            keys,
            Arc::new(MemoryReplayStore::new()),
        )
    }

    fn assemble(
        client: Client,
        audience: String,
        keys: Arc<KeyCache>,
        replays: Arc<dyn ReplayStore>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                audience,
                keys,
                replays,
            }),
        }
    }

    /// Sets how long a fetched key is trusted (one hour by default) and the least time
    /// between refetches caused by failing signatures ([`REFETCH_INTERVAL`] by default).
    pub fn with_key_timing(self, ttl: Duration, refetch_interval: Duration) -> Self {
        let source = KeySource::Sombra(self.inner.client.clone());
        let keys = KeyCache::new(source, ttl, refetch_interval);
        Self::assemble(
            self.inner.client.clone(),
            self.inner.audience.clone(),
            keys,
            Arc::clone(&self.inner.replays),
        )
    }

    /// Remembers used tokens in `store` instead of this process's memory: a store
    /// shared by every replica of the silo refuses a token any of them accepted.
    pub fn with_replay_store(self, store: impl ReplayStore) -> Self {
        Self::assemble(
            self.inner.client.clone(),
            self.inner.audience.clone(),
            Arc::clone(&self.inner.keys),
            Arc::new(store),
        )
    }

    /// The client reports are sent with.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Verifies a delivery and reads its job.
    pub async fn verify(&self, request: &Request<Bytes>) -> Result<SiloJob, Rejection> {
        let delivery = parse_webhook(request).map_err(delivery_rejection)?;
        let verified = self
            .verify_token(&delivery.token, delivery.job.core_identifier())
            .await?;
        Ok(SiloJob::new(
            delivery.job,
            verified.core_identifier,
            delivery.nonce,
            self.inner.client.clone(),
        ))
    }

    /// Verifies a delivery without recording the token's use: the job, the token's
    /// replay key and until when it must be remembered.
    pub(crate) async fn check_delivery(
        &self,
        request: &Request<Bytes>,
    ) -> Result<(super::queue::QueuedJob, String, SystemTime), Rejection> {
        let delivery = parse_webhook(request).map_err(delivery_rejection)?;
        let (verified, replay_key, expires) = self
            .check_token(&delivery.token, delivery.job.core_identifier())
            .await?;
        let job = super::queue::QueuedJob {
            job: delivery.job,
            core_identifier: verified.core_identifier,
            nonce: delivery.nonce,
        };
        Ok((job, replay_key, expires))
    }

    /// Verifies an enrichment webhook (signed like a DSR job's, for the identifier to
    /// enrich, which the body's `requestIdentifier` must name) and reads its job.
    pub async fn verify_enrichment(
        &self,
        request: &Request<Bytes>,
    ) -> Result<EnricherJob, Rejection> {
        let delivery = parse_enrichment_webhook(request).map_err(delivery_rejection)?;
        let verified = self
            .verify_token(&delivery.token, delivery.job.identifier())
            .await?;
        Ok(EnricherJob::new(
            delivery.job,
            verified.core_identifier,
            delivery.nonce,
            self.inner.client.clone(),
        ))
    }

    /// The token's signature (with a refetch of the key at most once per interval),
    /// claims, binding to the identifier the body names, and first use.
    async fn verify_token(
        &self,
        token: &SombraToken,
        named: Option<&str>,
    ) -> Result<VerifiedToken, Rejection> {
        let (verified, replay_key, expires) = self.check_token(token, named).await?;
        if !self
            .inner
            .replays
            .first_use(&replay_key, expires)
            .await
            .map_err(Rejection::ReplayStore)?
        {
            return Err(Rejection::Token(TokenRejection::Replayed));
        }
        Ok(verified)
    }

    /// Everything [`verify_token`](Self::verify_token) checks but first use: the token,
    /// its replay key, and until when that key must be remembered.
    async fn check_token(
        &self,
        token: &SombraToken,
        named: Option<&str>,
    ) -> Result<(VerifiedToken, String, SystemTime), Rejection> {
        let now = SystemTime::now();
        let key = self.inner.keys.current().await?;
        let audience = &self.inner.audience;
        let verified = match key.key.verify(token, audience, now) {
            Err(TokenRejection::BadSignature) => match self.inner.keys.newer_than(&key).await {
                Some(newer) => newer.key.verify(token, audience, now),
                None => Err(TokenRejection::BadSignature),
            },
            other => other,
        }
        .map_err(Rejection::Token)?;
        match named {
            None => return Err(Rejection::Token(TokenRejection::UnboundIdentifier)),
            Some(named) if named != verified.core_identifier => {
                return Err(Rejection::Token(TokenRejection::IdentifierMismatch));
            }
            Some(_) => {}
        }
        let replay_key = replay_key(&verified, token.expose());
        let expires = verified.expires_at + transcend_proto::webhook::LEEWAY;
        Ok((verified, replay_key, expires))
    }
}

fn delivery_rejection(error: WebhookError) -> Rejection {
    match error {
        WebhookError::MissingHeader("x-sombra-token") => Rejection::Token(TokenRejection::Missing),
        other => Rejection::Delivery(other),
    }
}

/// What identifies a token for replay protection: its `jti`, or, without one, a digest
/// of its signed part (header and claims; not the signature, which an ECDSA signer can
/// vary without changing what was signed).
fn replay_key(verified: &VerifiedToken, token: &str) -> String {
    if let Some(jti) = &verified.jti {
        return format!("transcend:webhook:jti:{jti}");
    }
    let signed = token.rsplit_once('.').map_or(token, |(signed, _)| signed);
    let digest = Sha256::digest(signed.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("transcend:webhook:claims:{hex}")
}
