//! Keeping the emulator's state across restarts: `--data-dir DIR` holds an embedded
//! database (`DIR/state.redb`, redb: no server to install) with every request as
//! JSON, and the keys a restarted emulator must still sign and check nonces with;
//! uploaded files live beside it in `DIR/files`.
//!
//! Writes leave the store's lock at once: a request's new state goes to a writer
//! thread, which commits whatever has gathered in one transaction. Commits reach the
//! disk (fsync) at most every [`SYNC_EVERY`], and at once when the writer falls idle
//! or a flush asks: a crash loses at most that long's changes; a shutdown none.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;

use std::time::{Duration, Instant};

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

/// The longest a commit waits to reach the disk while changes keep coming.
pub(crate) const SYNC_EVERY: Duration = Duration::from_millis(100);

/// Requests by creation number, as JSON: new requests go to the end of the tree, so
/// a write touches the pages it touched last, not a random one.
const REQUESTS: TableDefinition<u64, &[u8]> = TableDefinition::new("requests");
/// Keys and counters, by name.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// The meta entry holding the nonce key.
pub(crate) const NONCE_KEY: &str = "nonce_key";
/// The meta entry holding the webhook signing key (PKCS#8 PEM).
pub(crate) const SIGNING_KEY: &str = "signing_key";

enum Message {
    Request(u64, Vec<u8>),
    Meta(&'static str, Vec<u8>),
    Flush(mpsc::Sender<()>),
}

/// The writer of a data directory's database.
pub(crate) struct Persist {
    sender: mpsc::Sender<Message>,
    thread: Option<JoinHandle<()>>,
}

/// What a data directory held at start.
pub(crate) struct Loaded {
    /// Every request, as JSON.
    pub requests: Vec<Vec<u8>>,
    /// The meta entries.
    pub meta: std::collections::HashMap<String, Vec<u8>>,
}

impl Persist {
    /// Opens (or creates) the database in `dir` and reads everything it holds.
    pub(crate) fn open(dir: &Path) -> Result<(Self, Loaded), String> {
        let path = dir.join("state.redb");
        let named = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let db = Database::create(&path).map_err(|e| named(&e))?;
        // Create the tables, so a fresh directory reads as empty.
        let write = db.begin_write().map_err(|e| named(&e))?;
        write.open_table(REQUESTS).map_err(|e| named(&e))?;
        write.open_table(META).map_err(|e| named(&e))?;
        write.commit().map_err(|e| named(&e))?;
        let read = db.begin_read().map_err(|e| named(&e))?;
        let mut loaded = Loaded {
            requests: Vec::new(),
            meta: std::collections::HashMap::new(),
        };
        for entry in read
            .open_table(REQUESTS)
            .map_err(|e| named(&e))?
            .iter()
            .map_err(|e| named(&e))?
        {
            let (_, value) = entry.map_err(|e| named(&e))?;
            loaded.requests.push(value.value().to_vec());
        }
        for entry in read
            .open_table(META)
            .map_err(|e| named(&e))?
            .iter()
            .map_err(|e| named(&e))?
        {
            let (key, value) = entry.map_err(|e| named(&e))?;
            loaded
                .meta
                .insert(key.value().to_owned(), value.value().to_vec());
        }
        drop(read);
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("emulator-state".into())
            .spawn(move || write_loop(&db, &receiver))
            .map_err(|e| format!("cannot start the state writer: {e}"))?;
        Ok((
            Self {
                sender,
                thread: Some(thread),
            },
            loaded,
        ))
    }

    /// Saves a request's state (JSON).
    pub(crate) fn put_request(&self, seq: u64, json: Vec<u8>) {
        let _ = self.sender.send(Message::Request(seq, json));
    }

    /// Saves a meta entry.
    pub(crate) fn put_meta(&self, key: &'static str, value: Vec<u8>) {
        let _ = self.sender.send(Message::Meta(key, value));
    }

    /// Waits until everything sent so far is committed.
    pub(crate) fn flush(&self) {
        let (done, wait) = mpsc::channel();
        if self.sender.send(Message::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }
}

impl Drop for Persist {
    fn drop(&mut self) {
        self.flush();
        let (sender, _) = mpsc::channel();
        drop(std::mem::replace(&mut self.sender, sender));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_loop(db: &Database, receiver: &mpsc::Receiver<Message>) {
    let mut last_sync = Instant::now();
    let mut unsynced = false;
    loop {
        let first = match receiver.recv_timeout(SYNC_EVERY) {
            Ok(first) => first,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Idle: make what was committed durable.
                if unsynced {
                    report(commit(db, &Default::default(), &[], true));
                    unsynced = false;
                    last_sync = Instant::now();
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut requests = std::collections::HashMap::new();
        let mut meta = Vec::new();
        let mut flushed = Vec::new();
        for message in std::iter::once(first).chain(receiver.try_iter()) {
            match message {
                // Only a request's latest state matters.
                Message::Request(seq, json) => {
                    requests.insert(seq, json);
                }
                Message::Meta(key, value) => meta.push((key, value)),
                Message::Flush(done) => flushed.push(done),
            }
        }
        let sync = !flushed.is_empty() || last_sync.elapsed() >= SYNC_EVERY;
        report(commit(db, &requests, &meta, sync));
        if sync {
            last_sync = Instant::now();
            unsynced = false;
        } else {
            unsynced |= !requests.is_empty() || !meta.is_empty();
        }
        for done in flushed {
            let _ = done.send(());
        }
    }
    if unsynced {
        report(commit(db, &Default::default(), &[], true));
    }
}

fn report(result: Result<(), redb::Error>) {
    if let Err(error) = result {
        tracing::error!(%error, "cannot save the emulator's state");
    }
}

fn commit(
    db: &Database,
    requests: &std::collections::HashMap<u64, Vec<u8>>,
    meta: &[(&'static str, Vec<u8>)],
    sync: bool,
) -> Result<(), redb::Error> {
    if requests.is_empty() && meta.is_empty() && !sync {
        return Ok(());
    }
    let mut write = db.begin_write()?;
    if !sync {
        write
            .set_durability(Durability::None)
            .map_err(|e| redb::Error::Corrupted(e.to_string()))?;
    }
    {
        let mut table = write.open_table(REQUESTS)?;
        for (seq, json) in requests {
            table.insert(*seq, json.as_slice())?;
        }
        let mut table = write.open_table(META)?;
        for (key, value) in meta {
            table.insert(*key, value.as_slice())?;
        }
    }
    write.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_put_is_there_after_a_reopen() {
        let dir = std::env::temp_dir().join(format!("transcend-persist-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        {
            let (persist, loaded) = Persist::open(&dir).unwrap();
            assert!(loaded.requests.is_empty());
            persist.put_request(1, b"{\"v\":1}".to_vec());
            persist.put_request(1, b"{\"v\":2}".to_vec());
            persist.put_request(2, b"{}".to_vec());
            persist.put_meta(NONCE_KEY, vec![7; 32]);
        }
        let (_persist, loaded) = Persist::open(&dir).unwrap();
        let mut requests = loaded.requests;
        requests.sort();
        assert_eq!(requests, [b"{\"v\":2}".to_vec(), b"{}".to_vec()]);
        assert_eq!(loaded.meta[NONCE_KEY], vec![7; 32]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
