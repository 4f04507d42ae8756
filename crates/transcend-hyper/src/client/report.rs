//! Downloading a request's whole access report to a directory: every file streamed to
//! disk with bounded concurrency, a manifest, resumable, with expired keys refetched
//! and per-file errors reported instead of failing the whole.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use transcend_proto::endpoint::download_file::is_expired_key;
use transcend_proto::types::DownloadKey;

use super::Client;
use super::requester::hex;
use crate::error::Error;

/// The manifest's file name in the download directory.
pub const MANIFEST: &str = "manifest.json";

/// How to download a report ([`Client::download_report`]).
#[derive(Clone)]
#[non_exhaustive]
pub struct DownloadOptions {
    /// Files downloaded at once (default 4).
    pub concurrency: usize,
    /// Told of progress, from the task that drives the download.
    pub progress: Option<Arc<dyn Fn(DownloadEvent) + Send + Sync>>,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        Self {
            concurrency: 4,
            progress: None,
        }
    }
}

impl std::fmt::Debug for DownloadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl DownloadOptions {
    /// Downloads `n` files at once (at least one).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Calls `progress` as files start, complete or fail.
    pub fn progress(mut self, progress: impl Fn(DownloadEvent) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }
}

/// What happened during a report download.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownloadEvent {
    /// The keys are known: this many files and bytes (as the server announced them)
    /// are to be downloaded; `skipped` were complete already.
    Planned {
        /// Files to download.
        files: usize,
        /// Their announced size.
        bytes: u64,
        /// Files already complete on disk.
        skipped: usize,
    },
    /// A file is on disk.
    Done {
        /// Its name in the directory.
        file: String,
        /// Its size.
        bytes: u64,
    },
    /// A file could not be downloaded.
    Failed {
        /// Its name in the directory.
        file: String,
    },
}

/// One file of the manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ManifestEntry {
    /// Its name in the download directory.
    pub file: String,
    /// The datapoint it holds, as the server said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_point: Option<String>,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    request_id: String,
    files: Vec<ManifestEntry>,
}

/// A file that could not be downloaded, and why.
#[derive(Debug)]
#[non_exhaustive]
pub struct FailedFile {
    /// Its name in the directory.
    pub file: String,
    /// Why.
    pub error: Error,
}

/// What a report download did.
#[derive(Debug)]
#[non_exhaustive]
pub struct ReportDownload {
    /// The manifest written (`manifest.json` in the directory).
    pub manifest: PathBuf,
    /// Every file on disk, downloaded now or before.
    pub files: Vec<ManifestEntry>,
    /// How many were downloaded by this call.
    pub downloaded: usize,
    /// How many were complete already and skipped.
    pub skipped: usize,
    /// The files that failed, each with its error; the others are on disk.
    pub failed: Vec<FailedFile>,
}

impl ReportDownload {
    /// Whether every file of the report is on disk.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }
}

/// A download key with the name its file gets on disk.
#[derive(Debug, Clone)]
struct Planned {
    key: DownloadKey,
    file: String,
}

