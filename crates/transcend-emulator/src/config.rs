//! What the emulator serves: keys, silos, limits, faults. Read from TOML or built in code.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::admin_config::{
    AdminConfig, AiSettingConfig, AttributeKeyConfig, DEFAULT_SOMBRA_VERSION, TeamConfig,
    TemplateConfig, UserConfig,
};
use transcend_proto::types::{IdentifierType, RequestAction, SubmitDsr};

/// The API key accepted when no configuration is given: every scope, every silo.
pub const DEFAULT_API_KEY: &str = "test-key";

/// The emulator's configuration. Every field has a default, so an empty file (or none)
/// gives a working emulator with the key `test-key`.
///
/// ```toml
/// sombra_key = "internal-key"          # self-hosted mode: required on every call
/// body_limit = 52428800                # bytes (50 MB)
///
/// [[api_keys]]
/// key = "backend-key"
/// scopes = ["submit", "view"]
///
/// [[api_keys]]
/// key = "users-db-key"
/// scopes = ["report"]
/// data_silo = "users-db"               # may report only for this silo's jobs
///
/// [[data_silos]]
/// id = "users-db"
/// title = "Users database"
/// webhook_url = "http://127.0.0.1:9000/transcend"
/// audience = "users-db"
/// datapoints = ["name", "orders"]
/// actions = ["ACCESS", "ERASURE"]
///
/// [rate_limit]
/// rate = 20.0                          # requests per second, per key
/// burst = 40
///
/// [faults]
/// error_500 = 0.05                     # chances per request
/// error_502 = 0.0
/// drop_connection = 0.0
/// latency_ms = 20
/// seed = 7                             # the same seed, the same faults
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct EmulatorConfig {
    /// API keys and what they may do; empty means the one key `test-key` with every scope.
    pub api_keys: Vec<ApiKeyConfig>,
    /// The internal key of a self-hosted Sombra: when set, every call must carry it in
    /// `x-sombra-authorization`.
    pub sombra_key: Option<String>,
    /// The data silos that receive webhooks.
    pub data_silos: Vec<DataSiloConfig>,
    /// Requests per second per key; none means unlimited.
    pub rate_limit: Option<RateLimitConfig>,
    /// The largest request body accepted, in bytes.
    pub body_limit: u64,
    /// Where uploaded files are stored; a new directory under the system's temporary
    /// directory when unset.
    pub storage_dir: Option<PathBuf>,
    /// Keeps requests, jobs, reports, files and keys across restarts in this
    /// directory (an embedded database, `state.redb`, and `files/`); without it the
    /// state lives in memory and ends with the process.
    pub data_dir: Option<PathBuf>,
    /// Faults to inject.
    pub faults: FaultConfig,
    /// How webhooks are delivered.
    pub webhooks: WebhookConfig,
    /// How long an access report's download key stays valid, in seconds.
    pub download_key_lifetime_secs: u64,
    /// Enrichers: each gets a webhook while a new request is `ENRICHING`, before any
    /// silo; silos start once every enricher has answered.
    pub enrichers: Vec<EnricherConfig>,
    /// How long each step of a request's life takes, and whether a person approves.
    pub lifecycle: LifecycleConfig,
    /// What the admin API serves besides requests: templates, custom fields, data
    /// subject types.
    pub admin: AdminConfig,
}

