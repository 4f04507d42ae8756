//! A request's life as one sans-IO state machine: every change to where a request
//! stands (a submission, a silo's answer or report, an enricher's answer, a person's
//! decision from the dashboard or the admin API, the clock) is an [`Event`] handed to
//! [`RequestState::apply`] with the time, which changes the state and says what is to
//! happen next as [`Effect`]s (deliver a webhook, wake the clock, find the silos in
//! scope). Nothing here reads a clock, spawns a task or touches the network: the store
//! holds the lock and saves, and the emulator carries out the effects.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use transcend_proto::types::{RequestAction, RequestStatus, Timestamp};

use super::{JobState, RequestState};
use crate::view::{Delivery, EnricherStatus, EnricherView, JobStatus, StatusChange};

/// The time an event happens at: the monotonic instant timers are set from, and the
/// wall-clock time written on the timeline.
#[derive(Debug, Clone)]
pub(crate) struct Now {
    pub instant: Instant,
    pub wall: Timestamp,
}

/// A data silo a request reaches, as its lifecycle needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SiloPlan {
    pub id: String,
    /// The datapoints whose reports resolve its job by themselves.
    pub expected: Vec<String>,
    /// A cron silo: its job waits to be pulled, no webhook.
    pub pull: bool,
}

/// A timed step of a request's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Step {
    /// The waiting period is over: the silos start.
    WaitingOver,
    /// The ERASURE's secondary phase is over.
    SecondaryOver,
    /// The ACCESS report's download window closed.
    DownloadWindowClosed,
}

/// Something that changes where a request stands.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// A new request: straight to `completed` when the submission says so, else its
    /// enrichers first when any, else its silos.
    Submitted {
        completed: Option<RequestStatus>,
        enrichers: Vec<(String, bool)>,
        silos: Vec<SiloPlan>,
    },
    /// Restarted: back to `REQUEST_MADE`, with new jobs for these silos.
    Restarted { silos: Vec<SiloPlan> },
    /// The silos in scope now that the enrichers are done or the waiting is over.
    Proceed { silos: Vec<SiloPlan> },
    /// A step whose time has come.
    TimePassed(Step),
    /// A webhook delivery to a silo ended (`status`: what the job becomes, if the
    /// delivery settled it).
    JobDelivered {
        silo: String,
        delivery: Delivery,
        status: Option<JobStatus>,
    },
    /// A silo's report was applied to its job.
    Reported { silo: String },
    /// An enrichment webhook delivery ended.
    EnricherDelivered {
        enricher: String,
        delivery: Delivery,
        status: Option<EnricherStatus>,
    },
    /// An enricher answered through `POST /v1/enrich-identifiers` (by nonce or by hand).
    Enriched {
        enricher: String,
        status: EnricherStatus,
    },
    /// A person approved the request.
    Approved,
    /// A person canceled or revoked the request.
    Ended(RequestStatus),
    /// Put on hold.
    Held,
    /// Taken off hold.
    Resumed,
    /// A person set a silo's part (resolved, skipped, waiting, action required).
    SiloSet { silo: String, status: JobStatus },
    /// A silo's job is to run again.
    SiloRetried { silo: String, pull: bool },
    /// An enricher is to run again.
    EnricherRetried { enricher: String, manual: bool },
    /// An enricher is skipped.
    EnricherSkipped { enricher: String },
}

/// What is to happen because of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Deliver the silo's webhook (its delivery round, so an older loop stops).
    DeliverJob { silo: String, round: u32 },
    /// Deliver the enricher's webhook.
    DeliverEnrichment { enricher: String, round: u32 },
    /// Find the silos in scope with the identifiers the request holds now, and
    /// [`Event::Proceed`] with them.
    StartSilos,
    /// A step is due then: wake the clock.
    Wake(Instant),
}

/// Why an event was refused; the request is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// No such silo job or enricher on the request.
    NotFound(String),
    /// Not possible in the request's state.
    Conflict(String),
    /// Done already (an approval of a request no longer waiting for one, an enricher
    /// that has answered).
    AlreadyDone(String),
}

/// The message Transcend's admin API answers an approval of a request that is not
/// waiting for one.
pub(crate) const NOT_APPROVING: &str = "Request must be in an approving state";
/// What skipping an enricher that has finished answers.
pub(crate) const ENRICHER_COMPLETED: &str = "This request enricher is already completed";

