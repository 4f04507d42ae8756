//! The Sombra API, one method per endpoint of the table: what the emulator does with
//! each call once [`dispatch`](transcend_proto::dispatch) has routed, authorized and
//! read it.

use std::sync::Arc;

use hyper::body::Incoming;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body::Frame;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use tokio_util::io::ReaderStream;
use transcend_proto::endpoint::download_file::{EXPIRED_KEY_MARKER, FileHead};
use transcend_proto::endpoint::download_keys::DownloadKeysQuery;
use transcend_proto::endpoint::enrich_identifiers::{Enrichment, EnrichmentTarget};
use transcend_proto::endpoint::pending_requests::PendingRequestsQuery;
use transcend_proto::endpoint::signing_key::SigningKeyPem;
use transcend_proto::server::{Credentials, ServerError};
use transcend_proto::types::{
    DatapointUpload, DownloadKeysPage, DsrStatus, ErasureReport, IdentifierType, PendingRequest,
    PendingRequestsPage, RequestAttribute, RequestIdentifiersPage, RequestIdentifiersQuery,
    SubmitDsr, SubmitDsrResponse,
};
use transcend_proto::{Accepted, Nonce, Report, Route, Service};

use crate::auth::{authorize, job_of};
use crate::config::ApiKeyConfig;
use crate::files::store_file;
use crate::nonce::NonceClaims;
use crate::report;
use crate::report_stream;
use crate::state::Shared;
use crate::store::JobState;
use crate::webhook::ENRICHER_PREFIX;

/// A report file as the emulator streams it.
pub(crate) type FileBody = BoxBody<Bytes, std::io::Error>;

/// 404 for a request id (quoted at most 128 characters).
fn not_found(id: &str) -> ServerError {
    ServerError::NotFound {
        what: format!(
            "no request with id {}",
            id.chars().take(128).collect::<String>()
        ),
    }
}

/// The emulator as a [`Service`] of the endpoint table.
#[derive(Debug, Clone)]
pub(crate) struct Api(pub Arc<Shared>);

impl Api {
    /// A JSON report for a job: check the nonce and the key, apply to the job.
    fn report<T>(
        &self,
        key: &ApiKeyConfig,
        report: Report<T>,
        apply: fn(&mut JobState, T),
    ) -> Result<Accepted, ServerError> {
        let claims = job_of(&self.0, key, &report.nonce)?;
        let effects = self
            .0
            .store
            .report(&claims.request_id, &claims.silo_id, |job| {
                apply(job, report.body)
            })?;
        self.0.run(&claims.request_id, effects);
        tracing::info!(request = %claims.request_id, silo = %claims.silo_id, "report received");
        Ok(Accepted)
    }

    /// The job a report with a streamed body is for, checked before any of the body
    /// is read: the nonce and the key, and that the job still takes reports.
    fn job_taking_reports(
        &self,
        key: &ApiKeyConfig,
        nonce: &Nonce,
    ) -> Result<NonceClaims, ServerError> {
        let claims = job_of(&self.0, key, nonce)?;
        self.0
            .store
            .accepts_reports(&claims.request_id, &claims.silo_id)?;
        Ok(claims)
    }

    /// Applies a report whose body went (in part) to disk as `written`; when the job
    /// stopped taking reports while it arrived, those files are deleted.
    fn record_written(
        &self,
        claims: &NonceClaims,
        written: Vec<String>,
        what: &str,
        apply: impl FnOnce(&mut JobState),
    ) -> Result<Accepted, ServerError> {
        match self
            .0
            .store
            .report(&claims.request_id, &claims.silo_id, apply)
        {
            Ok(effects) => self.0.run(&claims.request_id, effects),
            Err(error) => {
                for path in written {
                    let _ = std::fs::remove_file(path);
                }
                return Err(error);
            }
        }
        tracing::info!(request = %claims.request_id, silo = %claims.silo_id, "{what} received");
        Ok(Accepted)
    }
}

impl Service<Incoming> for Api {
    type Caller = Arc<ApiKeyConfig>;
    type FileBody = FileBody;

    async fn authorize(
        &self,
        route: Route,
        credentials: Credentials,
    ) -> Result<Self::Caller, ServerError> {
        authorize(&self.0, route, &credentials)
    }

    fn body_limit(&self) -> u64 {
        self.0.config.body_limit
    }

    async fn submit_dsr(
        &self,
        _: Self::Caller,
        submission: SubmitDsr,
    ) -> Result<SubmitDsrResponse, ServerError> {
        self.0.submit(submission)
    }

