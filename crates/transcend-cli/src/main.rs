//! `transcend`: the command line of transcend-rs.
//!
//! ```text
//! transcend demo [--json]
//! transcend emulator [--listen 127.0.0.1:4000] [--config emulator.toml] [--api-key KEY]… [--data-dir DIR] [--import FILE]
//! transcend request download ID --out DIR [--concurrency N]
//! transcend request restart (ID | --from FILE) [--strategy S] [--copy-identifiers] [--skip-waiting-period]
//! transcend request upload FILE.csv [--mapping M.toml] [--column F=C]… [--type T] [--dry-run] [--rate N] [--concurrency N]
//! transcend request status --from receipts.csv [--out FILE]
//! transcend emulator trigger --url URL --audience AUD --core ID [--action A] [--enrichment]
//! transcend cron pull --silo ID --action ERASURE [--format csv|jsonl] [--out FILE]
//! transcend cron mark --silo ID --input FILE [--format csv|jsonl] [--concurrency N]
//! transcend request approve | cancel | mark-silent | notify-additional-time [filters] [--dry-run]
//! transcend request enricher-restart | skip-preflight-jobs | reject-unverified-identifiers
//! transcend request system mark-request-data-silos-completed | retry-request-data-silos | skip-request-data-silos
//! transcend request export [filters] [--file F] [--format csv|jsonl] [--concurrency N]
//! transcend request preflight pull-identifiers | push-identifiers
//! ```

mod cron;
mod demo;
mod manage;
mod request;
mod trigger;
mod upload;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use transcend_emulator::{
    ApiKeyConfig, DASHBOARD_PATH, DEFAULT_API_KEY, Emulator, EmulatorConfig, INSPECTION_PREFIX,
    Scope,
};

/// The command line of transcend-rs, the Rust SDK for Transcend's data-subject-request
/// API: submit, track, download and restart requests in bulk; approve, cancel, extend,
/// silence, export and unstick them through the admin API (every change journaled, so
/// a rerun resumes); work a cron data silo's jobs; run a local emulator of Sombra and
/// the admin API, and a demo of the whole story.
#[derive(Debug, Parser)]
#[command(name = "transcend", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the whole story on loopback: an emulated Sombra, a data silo and a backend;
    /// an ACCESS and an ERASURE request; signed webhooks, reports, checks. Exits 0 only
    /// if every check passes.
    Demo {
        /// Prints the timeline and checks as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Runs a local Transcend (Sombra's DSR API and the admin GraphQL API), for offline
    /// development and tests.
    Emulator(Box<EmulatorArgs>),
    /// Requests: submit, track, download, restart; and a privacy team's bulk work
    /// through the admin API (credentials from TRANSCEND_API_KEY, TRANSCEND_API_URL,
    /// SOMBRA_URL, SOMBRA_API_KEY).
    #[command(subcommand)]
    Request(request::RequestCommand),
    /// A cron (pull) data silo's commands (credentials as for `request`).
    #[command(subcommand)]
    Cron(cron::CronCommand),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
struct EmulatorArgs {
    #[command(subcommand)]
    action: Option<EmulatorAction>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:4000")]
    listen: SocketAddr,
    /// A TOML configuration file (keys, data silos, limits, faults).
    #[arg(long)]
    config: Option<PathBuf>,
    /// An API key with every scope, in addition to the configured ones (repeatable).
    #[arg(long = "api-key")]
    api_keys: Vec<String>,
    /// Requires this Sombra internal key on every call (self-hosted mode).
    #[arg(long)]
    sombra_key: Option<String>,
    /// The largest request body accepted, in bytes.
    #[arg(long)]
    body_limit: Option<u64>,
    /// Where uploaded files are stored.
    #[arg(long)]
    storage_dir: Option<PathBuf>,
    /// Keeps requests, jobs, reports, files and keys across restarts in this directory
    /// (created when missing).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Adds the requests of an export (`GET /emulator/v1/state`) at start.
    #[arg(long)]
    import: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum EmulatorAction {
    /// Has a running emulator send one signed webhook (a DSR job or an enrichment) to
    /// your silo's URL, and prints what it answered.
    Trigger(trigger::TriggerArgs),
}

fn load(args: &EmulatorArgs) -> Result<EmulatorConfig, String> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            EmulatorConfig::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => EmulatorConfig::default(),
    };
    for key in &args.api_keys {
        config
            .api_keys
            .push(ApiKeyConfig::new(key.clone(), Scope::ALL));
    }
    if let Some(key) = &args.sombra_key {
        config.sombra_key = Some(key.clone());
    }
    if let Some(limit) = args.body_limit {
        config.body_limit = limit;
    }
    if let Some(dir) = &args.storage_dir {
        config.storage_dir = Some(dir.clone());
    }
    if let Some(dir) = &args.data_dir {
        config.data_dir = Some(dir.clone());
    }
    Ok(config)
}

