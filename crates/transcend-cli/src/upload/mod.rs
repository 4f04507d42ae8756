//! `transcend request upload FILE.csv`: each row a submission, exactly once, across
//! crashes and reruns.
//!
//! The CSV is read twice, streaming: once for its digest and row count, once to send.
//! A journal beside it ([`journal`]) records each row before it is first sent and when
//! its outcome is known; a rerun skips settled rows. A submission whose answer was lost
//! (a timeout, a dropped connection, a 5xx) is sent again, and an "already made"
//! answer then means the earlier attempt took effect. Sends are paced ([`pace`]): the
//! user's rate, the server's window, and a pause for everyone after a `429`.

pub mod journal;
pub mod mapping;
pub mod pace;
mod receipts;
mod send;

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use self::journal::{Done, Entry, Outcome, SENT, SETTLED};
use self::mapping::{Mapping, Plan};
use self::pace::Pacer;
use self::send::{Sender, Sent};

/// `transcend request upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The CSV file: a header line, then one request per row.
    pub file: PathBuf,
    /// A mapping file (TOML): columns, identifiers, attributes, value translations,
    /// defaults.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// A field's column, as FIELD=COLUMN (repeatable): coreIdentifier, email,
    /// requestType, subjectType, locale, country, countrySubDivision, requestStatus,
    /// createdAt, dataSiloIds.
    #[arg(long = "column", value_name = "FIELD=COLUMN")]
    pub columns: Vec<String>,
    /// A column of extra identifiers, as TYPE=COLUMN (repeatable), e.g. phone=Phone.
    #[arg(long = "identifier", value_name = "TYPE=COLUMN")]
    pub identifiers: Vec<String>,
    /// A column of attribute values, as KEY=COLUMN (repeatable).
    #[arg(long = "attribute", value_name = "KEY=COLUMN")]
    pub attributes: Vec<String>,
    /// The request type of rows without one (ERASURE, ACCESS, …).
    #[arg(long = "type")]
    pub action: Option<String>,
    /// The subject type of rows without one (default: customer).
    #[arg(long)]
    pub subject_type: Option<String>,
    /// Sends every request silently (no email to the person).
    #[arg(long)]
    pub silent: bool,
    /// Marks every request as a test request.
    #[arg(long)]
    pub test: bool,
    /// Skips the workflow's waiting period.
    #[arg(long)]
    pub skip_waiting_period: bool,
    /// Checks every row and prints each problem with its line and field; sends nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// At most this many submissions per second.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Submissions in flight at once.
    #[arg(long, default_value_t = 50)]
    pub concurrency: usize,
    /// Attempts per row before it counts as failed (429s do not count).
    #[arg(long, default_value_t = 8)]
    pub max_attempts: u32,
    /// Seconds each attempt may take.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// The journal (default: FILE.journal beside the input).
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// The receipts (default: FILE.receipts.csv; the summary beside it, .summary.json).
    #[arg(long)]
    pub receipts: Option<PathBuf>,
}

/// The file beside `input` with this suffix added to its name.
fn beside(input: &Path, suffix: &str) -> PathBuf {
    let mut name = input.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    input.with_file_name(name)
}

impl UploadArgs {
    fn mapping(&self) -> Result<Mapping, String> {
        let mut mapping = match &self.mapping {
            Some(path) => Mapping::from_file(path)?,
            None => Mapping::default(),
        };
        Mapping::extend_pairs(&mut mapping.columns, &self.columns, "column")?;
        Mapping::extend_pairs(&mut mapping.identifiers, &self.identifiers, "identifier")?;
        Mapping::extend_pairs(&mut mapping.attributes, &self.attributes, "attribute")?;
        let defaults = &mut mapping.defaults;
        if let Some(action) = &self.action {
            defaults.action = Some(action.clone());
        }
        if let Some(subject_type) = &self.subject_type {
            defaults.subject_type = Some(subject_type.clone());
        }
        defaults
            .subject_type
            .get_or_insert_with(|| "customer".to_owned());
        if self.silent {
            defaults.silent = Some(true);
        }
        if self.test {
            defaults.test = Some(true);
        }
        if self.skip_waiting_period {
            defaults.skip_waiting_period = Some(true);
        }
        Ok(mapping)
    }

    fn journal_path(&self) -> PathBuf {
        self.journal
            .clone()
            .unwrap_or_else(|| beside(&self.file, ".journal"))
    }