/// Where a request was when it was put on hold, and the step it had pending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Held {
    pub from: RequestStatus,
    /// The pending step and how long it still had to go.
    pub remaining: Option<(u64, Step)>,
}

impl RequestState {
    /// Applies an event at `now`: the new state, and what is to happen.
    pub(crate) fn apply(&mut self, event: Event, now: &Now) -> Result<Vec<Effect>, Refused> {
        let mut effects = Vec::new();
        match event {
            Event::Submitted {
                completed,
                enrichers,
                silos,
            } => {
                if let Some(completed) = completed {
                    self.enter(completed, now);
                } else if !enrichers.is_empty() {
                    self.enter(RequestStatus::Enriching, now);
                    for (enricher, manual) in enrichers {
                        let round = self.take_round();
                        let view = EnricherView::new(&self.record.id, &enricher, manual, round);
                        if !manual {
                            effects.push(Effect::DeliverEnrichment {
                                enricher: enricher.clone(),
                                round,
                            });
                        }
                        self.enrichers.insert(enricher, view);
                    }
                } else {
                    self.begin(silos, now, &mut effects);
                }
            }
            Event::Restarted { silos } => {
                self.restarts += 1;
                self.jobs.clear();
                self.held = None;
                self.enter(RequestStatus::RequestMade, now);
                self.begin(silos, now, &mut effects);
            }
            Event::Proceed { silos } => match self.record.status {
                RequestStatus::Enriching if self.enrichers_done() => {
                    self.begin(silos, now, &mut effects)
                }
                RequestStatus::Waiting if self.due.is_none() => {
                    self.compile(silos, now, &mut effects)
                }
                _ => {}
            },
            Event::TimePassed(step) => match (step, &self.record.status) {
                (Step::WaitingOver, RequestStatus::Waiting) => effects.push(Effect::StartSilos),
                (Step::SecondaryOver, RequestStatus::Secondary) => self.finish_secondary(now),
                (Step::DownloadWindowClosed, RequestStatus::Downloadable) => {
                    self.enter(RequestStatus::Completed, now)
                }
                _ => {}
            },
            Event::JobDelivered {
                silo,
                delivery,
                status,
            } => {
                if let Some(job) = self.jobs.get_mut(&silo) {
                    job.view.deliveries.push(delivery);
                    if let Some(status) = status
                        && matches!(
                            job.view.status,
                            JobStatus::Delivering | JobStatus::DeliveryFailed
                        )
                    {
                        job.view.status = status;
                        if status != JobStatus::DeliveryFailed {
                            job.view.next_delivery_at = None;
                        }
                    }
                }
                self.settle(now, &mut effects);
            }
            Event::Reported { silo } => {
                if self.jobs.get(&silo).is_none() {
                    return Err(Refused::NotFound("no job for this nonce".into()));
                }
                self.settle(now, &mut effects);
            }
            Event::EnricherDelivered {
                enricher,
                delivery,
                status,
            } => {
                if let Some(view) = self.enrichers.get_mut(&enricher) {
                    view.deliveries.push(delivery);
                    if let Some(status) = status
                        && matches!(
                            view.status,
                            EnricherStatus::Delivering | EnricherStatus::DeliveryFailed
                        )
                    {
                        view.status = status;
                    }
                }
                self.after_enrichment(now, &mut effects);
            }
            Event::Enriched { enricher, status } => {
                let view = self.enricher_mut(&enricher)?;
                if !view.status.is_open() {
                    return Err(Refused::AlreadyDone(
                        transcend_proto::endpoint::enrich_identifiers::RESOLVED_ENRICHER.into(),
                    ));
                }
                view.status = status;
                self.after_enrichment(now, &mut effects);
            }
            Event::Approved => match self.record.status {
                RequestStatus::Approving => self.finish_primary(now, &mut effects),
                RequestStatus::SecondaryApproving => {
                    self.enter(RequestStatus::SecondaryCompleted, now)
                }
                _ => return Err(Refused::AlreadyDone(NOT_APPROVING.into())),
            },
            Event::Ended(status) => {
                self.still_open()?;
                self.held = None;
                self.enter(status, now);
            }
            Event::Held => {
                self.still_open()?;
                if self.record.status == RequestStatus::OnHold {
                    return Err(Refused::Conflict("Request is already on hold".into()));
                }
                let remaining = self.due.map(|(at, step)| {
                    let left = at.saturating_duration_since(now.instant);
                    (left.as_millis() as u64, step)
                });
                self.held = Some(Held {
                    from: self.record.status.clone(),
                    remaining,
                });
                self.enter(RequestStatus::OnHold, now);
            }
            Event::Resumed => {
                if self.record.status != RequestStatus::OnHold {
                    return Err(Refused::Conflict(format!(
                        "Request is {}, not on hold",
                        self.record.status
                    )));
                }
                let held = self.held.take().unwrap_or(Held {
                    // An enricher put it on hold: the person who resumes it accepts
                    // the enrichers' answers.
                    from: RequestStatus::Enriching,
                    remaining: None,
                });
                self.enter(held.from.clone(), now);
                if let Some((left, step)) = held.remaining {
                    self.schedule(Duration::from_millis(left), step, now, &mut effects);
                }
                match held.from {
                    RequestStatus::Enriching => {
                        for view in self.enrichers.values_mut() {
                            if view.status == EnricherStatus::OnHold {
                                view.status = EnricherStatus::Resolved;
                            }
                        }
                        self.after_enrichment(now, &mut effects);
                    }
                    RequestStatus::Compiling => self.settle(now, &mut effects),
                    _ => {}
                }
            }
            Event::SiloSet { silo, status } => {
                self.still_open()?;
                let job = self.job_mut(&silo)?;
                job.view.status = status;
                job.view.next_delivery_at = None;
                self.settle(now, &mut effects);
            }
            Event::SiloRetried { silo, pull } => {
                self.still_open()?;
                self.job_mut(&silo)?;
                let round = self.take_round();
                let job = self.job_mut(&silo)?;
                job.round = round;
                job.view.next_delivery_at = None;
                job.view.status = if pull {
                    JobStatus::Waiting
                } else {
                    JobStatus::Delivering
                };
                if !pull {
                    effects.push(Effect::DeliverJob { silo, round });
                }
                // An approval waited for every silo: it waits for this one again.
                if self.record.status == RequestStatus::Approving {
                    self.enter(RequestStatus::Compiling, now);
                }
            }
            Event::EnricherRetried { enricher, manual } => {
                if !matches!(
                    self.record.status,
                    RequestStatus::Enriching | RequestStatus::OnHold
                ) {
                    return Err(Refused::Conflict(format!(
                        "the request is {}, not ENRICHING",
                        self.record.status
                    )));
                }
                self.enricher_mut(&enricher)?;
                let round = self.take_round();
                let view = self.enricher_mut(&enricher)?;
                view.round = round;
                view.status = if manual {
                    EnricherStatus::Waiting
                } else {
                    EnricherStatus::Delivering
                };
                if !manual {
                    effects.push(Effect::DeliverEnrichment { enricher, round });
                }
            }
            Event::EnricherSkipped { enricher } => {
                // An enricher that has answered is done, whatever became of the request.
                if !self.enricher_mut(&enricher)?.status.is_open() {
                    return Err(Refused::AlreadyDone(ENRICHER_COMPLETED.into()));
                }
                self.still_open()?;
                let view = self.enricher_mut(&enricher)?;
                view.status = EnricherStatus::Skipped;
                self.after_enrichment(now, &mut effects);
            }
        }
        Ok(effects)
    }