async fn emulator(args: EmulatorArgs) -> Result<(), String> {
    let config = load(&args)?;
    let emulator = Emulator::builder()
        .config(config)
        .listen(args.listen)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    if let Some(path) = &args.import {
        let text =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let state =
            serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let count = emulator
            .import(state)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        println!("imported {count} requests from {}", path.display());
    }
    println!("transcend emulator listening on {}", emulator.base_url());
    // Only the built-in development key is printed: a configured key is a secret.
    let key = emulator.api_key();
    if key == DEFAULT_API_KEY {
        println!("  API key:    {key}");
    } else {
        let keys = emulator.config().api_keys.len();
        println!("  API keys:   {keys} from the configuration (not shown)");
    }
    if emulator.config().sombra_key.is_some() {
        println!("  self-hosted: every call needs x-sombra-authorization");
    }
    println!("  data silos: {}", emulator.config().data_silos.len());
    println!("  dashboard:  {}{DASHBOARD_PATH}", emulator.base_url());
    println!("  inspect:    {}{INSPECTION_PREFIX}", emulator.base_url());
    println!("  files:      {}", emulator.storage_dir().display());
    if let Some(dir) = &emulator.config().data_dir {
        println!(
            "  state:      {} ({} requests kept)",
            dir.display(),
            emulator.request_count()
        );
    }
    println!("Ctrl-C to stop.");
    stopped().await?;
    emulator.shutdown().await;
    Ok(())
}

/// Until Ctrl-C, or SIGTERM (a service manager's or a container's stop): either way the
/// emulator shuts down and removes the temporary files it made.
async fn stopped() -> Result<(), String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => interrupted.map_err(|e| e.to_string()),
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())
}

async fn demo(json: bool) -> Result<(), String> {
    let report = demo::run().await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        demo::print(&report);
    }
    if report.ok {
        Ok(())
    } else {
        Err("the demo's checks failed".into())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Emulator(args) => match *args {
            EmulatorArgs {
                action: Some(EmulatorAction::Trigger(trigger)),
                ..
            } => trigger::run(trigger).await,
            args => emulator(args).await,
        },
        Command::Demo { json } => demo(json).await,
        Command::Request(command) => request::run(command).await,
        Command::Cron(command) => cron::run(command).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("transcend: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file() {
        let cli = Cli::parse_from([
            "transcend",
            "emulator",
            "--api-key",
            "k1",
            "--sombra-key",
            "s",
            "--body-limit",
            "10",
            "--data-dir",
            "/var/lib/emulator",
        ]);
        let Command::Emulator(args) = cli.command else {
            panic!("not the emulator command")
        };
        let config = load(&args).unwrap();
        assert_eq!(config.api_keys, [ApiKeyConfig::new("k1", Scope::ALL)]);
        assert_eq!(config.sombra_key.as_deref(), Some("s"));
        assert_eq!(config.body_limit, 10);
        assert_eq!(
            config.data_dir.as_deref(),
            Some(std::path::Path::new("/var/lib/emulator"))
        );
    }

    #[test]
    fn a_missing_config_file_is_named() {
        let cli = Cli::parse_from([
            "transcend",
            "emulator",
            "--config",
            "/nonexistent/emulator.toml",
        ]);
        let Command::Emulator(args) = cli.command else {
            panic!("not the emulator command")
        };
        assert!(
            load(&args)
                .unwrap_err()
                .contains("/nonexistent/emulator.toml")
        );
    }
}