    fn receipts_path(&self) -> PathBuf {
        self.receipts
            .clone()
            .unwrap_or_else(|| beside(&self.file, ".receipts.csv"))
    }
}

/// What one pass over the input found.
struct Scan {
    sha256: String,
    rows: u64,
    headers: csv::StringRecord,
}

/// Reads the whole input once: its digest, its header, its number of rows.
fn scan(path: &Path) -> Result<Scan, String> {
    struct Hashing<R> {
        inner: R,
        hasher: Sha256,
    }
    impl<R: Read> Read for Hashing<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.hasher.update(&buf[..n]);
            Ok(n)
        }
    }
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(Hashing {
            inner: std::io::BufReader::with_capacity(1 << 16, file),
            hasher: Sha256::new(),
        });
    let headers = reader
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .clone();
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| format!("{}: {e}", path.display()))?
    {
        rows += 1;
    }
    let mut inner = reader.into_inner();
    // Whatever the CSV reader left unread still belongs to the digest.
    std::io::copy(&mut inner, &mut std::io::sink()).map_err(|e| e.to_string())?;
    Ok(Scan {
        sha256: format!("{:x}", inner.hasher.finalize()),
        rows,
        headers,
    })
}

/// One row to send.
struct Row {
    row: u64,
    line: u64,
    record: csv::StringRecord,
    /// An earlier run may have sent it.
    sent_before: bool,
}

/// Runs the command.
pub async fn run(args: UploadArgs) -> Result<(), String> {
    let mapping = args.mapping()?;
    let scan = scan(&args.file)?;
    let plan = Arc::new(mapping.plan(&scan.headers)?);
    if args.dry_run {
        return dry_run(&args.file, &plan, scan.rows);
    }
    let journal_path = args.journal_path();
    let progress = journal::load(&journal_path, &scan.sha256, scan.rows)?;
    let run = progress.run;
    let writer = journal::Writer::open(&journal_path)?;
    writer
        .durable(&Entry::Start {
            version: 1,
            input_sha256: scan.sha256.clone(),
            rows: scan.rows,
            run,
        })
        .await?;
    let writer = Arc::new(writer);
    let pacer = Arc::new(Pacer::new(args.rate));
    let sender = Sender::from_env(
        Arc::clone(&pacer),
        args.max_attempts,
        Duration::from_secs(args.timeout.max(1)),
    )?;
    let counts = Arc::new(Counts::default());
    let already = progress.settled();
    let todo = scan.rows - already;
    let stop = Arc::new(AtomicBool::new(false));
    let fatal = Arc::new(std::sync::Mutex::new(None::<String>));

    eprintln!(
        "uploading {} rows from {} ({already} settled in earlier runs; run {run})",
        todo,
        args.file.display()
    );
    let display = Display::start(todo, Arc::clone(&counts));
    let interrupt = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted: finishing the rows in flight (Ctrl-C again to quit now)");
                stop.store(true, Ordering::SeqCst);
                if tokio::signal::ctrl_c().await.is_ok() {
                    // The journal is durable: a rerun picks up from here.
                    std::process::exit(130);
                }
            }
        })
    };

    let rows = read_rows(
        args.file.clone(),
        progress,
        args.concurrency.max(1),
        Arc::clone(&writer),
        Arc::clone(&stop),
    );
    let started = Instant::now();
    rows.for_each_concurrent(args.concurrency.max(1), |row| {
        let (plan, writer, sender, counts, stop, fatal) = (
            Arc::clone(&plan),
            Arc::clone(&writer),
            &sender,
            Arc::clone(&counts),
            Arc::clone(&stop),
            Arc::clone(&fatal),
        );
        async move {
            let row = match row {
                Ok(row) => row,
                Err(e) => {
                    stop_with(&stop, &fatal, e);
                    return;
                }
            };
            if let Err(e) = upload_row(row, run, &plan, &writer, sender, &counts, &stop).await {
                stop_with(&stop, &fatal, e);
            }
        }
    })
    .await;
    let elapsed = started.elapsed();
    interrupt.abort();
    display.finish();
    let writer = Arc::into_inner(writer).ok_or("the journal is still in use")?;
    writer.finish()?;

    let receipts_path = args.receipts_path();
    let totals = receipts::write(&journal_path, &receipts_path, scan.rows, run)?;
    let summary = receipts::Summary {
        input: args.file.display().to_string(),
        journal: journal_path.display().to_string(),
        receipts: receipts_path.display().to_string(),
        rows: scan.rows,
        run,
        this_run: counts.snapshot(elapsed),
        total: totals,
    };
    let summary_path = receipts_path
        .with_extension("")
        .with_extension("summary.json");
    receipts::write_summary(&summary_path, &summary)?;
    println!("{}", summary.line());
    println!(
        "receipts {} · summary {}",
        receipts_path.display(),
        summary_path.display()
    );
    if let Some(message) = fatal.lock().map(|f| f.clone()).unwrap_or_default() {
        return Err(format!(
            "{message} (a rerun resumes where this one stopped)"
        ));
    }
    if stop.load(Ordering::SeqCst) {
        return Err("interrupted: run the same command again to finish".into());
    }
    if summary.total.failed > 0 || summary.total.not_done > 0 {
        return Err(format!(
            "{} rows failed: run the same command again to retry them",
            summary.total.failed + summary.total.not_done
        ));
    }
    Ok(())
}

