//! The Sombra API, one method per endpoint of the table: what the emulator does with
//! each call once [`dispatch`](transcend_proto::dispatch) has routed, authorized and
//! read it.

use std::sync::Arc;

use hyper::body::Incoming;
use transcend_proto::endpoint::signing_key::SigningKeyPem;
use transcend_proto::server::{Credentials, ServerError};
use transcend_proto::types::{
    AccessUpload, DatapointChunk, DatapointUpload, DsrStatus, ErasureReport, SubmitDsr,
    SubmitDsrResponse,
};
use transcend_proto::{Accepted, Report, Route, Service};

use crate::auth::{authorize, job_of};
use crate::config::ApiKeyConfig;
use crate::files::store_file;
use crate::state::Shared;
use crate::store::JobState;

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
        self.0
            .store
            .report(&claims.request_id, &claims.silo_id, |job| {
                apply(job, report.body)
            })?;
        Ok(Accepted)
    }
}

impl Service<Incoming> for Api {
    type Caller = Arc<ApiKeyConfig>;

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
        self.0
            .store
            .status(&id)
            .ok_or_else(|| ServerError::NotFound {
                what: format!(
                    "no request with id {}",
                    id.chars().take(128).collect::<String>()
                ),
            })
    }

    async fn upload_access(
        &self,
        key: Self::Caller,
        report: Report<AccessUpload>,
    ) -> Result<Accepted, ServerError> {
        self.report(&key, report, JobState::upload_access)
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
        let shared = &self.0;
        let claims = job_of(shared, &key, &report.nonce)?;
        shared
            .store
            .accepts_reports(&claims.request_id, &claims.silo_id)?;
        let upload = report.body;
        let file = store_file(shared, &claims, &upload, body).await?;
        let skip = upload.skip_status_update;
        shared
            .store
            .report(&claims.request_id, &claims.silo_id, |job| {
                job.upload_datapoint(file, skip)
            })?;
        Ok(Accepted)
    }

    async fn upload_datapoint_chunked(
        &self,
        key: Self::Caller,
        report: Report<DatapointChunk>,
    ) -> Result<Accepted, ServerError> {
        self.report(&key, report, JobState::upload_datapoint_chunked)
    }

    async fn signing_key(&self, _: Self::Caller, _: ()) -> Result<SigningKeyPem, ServerError> {
        Ok(self.0.keys.public.clone())
    }
}