impl Client {
    /// Downloads a request's access report into `dir`: fetches every download key, then
    /// every file, `options.concurrency` at a time, each streamed to disk (memory stays
    /// flat whatever the sizes). Writes `manifest.json` (file, datapoint, size, sha256)
    /// as files complete. On a rerun, files the manifest lists whose bytes on disk still
    /// match are skipped. A key that expired is fetched again once. A file that fails is
    /// reported in [`ReportDownload::failed`]; the others are still downloaded.
    ///
    /// Fails as a whole when the keys cannot be listed, the directory cannot be
    /// written, or the directory holds anything but this request's download (its
    /// `manifest.json` names another request, or it has files and no manifest): the
    /// manifest must list everything in the folder, so an earlier request's files are
    /// never mixed in. Choose a new or empty folder per request.
    pub async fn download_report(
        &self,
        id: &str,
        dir: impl AsRef<Path>,
        options: DownloadOptions,
    ) -> Result<ReportDownload, Error> {
        let dir = dir.as_ref();
        let io = |what: &Path| {
            let what = what.display().to_string();
            move |source| Error::Source { what, source }
        };
        tokio::fs::create_dir_all(dir).await.map_err(io(dir))?;
        check_folder(dir, id).await?;
        let manifest_path = dir.join(MANIFEST);
        let previous = read_manifest(&manifest_path).await;
        if previous.is_empty() {
            // The folder is claimed for this request before any file lands in it.
            write_manifest(&manifest_path, id, &BTreeMap::new()).await?;
        }
        let keys = self.download_keys(id).await?;
        let planned = plan(keys);
        let mut done: BTreeMap<String, ManifestEntry> = BTreeMap::new();
        let mut todo = Vec::new();
        for item in planned {
            match previous.get(&item.file) {
                Some(entry) if still_complete(&dir.join(&item.file), entry).await => {
                    done.insert(item.file.clone(), entry.clone());
                }
                _ => todo.push(item),
            }
        }
        let skipped = done.len();
        let notify = |event: DownloadEvent| {
            if let Some(progress) = &options.progress {
                progress(event);
            }
        };
        notify(DownloadEvent::Planned {
            files: todo.len(),
            bytes: todo.iter().filter_map(|p| p.key.size).sum(),
            skipped,
        });

        let mut results = futures_util::stream::iter(todo.into_iter().map(|item| {
            let path = dir.join(&item.file);
            async move {
                let outcome = self.download_planned(id, &item, &path).await;
                (item, outcome)
            }
        }))
        .buffer_unordered(options.concurrency.max(1));
        let (mut downloaded, mut failed) = (0, Vec::new());
        while let Some((item, outcome)) = results.next().await {
            match outcome {
                Ok(digest) => {
                    downloaded += 1;
                    notify(DownloadEvent::Done {
                        file: item.file.clone(),
                        bytes: digest.size,
                    });
                    done.insert(
                        item.file.clone(),
                        ManifestEntry {
                            file: item.file,
                            data_point: item.key.data_point,
                            size: digest.size,
                            sha256: digest.sha256,
                        },
                    );
                    write_manifest(&manifest_path, id, &done).await?;
                }
                Err(error) => {
                    tracing::warn!(file = %item.file, %error, "a report file failed");
                    notify(DownloadEvent::Failed {
                        file: item.file.clone(),
                    });
                    failed.push(FailedFile {
                        file: item.file,
                        error,
                    });
                }
            }
        }
        write_manifest(&manifest_path, id, &done).await?;
        Ok(ReportDownload {
            manifest: manifest_path,
            files: done.into_values().collect(),
            downloaded,
            skipped,
            failed,
        })
    }

    /// One file; an expired key is fetched again (once) and the download retried.
    async fn download_planned(
        &self,
        id: &str,
        item: &Planned,
        path: &Path,
    ) -> Result<super::FileDigest, Error> {
        if let Some(error) = &item.key.error {
            return Err(Error::Config(format!(
                "the server cannot give this file: {}",
                error.chars().take(256).collect::<String>()
            )));
        }
        match self.download_file(&item.key.download_key, path).await {
            Err(Error::Protocol(error)) if is_expired_key(&error) => {
                tracing::info!(file = %item.file, "download key expired; fetching the keys again");
                let fresh = plan(self.download_keys(id).await?)
                    .into_iter()
                    .find(|p| p.file == item.file)
                    .ok_or_else(|| Error::Protocol(error))?;
                self.download_file(&fresh.key.download_key, path).await
            }
            other => other,
        }
    }
}

/// Names each key's file on disk: the server's file name made safe (one path
/// component, no hidden or special names), made unique by a numeric suffix.
fn plan(keys: Vec<DownloadKey>) -> Vec<Planned> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    keys.into_iter()
        .map(|key| {
            let base = safe_name(
                key.file_name
                    .as_deref()
                    .or(key.data_point.as_deref())
                    .unwrap_or("file"),
            );
            let count = seen.entry(base.clone()).or_insert(0);
            *count += 1;
            let file = if *count == 1 {
                base
            } else {
                match base.rsplit_once('.') {
                    Some((stem, ext)) => format!("{stem}-{count}.{ext}"),
                    None => format!("{base}-{count}"),
                }
            };
            Planned { key, file }
        })
        .collect()
}