fn stop_with(stop: &AtomicBool, fatal: &std::sync::Mutex<Option<String>>, message: String) {
    stop.store(true, Ordering::SeqCst);
    if let Ok(mut fatal) = fatal.lock() {
        fatal.get_or_insert(message);
    }
}

/// Streams the rows not yet settled, from a reading thread, through a bounded channel:
/// memory does not grow with the file. Rows go out in blocks, each announced in the
/// journal (synced) before any of its rows can be sent.
fn read_rows(
    path: PathBuf,
    progress: journal::Progress,
    concurrency: usize,
    writer: Arc<journal::Writer>,
    stop: Arc<AtomicBool>,
) -> impl futures_util::Stream<Item = Result<Row, String>> {
    let block = (concurrency * 2).max(64);
    // Whole blocks go through the channel: one hand-over per block, not per row.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<Row>, String>>(2);
    let run = progress.run;
    std::thread::spawn(move || {
        // The body returns early on errors; whatever way it ends, the journal is let go
        // before the channel closes, so the upload can finish it once the rows end.
        (|| {
            let send = |item| tx.blocking_send(item).is_ok();
            let mut reader = match csv::ReaderBuilder::new().flexible(true).from_path(&path) {
                Ok(reader) => reader,
                Err(e) => {
                    send(Err(format!("{}: {e}", path.display())));
                    return;
                }
            };
            let mut row = 0u64;
            let mut record = csv::StringRecord::new();
            let mut pending: Vec<Row> = Vec::with_capacity(block);
            let mut at_end = false;
            while !at_end {
                while pending.len() < block {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    match reader.read_record(&mut record) {
                        Ok(true) => {}
                        Ok(false) => {
                            at_end = true;
                            break;
                        }
                        Err(e) => {
                            send(Err(format!("{}: {e}", path.display())));
                            return;
                        }
                    }
                    row += 1;
                    if progress.of(row) & SETTLED != 0 {
                        continue;
                    }
                    let line = record.position().map_or(0, csv::Position::line);
                    record.trim();
                    pending.push(Row {
                        row,
                        line,
                        record: record.clone(),
                        sent_before: progress.of(row) & SENT != 0,
                    });
                }
                let (Some(first), Some(last)) = (pending.first(), pending.last()) else {
                    continue;
                };
                let sending = Entry::Sending {
                    run,
                    from: first.row,
                    to: last.row,
                };
                if let Err(e) = writer.durable_blocking(&sending) {
                    send(Err(e));
                    return;
                }
                let full = std::mem::replace(&mut pending, Vec::with_capacity(block));
                if !send(Ok(full)) {
                    return;
                }
            }
        })();
        drop(writer);
        drop(tx);
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .flat_map(|block| {
        futures_util::stream::iter(match block {
            Ok(rows) => rows.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    })
}

async fn upload_row(
    row: Row,
    run: u32,
    plan: &Plan,
    writer: &journal::Writer,
    sender: &Sender,
    counts: &Counts,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut done = Done {
        run,
        row: row.row,
        line: row.line,
        outcome: Outcome::Invalid,
        action: String::new(),
        core_identifier: String::new(),
        request_id: None,
        status: None,
        http_status: None,
        field: None,
        message: None,
    };
    let dsr = match plan.submission(&row.record) {
        Ok(dsr) => dsr,
        Err(problems) => {
            done.field = problems.first().map(|p| p.field.clone());
            done.message = Some(
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            writer.append(&Entry::Done(Box::new(done)));
            counts.add(Outcome::Invalid);
            return Ok(());
        }
    };
    done.action = dsr.action.as_str().to_owned();
    done.core_identifier = dsr.subject.core_identifier.clone();
    match sender.submit(&dsr, row.sent_before, stop).await {
        Sent::Created { id, status } => {
            done.outcome = Outcome::Created;
            done.request_id = Some(id);
            done.status = Some(status);
        }
        Sent::CreatedEarlier => {
            done.outcome = Outcome::CreatedEarlier;
            done.message = Some(
                "an earlier attempt took effect but its answer was lost; the resubmission was refused as already made"
                    .into(),
            );
        }
        Sent::Duplicate(message) => {
            done.outcome = Outcome::Duplicate;
            done.message = Some(message);
        }
        Sent::Refused { status, message } => {
            done.outcome = Outcome::Invalid;
            done.http_status = Some(status);
            done.message = Some(message);
        }
        Sent::Failed { status, message } => {
            done.outcome = Outcome::Failed;
            done.http_status = status;
            done.message = Some(message);
        }
        Sent::Fatal(message) => return Err(message),
        Sent::Stopped => return Ok(()),
    }
    counts.add(done.outcome);
    writer.append(&Entry::Done(Box::new(done)));
    Ok(())
}

fn dry_run(path: &Path, plan: &Plan, rows: u64) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut record = csv::StringRecord::new();
    let mut invalid = 0u64;
    while reader
        .read_record(&mut record)
        .map_err(|e| format!("{}: {e}", path.display()))?
    {
        let line = record.position().map_or(0, csv::Position::line);
        record.trim();
        if let Err(problems) = plan.submission(&record) {
            invalid += 1;
            for problem in problems {
                println!("line {line}: {problem}");
            }
        }
    }
    println!(
        "{rows} rows: {} valid, {invalid} invalid; nothing was sent",
        rows - invalid
    );
    if invalid == 0 {
        Ok(())
    } else {
        Err(format!("{invalid} rows are invalid"))
    }
}

/// This run's outcomes so far.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    created: AtomicU64,
    created_earlier: AtomicU64,
    duplicate: AtomicU64,
    invalid: AtomicU64,
    failed: AtomicU64,
}

impl Counts {
    fn add(&self, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Created => &self.created,
            Outcome::CreatedEarlier => &self.created_earlier,
            Outcome::Duplicate => &self.duplicate,
            Outcome::Invalid => &self.invalid,
            Outcome::Failed => &self.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn done(&self) -> u64 {
        [
            &self.created,
            &self.created_earlier,
            &self.duplicate,
            &self.invalid,
            &self.failed,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
    }

    fn snapshot(&self, elapsed: Duration) -> receipts::RunCounts {
        let done = self.done();
        receipts::RunCounts {
            created: self.created.load(Ordering::Relaxed),
            created_earlier: self.created_earlier.load(Ordering::Relaxed),
            duplicate: self.duplicate.load(Ordering::Relaxed),
            invalid: self.invalid.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            elapsed_secs: elapsed.as_secs_f64(),
            rows_per_sec: done as f64 / elapsed.as_secs_f64().max(1e-9),
        }
    }

    fn line(&self) -> String {
        format!(
            "created {}, created earlier {}, duplicate {}, invalid {}, failed {}",
            self.created.load(Ordering::Relaxed),
            self.created_earlier.load(Ordering::Relaxed),
            self.duplicate.load(Ordering::Relaxed),
            self.invalid.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

/// A progress bar (rows, rows per second, time left) on a terminal; a plain line every
/// few seconds otherwise.
struct Display {
    bar: Option<ProgressBar>,
    task: tokio::task::JoinHandle<()>,
}

impl Display {
    fn start(total: u64, counts: Arc<Counts>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} rows {per_sec} eta {eta} {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        let shown = bar.clone();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let tick = if shown.is_some() {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(5)
            };
            loop {
                tokio::time::sleep(tick).await;
                let done = counts.done();
                match &shown {
                    Some(bar) => {
                        bar.set_position(done);
                        bar.set_message(counts.line());
                    }
                    None => {
                        let rate = done as f64 / started.elapsed().as_secs_f64();
                        let left = total.saturating_sub(done) as f64 / rate.max(1e-9);
                        eprintln!(
                            "{done}/{total} rows, {rate:.0} rows/s, about {left:.0} s left ({})",
                            counts.line()
                        );
                    }
                }
            }
        });
        Self { bar, task }
    }

    fn finish(self) {
        self.task.abort();
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