    /// Whether a report for this silo's job is taken: the request is open and the
    /// job not finished (409 otherwise, as Sombra answers).
    pub(crate) fn accepts_report(&self, silo: &str) -> Result<(), Refused> {
        if self.record.status.is_terminal() {
            return Err(Refused::Conflict(format!(
                "the request is already finished ({})",
                self.record.status
            )));
        }
        let job = self
            .jobs
            .get(silo)
            .ok_or_else(|| Refused::NotFound("no job for this nonce".into()))?;
        if job.view.status.is_settled() {
            return Err(Refused::Conflict(format!(
                "the job is already finished ({:?})",
                job.view.status
            )));
        }
        Ok(())
    }

    fn still_open(&self) -> Result<(), Refused> {
        if self.record.status.is_terminal() {
            return Err(Refused::Conflict(format!(
                "the request is {} already",
                self.record.status
            )));
        }
        Ok(())
    }

    fn job_mut(&mut self, silo: &str) -> Result<&mut JobState, Refused> {
        self.jobs
            .get_mut(silo)
            .ok_or_else(|| Refused::NotFound("no job for that data silo".into()))
    }

    fn enricher_mut(&mut self, enricher: &str) -> Result<&mut EnricherView, Refused> {
        self.enrichers.get_mut(enricher).ok_or_else(|| {
            Refused::NotFound(format!(
                "no enricher {} on this request",
                enricher.chars().take(128).collect::<String>()
            ))
        })
    }

