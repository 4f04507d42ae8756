//! `transcend request …`: a requester's commands against Sombra (or the emulator),
//! with the credentials of `TRANSCEND_API_KEY`, `SOMBRA_URL` and `SOMBRA_API_KEY`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use transcend_hyper::types::RestartIdentifierStrategy;
use transcend_hyper::{Client, DownloadEvent, DownloadOptions, RestartOptions};

/// A requester's commands.
#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Downloads a request's access report into a directory: every file, a manifest
    /// (file, datapoint, size, sha256); a rerun skips what is already complete.
    Download(DownloadArgs),
    /// Restarts a request.
    Restart(RestartArgs),
}

/// `transcend request download`.
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The request's id.
    pub id: String,
    /// The directory to write to (created when missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Files downloaded at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

/// `transcend request restart`.
#[derive(Debug, Args)]
pub struct RestartArgs {
    /// The request's id.
    pub id: String,
    /// Which identifiers the restart keeps: PRESERVE_INITIAL_VERIFICATIONS_ONLY,
    /// PRESERVE_ALL_VERIFICATIONS or REMOVE_ENRICHED_IDENTIFIERS.
    #[arg(long)]
    pub strategy: Option<String>,
    /// Copies the original's identifiers into the restart.
    #[arg(long)]
    pub copy_identifiers: bool,
    /// Skips the workflow's waiting period.
    #[arg(long)]
    pub skip_waiting_period: bool,
}

pub async fn run(command: RequestCommand) -> Result<(), String> {
    let client = Client::from_env().map_err(|e| e.to_string())?;
    match command {
        RequestCommand::Download(args) => download(&client, args).await,
        RequestCommand::Restart(args) => restart(&client, args).await,
    }
}

async fn download(client: &Client, args: DownloadArgs) -> Result<(), String> {
    let bar = progress_bar();
    let shown = Arc::new(Mutex::new(bar.clone()));
    let options = DownloadOptions::default()
        .concurrency(args.concurrency)
        .progress(move |event| {
            let Ok(bar) = shown.lock() else { return };
            match event {
                DownloadEvent::Planned {
                    bytes,
                    files,
                    skipped,
                } => {
                    bar.set_length(bytes);
                    bar.set_message(format!("{files} files ({skipped} already here)"));
                }
                DownloadEvent::Done { file, bytes } => {
                    bar.inc(bytes);
                    bar.println(format!("  {file}"));
                }
                DownloadEvent::Failed { file } => bar.println(format!("  {file}: failed")),
                _ => {}
            }
        });
    let report = client
        .download_report(&args.id, &args.out, options)
        .await
        .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    println!(
        "{} files downloaded, {} already complete, {} failed; manifest {}",
        report.downloaded,
        report.skipped,
        report.failed.len(),
        report.manifest.display()
    );
    for failed in &report.failed {
        eprintln!("  {}: {}", failed.file, failed.error);
    }
    if report.is_complete() {
        Ok(())
    } else {
        Err(format!(
            "{} files failed; run the command again to fetch them",
            report.failed.len()
        ))
    }
}

/// A bar of bytes on a terminal; hidden otherwise (the lines printed at the end say
/// what happened).
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

async fn restart(client: &Client, args: RestartArgs) -> Result<(), String> {
    let mut options = RestartOptions::default()
        .copy_identifiers(args.copy_identifiers)
        .skip_waiting_period(args.skip_waiting_period);
    if let Some(strategy) = &args.strategy {
        let strategy = RestartIdentifierStrategy::parse(strategy);
        if !strategy.is_known() {
            return Err(format!(
                "unknown strategy {:?}: expected one of {}",
                strategy.as_str(),
                RestartIdentifierStrategy::KNOWN_NAMES.join(", ")
            ));
        }
        options = options.strategy(strategy);
    }
    let restarted = client
        .restart_dsr(&args.id, options)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "restarted {}: {}",
        restarted.request.id, restarted.request.status
    );
    Ok(())
}
