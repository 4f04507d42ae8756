//! Running a bulk command: the targets it found, each changed by one call, `N` at
//! once; a journal so a rerun skips what is done; a dry run; a progress bar on a
//! terminal and plain lines otherwise; receipts and a summary.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::{Stream, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use transcend_hyper::{Error, ErrorKind};

use super::journal::{Entry, Journal, Outcome};

/// Something a bulk command changes: a request, or a silo's or enricher's part of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What the journal knows it by (the part's id, or the request's).
    pub id: String,
    /// The request.
    pub request_id: String,
    /// What a dry run says about it.
    pub what: String,
    /// Whether to make the request silent before changing it (`--silent-mode-before`).
    pub silence_first: bool,
}

impl Target {
    /// A request.
    pub fn request(id: &str, what: impl Into<String>) -> Self {
        Self {
            id: id.to_owned(),
            request_id: id.to_owned(),
            what: what.into(),
            silence_first: false,
        }
    }
}

/// What the command's own flags say about running it.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The command's name (`approve`, `system retry-request-data-silos`, …).
    pub name: &'static str,
    /// Lists what would change, changes nothing.
    pub dry_run: bool,
    /// Calls at once.
    pub concurrency: usize,
    /// The journal.
    pub journal: PathBuf,
    /// The receipts (CSV).
    pub receipts: PathBuf,
}

/// How a run went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub changed: u64,
    pub already_done: u64,
    pub skipped: u64,
    pub failed: u64,
    /// Settled by an earlier run (from the journal).
    pub earlier: u64,
}

/// Runs `change` on every target not settled by an earlier run. A refused key stops
/// the run at once; other failures are recorded and the run goes on.
pub async fn run<F, Fut>(
    settings: &Settings,
    targets: Vec<Target>,
    change: F,
) -> Result<Summary, String>
where
    F: Fn(Target) -> Fut,
    Fut: std::future::Future<Output = Result<Outcome, Error>>,
{
    let total = targets.len() as u64;
    let targets = futures_util::stream::iter(targets.into_iter().map(Ok));
    run_stream(settings, total, targets, change).await
}

