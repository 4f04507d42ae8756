//! A replay store in Redis, shared by every replica of a silo (feature `redis`).

use std::time::{Duration, SystemTime};

use redis::aio::ConnectionManager;

use super::replay::{ReplayStore, ReplayStoreError, StoreFuture};

/// How long one Redis command may take before the delivery is refused (503).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// Remembers used tokens in Redis with `SET key 1 NX PX <ms until the token expires>`:
/// atomic, so two replicas racing on one token cannot both accept it, and the entry
/// disappears when the token could no longer be used anyway.
///
/// ```no_run
/// use transcend_hyper::Client;
/// use transcend_hyper::silo::{RedisReplayStore, WebhookVerifier};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisReplayStore::connect("redis://127.0.0.1:6379/").await?;
/// let verifier = WebhookVerifier::new(Client::from_env()?, "users-db").with_replay_store(store);
/// # let _ = verifier; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisReplayStore {
    connection: ConnectionManager,
}

impl std::fmt::Debug for RedisReplayStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisReplayStore").finish_non_exhaustive()
    }
}

impl RedisReplayStore {
    /// Connects to `url` (`redis://host:port/db`, `rediss://…`, `redis+unix:///path`);
    /// the connection is re-established by itself when it drops.
    pub async fn connect(url: &str) -> Result<Self, ReplayStoreError> {
        let client = redis::Client::open(url).map_err(|e| ReplayStoreError(e.to_string()))?;
        let connection = tokio::time::timeout(COMMAND_TIMEOUT, client.get_connection_manager())
            .await
            .map_err(|_| ReplayStoreError("timed out connecting to Redis".into()))?
            .map_err(|e| ReplayStoreError(e.to_string()))?;
        Ok(Self { connection })
    }

    /// Uses a connection made elsewhere.
    pub fn from_connection(connection: ConnectionManager) -> Self {
        Self { connection }
    }
}

impl ReplayStore for RedisReplayStore {
    fn first_use<'a>(
        &'a self,
        key: &'a str,
        expires_at: SystemTime,
    ) -> StoreFuture<'a, Result<bool, ReplayStoreError>> {
        let mut connection = self.connection.clone();
        Box::pin(async move {
            let ttl = expires_at
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .as_millis()
                .max(1);
            let mut command = redis::cmd("SET");
            command
                .arg(key)
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(u64::try_from(ttl).unwrap_or(u64::MAX));
            let set = command.query_async::<Option<String>>(&mut connection);
            let answer = tokio::time::timeout(COMMAND_TIMEOUT, set)
                .await
                .map_err(|_| ReplayStoreError("Redis did not answer in time".into()))?
                .map_err(|e| ReplayStoreError(e.to_string()))?;
            Ok(answer.is_some())
        })
    }
}
