//! The signing key a verifier trusts: fetched from Sombra and cached, refetched when a
//! signature fails (the key may have rotated), but at most once per interval, in a single
//! flight, and never while anyone else waits for the cache.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use transcend_proto::webhook::VerificationKey;

use super::verifier::Rejection;
use crate::client::Client;

/// Where keys come from.
#[derive(Debug, Clone)]
pub(crate) enum KeySource {
    /// `GET /public-keys/sombra-general-signing-key` through the client.
    Sombra(Client),
    /// One key, never refetched (tests, pinned deployments).
    Fixed(VerificationKey),
}

/// A key and when it was fetched.
#[derive(Debug, Clone)]
struct Cached {
    key: VerificationKey,
    fetched: Instant,
    /// Counts fetches, so a waiter can tell whether someone fetched while it waited.
    generation: u64,
}

/// The cache. Reading it takes a short read lock; fetching happens outside it, one
/// fetch at a time.
#[derive(Debug)]
pub(crate) struct KeyCache {
    source: KeySource,
    ttl: Duration,
    refetch_interval: Duration,
    cached: RwLock<Option<Cached>>,
    /// Held by the one task fetching; the others wait on it, never on `cached`.
    fetching: tokio::sync::Mutex<FetchState>,
}

#[derive(Debug, Default)]
struct FetchState {
    /// When the last fetch was attempted (success or not).
    last_attempt: Option<Instant>,
    /// When the last fetch caused by a failing signature was attempted.
    last_refetch: Option<Instant>,
    generation: u64,
}

/// Why a fetch is wanted, which decides how often it may happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// No usable key is cached (first use, or past its time to live). After a failed
    /// attempt the next waits [`RETRY_AFTER_FAILURE`].
    Missing,
    /// A signature failed with the cached key: at most one such fetch per refetch
    /// interval, whatever the traffic.
    Refetch,
}

/// A key to verify with, and what the cache knew when it handed it out.
#[derive(Debug, Clone)]
pub(crate) struct KeyInUse {
    pub(crate) key: VerificationKey,
    generation: u64,
    /// Fetched for this very verification: refetching it again would not help.
    pub(crate) fresh: bool,
}

/// How long after a failed fetch the next may be tried, when no key is cached at all.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(2);

impl KeyCache {
    pub(crate) fn new(source: KeySource, ttl: Duration, refetch_interval: Duration) -> Arc<Self> {
        let cached = match &source {
            KeySource::Fixed(key) => Some(Cached {
                key: key.clone(),
                fetched: Instant::now(),
                generation: 0,
            }),
            KeySource::Sombra(_) => None,
        };
        Arc::new(Self {
            source,
            ttl,
            refetch_interval,
            cached: RwLock::new(cached),
            fetching: tokio::sync::Mutex::new(FetchState::default()),
        })
    }

    fn snapshot(&self) -> Option<Cached> {
        self.cached
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The key to verify with: the cached one while it is fresh, else one fetched now
    /// (one fetch for all the callers that need it at the same time).
    pub(crate) async fn current(&self) -> Result<KeyInUse, Rejection> {
        if let Some(cached) = self.snapshot()
            && (cached.fetched.elapsed() < self.ttl || matches!(self.source, KeySource::Fixed(_)))
        {
            return Ok(KeyInUse {
                key: cached.key,
                generation: cached.generation,
                fresh: false,
            });
        }
        let seen = self.snapshot().map(|c| c.generation);
        self.fetch_unless_newer(seen, Need::Missing).await
    }

    /// A newer key after `used` failed to verify a signature, if the key may have
    /// rotated: someone else's fetch since `used` was handed out, or a fetch of our own
    /// when no such refetch happened within the refetch interval. `None` when no newer
    /// key may be had now: the signature is then simply bad.
    pub(crate) async fn newer_than(&self, used: &KeyInUse) -> Option<KeyInUse> {
        if used.fresh || matches!(self.source, KeySource::Fixed(_)) {
            return None;
        }
        if let Some(cached) = self.snapshot()
            && cached.generation != used.generation
        {
            return Some(KeyInUse {
                key: cached.key,
                generation: cached.generation,
                fresh: false,
            });
        }
        self.fetch_unless_newer(Some(used.generation), Need::Refetch)
            .await
            .ok()
            .filter(|key| key.generation != used.generation)
    }

    /// Fetches once for everyone: waits for the fetch in flight if there is one; then,
    /// if the cache moved past `seen` meanwhile, uses that; else fetches, unless the last
    /// fetch for the same need is too recent.
    async fn fetch_unless_newer(
        &self,
        seen: Option<u64>,
        need: Need,
    ) -> Result<KeyInUse, Rejection> {
        let KeySource::Sombra(client) = &self.source else {
            return Err(Rejection::KeyUnavailable("no key configured".into()));
        };
        let mut state = self.fetching.lock().await;
        if let Some(cached) = self.snapshot()
            && Some(cached.generation) != seen
            && cached.fetched.elapsed() < self.ttl
        {
            return Ok(KeyInUse {
                key: cached.key,
                generation: cached.generation,
                fresh: false,
            });
        }
        let (last, spacing) = match need {
            Need::Missing => (state.last_attempt, RETRY_AFTER_FAILURE),
            Need::Refetch => (state.last_refetch, self.refetch_interval),
        };
        if let Some(last) = last
            && last.elapsed() < spacing
        {
            return match self.snapshot() {
                Some(cached) if cached.fetched.elapsed() < self.ttl => Ok(KeyInUse {
                    key: cached.key,
                    generation: cached.generation,
                    fresh: false,
                }),
                _ => Err(Rejection::KeyUnavailable(
                    "the last attempt to fetch the signing key failed; retrying shortly".into(),
                )),
            };
        }
        state.last_attempt = Some(Instant::now());
        if need == Need::Refetch {
            state.last_refetch = state.last_attempt;
            tracing::info!("a webhook signature failed with the cached key; fetching it again");
        } else {
            tracing::info!("fetching the webhook signing key");
        }
        let pem = client
            .signing_key()
            .await
            .map_err(|e| Rejection::KeyUnavailable(e.to_string()))?;
        let key = VerificationKey::from_pem(pem.as_str())
            .map_err(|e| Rejection::KeyUnavailable(e.to_string()))?;
        state.generation += 1;
        let cached = Cached {
            key: key.clone(),
            fetched: Instant::now(),
            generation: state.generation,
        };
        *self
            .cached
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(cached);
        Ok(KeyInUse {
            key,
            generation: state.generation,
            fresh: true,
        })
    }
}
