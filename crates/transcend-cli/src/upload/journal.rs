//! The journal of an upload: one JSON line per event, appended beside the input and
//! synced to disk before it counts, so a crash, a kill or Ctrl-C loses nothing a rerun
//! needs.
//!
//! Before a block of rows is handed to the senders, a `sending` entry naming the block
//! is synced to disk: a rerun then knows those rows may have reached the server, and
//! reads an "already made" answer as its own earlier submission instead of someone
//! else's. When a row's outcome is known, a `done` entry follows (created, created
//! earlier, duplicate, invalid, or failed). A rerun skips rows with an outcome other
//! than failed, and sends the rest again.
//!
//! One thread writes: every millisecond at most, it appends every entry waiting with
//! one write, and syncs when one of them asked for it. An outcome reaches the
//! operating system within that millisecond (a killed process loses at most the last
//! one's); the next sync makes it safe from a power loss too. An outcome lost either
//! way only costs its request id: the rerun's submission comes back "already made"
//! and counts as created earlier.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

/// How long the writer lets entries gather between writes.
const GATHER: std::time::Duration = std::time::Duration::from_millis(1);

/// The format's version, in the journal's first entry.
const VERSION: u32 = 1;

/// A row's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The server created the request (its id in the entry).
    Created,
    /// An earlier submission of this row took effect but its answer was lost: the
    /// resubmission was refused as already made.
    CreatedEarlier,
    /// Refused as already made, and this row never reached the server before: an open
    /// request for the same person and type existed.
    Duplicate,
    /// The row is not a valid submission (the field and the reason in the entry).
    Invalid,
    /// Every attempt failed; a rerun tries again.
    Failed,
}

impl Outcome {
    /// Whether a rerun leaves the row alone.
    pub fn is_settled(self) -> bool {
        self != Self::Failed
    }

    /// The name in receipts.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::CreatedEarlier => "created_earlier",
            Self::Duplicate => "duplicate",
            Self::Invalid => "invalid",
            Self::Failed => "failed",
        }
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Entry {
    /// A run began.
    Start {
        /// The format's version.
        version: u32,
        /// SHA-256 of the input file: a journal belongs to one input.
        input_sha256: String,
        /// Data rows in the input.
        rows: u64,
        /// The run's number, from 1.
        run: u32,
    },
    /// The rows `from..=to` are about to be sent in this run.
    Sending {
        /// The run.
        run: u32,
        /// The first data row of the block, from 1.
        from: u64,
        /// The last.
        to: u64,
    },
    /// The row's outcome.
    Done(Box<Done>),
}

/// What happened to a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    /// The run.
    pub run: u32,
    /// The data row, from 1.
    pub row: u64,
    /// The line in the CSV where the row starts.
    pub line: u64,
    /// The outcome.
    pub outcome: Outcome,
    /// The request type and core identifier of the row (empty when invalid).
    #[serde(default)]
    pub action: String,
    /// The core identifier.
    #[serde(default)]
    pub core_identifier: String,
    /// The created request's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Its status when created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The HTTP status of the last answer, for a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The field at fault (invalid rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Why (invalid and failed rows, and created-earlier ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What a journal says about each row so far.
#[derive(Debug, Default)]
pub struct Progress {
    /// This run's number.
    pub run: u32,
    /// One byte per data row: [`SENT`] and [`SETTLED`] bits.
    rows: Vec<u8>,
}

/// The row may have reached the server in some run.
pub const SENT: u8 = 1;
/// The row has its final outcome.
pub const SETTLED: u8 = 2;

impl Progress {
    /// The bits of data row `row` (from 1).
    pub fn of(&self, row: u64) -> u8 {
        usize::try_from(row)
            .ok()
            .and_then(|row| self.rows.get(row.wrapping_sub(1)))
            .copied()
            .unwrap_or(0)
    }

    fn mark(&mut self, row: u64, bits: u8) {
        if let Some(slot) = usize::try_from(row)
            .ok()
            .and_then(|row| self.rows.get_mut(row.wrapping_sub(1)))
        {
            *slot |= bits;
        }
    }

    /// Rows settled in earlier runs.
    pub fn settled(&self) -> u64 {
        self.rows.iter().filter(|r| *r & SETTLED != 0).count() as u64
    }
}

