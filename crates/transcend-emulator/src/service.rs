//! One HTTP request to the emulator: checks, then the endpoint.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_LENGTH;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use transcend_proto::endpoint::get_dsr::GetDsrEndpoint;
use transcend_proto::endpoint::report_erasure::ReportErasureEndpoint;
use transcend_proto::endpoint::signing_key::SigningKeyEndpoint;
use transcend_proto::endpoint::submit_dsr::SubmitDsrEndpoint;
use transcend_proto::endpoint::upload_access::UploadAccessEndpoint;
use transcend_proto::endpoint::upload_datapoint;
use transcend_proto::endpoint::upload_datapoint_chunked::UploadDatapointChunkedEndpoint;
use transcend_proto::server::{Credentials, Route, ServerError};
use transcend_proto::{Accepted, Endpoint, Nonce, Report};

use crate::Shared;
use crate::config::{ApiKeyConfig, Scope};
use crate::limits::Fault;
use crate::nonce::NonceClaims;
use crate::store::JobState;
use crate::view::FileView;

/// The prefix of the inspection API.
pub const INSPECTION_PREFIX: &str = "/emulator/v1/requests";

/// The connection is to be closed without an answer (an injected fault).
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
pub(crate) struct Dropped;

type Answer = Response<Full<Bytes>>;

fn answer(response: Response<Bytes>) -> Answer {
    response.map(Full::new)
}

fn error(error: &ServerError) -> Answer {
    answer(error.to_response())
}

pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Answer, Dropped> {
    let path = request.uri().path().to_owned();
    let inspection = path
        .strip_prefix(INSPECTION_PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if inspection {
        return Ok(inspect(&shared, &request, &path).unwrap_or_else(|e| error(&e)));
    }
    let fault = match &shared.faults {
        None => Fault::None,
        Some(faults) => {
            let latency = faults.lock().map(|f| f.latency()).unwrap_or_default();
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            faults.lock().map(|mut f| f.next()).unwrap_or(Fault::None)
        }
    };
    match fault {
        Fault::None => {}
        Fault::Error500 => return Ok(error(&unavailable(StatusCode::INTERNAL_SERVER_ERROR))),
        Fault::Error502 => return Ok(error(&unavailable(StatusCode::BAD_GATEWAY))),
        Fault::Drop => return Err(Dropped),
    }
    let method = request.method().clone();
    Ok(api(&shared, request, &method, &path)
        .await
        .unwrap_or_else(|e| error(&e)))
}

fn unavailable(status: StatusCode) -> ServerError {
    ServerError::Unavailable {
        status,
        message: "injected fault".into(),
    }
}

async fn api(
    shared: &Arc<Shared>,
    request: Request<Incoming>,
    method: &Method,
    path: &str,
) -> Result<Answer, ServerError> {
    let route = Route::of(method, path)?;
    let key = authenticate(shared, &Credentials::from_headers(request.headers()))?;
    if let Some(limiter) = &shared.rate {
        let taken = limiter.lock().map_err(|_| internal("rate limiter"))?.take(
            &key.key,
            Instant::now(),
            SystemTime::now(),
        );
        if let Err(limited) = taken {
            return Err(ServerError::RateLimited {
                retry_after: limited.retry_after,
                rate_limit: limited.rate_limit,
            });
        }
    }
    match route {
        Route::SubmitDsr => {
            require(key, Scope::Submit)?;
            let request = read(shared, request).await?;
            let submission = SubmitDsrEndpoint::parse_request(request)?.input;
            let created = shared.submit(submission)?;
            Ok(answer(SubmitDsrEndpoint::build_response(&created)))
        }
        Route::GetDsr { id } => {
            require(key, Scope::View)?;
            let status = shared
                .store
                .status(&id)
                .ok_or_else(|| ServerError::NotFound {
                    what: format!("no request with id {id}"),
                })?;
            Ok(answer(GetDsrEndpoint::build_response(&status)))
        }
        Route::UploadAccess => {
            report::<UploadAccessEndpoint, _>(shared, key, request, JobState::access).await
        }
        Route::ReportErasure => {
            report::<ReportErasureEndpoint, _>(shared, key, request, JobState::outcome).await
        }
        Route::UploadDatapointChunked => {
            report::<UploadDatapointChunkedEndpoint, _>(shared, key, request, JobState::page).await
        }
        Route::UploadDatapoint => {
            let (parts, body) = request.into_parts();
            let report = upload_datapoint::parse_request_head(&parts)?.input;
            let claims = job_of(shared, key, &report.nonce)?;
            shared
                .store
                .accepts_reports(&claims.request_id, &claims.silo_id)?;
            check_length(shared, &parts.headers)?;
            let upload = report.body;
            let file = store_file(
                shared,
                &claims,
                &upload.datapoint_name,
                upload.remote_id.clone(),
                body,
            )
            .await?;
            let skip = upload.skip_status_update;
            shared
                .store
                .report(&claims.request_id, &claims.silo_id, |job| {
                    job.file(file, skip)
                })?;
            Ok(answer(upload_datapoint::build_response()))
        }
        Route::SigningKey => Ok(answer(SigningKeyEndpoint::build_response(
            &shared.keys.public,
        ))),
        _ => Err(ServerError::NotFound {
            what: format!("no endpoint at {path}"),
        }),
    }
}

/// A JSON report for a job: read within the limit, parse, check the nonce and the key,
/// apply to the job.
async fn report<E, T>(
    shared: &Shared,
    key: &ApiKeyConfig,
    request: Request<Incoming>,
    apply: fn(&mut JobState, T),
) -> Result<Answer, ServerError>
where
    E: Endpoint<Input = Report<T>, Output = Accepted>,
{
    let request = read(shared, request).await?;
    let report = E::parse_request(request)?.input;
    let claims = job_of(shared, key, &report.nonce)?;
    shared
        .store
        .report(&claims.request_id, &claims.silo_id, |job| {
            apply(job, report.body)
        })?;
    Ok(answer(E::build_response(&Accepted)))
}

fn internal(what: &str) -> ServerError {
    ServerError::Unavailable {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("{what} unavailable"),
    }
}

/// The key a request authenticates with, after the Sombra key (self-hosted mode).
fn authenticate<'a>(
    shared: &'a Shared,
    credentials: &Credentials,
) -> Result<&'a ApiKeyConfig, ServerError> {
    if let Some(expected) = &shared.config.sombra_key {
        let given = credentials.sombra_key.as_ref().map(|k| k.expose());
        if given != Some(expected.as_str()) {
            return Err(ServerError::Unauthorized {
                message: "missing or wrong x-sombra-authorization (this Sombra is self-hosted)"
                    .into(),
            });
        }
    }
    let Some(api_key) = &credentials.api_key else {
        return Err(ServerError::Unauthorized {
            message: "missing authorization: Bearer <API key>".into(),
        });
    };
    shared
        .api_keys
        .get(api_key.expose())
        .ok_or_else(|| ServerError::Unauthorized {
            message: "invalid API key".into(),
        })
}

