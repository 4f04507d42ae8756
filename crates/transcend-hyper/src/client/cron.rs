//! A cron ("pull") data silo's calls: list the jobs waiting for it, complete them.

use std::collections::HashSet;

use futures_util::{Stream, StreamExt, TryStreamExt};
use http::StatusCode;
use transcend_proto::Nonce;
use transcend_proto::endpoint::pending_requests::{PendingRequestsEndpoint, PendingRequestsQuery};
use transcend_proto::types::{ErasureReport, PendingRequest, RequestAction};

use super::Client;
use crate::error::Error;

/// What completing a batch of jobs did ([`Client::complete_jobs`]).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct CompletionSummary {
    /// Jobs completed now.
    pub completed: usize,
    /// Jobs that were complete already (the server answered 409).
    pub already_done: usize,
    /// Jobs that could not be completed, with why.
    pub failed: Vec<(Nonce, Error)>,
}

/// Where the listing stands.
struct Listing {
    offset: u32,
    seen: HashSet<Nonce>,
    new_in_pass: bool,
    finished: bool,
}

impl Client {
    /// Every job waiting for a cron silo (`GET /v1/data-silo/{id}/pending-requests/{action}`),
    /// `page_size` at a time (at most 5,000; Transcend's CLI uses 100), each job once.
    ///
    /// Jobs completed while the stream is read shift later offsets, so a plain walk by
    /// offset would skip some. This one never does: when it reaches the last page
    /// after a pass that turned up anything new, it starts over from offset 0, and it
    /// ends after a whole pass turns up nothing it has not already yielded.
    pub fn pending_requests<'a>(
        &'a self,
        data_silo_id: &'a str,
        action: RequestAction,
        page_size: u32,
    ) -> impl Stream<Item = Result<PendingRequest, Error>> + 'a {
        let page_size = page_size.clamp(1, 5000);
        let start = Listing {
            offset: 0,
            seen: HashSet::new(),
            new_in_pass: false,
            finished: false,
        };
        futures_util::stream::try_unfold(start, move |mut listing| {
            let action = action.clone();
            async move {
                if listing.finished {
                    return Ok(None);
                }
                let query =
                    PendingRequestsQuery::new(data_silo_id, action).page(page_size, listing.offset);
                let page = self.call::<PendingRequestsEndpoint>(&query).await?;
                let count = page.items.len();
                let fresh: Vec<PendingRequest> = page
                    .items
                    .into_iter()
                    .filter(|item| listing.seen.insert(item.nonce.clone()))
                    .collect();
                listing.new_in_pass |= !fresh.is_empty();
                if count < page_size as usize {
                    if listing.new_in_pass {
                        listing.offset = 0;
                        listing.new_in_pass = false;
                    } else {
                        listing.finished = true;
                    }
                } else {
                    listing.offset += count as u32;
                }
                Ok::<_, Error>(Some((
                    futures_util::stream::iter(fresh.into_iter().map(Ok)),
                    listing,
                )))
            }
        })
        .try_flatten()
    }

    /// Completes jobs by their nonces (`PUT /v1/data-silo` with `{}`), `concurrency` at
    /// a time; a 409 counts as already done, not as a failure.
    pub async fn complete_jobs(
        &self,
        nonces: impl IntoIterator<Item = Nonce>,
        concurrency: usize,
        mut on_each: impl FnMut(&Nonce, &Result<bool, Error>),
    ) -> CompletionSummary {
        let mut summary = CompletionSummary::default();
        let mut results = futures_util::stream::iter(nonces.into_iter().map(|nonce| async move {
            let outcome = match self.report(&nonce, &ErasureReport::erased()).await {
                Ok(()) => Ok(true),
                Err(error) if error.status() == Some(StatusCode::CONFLICT) => Ok(false),
                Err(error) => Err(error),
            };
            (nonce, outcome)
        }))
        .buffer_unordered(concurrency.max(1));
        while let Some((nonce, outcome)) = results.next().await {
            on_each(&nonce, &outcome);
            match outcome {
                Ok(true) => summary.completed += 1,
                Ok(false) => summary.already_done += 1,
                Err(error) => summary.failed.push((nonce, error)),
            }
        }
        summary
    }

    /// Pulls the jobs waiting for a cron silo into a durable queue, so that workers
    /// (of this process or of every replica, [`RunningWorkers`](crate::silo::queue::RunningWorkers))
    /// share them with the same leases, retries and dead letters as webhook jobs. A job
    /// is queued once by its nonce, however often it is pulled (its record is kept for a
    /// week). Each queued job's body holds the core identifier, the identifier it was
    /// listed with (`unsigned.profile`) and the request's id. Returns how many were
    /// queued now.
    pub async fn enqueue_pending(
        &self,
        queue: &dyn crate::silo::queue::JobQueue,
        data_silo_id: &str,
        action: RequestAction,
        page_size: u32,
    ) -> Result<usize, Error> {
        const KEPT: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);
        let mut queued = 0;
        let mut jobs =
            std::pin::pin!(self.pending_requests(data_silo_id, action.clone(), page_size));
        while let Some(item) = jobs.next().await {
            let item = item?;
            let core = item
                .core_identifier
                .clone()
                .unwrap_or_else(|| item.identifier.clone());
            let mut body = serde_json::json!({
                "type": action,
                "coreIdentifier": {"value": core},
                "extras": {"request": {"id": item.request_id}},
            });
            if let Some(kind) = &item.identifier_type {
                body["extras"]["profile"] =
                    serde_json::json!({"identifier": item.identifier, "type": kind});
            }
            let job = crate::silo::queue::QueuedJob {
                job: serde_json::from_value(body)
                    .map_err(|e| Error::Config(format!("a pending job cannot be queued: {e}")))?,
                core_identifier: core,
                nonce: item.nonce.clone(),
            };
            let key = format!("pull:{}", item.nonce.expose());
            let outcome = queue
                .enqueue(&key, std::time::SystemTime::now() + KEPT, &job)
                .await?;
            if outcome == crate::silo::queue::Enqueued::Queued {
                crate::metrics::count(crate::metrics::JOBS_QUEUED);
                queued += 1;
            }
        }
        Ok(queued)
    }
}
