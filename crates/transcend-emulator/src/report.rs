//! A request's access report as a requester downloads it: each JSON datapoint a silo
//! reported is one file, each uploaded file is itself; each file gets a download key
//! that expires.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use transcend_proto::server::ServerError;
use transcend_proto::types::{DownloadKey, DownloadKeysPage, PageLinks, RequestStatus};

use crate::nonce::NonceKey;
use crate::view::RequestView;

/// How many keys a page holds unless the request says otherwise.
pub(crate) const DEFAULT_PAGE: u32 = 50;

/// One file of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReportFile {
    pub data_point: String,
    pub file_name: String,
    pub mimetype: &'static str,
    pub size: u64,
    pub source: FileSource,
}

/// Where a report file's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileSource {
    /// A JSON datapoint, serialized.
    Json(Vec<u8>),
    /// A file the emulator stored on disk.
    Disk(std::path::PathBuf),
}

/// The files of a request's report, in a stable order (jobs, then profiles and their
/// datapoints, then uploaded files).
pub(crate) fn files(view: &RequestView) -> Vec<ReportFile> {
    let mut files = Vec::new();
    for job in &view.jobs {
        for profile in &job.profiles {
            for (data_point, value) in &profile.profile_data {
                let bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
                let profile_part = profile
                    .profile_id
                    .as_deref()
                    .map(|id| format!("-{}", safe(id)))
                    .unwrap_or_default();
                files.push(ReportFile {
                    data_point: data_point.clone(),
                    file_name: format!(
                        "{}{profile_part}-{}.json",
                        safe(&job.data_silo_id),
                        safe(data_point)
                    ),
                    mimetype: "application/json",
                    size: bytes.len() as u64,
                    source: FileSource::Json(bytes),
                });
            }
        }
        for file in &job.files {
            files.push(ReportFile {
                data_point: file.datapoint.clone(),
                file_name: file
                    .remote_id
                    .clone()
                    .unwrap_or_else(|| file.datapoint.clone()),
                // A large JSON value the emulator kept on disk is still JSON.
                mimetype: if file.path.ends_with(".json") {
                    "application/json"
                } else {
                    "application/octet-stream"
                },
                size: file.size,
                source: FileSource::Disk(file.path.clone().into()),
            });
        }
    }
    files
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect()
}

/// Whether the report may be downloaded in this state.
pub(crate) fn is_ready(status: &RequestStatus) -> bool {
    matches!(
        status,
        RequestStatus::Downloadable | RequestStatus::Completed
    )
}

/// A page of download keys for `view`'s report, valid for `lifetime` from `now`.
pub(crate) fn page(
    view: &RequestView,
    keys: &NonceKey,
    limit: Option<u32>,
    offset: Option<u32>,
    now: SystemTime,
    lifetime: Duration,
) -> Result<DownloadKeysPage, ServerError> {
    if !is_ready(&view.status) {
        return Err(ServerError::Conflict {
            message: format!(
                "the access report is not ready: the request is {}",
                view.status
            ),
        });
    }
    let files = files(view);
    let limit = limit.unwrap_or(DEFAULT_PAGE).clamp(1, 1000) as usize;
    let offset = offset.unwrap_or(0) as usize;
    let expires = now + lifetime;
    let nodes = files
        .iter()
        .enumerate()
        .skip(offset)
        .take(limit)
        .map(|(index, file)| {
            let mut key = DownloadKey::new(keys.issue_download(&view.id, index, expires));
            key.mimetype = Some(file.mimetype.to_owned());
            key.size = Some(file.size);
            key.file_name = Some(file.file_name.clone());
            key.data_point = Some(file.data_point.clone());
            key
        })
        .collect();
    let path = transcend_proto::endpoint::download_keys::DownloadKeysEndpoint::path(&view.id);
    let next = (offset + limit < files.len())
        .then(|| format!("{path}?limit={limit}&offset={}", offset + limit));
    let previous = (offset > 0).then(|| {
        format!(
            "{path}?limit={limit}&offset={}",
            offset.saturating_sub(limit)
        )
    });
    let mut page = DownloadKeysPage::default();
    page.nodes = nodes;
    page.total_count = Some(files.len() as u64);
    page.links = Some({
        let mut links = PageLinks::default();
        links.next = next;
        links.previous = previous;
        links
    });
    Ok(page)
}

/// Seconds since the epoch, for keys.
pub(crate) fn epoch_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}