/// [`run`], with the targets coming as they are found (a walk of requests), so the
/// changes start with the first page; `total` (how many are expected) sizes the
/// progress bar.
pub async fn run_stream<S, F, Fut>(
    settings: &Settings,
    total: u64,
    targets: S,
    change: F,
) -> Result<Summary, String>
where
    S: Stream<Item = Result<Target, String>>,
    F: Fn(Target) -> Fut,
    Fut: std::future::Future<Output = Result<Outcome, Error>>,
{
    let mut summary = Summary::default();
    let mut targets = std::pin::pin!(targets);
    if settings.dry_run {
        let mut count = 0;
        while let Some(target) = targets.next().await {
            let target = target?;
            println!("would {} {} ({})", settings.name, target.id, target.what);
            count += 1;
        }
        println!(
            "{}: dry run, {count} would change; nothing was sent",
            settings.name
        );
        return Ok(summary);
    }
    let journal = Journal::open(&settings.journal)?;
    let progress = Progress::new(total);
    let refused = AtomicBool::new(false);
    let earlier = std::cell::Cell::new(0u64);
    let listing_failed = std::cell::RefCell::new(None);
    let change = &change;
    let refused_ref = &refused;
    let journal_ref = &journal;
    let (earlier_ref, listing_ref) = (&earlier, &listing_failed);
    let todo = targets.filter_map(|target| async move {
        match target {
            Ok(target) if journal_ref.settled(&target.id) => {
                earlier_ref.set(earlier_ref.get() + 1);
                None
            }
            Ok(target) => Some(target),
            Err(error) => {
                *listing_ref.borrow_mut() = Some(error);
                None
            }
        }
    });
    let outcomes = todo
        .map(|target| async move {
            if refused_ref.load(Ordering::Relaxed) {
                return None;
            }
            let result = change(target.clone()).await;
            Some((target, result))
        })
        .buffer_unordered(settings.concurrency.max(1));
    let mut outcomes = std::pin::pin!(outcomes);
    let mut stop = None;
    while let Some(next) = outcomes.next().await {
        let Some((target, result)) = next else {
            continue;
        };
        let (outcome, message) = match result {
            Ok(outcome) => (outcome, String::new()),
            Err(error) if error.is_already_done() => (
                Outcome::AlreadyDone,
                error.message().unwrap_or_default().to_owned(),
            ),
            Err(error) if error.kind() == Some(ErrorKind::Unauthorized) => {
                refused.store(true, Ordering::Relaxed);
                stop = Some(format!(
                    "the API key was refused: {}. Check TRANSCEND_API_KEY, its scopes, and TRANSCEND_API_URL (the EU and US backends hold different keys); nothing more was sent",
                    error.message().unwrap_or("unauthorized")
                ));
                break;
            }
            Err(error) => (Outcome::Failed, error.to_string()),
        };
        match outcome {
            Outcome::Changed => summary.changed += 1,
            Outcome::AlreadyDone => summary.already_done += 1,
            Outcome::Skipped => summary.skipped += 1,
            Outcome::Failed => summary.failed += 1,
        }
        journal.record(&Entry {
            id: target.id,
            request_id: target.request_id,
            outcome,
            message,
        })?;
        progress.step(&summary, earlier.get());
    }
    summary.earlier = earlier.get();
    journal.sync();
    progress.finish();
    write_receipts(&settings.receipts, &settings.journal)?;
    if let Some(stop) = stop {
        return Err(stop);
    }
    if let Some(error) = listing_failed.take() {
        return Err(format!(
            "finding what to change failed: {error}; what was done is in the journal: run the same command again"
        ));
    }
    println!(
        "{}: {} changed, {} already done, {} skipped, {} failed, {} settled by an earlier run (journal {}, receipts {})",
        settings.name,
        summary.changed,
        summary.already_done,
        summary.skipped,
        summary.failed,
        summary.earlier,
        settings.journal.display(),
        settings.receipts.display(),
    );
    if summary.failed > 0 {
        return Err(format!(
            "{} failed; run the same command again to retry them",
            summary.failed
        ));
    }
    Ok(summary)
}

/// Receipts: every target the journal knows, with its last outcome.
fn write_receipts(path: &Path, journal: &Path) -> Result<(), String> {
    let journal = Journal::open(journal)?;
    let mut entries: Vec<&Entry> = journal.earlier().collect();
    entries.sort_by(|a, b| (&a.request_id, &a.id).cmp(&(&b.request_id, &b.id)));
    let mut out = csv::Writer::from_path(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let write = |out: &mut csv::Writer<std::fs::File>, record: [&str; 4]| {
        out.write_record(record)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(&mut out, ["id", "requestId", "outcome", "message"])?;
    for entry in entries {
        write(
            &mut out,
            [
                &entry.id,
                &entry.request_id,
                entry.outcome.as_str(),
                &entry.message,
            ],
        )?;
    }
    out.flush()
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A bar on a terminal; a plain line at every tenth otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    next_line: std::cell::Cell<u64>,
}

impl Progress {
    fn new(total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec} eta {eta} {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        Self {
            bar,
            total,
            next_line: std::cell::Cell::new(total.div_ceil(10).max(1)),
        }
    }

    fn step(&self, summary: &Summary, earlier: u64) {
        let done =
            summary.changed + summary.already_done + summary.skipped + summary.failed + earlier;
        match &self.bar {
            Some(bar) => {
                bar.set_position(done);
                if summary.failed > 0 {
                    bar.set_message(format!("{} failed", summary.failed));
                }
            }
            None if done >= self.next_line.get() || done == self.total => {
                eprintln!(
                    "{done}/{} ({} changed, {} already done, {} failed)",
                    self.total, summary.changed, summary.already_done, summary.failed
                );
                self.next_line.set(done + self.total.div_ceil(10).max(1));
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
