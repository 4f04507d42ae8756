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
    /// Restarts a request, or every request of a file (`--from`).
    Restart(RestartArgs),
    /// Submits every row of a CSV file, exactly once: a journal beside the file lets a
    /// rerun skip what is done; receipts say what happened to each row.
    Upload(Box<crate::upload::UploadArgs>),
    /// Writes the current status of every request of a file as CSV.
    Status(StatusArgs),
    #[command(flatten)]
    Manage(crate::manage::ManageCommand),
    /// Unsticking requests' data silos.
    #[command(subcommand)]
    System(crate::manage::SystemCommand),
    /// Writes every request matching the filters, with its identifiers, as CSV or JSON
    /// lines; `--concurrency N` splits the created-at range into N files.
    Export(Box<crate::manage::ExportArgs>),
    /// Enriching requests by hand: pull what to look up, push what was found.
    #[command(subcommand)]
    Preflight(crate::manage::PreflightCommand),
}

/// `transcend request status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// A CSV with a `requestId` (or `id`) column, such as upload receipts, or a file of
    /// ids one per line.
    #[arg(long)]
    pub from: PathBuf,
    /// Where to write the CSV (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Requests looked up at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
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
    #[arg(required_unless_present = "from", conflicts_with = "from")]
    pub id: Option<String>,
    /// Restarts every request of this file (a CSV with a `requestId` or `id` column, or
    /// ids one per line) and writes the outcomes as CSV to standard output.
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// Restarts at once, with `--from`.
    #[arg(long, default_value_t = 15)]
    pub concurrency: usize,
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
    if let RequestCommand::Upload(args) = command {
        // One thread does the sending: a row's work is small, and handing it between
        // worker threads costs more than it does.
        return tokio::task::spawn_blocking(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?
                .block_on(crate::upload::run(*args))
        })
        .await
        .map_err(|e| e.to_string())?;
    }
    let command = match command {
        RequestCommand::Manage(command) => {
            return on_one_thread(move || crate::manage::manage(command)).await;
        }
        RequestCommand::System(command) => {
            return on_one_thread(move || crate::manage::system(command)).await;
        }
        RequestCommand::Export(args) => {
            return on_one_thread(move || crate::manage::export(*args)).await;
        }
        RequestCommand::Preflight(command) => {
            return on_one_thread(move || crate::manage::preflight(command)).await;
        }
        other => other,
    };
    let client = Client::from_env().map_err(|e| e.to_string())?;
    match command {
        RequestCommand::Download(args) => download(&client, args).await,
        RequestCommand::Restart(args) => restart(&client, args).await,
        RequestCommand::Status(args) => status(&client, args).await,
        _ => Ok(()),
    }
}

/// Runs a bulk command on one thread of its own: each call's work is small, and
/// handing calls between worker threads (a wake-up and a futex each) costs more CPU
/// than the calls themselves, CPU the server on the same machine could use.
async fn on_one_thread<F, Fut>(command: F) -> Result<(), String>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(command())
    })
    .await
    .map_err(|e| e.to_string())?
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
    if let Some(from) = &args.from {
        let options = &options;
        let mut out = csv::Writer::from_writer(std::io::stdout());
        let _ = out.write_record(["requestId", "status", "error"]);
        let failed = for_each_id(from, args.concurrency, &mut out, |id| async move {
            match client.restart_dsr(&id, options.clone()).await {
                Ok(restarted) => [id, restarted.request.status.to_string(), String::new()],
                Err(e) => [id, String::new(), e.to_string()],
            }
        })
        .await?;
        return if failed == 0 {
            Ok(())
        } else {
            Err(format!("{failed} restarts failed"))
        };
    }
    let id = args.id.unwrap_or_default();
    let restarted = client
        .restart_dsr(&id, options)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "restarted {}: {}",
        restarted.request.id, restarted.request.status
    );
    Ok(())
}

async fn status(client: &Client, args: StatusArgs) -> Result<(), String> {
    let sink: Box<dyn std::io::Write> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let mut out = csv::Writer::from_writer(sink);
    let _ = out.write_record(["requestId", "status", "type", "coreIdentifier", "error"]);
    let failed = for_each_id(&args.from, args.concurrency, &mut out, |id| async move {
        match client.get_dsr(&id).await {
            Ok(dsr) => [
                id,
                dsr.status.to_string(),
                dsr.action.to_string(),
                dsr.core_identifier,
                String::new(),
            ],
            Err(e) => [
                id,
                String::new(),
                String::new(),
                String::new(),
                e.to_string(),
            ],
        }
    })
    .await?;
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} requests could not be looked up"))
    }
}

/// Runs `call` for every request id of `path`, `concurrency` at once, and writes each
/// answer as a CSV record in the file's order (memory stays flat: ids are read as they
/// are needed). A record whose last column is not empty counts as failed.
async fn for_each_id<W, F, Fut, const N: usize>(
    path: &std::path::Path,
    concurrency: usize,
    out: &mut csv::Writer<W>,
    call: F,
) -> Result<u64, String>
where
    W: std::io::Write,
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = [String; N]>,
{
    use futures_util::StreamExt;
    let ids = ids_from(path)?;
    let mut answers = futures_util::stream::iter(ids)
        .map(|id| {
            let call = &call;
            async move {
                match id {
                    Ok(id) => Ok(call(id).await),
                    Err(e) => Err(e),
                }
            }
        })
        .buffered(concurrency.max(1));
    let mut failed = 0;
    while let Some(answer) = answers.next().await {
        let record = answer?;
        if record.last().is_some_and(|e| !e.is_empty()) {
            failed += 1;
        }
        out.write_record(&record)
            .map_err(|e| format!("cannot write the output: {e}"))?;
    }
    out.flush()
        .map_err(|e| format!("cannot write the output: {e}"))?;
    Ok(failed)
}

/// Every request id of a file (see [`ids_from`]).
pub(crate) fn read_ids(path: &std::path::Path) -> Result<Vec<String>, String> {
    ids_from(path)?.collect()
}

/// The request ids of a file: the `requestId` (or `Request Id`, `id`, `request_id`)
/// column of a CSV,
/// or, without such a header, every line. Rows without an id (receipts of rows that
/// were not created) are passed over.
fn ids_from(
    path: &std::path::Path,
) -> Result<impl Iterator<Item = Result<String, String>> + use<>, String> {
    let named = |e: csv::Error| format!("{}: {e}", path.display());
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_path(path)
        .map_err(named)?;
    let mut first = csv::StringRecord::new();
    let has_line = reader.read_record(&mut first).map_err(named)?;
    let column = first.iter().position(|h| {
        let h: String = h.trim().chars().filter(|c| !c.is_whitespace()).collect();
        h.eq_ignore_ascii_case("requestId") || h.eq_ignore_ascii_case("id") || h == "request_id"
    });
    // Without a header naming the id, the first line is an id too.
    let leading =
        (has_line && column.is_none()).then(|| first.get(0).unwrap_or_default().trim().to_owned());
    let index = column.unwrap_or(0);
    let display = path.display().to_string();
    Ok(leading
        .map(Ok)
        .into_iter()
        .chain(reader.into_records().map(move |record| {
            record
                .map(|r| r.get(index).unwrap_or_default().trim().to_owned())
                .map_err(|e| format!("{display}: {e}"))
        }))
        .filter(|id| id.as_ref().map_or(true, |id| !id.is_empty())))
}