/// Reads a journal, if there is one, for an input with this digest and row count.
/// A line cut off by a crash (the last of the file or of its run) is ignored; anything
/// else unreadable is an error.
pub fn load(path: &Path, input_sha256: &str, rows: u64) -> Result<Progress, String> {
    let mut progress = Progress {
        run: 1,
        rows: vec![0; usize::try_from(rows).map_err(|_| "too many rows".to_owned())?],
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(progress),
        Err(e) => return Err(format!("cannot read the journal {}: {e}", path.display())),
    };
    let mut lines = BufReader::new(file).lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let line = line.map_err(|e| format!("cannot read the journal {}: {e}", path.display()))?;
        let entry: Entry = match read_line(&line) {
            Ok(entry) => entry,
            // A line cut off by a crash: the last one, or the last of its run.
            Err(_)
                if lines.peek().is_none_or(|(_, next)| {
                    next.as_ref()
                        .is_ok_and(|next| next.starts_with(r#"{"event":"start""#))
                }) =>
            {
                continue;
            }
            Err(e) => {
                return Err(format!(
                    "the journal {} is damaged at line {}: {e}",
                    path.display(),
                    n + 1
                ));
            }
        };
        match entry {
            Entry::Start {
                input_sha256: digest,
                run,
                version,
                ..
            } => {
                if version != VERSION {
                    return Err(format!(
                        "the journal {} has format version {version}; this release reads {VERSION}",
                        path.display()
                    ));
                }
                if digest != input_sha256 {
                    return Err(format!(
                        "the journal {} was written for another version of the input (the file changed since); \
                         move the journal away to start over",
                        path.display()
                    ));
                }
                progress.run = progress.run.max(run + 1);
            }
            Entry::Sending { from, to, .. } => {
                for row in from..=to.min(rows) {
                    progress.mark(row, SENT);
                }
            }
            Entry::Done(done) => {
                if done.outcome.is_settled() {
                    progress.mark(done.row, SETTLED);
                }
            }
        }
    }
    Ok(progress)
}

/// Every `Done` entry of a journal, in the order written.
pub fn outcomes(path: &Path) -> Result<impl Iterator<Item = Done>, String> {
    let file =
        File::open(path).map_err(|e| format!("cannot read the journal {}: {e}", path.display()))?;
    Ok(BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter(|line| line.starts_with(DONE_PREFIX))
        .filter_map(|line| match read_line(&line) {
            Ok(Entry::Done(done)) => Some(*done),
            _ => None,
        }))
}

/// How every `done` line starts (the tag is written first).
const DONE_PREFIX: &str = r#"{"event":"done","#;

/// Reads one line. `done` lines, nearly all of a journal, are read straight into
/// [`Done`] (which passes over the tag): an internally tagged enum would buffer each
/// line first.
fn read_line(line: &str) -> Result<Entry, serde_json::Error> {
    if line.starts_with(DONE_PREFIX) {
        serde_json::from_str::<Done>(line).map(|done| Entry::Done(Box::new(done)))
    } else {
        serde_json::from_str(line)
    }
}

/// Appends entries from any task; see the module's documentation.
pub struct Writer {
    sender: Option<mpsc::Sender<Pending>>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

struct Pending {
    line: Vec<u8>,
    durable: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Writer {
    /// Opens the journal for appending (created when missing) and starts its thread.
    pub fn open(path: &Path) -> Result<Self, String> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open the journal {}: {e}", path.display()))?;
        // A line cut off by an earlier crash would glue onto the next one.
        let cut_off = std::fs::read(path)
            .map(|bytes| bytes.last().is_some_and(|b| *b != b'\n'))
            .unwrap_or(false);
        let (sender, receiver) = mpsc::channel::<Pending>();
        let path: PathBuf = path.to_owned();
        let thread = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || commit_loop(file, &path, receiver, cut_off))
            .map_err(|e| format!("cannot start the journal's writer: {e}"))?;
        Ok(Self {
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    fn push(&self, entry: &Entry, durable: Option<tokio::sync::oneshot::Sender<()>>) {
        let mut line = serde_json::to_vec(entry).unwrap_or_default();
        line.push(b'\n');
        if let Some(sender) = &self.sender {
            // A send fails only once the thread stopped on an error; `finish` reports it.
            let _ = sender.send(Pending { line, durable });
        }
    }

    /// Appends an entry and waits until it is on disk. `Err` when the journal cannot be
    /// written: nothing may be sent then.
    pub async fn durable(&self, entry: &Entry) -> Result<(), String> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.push(entry, Some(done));
        wait.await
            .map_err(|_| "the journal cannot be written (see the error at the end)".to_owned())
    }

    /// [`durable`](Self::durable), from a thread outside the runtime.
    pub fn durable_blocking(&self, entry: &Entry) -> Result<(), String> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.push(entry, Some(done));
        wait.blocking_recv()
            .map_err(|_| "the journal cannot be written (see the error at the end)".to_owned())
    }

    /// Appends an entry; it reaches the disk with the next sync.
    pub fn append(&self, entry: &Entry) {
        self.push(entry, None);
    }

    /// Writes what is left, syncs, and reports a write error if there was one.
    pub fn finish(mut self) -> Result<(), String> {
        self.sender = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err("the journal's writer stopped unexpectedly".into()),
            None => Ok(()),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn commit_loop(
    mut file: File,
    path: &Path,
    receiver: mpsc::Receiver<Pending>,
    mut cut_off: bool,
) -> Result<(), String> {
    let failed = |e: std::io::Error| format!("cannot write the journal {}: {e}", path.display());
    let mut buffer = Vec::new();
    let mut acks = Vec::new();
    while let Ok(first) = receiver.recv() {
        buffer.clear();
        if std::mem::take(&mut cut_off) {
            buffer.push(b'\n');
        }
        for pending in std::iter::once(first).chain(receiver.try_iter()) {
            buffer.extend_from_slice(&pending.line);
            acks.extend(pending.durable);
        }
        file.write_all(&buffer).map_err(failed)?;
        if !acks.is_empty() {
            file.sync_data().map_err(failed)?;
        }
        for ack in acks.drain(..) {
            let _ = ack.send(());
        }
        // Let entries gather for a moment: one write for many rows instead of a
        // wake-up and a write per row. A kill loses at most this long's outcomes.
        std::thread::sleep(GATHER);
    }
    file.sync_data().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "transcend-journal-{name}-{:032x}",
            fastrand::u128(..)
        ))
    }

    fn done(row: u64, outcome: Outcome) -> Entry {
        Entry::Done(Box::new(Done {
            run: 1,
            row,
            line: row + 1,
            outcome,
            action: "ERASURE".into(),
            core_identifier: format!("u{row}"),
            request_id: None,
            status: None,
            http_status: None,
            field: None,
            message: None,
        }))
    }

    /// A run's start over an input "abc" of 4 rows, and its block `from..=to`.
    async fn begin(writer: &Writer, run: u32, from: u64, to: u64) {
        let start = Entry::Start {
            version: VERSION,
            input_sha256: "abc".into(),
            rows: 4,
            run,
        };
        writer.durable(&start).await.unwrap();
        writer
            .durable(&Entry::Sending { run, from, to })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_rerun_sees_what_was_sent_and_settled() {
        let path = temp("rerun");
        let writer = Writer::open(&path).unwrap();
        begin(&writer, 1, 1, 3).await;
        writer.append(&done(1, Outcome::Created));
        writer.append(&done(2, Outcome::Failed));
        writer.finish().unwrap();
        // A crash in the middle of a line.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"event":"sending","run":1,"fr"#)
            .unwrap();
        drop(file);

        let progress = load(&path, "abc", 4).unwrap();
        assert_eq!(progress.run, 2);
        assert_eq!(progress.of(1), SENT | SETTLED);
        assert_eq!(progress.of(2), SENT, "a failure is retried");
        assert_eq!(progress.of(3), SENT);
        assert_eq!(progress.of(4), 0);
        assert_eq!(progress.settled(), 1);

        // The next run's entries start on a line of their own.
        let writer = Writer::open(&path).unwrap();
        begin(&writer, 2, 4, 4).await;
        writer.finish().unwrap();
        assert_eq!(load(&path, "abc", 4).unwrap().of(4), SENT);

        let error = load(&path, "other", 4).unwrap_err();
        assert!(error.contains("another version of the input"), "{error}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_done_line_reads_the_same_either_way() {
        let entry = done(7, Outcome::CreatedEarlier);
        let line = serde_json::to_string(&entry).unwrap();
        assert!(line.starts_with(DONE_PREFIX), "{line}");
        assert_eq!(read_line(&line).unwrap(), entry);
        assert_eq!(serde_json::from_str::<Entry>(&line).unwrap(), entry);
    }

    #[test]
    fn damage_before_the_last_line_is_an_error() {
        let path = temp("damaged");
        std::fs::write(
            &path,
            "garbage\n{\"event\":\"sending\",\"run\":1,\"from\":1,\"to\":1}\n",
        )
        .unwrap();
        let error = load(&path, "abc", 1).unwrap_err();
        assert!(error.contains("damaged at line 1"), "{error}");
        std::fs::remove_file(&path).unwrap();
    }
}