/// The steps of a request's life after its enrichers: an optional waiting period
/// (`WAITING`), an optional approval (`APPROVING`), the silos (`COMPILING`), then
/// `SECONDARY` for an erasure or `DOWNLOADABLE` for an access request.
/// The defaults are the fast profile: no waiting period, no approval, no secondary
/// wait, so a request is done as soon as its silos are.
///
/// ```toml
/// [lifecycle]
/// waiting_period_ms = 5000       # WAITING before COMPILING, unless skipWaitingPeriod
/// approval = true                # APPROVING (and SECONDARY_APPROVING) until approved
/// secondary_ms = 2000            # ERASURE: SECONDARY for this long
/// download_window_secs = 600     # ACCESS: DOWNLOADABLE, then COMPLETED
/// deadline_days = 30             # the legal deadline (`daysRemaining`), from createdAt
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct LifecycleConfig {
    /// The waiting period before silos start, in milliseconds (0: none). A submission
    /// with `skipWaitingPeriod` skips it.
    pub waiting_period_ms: u64,
    /// Whether a person approves each request (`POST /emulator/v1/requests/{id}/approve`)
    /// before it finishes: `APPROVING` once its silos are done, and for an ERASURE
    /// `SECONDARY_APPROVING` after its secondary phase.
    pub approval: bool,
    /// How long an ERASURE stays `SECONDARY` once its silos are done, in milliseconds
    /// (0: no `SECONDARY` step unless approval asks for one).
    pub secondary_ms: u64,
    /// How long an ACCESS request stays `DOWNLOADABLE` before it is `COMPLETED`, in
    /// seconds. While `DOWNLOADABLE` it is still open: a second ACCESS request for the
    /// same person is refused as a duplicate.
    pub download_window_secs: u64,
    /// Days from `createdAt` to the request's deadline: the admin API's
    /// `daysRemaining` counts down to it, and `notifyAdditionalTime` pushes it back.
    pub deadline_days: u32,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            waiting_period_ms: 0,
            approval: false,
            secondary_ms: 0,
            download_window_secs: 7 * 24 * 3600,
            deadline_days: 30,
        }
    }
}

/// An enricher ("preflight"): receives an enrichment webhook for each new request, and
/// adds identifiers (`POST /v1/enrich-identifiers`), holds or cancels it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EnricherConfig {
    /// Its id (`x-transcend-enricher-id` of a manual enrichment).
    pub id: String,
    /// Where its webhooks are delivered; empty for an enricher a person works by hand
    /// (`POST /v1/enrich-identifiers` with `x-transcend-request-id` and
    /// `x-transcend-enricher-id`, as Transcend's `preflight` commands do).
    #[serde(default)]
    pub webhook_url: String,
    /// The `aud` of its webhook tokens (its id when not set).
    #[serde(default)]
    pub audience: String,
}

impl EnricherConfig {
    /// An enricher without a webhook: a person enriches each request by hand.
    pub fn manual(id: impl Into<String>) -> Self {
        Self::new(id, "")
    }

    /// Whether it has no webhook (a person enriches by hand).
    pub fn is_manual(&self) -> bool {
        self.webhook_url.is_empty()
    }

    /// An enricher with its webhook URL; its audience is its id.
    pub fn new(id: impl Into<String>, webhook_url: impl Into<String>) -> Self {
        let id = id.into();
        Self {
            audience: id.clone(),
            id,
            webhook_url: webhook_url.into(),
        }
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            api_keys: Vec::new(),
            sombra_key: None,
            data_silos: Vec::new(),
            rate_limit: None,
            body_limit: 50 * 1024 * 1024,
            storage_dir: None,
            data_dir: None,
            faults: FaultConfig::default(),
            webhooks: WebhookConfig::default(),
            download_key_lifetime_secs: 3600,
            enrichers: Vec::new(),
            lifecycle: LifecycleConfig::default(),
            admin: AdminConfig::default(),
        }
    }
}

