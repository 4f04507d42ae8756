//! One method per endpoint.

use std::time::Instant;

use futures_util::{Stream, StreamExt};
use serde_json::Value;
use transcend_proto::endpoint::get_dsr::GetDsrEndpoint;
use transcend_proto::endpoint::signing_key::{SigningKeyEndpoint, SigningKeyPem};
use transcend_proto::endpoint::submit_dsr::SubmitDsrEndpoint;
use transcend_proto::endpoint::upload_datapoint::UploadDatapointEndpoint;
use transcend_proto::endpoint::{ReportBody, build_report};
use transcend_proto::types::{
    AccessUpload, DatapointChunk, DatapointUpload, DsrStatus, ErasureReport, SubmitDsr,
    SubmitDsrResponse,
};
use transcend_proto::{Endpoint, Nonce, Report};

use super::{Client, Rebuild};
use crate::error::Error;
use crate::upload::{DatapointSource, UploadAttempts};
use crate::wait::WaitOptions;

impl Client {
    /// Submits a DSR (`POST /v1/data-subject-request`).
    ///
    /// Retried only when the server cannot have acted on it: no connection was made, or
    /// it answered 429 or 503. A submission that may have arrived is never sent twice.
    pub async fn submit_dsr(&self, dsr: &SubmitDsr) -> Result<SubmitDsrResponse, Error> {
        self.call::<SubmitDsrEndpoint>(dsr).await
    }

    /// The state of a DSR (`GET /v1/data-subject-request/{id}`).
    pub async fn get_dsr(&self, id: &str) -> Result<DsrStatus, Error> {
        self.call::<GetDsrEndpoint>(&id.to_owned()).await
    }

    /// Polls a DSR, pausing longer each time, until it reaches one of
    /// `options.until` or a terminal status; fails with a timeout after
    /// `options.timeout`.
    pub async fn wait_for_dsr(&self, id: &str, options: WaitOptions) -> Result<DsrStatus, Error> {
        let started = Instant::now();
        let mut interval = options.initial_interval;
        loop {
            let status = self.get_dsr(id).await?;
            if options.is_done(&status.status) {
                return Ok(status);
            }
            let left = options.timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(Error::Timeout {
                    what: "wait",
                    after: options.timeout,
                });
            }
            tracing::debug!(id, status = %status.status, wait_ms = interval.as_millis() as u64, "waiting for DSR");
            tokio::time::sleep(interval.min(left)).await;
            interval = options.next_interval(interval);
        }
    }

    /// Sends a data silo's report for the job with this nonce, to the endpoint that
    /// takes the body: an [`AccessUpload`] to `POST /v1/data-silo`, an
    /// [`ErasureReport`] to `PUT /v1/data-silo`, a [`DatapointChunk`] to
    /// `POST /v1/datapoint-chunked`. Reports are idempotent, so they are retried like
    /// reads.
    pub async fn report<T: ReportBody + Sync>(&self, nonce: &Nonce, body: &T) -> Result<(), Error> {
        let config = self.config();
        let attempts = Rebuild {
            first: Some(build_report(config, nonce, body)?),
            build: || build_report(config, nonce, body),
        };
        let info = &<T::Endpoint as Endpoint>::INFO;
        let response = self.execute(info.name, info.idempotency, attempts).await?;
        <T::Endpoint as Endpoint>::parse_response(response)?;
        Ok(())
    }

    /// Reports JSON datapoints for an ACCESS job (`POST /v1/data-silo`); the same as
    /// [`report`](Self::report).
    pub async fn upload_access(&self, nonce: &Nonce, upload: &AccessUpload) -> Result<(), Error> {
        self.report(nonce, upload).await
    }

    /// Reports the outcome of an ERASURE (or any) job (`PUT /v1/data-silo`); the same
    /// as [`report`](Self::report).
    pub async fn report_erasure(&self, nonce: &Nonce, report: &ErasureReport) -> Result<(), Error> {
        self.report(nonce, report).await
    }

    /// Uploads one file to one datapoint (`POST /v1/datapoint`), streamed.
    ///
    /// A [`DatapointSource::File`] is streamed from disk in 64 KiB chunks and reopened
    /// for a retry; a reader or body is sent once and never retried after it was read.
    pub async fn upload_datapoint(
        &self,
        nonce: &Nonce,
        upload: DatapointUpload,
        source: DatapointSource,
    ) -> Result<(), Error> {
        let attempts = UploadAttempts::new(
            self.config().clone(),
            Report::new(nonce.clone(), upload),
            source,
        )?;
        let info = &UploadDatapointEndpoint::INFO;
        let response = self.execute(info.name, info.idempotency, attempts).await?;
        UploadDatapointEndpoint::parse_response(response)?;
        Ok(())
    }

    /// Uploads paged JSON to one datapoint (`POST /v1/datapoint-chunked`): one call per
    /// page, the last flagged `isLastPage`. With no pages at all, one empty last page
    /// completes the datapoint. Returns the number of pages sent.
    pub async fn upload_datapoint_chunked<I>(
        &self,
        nonce: &Nonce,
        datapoint_name: &str,
        pages: I,
    ) -> Result<usize, Error>
    where
        I: IntoIterator<Item = Vec<Value>>,
    {
        self.upload_datapoint_chunked_stream(
            nonce,
            datapoint_name,
            futures_util::stream::iter(pages),
        )
        .await
    }

    /// [`upload_datapoint_chunked`](Self::upload_datapoint_chunked) from a stream of
    /// pages (for example rows read from a database as they come).
    pub async fn upload_datapoint_chunked_stream<S>(
        &self,
        nonce: &Nonce,
        datapoint_name: &str,
        pages: S,
    ) -> Result<usize, Error>
    where
        S: Stream<Item = Vec<Value>>,
    {
        let mut pages = std::pin::pin!(pages.peekable());
        let mut sent = 0usize;
        loop {
            let page = pages.next().await;
            let is_last = pages.as_mut().peek().await.is_none();
            if page.is_none() && sent > 0 {
                return Ok(sent);
            }
            let chunk = DatapointChunk::new(datapoint_name, page.unwrap_or_default(), is_last)
                .file_id(format!("page {}", sent + 1));
            self.report(nonce, &chunk).await?;
            sent += 1;
            if is_last {
                return Ok(sent);
            }
        }
    }

    /// The public key that signs webhook tokens
    /// (`GET /public-keys/sombra-general-signing-key`).
    pub async fn signing_key(&self) -> Result<SigningKeyPem, Error> {
        self.call::<SigningKeyEndpoint>(&()).await
    }
}