    async fn get_dsr(&self, _: Self::Caller, id: String) -> Result<DsrStatus, ServerError> {
        self.0.store.status(&id).ok_or_else(|| not_found(&id))
    }

    async fn upload_access(
        &self,
        key: Self::Caller,
        nonce: Nonce,
        body: Incoming,
    ) -> Result<Accepted, ServerError> {
        let claims = self.job_taking_reports(&key, &nonce)?;
        // Read as it arrives: large values go to disk before the store is touched, so
        // the store keeps what is small and a listing never copies megabytes under
        // its lock.
        let read = report_stream::read_report(Arc::clone(&self.0), &claims, body).await?;
        let written = read.files.iter().map(|f| f.path.clone()).collect();
        self.record_written(&claims, written, "report", |job| {
            for file in read.files {
                job.upload_datapoint(file, false);
            }
            job.upload_access(read.upload);
        })
    }

    async fn report_erasure(
        &self,
        key: Self::Caller,
        report: Report<ErasureReport>,
    ) -> Result<Accepted, ServerError> {
        self.report(&key, report, JobState::report_erasure)
    }

    async fn upload_datapoint(
        &self,
        key: Self::Caller,
        report: Report<DatapointUpload>,
        body: Incoming,
    ) -> Result<Accepted, ServerError> {
        let claims = self.job_taking_reports(&key, &report.nonce)?;
        let upload = report.body;
        let file = store_file(&self.0, &claims, &upload, body).await?;
        let skip = upload.skip_status_update;
        let written = vec![file.path.clone()];
        self.record_written(&claims, written, "file", |job| {
            job.upload_datapoint(file, skip)
        })
    }

    async fn upload_datapoint_chunked(
        &self,
        key: Self::Caller,
        nonce: Nonce,
        body: Incoming,
    ) -> Result<Accepted, ServerError> {
        let claims = self.job_taking_reports(&key, &nonce)?;
        // Read as it arrives, as access reports are: a large page goes to disk.
        let read = report_stream::read_page(Arc::clone(&self.0), &claims, body).await?;
        let written = read
            .on_disk
            .iter()
            .map(|(path, _)| path.display().to_string())
            .collect();
        self.record_written(&claims, written, "datapoint page", |job| {
            job.upload_datapoint_chunked(read.chunk, read.on_disk)
        })
    }

    async fn signing_key(&self, _: Self::Caller, _: ()) -> Result<SigningKeyPem, ServerError> {
        Ok(self.0.keys.public.clone())
    }

    async fn download_file(
        &self,
        _: Self::Caller,
        key: String,
    ) -> Result<(FileHead, FileBody), ServerError> {
        let expired = |why: &str| ServerError::BadRequest {
            message: format!("{EXPIRED_KEY_MARKER} failed: {why}"),
        };
        let (request_id, index, expires) = self
            .0
            .nonces
            .check_download(&key)
            .ok_or_else(|| expired("the download key was not issued here"))?;
        if report::epoch_seconds(SystemTime::now()) > expires {
            return Err(expired(
                "the download key expired; fetch the download keys again",
            ));
        }
        let view = self
            .0
            .store
            .view(&request_id)
            .ok_or_else(|| not_found(&request_id))?;
        let file = report::files(&view)
            .into_iter()
            .nth(index)
            .ok_or_else(|| expired("the download key names no file of this report"))?;
        let head = FileHead::new(file.mimetype, Some(file.size)).file_name(&file.file_name);
        let body = match file.source {
            report::FileSource::Json(bytes) => Full::new(Bytes::from(bytes))
                .map_err(|never| match never {})
                .boxed(),
            report::FileSource::Disk(path) => {
                let opened = tokio::fs::File::open(&path).await.map_err(|e| {
                    tracing::warn!(path = %path.display(), error = %e, "a stored report file cannot be opened");
                    ServerError::Unavailable {
                        status: http::StatusCode::INTERNAL_SERVER_ERROR,
                        message: "the stored file cannot be read".into(),
                    }
                })?;
                let frames = ReaderStream::with_capacity(opened, 64 * 1024).map_ok(Frame::data);
                StreamBody::new(frames).boxed()
            }
        };
        Ok((head, body))
    }

