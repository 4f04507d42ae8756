//! What every part of a running emulator shares: configuration, the store, keys,
//! limits, and the webhook client.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use transcend_hyper::HyperTransport;
use transcend_proto::server::ServerError;
use transcend_proto::types::{
    DsrRecord, IdentifierType, RequestStatus, SubmitDsr, SubmitDsrResponse,
};

use crate::config::{ApiKeyConfig, DataSiloConfig, EmulatorConfig};
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
    /// Cancelled at shutdown: webhook deliveries stop.
    pub closing: tokio_util::sync::CancellationToken,
}

impl Shared {
    /// Creates the request and starts it: its enrichers' webhooks first when any are
    /// configured, else its silos' jobs (webhooks, or waiting to be pulled).
    pub(crate) fn submit(
        self: &Arc<Self>,
        submission: SubmitDsr,
    ) -> Result<SubmitDsrResponse, ServerError> {
        tracing::info!(
            action = %submission.action,
            restart = submission.request_id.is_some(),
            "submission received"
        );
        if submission.request_id.is_some() {
            let silos = self.silos_in_scope(&submission, &held_by(&submission));
            let record = self.store.restart(submission, &expected(&silos))?;
            self.start_jobs(&record, silos);
            return Ok(SubmitDsrResponse::new(record));
        }
        let enrich =
            !self.config.enrichers.is_empty() && submission.completed_request_status.is_none();
        if enrich {
            let ids: Vec<String> = self.config.enrichers.iter().map(|e| e.id.clone()).collect();
            let record = self.store.create_with_enrichers(submission, &[], &ids)?;
            for enricher in self.config.enrichers.iter().cloned() {
                tokio::spawn(webhook::deliver_enrichment(
                    Arc::clone(self),
                    record.id.clone(),
                    enricher,
                ));
            }
            return Ok(SubmitDsrResponse::new(record));
        }
        let silos = self.silos_in_scope(&submission, &held_by(&submission));
        let record = self.store.create(submission, &expected(&silos))?;
        self.start_jobs(&record, silos);
        Ok(SubmitDsrResponse::new(record))
    }

    /// Once every enricher has answered, or the waiting period is over: the silos in
    /// scope for the request with the identifiers it now holds get their jobs.
    pub(crate) fn start_silos(self: &Arc<Self>, request_id: &str) {
        let Some(submission) = self.store.detached(request_id).map(|r| r.submission()) else {
            return;
        };
        let held = self.store.identifier_types(request_id);
        let silos = self.silos_in_scope(&submission, &held);
        if let Some(record) = self.store.proceed(request_id, &expected(&silos)) {
            self.start_jobs(&record, silos);
        }
    }

    /// The silos a submission reaches, given the identifier types the request holds.
    fn silos_in_scope(
        &self,
        submission: &SubmitDsr,
        held: &[IdentifierType],
    ) -> Vec<DataSiloConfig> {
        self.config
            .data_silos
            .iter()
            .filter(|silo| silo.in_scope_of(submission))
            .filter(|silo| {
                silo.identifiers.is_empty() || silo.identifiers.iter().any(|t| held.contains(t))
            })
            .cloned()
            .collect()
    }

    fn start_jobs(self: &Arc<Self>, record: &DsrRecord, silos: Vec<DataSiloConfig>) {
        if record.status != RequestStatus::Compiling {
            return;
        }
        for silo in silos {
            if silo.pull {
                // A cron silo gets no webhook: its job waits to be pulled.
                self.store.await_pull(&record.id, &silo.id);
            } else {
                tokio::spawn(webhook::deliver(Arc::clone(self), record.id.clone(), silo));
            }
        }
    }
}

/// The silos' ids and the datapoints each reports.
fn expected(silos: &[DataSiloConfig]) -> Vec<(String, Vec<String>)> {
    silos
        .iter()
        .map(|s| (s.id.clone(), s.datapoints.clone()))
        .collect()
}

/// The identifier types a submission holds by itself.
fn held_by(submission: &SubmitDsr) -> Vec<IdentifierType> {
    let subject = &submission.subject;
    let mut held = vec![IdentifierType::CoreIdentifier];
    if subject.email.is_some() {
        held.push(IdentifierType::Email);
    }
    held.extend(
        subject
            .attested_extra_identifiers
            .iter()
            .flat_map(|a| a.0.keys().cloned()),
    );
    held
}

/// The format of an export.
const EXPORT_VERSION: u64 = 1;

/// The whole state as JSON: `{"version": 1, "requests": [...]}`.
pub(crate) fn export(shared: &Shared) -> serde_json::Value {
    serde_json::json!({
        "version": EXPORT_VERSION,
        "requests": shared.store.export(),
    })
}

/// Adds the requests of an export.
pub(crate) fn import(shared: &Shared, state: serde_json::Value) -> Result<usize, String> {
    let version = state.get("version").and_then(serde_json::Value::as_u64);
    if version != Some(EXPORT_VERSION) {
        return Err(format!(
            "expected an export with \"version\": {EXPORT_VERSION}, got {version:?}"
        ));
    }
    let requests = match state.get("requests") {
        Some(serde_json::Value::Array(requests)) => requests.clone(),
        _ => return Err("an export has a \"requests\" array".into()),
    };
    shared.store.import(requests)
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("storage_dir", &self.storage_dir)
            .finish_non_exhaustive()
    }
}