impl EmulatorConfig {
    /// Reads a TOML configuration, naming the line of any mistake.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    /// Checks what serde cannot: silo ids unique and referenced ones present, URLs
    /// absolute, numbers in range.
    pub fn check(&self) -> Result<(), ConfigError> {
        let mut ids = std::collections::HashSet::new();
        for silo in &self.data_silos {
            if silo.id.is_empty() || !ids.insert(silo.id.as_str()) {
                return Err(ConfigError(format!(
                    "data silo id {:?} is empty or repeated",
                    silo.id
                )));
            }
            let url: http::Uri = silo.webhook_url.parse().map_err(|_| {
                ConfigError(format!(
                    "data silo {:?}: webhook_url {:?} is not a URL",
                    silo.id, silo.webhook_url
                ))
            })?;
            if url.scheme().is_none() || url.authority().is_none() {
                return Err(ConfigError(format!(
                    "data silo {:?}: webhook_url must be absolute",
                    silo.id
                )));
            }
        }
        for enricher in &self.enrichers {
            if enricher.id.is_empty() || !ids.insert(enricher.id.as_str()) {
                return Err(ConfigError(format!(
                    "enricher id {:?} is empty or repeated (ids are shared with data silos)",
                    enricher.id
                )));
            }
            if enricher.is_manual() {
                continue;
            }
            let url: http::Uri = enricher.webhook_url.parse().map_err(|_| {
                ConfigError(format!(
                    "enricher {:?}: webhook_url {:?} is not a URL",
                    enricher.id, enricher.webhook_url
                ))
            })?;
            if url.scheme().is_none() || url.authority().is_none() {
                return Err(ConfigError(format!(
                    "enricher {:?}: webhook_url must be absolute",
                    enricher.id
                )));
            }
        }
        for key in &self.api_keys {
            if key.key.is_empty() {
                return Err(ConfigError("an api key is empty".into()));
            }
            if let Some(silo) = &key.data_silo
                && !ids.contains(silo.as_str())
            {
                return Err(ConfigError(format!(
                    "api key tied to unknown data silo {silo:?}"
                )));
            }
        }
        if let Some(limit) = &self.rate_limit
            && !(limit.rate > 0.0 && limit.rate.is_finite() && limit.burst >= 1)
        {
            return Err(ConfigError(
                "rate_limit needs rate > 0 and burst >= 1".into(),
            ));
        }
        for (name, chance) in [
            ("error_500", self.faults.error_500),
            ("error_502", self.faults.error_502),
            ("drop_connection", self.faults.drop_connection),
            ("error_500_after", self.faults.error_500_after),
            ("error_502_after", self.faults.error_502_after),
            ("drop_connection_after", self.faults.drop_connection_after),
        ] {
            if !(0.0..=1.0).contains(&chance) {
                return Err(ConfigError(format!(
                    "faults.{name} must be between 0 and 1"
                )));
            }
        }
        Ok(())
    }

    /// The keys in force: the configured ones, or `test-key` with every scope.
    pub fn effective_api_keys(&self) -> Vec<ApiKeyConfig> {
        if self.api_keys.is_empty() {
            vec![ApiKeyConfig {
                key: DEFAULT_API_KEY.into(),
                scopes: Scope::ALL.to_vec(),
                data_silo: None,
            }]
        } else {
            self.api_keys.clone()
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid emulator configuration: {0}")]
pub struct ConfigError(pub String);

/// An API key and what it may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ApiKeyConfig {
    /// The key.
    pub key: String,
    /// What it may do.
    #[serde(default = "all_scopes")]
    pub scopes: Vec<Scope>,
    /// When set, the key may report only for this silo's jobs.
    #[serde(default)]
    pub data_silo: Option<String>,
}

fn all_scopes() -> Vec<Scope> {
    Scope::ALL.to_vec()
}

impl ApiKeyConfig {
    /// A key with these scopes.
    pub fn new(key: impl Into<String>, scopes: impl IntoIterator<Item = Scope>) -> Self {
        Self {
            key: key.into(),
            scopes: scopes.into_iter().collect(),
            data_silo: None,
        }
    }

    /// Ties the key to one silo.
    pub fn for_silo(mut self, silo: impl Into<String>) -> Self {
        self.data_silo = Some(silo.into());
        self
    }
}

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Scope {
    /// Submit DSRs ("Submit New Data Subject Request").
    Submit,
    /// Read DSRs and the inspection API ("View Incoming Requests").
    View,
    /// Report for data-silo jobs (uploads, erasure reports).
    Report,
    /// Enrich requests ("Manage Request Identity Verification").
    Enrich,
    /// Change requests through the admin API: approve, cancel, hold, extend, make
    /// silent, and set or retry their silos and enrichers ("Manage Request
    /// Compilation").
    Manage,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 5] = [
        Scope::Submit,
        Scope::View,
        Scope::Report,
        Scope::Enrich,
        Scope::Manage,
    ];

    /// The name Transcend's dashboard gives the scope.
    pub fn title(self) -> &'static str {
        match self {
            Scope::Submit => "Submit New Data Subject Request",
            Scope::View => "View Incoming Requests",
            Scope::Report => "report for data silo jobs",
            Scope::Enrich => "Manage Request Identity Verification",
            Scope::Manage => "Manage Request Compilation",
        }
    }
}

