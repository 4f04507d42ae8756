//! `transcend request approve | cancel | mark-silent | notify-additional-time |
//! enricher-restart | skip-preflight-jobs | reject-unverified-identifiers` and
//! `transcend request system …`: a privacy team's bulk work on requests through the
//! admin API, with the names, flags and defaults of Transcend's own CLI (its camelCase
//! flag names are accepted too), plus a dry run, a journal and receipts.

mod commands;
mod export;
mod journal;
mod preflight;
mod run;

pub use commands::{ManageCommand, SystemCommand, manage, system};
pub use export::{ExportArgs, export};
pub use preflight::{PreflightCommand, preflight};

use std::path::PathBuf;

use clap::Args;
use sha2::{Digest, Sha256};
use transcend_hyper::Client;
use transcend_hyper::admin::{RequestFilters, RequestOrigin, RequestStatus};

use run::Settings;

/// The statuses Transcend's CLI acts on by default: every open one.
pub const OPEN_STATUSES: &[&str] = &[
    "COMPILING",
    "REQUEST_MADE",
    "DELAYED",
    "APPROVING",
    "SECONDARY",
    "ENRICHING",
    "WAITING",
    "SECONDARY_APPROVING",
];

/// How every bulk command runs.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Lists what would change and changes nothing.
    #[arg(long, alias = "dryRun")]
    pub dry_run: bool,
    /// Calls at once (each command has Transcend's CLI's default).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// The journal: a rerun with it skips what an earlier run settled (default: a file
    /// here named after the command and a digest of its arguments).
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Where to write the receipts, CSV: id, requestId, outcome, message (default:
    /// beside the journal).
    #[arg(long)]
    pub receipts: Option<PathBuf>,
}

/// Which requests a command looks at.
#[derive(Debug, Clone, Args)]
pub struct Selection {
    /// Only requests in these statuses (comma-separated; each command has a default).
    #[arg(long, alias = "requestStatuses", value_delimiter = ',')]
    pub statuses: Vec<String>,
    /// Only requests of these types (ACCESS, ERASURE, …).
    #[arg(long, alias = "requestActions", value_delimiter = ',')]
    pub actions: Vec<String>,
    /// Only these requests.
    #[arg(long, alias = "requestIds", value_delimiter = ',')]
    pub request_ids: Vec<String>,
    /// Only requests made before this time (ISO 8601).
    #[arg(long, alias = "createdAtBefore")]
    pub created_at_before: Option<String>,
    /// Only requests made at or after this time (ISO 8601).
    #[arg(long, alias = "createdAtAfter")]
    pub created_at_after: Option<String>,
    /// Only requests made through these origins (PRIVACY_CENTER, ADMIN_DASHBOARD, API,
    /// SHOPIFY, DROP).
    #[arg(long, value_delimiter = ',')]
    pub origins: Vec<String>,
}

impl Selection {
    /// The filter, with `default_statuses` when none are given.
    pub fn filter(&self, default_statuses: &[&str]) -> Result<RequestFilters, String> {
        let statuses: Vec<String> = if self.statuses.is_empty() {
            default_statuses.iter().map(|s| (*s).to_owned()).collect()
        } else {
            self.statuses.clone()
        };
        let mut filter = RequestFilters::new();
        if !statuses.is_empty() {
            filter = filter.status(known(
                &statuses,
                RequestStatus::parse,
                RequestStatus::KNOWN,
                "status",
            )?);
        }
        if !self.actions.is_empty() {
            filter = filter.action(known(
                &self.actions,
                transcend_hyper::admin::RequestAction::parse,
                transcend_hyper::admin::RequestAction::KNOWN,
                "type",
            )?);
        }
        if !self.origins.is_empty() {
            filter = filter.origin(known(
                &self.origins,
                RequestOrigin::parse,
                RequestOrigin::KNOWN,
                "origin",
            )?);
        }
        if !self.request_ids.is_empty() {
            filter = filter.ids(&self.request_ids);
        }
        if let Some(before) = &self.created_at_before {
            filter = filter.created_at_before(before.clone());
        }
        if let Some(after) = &self.created_at_after {
            filter = filter.created_at_after(after.clone());
        }
        Ok(filter)
    }
}

/// Values read by `parse`, refused (naming the known ones) when not among `known`.
fn known<T: Clone + PartialEq + std::fmt::Display>(
    values: &[String],
    parse: fn(&str) -> T,
    known: &[T],
    what: &str,
) -> Result<Vec<T>, String> {
    values
        .iter()
        .map(|value| {
            let parsed = parse(value.trim());
            if known.contains(&parsed) {
                Ok(parsed)
            } else {
                Err(format!(
                    "unknown {what} {value:?}: expected one of {}",
                    known
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        })
        .collect()
}

/// The client: `TRANSCEND_API_KEY`, `TRANSCEND_API_URL` (the admin API's backend),
/// `SOMBRA_URL`; retried as Transcend's tooling retries (up to 4 more times).
pub fn client() -> Result<Client, String> {
    transcend_hyper::ClientBuilder::from_vars(|name| std::env::var(name).ok())
        .map_err(|e| e.to_string())?
        .max_attempts(5)
        .build()
        .map_err(|e| e.to_string())
}

/// The run's settings: the journal and receipts named after the command and a digest
/// of its arguments, unless given.
pub fn settings(
    name: &'static str,
    args: &RunArgs,
    identity: &str,
    concurrency: usize,
) -> Settings {
    let digest = Sha256::digest(format!("{name}\n{identity}").as_bytes());
    let short: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let stem = format!("transcend-{}-{short}", name.replace(' ', "-"));
    let journal = args
        .journal
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{stem}.journal")));
    let receipts = args.receipts.clone().unwrap_or_else(|| {
        let mut path = journal.clone().into_os_string();
        path.push(".receipts.csv");
        PathBuf::from(path)
    });
    Settings {
        name,
        dry_run: args.dry_run,
        concurrency: args.concurrency.unwrap_or(concurrency),
        journal,
        receipts,
    }
}
