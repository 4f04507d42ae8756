//! Uploaded files: streamed to disk under a name that cannot escape the storage
//! directory, hashed on the way, never held whole.

use std::sync::atomic::Ordering;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use transcend_proto::server::ServerError;
use transcend_proto::types::DatapointUpload;

use crate::nonce::NonceClaims;
use crate::state::Shared;
use crate::view::FileView;

/// Streams an uploaded file to disk, hashing it on the way; never holds it whole.
pub(crate) async fn store_file(
    shared: &Shared,
    claims: &NonceClaims,
    upload: &DatapointUpload,
    mut body: Incoming,
) -> Result<FileView, ServerError> {
    let datapoint = upload.datapoint_name.as_str();
    let name = upload.remote_id.as_deref().unwrap_or(datapoint);
    let path = new_path(shared, claims, name).await?;
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(|_| internal("file storage"))?;
    let (mut size, mut hash, limit) = (0u64, Sha256::new(), shared.config.body_limit);
    let outcome: Result<(), ServerError> = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| ServerError::BadRequest {
                message: format!("upload broke off: {e}"),
            })?;
            if let Ok(data) = frame.into_data() {
                size += data.len() as u64;
                if size > limit {
                    return Err(ServerError::PayloadTooLarge { limit });
                }
                hash.update(&data);
                file.write_all(&data)
                    .await
                    .map_err(|_| internal("file storage"))?;
            }
        }
        file.flush().await.map_err(|_| internal("file storage"))
    }
    .await;
    if let Err(error) = outcome {
        drop(file);
        let _ = tokio::fs::remove_file(&path).await;
        tracing::warn!(
            request = %claims.request_id,
            silo = %claims.silo_id,
            datapoint,
            received = size,
            reason = %error,
            "an upload was aborted; the partial file is deleted"
        );
        return Err(error);
    }
    let sha256: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    tracing::info!(request = %claims.request_id, silo = %claims.silo_id, datapoint, size, "file stored");
    Ok(FileView {
        datapoint: datapoint.to_owned(),
        remote_id: upload.remote_id.clone(),
        profile_id: upload.profile_id.clone(),
        size,
        sha256,
        path: path.display().to_string(),
    })
}

/// The file view of a report's datapoint value kept on disk: listed with the job's
/// files, named as the report download names it (`{silo}-{profile}-{datapoint}.json`).
pub(crate) fn json_file_view(
    claims: &NonceClaims,
    datapoint: &str,
    profile_id: Option<&str>,
    size: u64,
    sha256: String,
    path: std::path::PathBuf,
) -> FileView {
    let profile_part = profile_id
        .map(|id| format!("-{}", safe(id)))
        .unwrap_or_default();
    FileView {
        datapoint: datapoint.to_owned(),
        remote_id: Some(format!(
            "{}{profile_part}-{}.json",
            safe(&claims.silo_id),
            safe(datapoint)
        )),
        profile_id: profile_id.map(str::to_owned),
        size,
        sha256,
        path: path.display().to_string(),
    }
}

/// A job's directory (not created here).
pub(crate) fn job_dir(shared: &Shared, claims: &NonceClaims) -> std::path::PathBuf {
    shared
        .storage_dir
        .join(safe(&claims.request_id))
        .join(safe(&claims.silo_id))
}

/// A new file's path in `dir`: `NNNNNN-name`, numbered so that no two files share a
/// path; `name` is made safe as one path component.
pub(crate) fn numbered(shared: &Shared, dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let n = shared.files.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("{n:06}-{}", safe(name)))
}

/// A new file's path in the job's directory (created when missing).
async fn new_path(
    shared: &Shared,
    claims: &NonceClaims,
    name: &str,
) -> Result<std::path::PathBuf, ServerError> {
    let dir = job_dir(shared, claims);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|_| internal("file storage"))?;
    Ok(numbered(shared, &dir, name))
}

/// A name safe as one path component.
fn safe(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    if cleaned.trim_matches('.').is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

/// A 500 naming what is unavailable.
pub(crate) fn internal(what: &str) -> ServerError {
    ServerError::Unavailable {
        status: http::StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("{what} unavailable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_cannot_escape_their_directory() {
        assert_eq!(safe("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(safe(".."), "file");
        assert_eq!(safe("photo 1.jpg"), "photo_1.jpg");
        assert_eq!(safe(""), "file");
    }
}