    fn enter(&mut self, status: RequestStatus, now: &Now) {
        if self.record.status != status {
            self.due = None;
            tracing::info!(request = %self.record.id, from = %self.record.status, to = %status, "request status changed");
            self.record.status = status.clone();
            self.timeline
                .push(StatusChange::new(status, now.wall.clone()));
        }
    }

    fn schedule(&mut self, after: Duration, step: Step, now: &Now, effects: &mut Vec<Effect>) {
        let at = now.instant + after;
        self.due = Some((at, step));
        effects.push(Effect::Wake(at));
    }

    fn enrichers_done(&self) -> bool {
        self.enrichers.values().all(|e| e.status.is_done())
    }

    /// After an enricher answered: a cancellation or a hold moves the request; once
    /// every enricher is done, the silos are to start.
    fn after_enrichment(&mut self, now: &Now, effects: &mut Vec<Effect>) {
        if self.record.status != RequestStatus::Enriching {
            return;
        }
        let statuses: Vec<EnricherStatus> = self.enrichers.values().map(|e| e.status).collect();
        if statuses.contains(&EnricherStatus::Canceled) {
            self.enter(RequestStatus::Canceled, now);
        } else if statuses.contains(&EnricherStatus::OnHold) {
            self.held = None;
            self.enter(RequestStatus::OnHold, now);
        } else if self.enrichers_done() {
            effects.push(Effect::StartSilos);
        }
    }

    /// The silos' phase begins: `WAITING` first when a waiting period applies and the
    /// submission did not skip it, else `COMPILING` at once.
    fn begin(&mut self, silos: Vec<SiloPlan>, now: &Now, effects: &mut Vec<Effect>) {
        let wait = self.lifecycle.waiting_period_ms;
        if wait > 0 && !self.skip_waiting_period {
            self.enter(RequestStatus::Waiting, now);
            self.schedule(Duration::from_millis(wait), Step::WaitingOver, now, effects);
        } else {
            self.compile(silos, now, effects);
        }
    }

    /// `COMPILING`, with one job per silo; finished at once when no silo is in scope.
    fn compile(&mut self, silos: Vec<SiloPlan>, now: &Now, effects: &mut Vec<Effect>) {
        self.enter(RequestStatus::Compiling, now);
        for silo in silos {
            let round = self.take_round();
            let mut job = JobState::new(&self.record.id, &silo.id, silo.expected, round);
            if silo.pull {
                job.view.status = JobStatus::Waiting;
            } else {
                effects.push(Effect::DeliverJob {
                    silo: silo.id.clone(),
                    round: job.round,
                });
            }
            self.jobs.insert(job);
        }
        self.settle(now, effects);
    }

    /// Once every job is settled: `APPROVING` when a person approves, else finished.
    fn settle(&mut self, now: &Now, effects: &mut Vec<Effect>) {
        if self.record.status != RequestStatus::Compiling {
            return;
        }
        if self.jobs.values().all(|job| job.view.status.is_settled()) {
            if self.lifecycle.approval {
                self.enter(RequestStatus::Approving, now);
            } else {
                self.finish_primary(now, effects);
            }
        }
    }

    /// The silos are done (and the request approved, if it had to be).
    fn finish_primary(&mut self, now: &Now, effects: &mut Vec<Effect>) {
        match self.record.action {
            RequestAction::Access => {
                self.enter(RequestStatus::Downloadable, now);
                let window = Duration::from_secs(self.lifecycle.download_window_secs);
                self.schedule(window, Step::DownloadWindowClosed, now, effects);
            }
            RequestAction::Erasure if self.lifecycle.secondary_ms > 0 => {
                self.enter(RequestStatus::Secondary, now);
                let secondary = Duration::from_millis(self.lifecycle.secondary_ms);
                self.schedule(secondary, Step::SecondaryOver, now, effects);
            }
            RequestAction::Erasure => self.finish_secondary(now),
            _ => self.enter(RequestStatus::Completed, now),
        }
    }

    fn finish_secondary(&mut self, now: &Now) {
        if self.lifecycle.approval {
            self.enter(RequestStatus::SecondaryApproving, now);
        } else {
            self.enter(RequestStatus::SecondaryCompleted, now);
        }
    }
}

#[cfg(test)]
#[path = "lifecycle_laws.rs"]
mod laws;
