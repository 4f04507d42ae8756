//! The journal of a bulk command: one JSON line per settled target, written as each
//! settles, so a killed or interrupted run, rerun with the same arguments, skips what
//! it already did and tries again what failed.
//!
//! Each line is written with one `write` call on an unbuffered file: once it returns,
//! the line survives the process being killed (the operating system holds it); a
//! power loss can cost the lines since the last sync, which happens every few hundred
//! lines and at the end. A lost line costs nothing but a repeated call, which the admin
//! API answers "already done".

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// What became of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The change was made now.
    Changed,
    /// The change had been made already (the admin API said so).
    AlreadyDone,
    /// Nothing to do for it.
    Skipped,
    /// It failed; a rerun tries again.
    Failed,
}

impl Outcome {
    /// The name in receipts and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Changed => "changed",
            Self::AlreadyDone => "already_done",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The target (a request's id, or a silo's or enricher's part of one).
    pub id: String,
    /// Its request.
    pub request_id: String,
    /// What became of it.
    pub outcome: Outcome,
    /// What the server said, for a failure or an "already done".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// Lines between syncs to disk.
const SYNC_EVERY: u64 = 256;

/// An open journal: what earlier runs settled, and the file to add to.
pub struct Journal {
    path: PathBuf,
    file: Mutex<(File, u64)>,
    earlier: HashMap<String, Entry>,
}

impl Journal {
    /// Opens (or creates) the journal at `path`, reading what earlier runs wrote. A
    /// line cut off at the end (a run killed while writing it) is passed over; a
    /// damaged line elsewhere is an error.
    pub fn open(path: &Path) -> Result<Self, String> {
        let mut earlier = HashMap::new();
        if path.exists() {
            let file =
                File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let lines: Vec<String> = BufReader::new(file)
                .lines()
                .collect::<Result<_, _>>()
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let last = lines.len().saturating_sub(1);
            for (n, line) in lines.iter().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Entry>(line) {
                    Ok(entry) => {
                        earlier.insert(entry.id.clone(), entry);
                    }
                    Err(_) if n == last => {}
                    Err(e) => {
                        return Err(format!(
                            "{} line {}: not a journal entry ({e}); move the file away to start over",
                            path.display(),
                            n + 1
                        ));
                    }
                }
            }
        }
        // A line cut off by a kill is dropped, so the next one starts a line of its own.
        if let Ok(bytes) = std::fs::read(path)
            && bytes.last().is_some_and(|c| *c != b'\n')
        {
            let keep = bytes
                .iter()
                .rposition(|c| *c == b'\n')
                .map_or(0, |at| at + 1);
            OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|f| f.set_len(keep as u64))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            file: Mutex::new((file, 0)),
            earlier,
        })
    }

    /// Whether an earlier run settled this target (anything but a failure).
    pub fn settled(&self, id: &str) -> bool {
        self.earlier
            .get(id)
            .is_some_and(|e| e.outcome != Outcome::Failed)
    }

    /// Every target an earlier run recorded, with its last outcome.
    pub fn earlier(&self) -> impl Iterator<Item = &Entry> {
        self.earlier.values()
    }

    /// Records a target's outcome.
    pub fn record(&self, entry: &Entry) -> Result<(), String> {
        let mut line = serde_json::to_vec(entry).map_err(|e| e.to_string())?;
        line.push(b'\n');
        let mut guard = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (file, written) = &mut *guard;
        file.write_all(&line)
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        *written += 1;
        if (*written).is_multiple_of(SYNC_EVERY) {
            let _ = file.sync_data();
        }
        Ok(())
    }

    /// Syncs what was written.
    pub fn sync(&self) {
        let guard = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _ = guard.0.sync_data();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, outcome: Outcome) -> Entry {
        Entry {
            id: id.into(),
            request_id: id.into(),
            outcome,
            message: String::new(),
        }
    }

    #[test]
    fn a_rerun_skips_what_settled_and_retries_what_failed() {
        let dir = std::env::temp_dir().join(format!("journal-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.journal");
        let journal = Journal::open(&path).unwrap();
        journal.record(&entry("a", Outcome::Changed)).unwrap();
        journal.record(&entry("b", Outcome::Failed)).unwrap();
        journal.record(&entry("c", Outcome::AlreadyDone)).unwrap();
        drop(journal);
        // A line cut off by a kill.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"id\":\"d\",\"requ")
            .unwrap();
        let journal = Journal::open(&path).unwrap();
        assert!(journal.settled("a") && journal.settled("c"));
        assert!(!journal.settled("b") && !journal.settled("d"));
        journal.record(&entry("d", Outcome::Changed)).unwrap();
        drop(journal);
        assert!(
            Journal::open(&path).unwrap().settled("d"),
            "the cut line was ended"
        );
        std::fs::write(
            &path,
            "garbage\n{\"id\":\"a\",\"request_id\":\"a\",\"outcome\":\"changed\"}\n",
        )
        .unwrap();
        let damaged = Journal::open(&path).err().unwrap();
        assert!(damaged.contains("line 1"), "{damaged}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