/// A data silo that receives webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DataSiloConfig {
    /// Its id.
    pub id: String,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// Where its webhooks are delivered.
    pub webhook_url: String,
    /// The `aud` of its webhook tokens.
    pub audience: String,
    /// The datapoints it reports; once all are reported, its job resolves by itself.
    #[serde(default)]
    pub datapoints: Vec<String>,
    /// The DSR types it handles; empty means every type.
    #[serde(default)]
    pub actions: Vec<RequestAction>,
    /// The identifier types it keys on: when set, a request gets a job here only if it
    /// holds one of them (the core identifier, the email, attested or enriched ones).
    /// A pull silo's pending item then carries the identifier that put the request in
    /// scope (`identifier`, `type`): the first of these types the request holds, in
    /// this order. Without them, the item carries the e-mail, or the core identifier.
    #[serde(default)]
    pub identifiers: Vec<IdentifierType>,
    /// A cron ("pull") silo: no webhook; its jobs are listed by
    /// `GET /v1/data-silo/{id}/pending-requests/{action}` until reported.
    #[serde(default)]
    pub pull: bool,
}

impl DataSiloConfig {
    /// A silo with its webhook URL; its audience is its id.
    pub fn new(id: impl Into<String>, webhook_url: impl Into<String>) -> Self {
        let id = id.into();
        Self {
            title: id.clone(),
            audience: id.clone(),
            id,
            webhook_url: webhook_url.into(),
            datapoints: Vec::new(),
            actions: Vec::new(),
            identifiers: Vec::new(),
            pull: false,
        }
    }

    /// Keys the silo on these identifier types.
    pub fn identifiers(mut self, kinds: impl IntoIterator<Item = IdentifierType>) -> Self {
        self.identifiers = kinds.into_iter().collect();
        self
    }

    /// Makes it a cron ("pull") silo: no webhooks, jobs pulled.
    pub fn pull(mut self) -> Self {
        self.pull = true;
        self
    }

    /// Sets the datapoints it reports.
    pub fn datapoints<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.datapoints = names.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the DSR types it handles.
    pub fn actions(mut self, actions: impl IntoIterator<Item = RequestAction>) -> Self {
        self.actions = actions.into_iter().collect();
        self
    }

    /// Whether it handles this DSR type.
    pub fn handles(&self, action: &RequestAction) -> bool {
        self.actions.is_empty() || self.actions.contains(action)
    }

    /// Whether a submission reaches this silo: it handles the action, and the
    /// submission's `dataSiloIds` include it (when given) and its `ignoreDataSiloIds`
    /// do not.
    pub fn in_scope_of(&self, submission: &SubmitDsr) -> bool {
        self.handles(&submission.action)
            && submission
                .data_silo_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&self.id))
            && submission
                .ignore_data_silo_ids
                .as_ref()
                .is_none_or(|ids| !ids.contains(&self.id))
    }
}

/// A token bucket per API key.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RateLimitConfig {
    /// Requests per second.
    pub rate: f64,
    /// Requests allowed at once.
    pub burst: u32,
}

impl RateLimitConfig {
    /// A limit of `rate` per second with bursts of `burst`.
    pub fn new(rate: f64, burst: u32) -> Self {
        Self { rate, burst }
    }
}

/// Faults injected into API requests (not into the inspection API).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FaultConfig {
    /// Chance of answering 500.
    pub error_500: f64,
    /// Chance of answering 502.
    pub error_502: f64,
    /// Chance of closing the connection without an answer.
    pub drop_connection: f64,
    /// Chance of answering 500 *after* a request that changes state took effect (it was
    /// stored): what a client must survive without losing or duplicating it.
    pub error_500_after: f64,
    /// The same with 502.
    pub error_502_after: f64,
    /// The same, closing the connection without an answer.
    pub drop_connection_after: f64,
    /// Latency added to every request, in milliseconds.
    pub latency_ms: u64,
    /// The seed of the fault sequence: the same seed, the same faults.
    pub seed: u64,
}

