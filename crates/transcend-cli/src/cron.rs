//! `transcend cron …`: a cron ("pull") data silo's commands: write the jobs waiting for
//! it to a file, then complete the ones a file lists, resumably.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use transcend_hyper::types::{PendingRequest, RequestAction};
use transcend_hyper::{Client, Nonce};

/// A cron silo's commands (credentials from TRANSCEND_API_KEY, SOMBRA_URL,
/// SOMBRA_API_KEY: a key of the silo).
#[derive(Debug, Subcommand)]
pub enum CronCommand {
    /// Writes every job waiting for the silo (CSV or JSON lines).
    Pull(PullArgs),
    /// Completes the jobs a file lists (by their nonces); a rerun after an interruption
    /// skips the ones already done (recorded in FILE.done).
    Mark(MarkArgs),
}

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// CSV with a header row.
    Csv,
    /// One JSON object a line.
    Jsonl,
}

/// `transcend cron pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The data silo's id.
    #[arg(long)]
    pub silo: String,
    /// The request type (ERASURE, ACCESS, …).
    #[arg(long)]
    pub action: String,
    /// Where to write (standard output when absent).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Jobs per page.
    #[arg(long, default_value_t = 100)]
    pub page_size: u32,
}

/// `transcend cron mark`.
#[derive(Debug, Args)]
pub struct MarkArgs {
    /// The data silo's id (for messages; the nonces name the jobs).
    #[arg(long)]
    pub silo: String,
    /// The file `cron pull` wrote (after removing the jobs not to complete).
    #[arg(long)]
    pub input: PathBuf,
    /// Its format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Jobs completed at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

/// The CSV columns, in order.
const COLUMNS: [&str; 8] = [
    "nonce",
    "requestId",
    "identifier",
    "type",
    "coreIdentifier",
    "dataSiloId",
    "requestCreatedAt",
    "daysUntilOverdue",
];

pub async fn run(command: CronCommand) -> Result<(), String> {
    let client = Client::from_env().map_err(|e| e.to_string())?;
    match command {
        CronCommand::Pull(args) => pull(&client, args).await,
        CronCommand::Mark(args) => mark(&client, args).await,
    }
}

async fn pull(client: &Client, args: PullArgs) -> Result<(), String> {
    let action = RequestAction::parse(&args.action);
    if !action.is_known() {
        return Err(format!("unknown request type {:?}", args.action));
    }
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(File::create(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut writer = JobWriter::new(sink, args.format)?;
    let mut jobs = std::pin::pin!(client.pending_requests(&args.silo, action, args.page_size));
    let mut count = 0usize;
    while let Some(job) = jobs.next().await {
        writer.write(&job.map_err(|e| e.to_string())?)?;
        count += 1;
    }
    writer.finish()?;
    eprintln!("{count} jobs waiting for {}", args.silo);
    Ok(())
}

enum JobWriter {
    Csv(Box<csv::Writer<Box<dyn Write>>>),
    Jsonl(BufWriter<Box<dyn Write>>),
}

impl JobWriter {
    fn new(sink: Box<dyn Write>, format: Format) -> Result<Self, String> {
        Ok(match format {
            Format::Csv => {
                let mut writer = csv::Writer::from_writer(sink);
                writer.write_record(COLUMNS).map_err(|e| e.to_string())?;
                Self::Csv(Box::new(writer))
            }
            Format::Jsonl => Self::Jsonl(BufWriter::new(sink)),
        })
    }

    fn write(&mut self, job: &PendingRequest) -> Result<(), String> {
        match self {
            Self::Csv(writer) => writer
                .write_record([
                    job.nonce.expose().to_owned(),
                    job.request_id.clone().unwrap_or_default(),
                    job.identifier.clone(),
                    job.identifier_type
                        .as_ref()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    job.core_identifier.clone().unwrap_or_default(),
                    job.data_silo_id.clone().unwrap_or_default(),
                    job.request_created_at
                        .as_ref()
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                    job.days_until_overdue
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                ])
                .map_err(|e| e.to_string()),
            Self::Jsonl(writer) => {
                serde_json::to_writer(&mut *writer, job).map_err(|e| e.to_string())?;
                writer.write_all(b"\n").map_err(|e| e.to_string())
            }
        }
    }

    fn finish(self) -> Result<(), String> {
        match self {
            Self::Csv(mut writer) => writer.flush().map_err(|e| e.to_string()),
            Self::Jsonl(mut writer) => writer.flush().map_err(|e| e.to_string()),
        }
    }
}

/// The nonces a file lists, in order.
fn read_nonces(path: &Path, format: Format) -> Result<Vec<String>, String> {
    let named = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    match format {
        Format::Csv => {
            let mut reader = csv::Reader::from_path(path).map_err(|e| named(&e))?;
            let headers = reader.headers().map_err(|e| named(&e))?.clone();
            let column = headers
                .iter()
                .position(|h| h == "nonce")
                .ok_or_else(|| named(&"no column named nonce"))?;
            reader
                .records()
                .enumerate()
                .map(|(line, record)| {
                    let record = record.map_err(|e| named(&e))?;
                    record
                        .get(column)
                        .filter(|n| !n.is_empty())
                        .map(str::to_owned)
                        .ok_or_else(|| named(&format!("row {} has no nonce", line + 2)))
                })
                .collect()
        }
        Format::Jsonl => {
            let file = File::open(path).map_err(|e| named(&e))?;
            BufReader::new(file)
                .lines()
                .enumerate()
                .filter(|(_, line)| line.as_ref().map_or(true, |l| !l.trim().is_empty()))
                .map(|(n, line)| {
                    let line = line.map_err(|e| named(&e))?;
                    let job: PendingRequest = serde_json::from_str(&line)
                        .map_err(|e| named(&format!("line {}: {e}", n + 1)))?;
                    Ok(job.nonce.expose().to_owned())
                })
                .collect()
        }
    }
}

/// `FILE.done`: the nonces completed (or found done) by earlier runs, one a line.
fn journal_path(input: &Path) -> PathBuf {
    let mut name = input.as_os_str().to_owned();
    name.push(".done");
    PathBuf::from(name)
}

async fn mark(client: &Client, args: MarkArgs) -> Result<(), String> {
    let nonces = read_nonces(&args.input, args.format)?;
    let journal_path = journal_path(&args.input);
    let done: HashSet<String> = std::fs::read_to_string(&journal_path)
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default();
    let todo: Vec<Nonce> = nonces
        .iter()
        .filter(|n| !done.contains(*n))
        .map(|n| Nonce::new(n.clone()))
        .collect();
    let skipped = nonces.len() - todo.len();
    let mut journal = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&journal_path)
        .map_err(|e| format!("{}: {e}", journal_path.display()))?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(todo.len() as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30} {pos}/{len} jobs {per_sec} eta {eta}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut journal_error = None;
    let summary = client
        .complete_jobs(todo, args.concurrency, |nonce, outcome| {
            bar.inc(1);
            // Recorded as soon as it is settled, so an interrupted run is resumed
            // without doing it again.
            if outcome.is_ok()
                && let Err(e) =
                    writeln!(journal, "{}", nonce.expose()).and_then(|()| journal.flush())
            {
                journal_error.get_or_insert(e.to_string());
            }
        })
        .await;
    bar.finish_and_clear();
    println!(
        "{}: completed {}, already done {}, failed {}, skipped {} done in an earlier run",
        args.silo,
        summary.completed,
        summary.already_done,
        summary.failed.len(),
        skipped
    );
    for (_, error) in &summary.failed {
        eprintln!("  failed: {error}");
    }
    if let Some(error) = journal_error {
        return Err(format!(
            "cannot record progress in {}: {error}",
            journal_path.display()
        ));
    }
    if summary.failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} jobs failed; run the command again to retry them",
            summary.failed.len()
        ))
    }
}
