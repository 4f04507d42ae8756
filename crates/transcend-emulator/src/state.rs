//! What every part of a running emulator shares: configuration, the store, keys,
//! limits, and the webhook client.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use transcend_hyper::HyperTransport;
use transcend_proto::server::ServerError;
use transcend_proto::types::{IdentifierType, RequestStatus, SubmitDsr, SubmitDsrResponse};

use crate::config::{ApiKeyConfig, EmulatorConfig};
use crate::keys::SigningKeys;
use crate::limits::{Faults, RateLimiter};
use crate::nonce::NonceKey;
use crate::store::{Effect, Event, SiloPlan, Store};
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
    /// The admin API's schema, built once.
    pub admin: crate::graphql::AdminSchema,
    /// Where the emulator answers (`http://127.0.0.1:PORT`): its Sombra's
    /// `customerUrl`.
    pub base_url: String,
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
            let (record, effects) = self.store.restart(submission, silos)?;
            self.run(&record.id, effects);
            return Ok(SubmitDsrResponse::new(record));
        }
        let completed = submission
            .completed_request_status
            .clone()
            .map(RequestStatus::from);
        let enrichers = if completed.is_none() {
            self.config
                .enrichers
                .iter()
                .map(|e| (e.id.clone(), e.is_manual()))
                .collect()
        } else {
            Vec::new()
        };
        let silos = if enrichers.is_empty() {
            self.silos_in_scope(&submission, &held_by(&submission))
        } else {
            Vec::new()
        };
        let event = Event::Submitted {
            completed,
            enrichers,
            silos,
        };
        let (record, effects) = self.store.create(submission, event)?;
        self.run(&record.id, effects);
        Ok(SubmitDsrResponse::new(record))
    }

    /// Hands request `id` an event and carries out what it leads to.
    pub(crate) fn apply(self: &Arc<Self>, id: &str, event: Event) -> Result<(), ServerError> {
        let effects = self.store.apply(id, event)?;
        self.run(id, effects);
        Ok(())
    }

    /// Carries out a request's effects: webhooks are delivered in tasks of their own,
    /// and a request whose enrichers are done or whose waiting is over gets its silos.
    pub(crate) fn run(self: &Arc<Self>, id: &str, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::DeliverJob { silo, round } => {
                    let config = self
                        .config
                        .data_silos
                        .iter()
                        .find(|s| s.id == silo && !s.pull);
                    if let Some(config) = config {
                        tokio::spawn(webhook::deliver(
                            Arc::clone(self),
                            id.to_owned(),
                            config.clone(),
                            round,
                        ));
                    }
                }
                Effect::DeliverEnrichment { enricher, round } => {
                    let config = self.config.enrichers.iter().find(|e| e.id == enricher);
                    if let Some(config) = config.filter(|e| !e.is_manual()) {
                        tokio::spawn(webhook::deliver_enrichment(
                            Arc::clone(self),
                            id.to_owned(),
                            config.clone(),
                            round,
                        ));
                    }
                }
                Effect::StartSilos => self.start_silos(id),
                // The store puts timed steps on the clock's list itself.
                Effect::Wake(_) => {}
            }
        }
    }

    /// Once every enricher has answered, or the waiting period is over: the silos in
    /// scope for the request with the identifiers it now holds get their jobs.
    pub(crate) fn start_silos(self: &Arc<Self>, request_id: &str) {
        let Some(submission) = self.store.detached(request_id).map(|r| r.submission()) else {
            return;
        };
        let held = self.store.identifier_types(request_id);
        let silos = self.silos_in_scope(&submission, &held);
        if let Err(error) = self.apply(request_id, Event::Proceed { silos }) {
            tracing::warn!(request = %request_id, %error, "the silos could not start");
        }
    }

    /// The silos a submission reaches, given the identifier types the request holds.
    fn silos_in_scope(&self, submission: &SubmitDsr, held: &[IdentifierType]) -> Vec<SiloPlan> {
        self.config
            .data_silos
            .iter()
            .filter(|silo| silo.in_scope_of(submission))
            .filter(|silo| {
                silo.identifiers.is_empty() || silo.identifiers.iter().any(|t| held.contains(t))
            })
            .map(|silo| SiloPlan {
                id: silo.id.clone(),
                expected: silo.datapoints.clone(),
                pull: silo.pull,
            })
            .collect()
    }
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