impl FaultConfig {
    /// Whether any fault or latency is configured.
    pub fn is_active(&self) -> bool {
        self.error_500 > 0.0
            || self.error_502 > 0.0
            || self.drop_connection > 0.0
            || self.error_500_after > 0.0
            || self.error_502_after > 0.0
            || self.drop_connection_after > 0.0
            || self.latency_ms > 0
    }
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            error_500: 0.0,
            error_502: 0.0,
            drop_connection: 0.0,
            error_500_after: 0.0,
            error_502_after: 0.0,
            drop_connection_after: 0.0,
            latency_ms: 0,
            seed: 1,
        }
    }
}

/// How webhooks are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhookConfig {
    /// Deliveries tried per job before it is marked failed.
    pub max_attempts: u32,
    /// The first pause before a new delivery, in milliseconds; it doubles each time.
    pub initial_backoff_ms: u64,
    /// How long each delivery may take, in milliseconds.
    pub timeout_ms: u64,
    /// How long webhook tokens are valid, in seconds.
    pub token_lifetime_secs: u64,
    /// After `max_attempts` quick deliveries failed, the job shows `DELIVERY_FAILED`
    /// and is tried again every this many milliseconds, as Transcend keeps retrying.
    pub slow_interval_ms: u64,
    /// Slow deliveries before giving up (`slow_interval_ms` × this is how long).
    pub slow_attempts: u32,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff_ms: 250,
            timeout_ms: 10_000,
            token_lifetime_secs: 300,
            slow_interval_ms: 10 * 60 * 1000,
            slow_attempts: 144,
        }
    }
}

impl WebhookConfig {
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        Duration::from_millis(
            self.initial_backoff_ms
                .saturating_mul(1 << attempt.saturating_sub(1).min(16)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_reads() {
        let text = r#"
            sombra_key = "internal-key"
            body_limit = 1024
            [[api_keys]]
            key = "backend-key"
            scopes = ["submit", "view"]
            [[api_keys]]
            key = "users-db-key"
            scopes = ["report"]
            data_silo = "users-db"
            [[data_silos]]
            id = "users-db"
            title = "Users database"
            webhook_url = "http://127.0.0.1:9000/transcend"
            audience = "users-db"
            datapoints = ["name", "orders"]
            actions = ["ACCESS", "ERASURE"]
            [rate_limit]
            rate = 20.0
            burst = 40
            [faults]
            error_500 = 0.05
            seed = 7
        "#;
        let config = EmulatorConfig::from_toml(text).unwrap();
        assert_eq!(config.api_keys[1].data_silo.as_deref(), Some("users-db"));
        assert_eq!(
            config.data_silos[0].actions,
            [RequestAction::Access, RequestAction::Erasure]
        );
        assert_eq!(config.faults.seed, 7);
    }

    #[test]
    fn the_example_file_reads() {
        let config = EmulatorConfig::from_toml(include_str!("../emulator.example.toml")).unwrap();
        assert_eq!(config.data_silos[0].datapoints, ["name", "plan"]);
        assert_eq!(config.rate_limit, Some(RateLimitConfig::new(20.0, 40)));
        assert!(!config.faults.is_active());
    }

    #[test]
    fn the_client_examples_configurations_read() {
        let examples =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../transcend-hyper/examples");
        let Ok(entries) = std::fs::read_dir(&examples) else {
            return; // built from its package alone, without the workspace
        };
        let mut read = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).unwrap();
                EmulatorConfig::from_toml(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                read += 1;
            }
        }
        assert!(read >= 5, "{read} example configurations");
    }

    #[test]
    fn no_configuration_means_test_key_with_every_scope() {
        let keys = EmulatorConfig::from_toml("").unwrap().effective_api_keys();
        assert_eq!(keys, [ApiKeyConfig::new(DEFAULT_API_KEY, Scope::ALL)]);
    }

    #[test]
    fn mistakes_are_named() {
        let error =
            EmulatorConfig::from_toml("[[api_keys]]\nkey = \"k\"\nscope = [\"x\"]").unwrap_err();
        assert!(error.to_string().contains("scope"), "{error}");
        let error = EmulatorConfig::from_toml("[[api_keys]]\nkey = \"k\"\ndata_silo = \"nope\"")
            .unwrap_err();
        assert!(error.to_string().contains("nope"), "{error}");
        let error = EmulatorConfig::from_toml("[faults]\nerror_500 = 2.0").unwrap_err();
        assert!(error.to_string().contains("error_500"), "{error}");
    }
}
