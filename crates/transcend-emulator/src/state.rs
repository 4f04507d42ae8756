//! What every part of a running emulator shares: configuration, the store, keys,
//! limits, and the webhook client.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use transcend_hyper::HyperTransport;
use transcend_proto::server::ServerError;
use transcend_proto::types::{RequestStatus, SubmitDsr, SubmitDsrResponse};

use crate::config::{ApiKeyConfig, EmulatorConfig};
use crate::keys::SigningKeys;
use crate::limits::{Faults, RateLimiter};
use crate::nonce::NonceKey;
use crate::store::Store;
use crate::webhook;

/// Everything the request handlers share.
pub(crate) struct Shared {
    pub config: EmulatorConfig,
    pub api_keys: HashMap<String, Arc<ApiKeyConfig>>,
    pub store: Store,
    pub nonces: NonceKey,
    pub keys: SigningKeys,
    pub transport: HyperTransport,
    pub rate: Option<Mutex<RateLimiter>>,
    /// `None` when no fault is configured, so requests skip the lock.
    pub faults: Option<Mutex<Faults>>,
    pub storage_dir: PathBuf,
    /// The OpenAPI document served at [`OPENAPI_PATH`](crate::OPENAPI_PATH), made once.
    pub openapi: bytes::Bytes,
    pub files: AtomicU64,
}

impl Shared {
    /// Creates the request and starts delivering its webhooks.
    pub(crate) fn submit(
        self: &Arc<Self>,
        submission: SubmitDsr,
    ) -> Result<SubmitDsrResponse, ServerError> {
        let silos: Vec<_> = self
            .config
            .data_silos
            .iter()
            .filter(|silo| silo.in_scope_of(&submission))
            .cloned()
            .collect();
        let expected: Vec<(String, Vec<String>)> = silos
            .iter()
            .map(|s| (s.id.clone(), s.datapoints.clone()))
            .collect();
        let record = if submission.request_id.is_some() {
            self.store.restart(submission, &expected)?
        } else {
            self.store.create(submission, &expected)?
        };
        if record.status == RequestStatus::Compiling {
            for silo in silos {
                if silo.pull {
                    // A cron silo gets no webhook: its job waits to be pulled.
                    self.store.await_pull(&record.id, &silo.id);
                } else {
                    tokio::spawn(webhook::deliver(Arc::clone(self), record.id.clone(), silo));
                }
            }
        }
        Ok(SubmitDsrResponse::new(record))
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("storage_dir", &self.storage_dir)
            .finish_non_exhaustive()
    }
}