fn require(key: &ApiKeyConfig, scope: Scope) -> Result<(), ServerError> {
    if key.scopes.contains(&scope) {
        Ok(())
    } else {
        let name = match scope {
            Scope::Submit => "Submit New Data Subject Request",
            Scope::View => "View Incoming Requests",
            Scope::Report => "report for data silo jobs",
        };
        Err(ServerError::Unauthorized {
            message: format!("the API key lacks the scope {name:?}"),
        })
    }
}

/// The job a nonce stands for, once the key may report for it.
fn job_of(shared: &Shared, key: &ApiKeyConfig, nonce: &Nonce) -> Result<NonceClaims, ServerError> {
    require(key, Scope::Report)?;
    let claims = shared
        .nonces
        .check(nonce.expose())
        .ok_or_else(|| ServerError::BadRequest {
            message: "invalid x-transcend-nonce: it was not issued by this Sombra for any job"
                .into(),
        })?;
    if let Some(silo) = &key.data_silo
        && *silo != claims.silo_id
    {
        return Err(ServerError::Unauthorized {
            message: "the API key belongs to another data silo".into(),
        });
    }
    Ok(claims)
}

fn check_length(shared: &Shared, headers: &http::HeaderMap) -> Result<(), ServerError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > shared.config.body_limit => Err(ServerError::PayloadTooLarge {
            limit: shared.config.body_limit,
        }),
        _ => Ok(()),
    }
}

/// Reads a JSON request's body, refusing it as soon as it passes the limit.
async fn read(shared: &Shared, request: Request<Incoming>) -> Result<Request<Bytes>, ServerError> {
    check_length(shared, request.headers())?;
    let (parts, mut body) = request.into_parts();
    let limit = shared.config.body_limit;
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ServerError::BadRequest {
            message: format!("body could not be read: {e}"),
        })?;
        if let Ok(data) = frame.into_data() {
            if (buffer.len() + data.len()) as u64 > limit {
                return Err(ServerError::PayloadTooLarge { limit });
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(Request::from_parts(parts, buffer.freeze()))
}

/// Streams an uploaded file to disk, hashing it on the way; never holds it whole.
async fn store_file(
    shared: &Shared,
    claims: &NonceClaims,
    datapoint: &str,
    remote_id: Option<String>,
    mut body: Incoming,
) -> Result<FileView, ServerError> {
    let dir = shared
        .storage_dir
        .join(safe(&claims.request_id))
        .join(safe(&claims.silo_id));
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|_| internal("file storage"))?;
    let n = shared.files.fetch_add(1, Ordering::Relaxed);
    let name = remote_id.as_deref().unwrap_or(datapoint);
    let path = dir.join(format!("{n:06}-{}", safe(name)));
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
        return Err(error);
    }
    let sha256 = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(FileView {
        datapoint: datapoint.to_owned(),
        remote_id,
        size,
        sha256,
        path: path.display().to_string(),
    })
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

/// `GET /emulator/v1/requests[/{id}]`, with a key that may view.
fn inspect<B>(shared: &Shared, request: &Request<B>, path: &str) -> Result<Answer, ServerError> {
    if request.method() != Method::GET {
        return Err(ServerError::MethodNotAllowed {
            method: request.method().clone(),
            allowed: vec![Method::GET],
        });
    }
    let key = authenticate(shared, &Credentials::from_headers(request.headers()))?;
    require(key, Scope::View)?;
    let body = match path
        .strip_prefix(INSPECTION_PREFIX)
        .and_then(|rest| rest.strip_prefix('/'))
    {
        None | Some("") => serde_json::to_vec(&shared.store.list()),
        Some(id) => {
            let id = transcend_proto::endpoint::get_dsr::id_from_path(&format!(
                "{}{id}",
                GetDsrEndpoint::PATH
            ))
            .unwrap_or_default();
            let view = shared
                .store
                .view(&id)
                .ok_or_else(|| ServerError::NotFound {
                    what: format!("no request with id {id}"),
                })?;
            serde_json::to_vec(&view)
        }
    }
    .map_err(|_| internal("inspection"))?;
    Ok(Response::builder()
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
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