    async fn pending_requests(
        &self,
        key: Self::Caller,
        query: PendingRequestsQuery,
    ) -> Result<PendingRequestsPage, ServerError> {
        if let Some(silo) = &key.data_silo
            && *silo != query.data_silo_id
        {
            return Err(ServerError::Unauthorized {
                message: "the API key belongs to another data silo".into(),
            });
        }
        let silo = self
            .0
            .config
            .data_silos
            .iter()
            .find(|s| s.id == query.data_silo_id)
            .ok_or_else(|| ServerError::NotFound {
                what: format!(
                    "no data silo {}",
                    query.data_silo_id.chars().take(128).collect::<String>()
                ),
            })?;
        let limit = query.limit.unwrap_or(50).clamp(1, 5000) as usize;
        let offset = query.offset.unwrap_or(0) as usize;
        let items = self
            .0
            .store
            .pending(&silo.id, &query.action, offset, limit)
            .into_iter()
            .map(|job| {
                // A silo keyed on identifier types is handed the identifier that put
                // the request in its scope: the first of its types the request holds,
                // in the order configured. Otherwise the e-mail, or the core identifier.
                let keyed = (!silo.identifiers.is_empty())
                    .then(|| self.0.store.identifiers(&job.request_id))
                    .flatten()
                    .and_then(|held| {
                        silo.identifiers.iter().find_map(|wanted| {
                            held.iter()
                                .find(|i| i.identifier_type.as_ref() == Some(wanted))
                                .map(|i| (i.value.clone(), wanted.clone()))
                        })
                    });
                let (identifier, kind) = match (keyed, &job.email) {
                    (Some(keyed), _) => keyed,
                    (None, Some(email)) => (email.clone(), IdentifierType::Email),
                    (None, None) => (job.core_identifier.clone(), IdentifierType::CoreIdentifier),
                };
                let mut item =
                    PendingRequest::new(identifier, self.0.nonces.issue(&job.request_id, &silo.id));
                item.identifier_type = Some(kind);
                item.core_identifier = Some(job.core_identifier);
                item.data_silo_id = Some(silo.id.clone());
                item.request_id = Some(job.request_id);
                item.request_created_at = Some(job.created_at);
                item.days_until_overdue = Some(30);
                // Always a list, `[]` when there are none: Transcend's CLI reads
                // `attributes` as an array and stops on a missing one.
                item.attributes = Some(
                    job.attributes
                        .into_iter()
                        .map(|(key, values)| RequestAttribute::new(key, values))
                        .collect(),
                );
                item
            })
            .collect();
        Ok(PendingRequestsPage::new(items))
    }

    async fn enrich_identifiers(
        &self,
        _: Self::Caller,
        enrichment: Enrichment,
    ) -> Result<Accepted, ServerError> {
        let (request_id, enricher_id) = match enrichment.target {
            EnrichmentTarget::Nonce(nonce) => {
                self
                    .0
                    .nonces
                    .check(nonce.expose())
                    .and_then(|claims| {
                        let enricher = claims.silo_id.strip_prefix(ENRICHER_PREFIX)?.to_owned();
                        Some((claims.request_id, enricher))
                    })
                    .ok_or_else(|| ServerError::BadRequest {
                        message: "invalid x-transcend-nonce: it was not issued by this Sombra for an enrichment".into(),
                    })?
            }
            EnrichmentTarget::Manual {
                request_id,
                enricher_id,
            } => (request_id, enricher_id),
            _ => {
                return Err(ServerError::BadRequest {
                    message: "unsupported enrichment target".into(),
                });
            }
        };
        let effects = self
            .0
            .store
            .enrich(&request_id, &enricher_id, enrichment.body)?;
        self.0.run(&request_id, effects);
        Ok(Accepted)
    }

    async fn request_identifiers(
        &self,
        _: Self::Caller,
        query: RequestIdentifiersQuery,
    ) -> Result<RequestIdentifiersPage, ServerError> {
        let all = self
            .0
            .store
            .identifiers(&query.request_id)
            .ok_or_else(|| not_found(&query.request_id))?;
        Ok(RequestIdentifiersPage::new(
            all.into_iter()
                .skip(query.offset as usize)
                .take(query.first as usize)
                .collect(),
        ))
    }

    async fn download_keys(
        &self,
        _: Self::Caller,
        query: DownloadKeysQuery,
    ) -> Result<DownloadKeysPage, ServerError> {
        let view = self
            .0
            .store
            .view(&query.request_id)
            .ok_or_else(|| not_found(&query.request_id))?;
        report::page(
            &view,
            &self.0.nonces,
            query.limit,
            query.offset,
            SystemTime::now(),
            Duration::from_secs(self.0.config.download_key_lifetime_secs),
        )
    }
}
