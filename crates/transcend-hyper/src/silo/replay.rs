//! Where verified tokens are remembered until they expire, so that each is accepted
//! once. In memory for one process; shared (Redis, behind the `redis` feature) for
//! replicas behind a load balancer and across restarts.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::SystemTime;

/// A boxed future, so that a store can be held as `dyn ReplayStore`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a replay store could not answer. The verifier refuses the delivery (503:
/// Transcend delivers it again later) rather than risk accepting a replay.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("replay store unavailable: {0}")]
pub struct ReplayStoreError(pub String);

/// Remembers which tokens were used.
pub trait ReplayStore: Send + Sync + 'static {
    /// Records `key` until `expires_at`, atomically: `true` when it was not recorded
    /// before (first use), `false` when it was (a replay).
    fn first_use<'a>(
        &'a self,
        key: &'a str,
        expires_at: SystemTime,
    ) -> StoreFuture<'a, Result<bool, ReplayStoreError>>;
}

/// The default store: a map in this process, pruned of expired entries as it grows.
/// Holds at most one entry per token accepted within the tokens' lifetime (only tokens
/// with a valid signature reach it).
#[derive(Debug, Default)]
pub struct MemoryReplayStore {
    seen: Mutex<HashMap<String, SystemTime>>,
}

impl MemoryReplayStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many tokens it remembers now.
    pub fn len(&self) -> usize {
        self.seen.lock().map(|s| s.len()).unwrap_or_default()
    }

    /// Whether it remembers none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn record(&self, key: &str, expires_at: SystemTime) -> bool {
        let now = SystemTime::now();
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if seen.len() >= 1024 && seen.len().is_power_of_two() {
            seen.retain(|_, expires| *expires > now);
        }
        match seen.get(key) {
            Some(expires) if *expires > now => false,
            _ => {
                seen.insert(key.to_owned(), expires_at);
                true
            }
        }
    }
}

impl ReplayStore for MemoryReplayStore {
    fn first_use<'a>(
        &'a self,
        key: &'a str,
        expires_at: SystemTime,
    ) -> StoreFuture<'a, Result<bool, ReplayStoreError>> {
        let first = self.record(key, expires_at);
        Box::pin(std::future::ready(Ok(first)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_key_is_new_once_until_it_expires() {
        let store = MemoryReplayStore::new();
        let later = SystemTime::now() + Duration::from_secs(60);
        assert!(store.first_use("a", later).await.unwrap());
        assert!(!store.first_use("a", later).await.unwrap());
        assert!(store.first_use("b", later).await.unwrap());
        let past = SystemTime::now() - Duration::from_secs(1);
        assert!(store.first_use("c", past).await.unwrap());
        assert!(
            store.first_use("c", later).await.unwrap(),
            "expired entries do not count"
        );
    }

    #[tokio::test]
    async fn expired_entries_are_pruned_as_the_map_grows() {
        let store = MemoryReplayStore::new();
        let past = SystemTime::now() - Duration::from_secs(1);
        for i in 0..5000 {
            store.first_use(&i.to_string(), past).await.unwrap();
        }
        assert!(store.len() < 5000, "{}", store.len());
    }
}