/// A name safe as one path component of any platform.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ') {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let cleaned = cleaned.trim_matches(|c| c == '.' || c == ' ').to_owned();
    if cleaned.is_empty() || cleaned == MANIFEST {
        format!("file-{cleaned}")
    } else {
        cleaned
    }
}

/// Refuses a folder that holds something other than request `id`'s download.
async fn check_folder(dir: &Path, id: &str) -> Result<(), Error> {
    let refuse = |why: String| {
        Err(Error::Config(format!(
            "the download folder {} {why}; download each request into a new or empty folder",
            dir.display()
        )))
    };
    match tokio::fs::read(dir.join(MANIFEST)).await {
        Ok(text) => match serde_json::from_slice::<Manifest>(&text) {
            Ok(manifest) if manifest.request_id == id => Ok(()),
            Ok(manifest) => refuse(format!(
                "holds the download of another request ({})",
                manifest.request_id
            )),
            Err(_) => refuse(format!("has a {MANIFEST} that is not a download's")),
        },
        Err(_) => {
            let mut entries = tokio::fs::read_dir(dir)
                .await
                .map_err(|source| Error::Source {
                    what: dir.display().to_string(),
                    source,
                })?;
            // A first run killed before its first file completed leaves only partial
            // files behind (`*.part`): those are this kind of download's own.
            while let Some(entry) = entries.next_entry().await.map_err(|source| Error::Source {
                what: dir.display().to_string(),
                source,
            })? {
                let name = entry.file_name();
                if !name.to_string_lossy().ends_with(".part") {
                    return refuse(format!(
                        "is not empty ({} and no {MANIFEST})",
                        name.to_string_lossy()
                    ));
                }
            }
            Ok(())
        }
    }
}

async fn read_manifest(path: &Path) -> HashMap<String, ManifestEntry> {
    let Ok(text) = tokio::fs::read(path).await else {
        return HashMap::new();
    };
    serde_json::from_slice::<Manifest>(&text)
        .map(|m| m.files.into_iter().map(|e| (e.file.clone(), e)).collect())
        .unwrap_or_default()
}

async fn write_manifest(
    path: &Path,
    id: &str,
    done: &BTreeMap<String, ManifestEntry>,
) -> Result<(), Error> {
    let manifest = Manifest {
        request_id: id.to_owned(),
        files: done.values().cloned().collect(),
    };
    let text = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Config(format!("manifest: {e}")))?;
    let partial = path.with_extension("json.part");
    let source = |source| Error::Source {
        what: path.display().to_string(),
        source,
    };
    tokio::fs::write(&partial, text).await.map_err(source)?;
    tokio::fs::rename(&partial, path).await.map_err(source)
}

/// Whether the file on disk still has the manifest's size and SHA-256.
async fn still_complete(path: &Path, entry: &ManifestEntry) -> bool {
    let Ok(mut file) = tokio::fs::File::open(path).await else {
        return false;
    };
    if file.metadata().await.map(|m| m.len()).ok() != Some(entry.size) {
        return false;
    }
    let mut hash = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buffer).await {
            Ok(0) => break,
            Ok(n) => hash.update(&buffer[..n]),
            Err(_) => return false,
        }
    }
    hex(&hash.finalize()) == entry.sha256
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_stay_in_the_directory_and_are_unique() {
        let key = |name: &str| {
            let mut key = DownloadKey::new("k");
            key.file_name = Some(name.to_owned());
            key
        };
        let planned = plan(vec![
            key("../../etc/passwd"),
            key("photo.jpg"),
            key("photo.jpg"),
            key(".."),
            key("manifest.json"),
        ]);
        let names: Vec<&str> = planned.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(
            names,
            [
                "_.._etc_passwd",
                "photo.jpg",
                "photo-2.jpg",
                "file-",
                "file-manifest.json"
            ]
        );
    }
}
