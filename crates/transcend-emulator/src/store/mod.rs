//! The emulator's state: every request, indexed, saved, and changed only through its
//! lifecycle ([`lifecycle`]) or the admin API's changes ([`admin`]).

mod admin;
mod lifecycle;
mod request;
#[cfg(test)]
mod tests;

pub(crate) use admin::{
    AdminRecord, CursorKey, EnricherPart, IdentifierPart, RequestQuery, SiloPart, filter_time,
};
pub(crate) use lifecycle::{Effect, Event, Now, Refused, SiloPlan};
pub(crate) use request::{Detached, JobState, PendingJob, RequestState, parse_part_id, part_id};

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use transcend_proto::server::ServerError;
use transcend_proto::types::{
    DsrRecord, DsrStatus, EnrichIdentifiers, EnrichmentStatus, IdentifierType, RequestAction,
    RequestIdentifier, RequestStatus, SubmitDsr, Timestamp,
};

use crate::config::LifecycleConfig;
use crate::view::{EnricherStatus, JobStatus, RequestList, RequestView};

/// Where the dashboard would show a request.
pub(crate) const LINK_PREFIX: &str = "https://app.transcend.io/privacy-requests/incoming-requests/";

fn not_found(id: &str) -> ServerError {
    ServerError::NotFound {
        what: format!(
            "no request with id {}",
            id.chars().take(128).collect::<String>()
        ),
    }
}

/// Now, as the API writes it (milliseconds).
pub(crate) fn now() -> Timestamp {
    Timestamp::from_datetime(transcend_proto::types::time::OffsetDateTime::now_utc())
}

/// Now, to the microsecond: the time of an event in a timeline, so that events keep
/// their true order next to a client's and a silo's own clocks.
pub(crate) fn event_time() -> Timestamp {
    Timestamp::precise(transcend_proto::types::time::OffsetDateTime::now_utc())
}

/// The time of an event, read once: the store is where the clock is read, and the
/// lifecycle is handed it.
fn clock() -> Now {
    Now {
        instant: Instant::now(),
        wall: event_time(),
    }
}

impl From<Refused> for ServerError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::NotFound(what) => ServerError::NotFound { what },
            Refused::Conflict(message) => ServerError::Conflict { message },
            // Sombra answers a second enrichment with 400 and this message.
            Refused::AlreadyDone(message)
                if message == transcend_proto::endpoint::enrich_identifiers::RESOLVED_ENRICHER =>
            {
                ServerError::BadRequest { message }
            }
            Refused::AlreadyDone(message) => ServerError::Conflict { message },
        }
    }
}

#[derive(Default)]
pub(crate) struct Store {
    inner: Mutex<Inner>,
    lifecycle: LifecycleConfig,
    /// Woken when a step is scheduled, so the clock sleeps until the earliest one.
    pub(crate) clock: tokio::sync::Notify,
    /// Where every change is saved, with `--data-dir` (taken out, and the database
    /// closed, at shutdown).
    persist: std::sync::RwLock<Option<crate::persist::Persist>>,
}

#[derive(Default)]
struct Inner {
    /// Boxed: the table's slack then costs a pointer per slot, not a whole request.
    requests: HashMap<String, Box<RequestState>>,
    order: Vec<String>,
    /// The requests in the admin API's order (`createdAt`, then `id`): a cursor walk
    /// starts where the last page ended instead of scanning from the start.
    by_created: BTreeSet<(Timestamp, String)>,
    /// The requests of each person and type, for the duplicate check: a submission
    /// looks at the few requests of its own person instead of every request.
    by_person: HashMap<(String, String), Vec<String>>,
    /// The creation number the next request takes (its key in the database).
    next_seq: u64,
    /// When requests have a timed step due (stale entries are passed over).
    schedule: BinaryHeap<Reverse<(Instant, String)>>,
}

/// Whether a request still counts for the duplicate check: everything but the
/// statuses that end it (a `DOWNLOADABLE` report is still open).
pub(crate) fn is_open(status: &RequestStatus) -> bool {
    !matches!(
        status,
        RequestStatus::Completed
            | RequestStatus::SecondaryCompleted
            | RequestStatus::Canceled
            | RequestStatus::Revoked
            | RequestStatus::FailedVerification
            | RequestStatus::ViewCategories
    )
}

impl Store {
    /// A store whose requests follow these steps.
    pub(crate) fn new(lifecycle: LifecycleConfig) -> Self {
        Self {
            lifecycle,
            ..Self::default()
        }
    }

    /// A store that saves every change to `persist`, holding what it had saved.
    pub(crate) fn restored(
        lifecycle: LifecycleConfig,
        persist: crate::persist::Persist,
        saved: Vec<Vec<u8>>,
    ) -> Result<Self, String> {
        let store = Self {
            persist: std::sync::RwLock::new(Some(persist)),
            ..Self::new(lifecycle)
        };
        // Each saved text is let go as soon as it is read.
        let mut requests = saved
            .into_iter()
            .map(|json| serde_json::from_slice::<RequestState>(&json))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("a saved request cannot be read: {e}"))?;
        requests.sort_by_key(|r| r.seq);
        store.insert_all(requests, false);
        Ok(store)
    }

    /// Adds requests (replacing those with the same id), rebuilding the indexes and
    /// the schedule; saves them when `save`.
    fn insert_all(&self, requests: Vec<RequestState>, save: bool) {
        let mut inner = self.lock();
        for mut request in requests {
            let id = request.record.id.clone();
            let person = (
                request.record.action.as_str().to_owned(),
                request.record.core_identifier.clone(),
            );
            match inner.requests.get(&id) {
                // A replacement keeps its place (and its key in the database).
                Some(existing) => {
                    request.seq = existing.seq;
                    let key = (existing.created_at.clone(), id.clone());
                    inner.by_created.remove(&key);
                }
                None => {
                    inner.by_person.entry(person).or_default().push(id.clone());
                    inner.order.push(id.clone());
                    // Restored requests keep their numbers; imported ones take the next.
                    if save {
                        request.seq = inner.next_seq;
                    }
                    inner.next_seq = inner.next_seq.max(request.seq + 1);
                }
            }
            // Saved before delivery rounds were counted per request: start past every
            // round in use.
            let used = request
                .jobs
                .values()
                .map(|job| job.round)
                .chain(request.enrichers.values().map(|e| e.round))
                .max();
            if let Some(used) = used {
                request.next_round = request.next_round.max(used + 1);
            }
            inner
                .by_created
                .insert((request.created_at.clone(), id.clone()));
            if let Some((at, _)) = request.due {
                inner.schedule.push(Reverse((at, id.clone())));
                self.clock.notify_one();
            }
            inner.requests.insert(id.clone(), Box::new(request));
            if save {
                self.changed(&mut inner, &id);
            }
        }
    }

    /// Every request as saved (JSON), for an export: each is serialised on its own,
    /// so the store is never held for long.
    pub(crate) fn export(&self) -> Vec<serde_json::Value> {
        let ids = self.lock().order.clone();
        ids.iter()
            .filter_map(|id| {
                let inner = self.lock();
                serde_json::to_value(inner.requests.get(id)?).ok()
            })
            .collect()
    }

    /// Adds exported requests (replacing those with the same id).
    pub(crate) fn import(&self, requests: Vec<serde_json::Value>) -> Result<usize, String> {
        let requests = requests
            .into_iter()
            .map(serde_json::from_value::<RequestState>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("a request cannot be read: {e}"))?;
        let count = requests.len();
        self.insert_all(requests, true);
        Ok(count)
    }

    /// The number the next stored file takes: past every number a kept file has
    /// (files are named `NNNNNN-name`), so a restarted emulator overwrites none.
    pub(crate) fn next_file_number(&self) -> u64 {
        let inner = self.lock();
        inner
            .requests
            .values()
            .flat_map(|r| r.jobs.values())
            .flat_map(|job| job.view.files.iter())
            .filter_map(|file| {
                let name = std::path::Path::new(&file.path).file_name()?.to_str()?;
                name.split('-').next()?.parse::<u64>().ok()
            })
            .max()
            .map_or(0, |n| n + 1)
    }

    /// The webhooks still to be delivered, as the effects that deliver them: a
    /// restarted emulator delivers them again.
    pub(crate) fn undelivered(&self) -> Vec<(String, Effect)> {
        let inner = self.lock();
        let mut effects = Vec::new();
        for (id, request) in &inner.requests {
            if request.record.status == RequestStatus::Compiling {
                for job in request.jobs.values() {
                    if matches!(
                        job.view.status,
                        JobStatus::Delivering | JobStatus::DeliveryFailed
                    ) {
                        let effect = Effect::DeliverJob {
                            silo: job.view.data_silo_id.clone(),
                            round: job.round,
                        };
                        effects.push((id.clone(), effect));
                    }
                }
            }
            if request.record.status == RequestStatus::Enriching {
                for (enricher, view) in &request.enrichers {
                    if matches!(
                        view.status,
                        EnricherStatus::Delivering | EnricherStatus::DeliveryFailed
                    ) {
                        let effect = Effect::DeliverEnrichment {
                            enricher: enricher.clone(),
                            round: view.round,
                        };
                        effects.push((id.clone(), effect));
                    }
                }
            }
        }
        effects
    }

    /// How many requests it holds.
    pub(crate) fn len(&self) -> usize {
        self.lock().requests.len()
    }

    /// Saves what is left and closes the database; later changes stay in memory.
    pub(crate) fn close(&self) {
        let persist = self.persist.write().ok().and_then(|mut p| p.take());
        drop(persist);
    }

    /// After a change to request `id`: its state saved.
    fn changed(&self, inner: &mut Inner, id: &str) {
        if let Ok(persist) = self.persist.read()
            && let Some(persist) = persist.as_ref()
            && let Some(request) = inner.requests.get(id)
            && let Ok(json) = serde_json::to_vec(request)
        {
            persist.put_request(request.seq, json);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Puts the steps an event scheduled on the clock's list, and hands back the
    /// effects the emulator carries out.
    fn scheduled(&self, inner: &mut Inner, id: &str, effects: Vec<Effect>) -> Vec<Effect> {
        let mut rest = Vec::with_capacity(effects.len());
        for effect in effects {
            match effect {
                Effect::Wake(at) => {
                    inner.schedule.push(Reverse((at, id.to_owned())));
                    self.clock.notify_one();
                }
                other => rest.push(other),
            }
        }
        rest
    }

    /// When the next timed step is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.lock().schedule.peek().map(|Reverse((at, _))| *at)
    }

    /// Takes every step due at `now`: each request's effects.
    pub(crate) fn advance(&self, now: Instant) -> Vec<(String, Vec<Effect>)> {
        let mut inner = self.lock();
        let mut out = Vec::new();
        let clock = Now {
            instant: now,
            wall: event_time(),
        };
        while let Some(Reverse((at, _))) = inner.schedule.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, id))) = inner.schedule.pop() else {
                break;
            };
            let Some(request) = inner.requests.get_mut(&id) else {
                continue;
            };
            let Some((due, step)) = request.due else {
                continue;
            };
            if due != at {
                continue;
            }
            request.due = None;
            let effects = request
                .apply(Event::TimePassed(step), &clock)
                .unwrap_or_default();
            let effects = self.scheduled(&mut inner, &id, effects);
            self.changed(&mut inner, &id);
            if !effects.is_empty() {
                out.push((id, effects));
            }
        }
        out
    }

    /// Hands request `id` an event (404 when there is none): the effects to carry
    /// out, or why it was refused (the request unchanged).
    pub(crate) fn apply(&self, id: &str, event: Event) -> Result<Vec<Effect>, ServerError> {
        self.apply_with(id, |_| Ok(event))
    }

    /// [`apply`](Self::apply), with the event made from the request under the lock
    /// (or refused).
    pub(crate) fn apply_with(
        &self,
        id: &str,
        event: impl FnOnce(&RequestState) -> Result<Event, ServerError>,
    ) -> Result<Vec<Effect>, ServerError> {
        let now = clock();
        let mut inner = self.lock();
        let request = inner.requests.get_mut(id).ok_or_else(|| not_found(id))?;
        let event = event(request)?;
        let effects = request.apply(event, &now)?;
        request.admin.updated_at = Some(now.wall.clone());
        let effects = self.scheduled(&mut inner, id, effects);
        self.changed(&mut inner, id);
        Ok(effects)
    }

    /// Creates a request: refuses a duplicate of an open one, then starts it with
    /// `event` ([`Event::Submitted`]).
    pub(crate) fn create(
        &self,
        submission: SubmitDsr,
        event: Event,
    ) -> Result<(DsrRecord, Vec<Effect>), ServerError> {
        let at = clock();
        let mut inner = self.lock();
        let person = (
            submission.action.as_str().to_owned(),
            submission.subject.core_identifier.clone(),
        );
        let duplicate = inner.by_person.get(&person).is_some_and(|ids| {
            ids.iter()
                .filter_map(|id| inner.requests.get(id))
                .any(|r| is_open(&r.record.status))
        });
        if duplicate {
            return Err(ServerError::BadRequest {
                message: "You have already made this request.".into(),
            });
        }
        let id = uuid::Uuid::new_v4().to_string();
        let created_at = now();
        let mut record = DsrRecord::new(DsrStatus::new(
            id.clone(),
            RequestStatus::RequestMade,
            submission.action.clone(),
            submission.subject_type.clone(),
            submission.subject.email.clone(),
            submission.subject.core_identifier.clone(),
        ));
        record.is_silent = Some(submission.is_silent.unwrap_or(false));
        record.is_test = Some(submission.is_test.unwrap_or(false));
        record.reply_to_email_addresses = Some(
            submission
                .reply_to_email_addresses
                .clone()
                .unwrap_or_default(),
        );
        if let Some(region) = &submission.region {
            record.country = region.effective_country();
            record.country_sub_division = region.country_sub_division.clone();
        }
        // One entry per value of each custom field, as Transcend answers them.
        record.attribute_values = submission
            .attributes
            .iter()
            .flatten()
            .flat_map(|attribute| {
                attribute.values.iter().map(|value| {
                    transcend_proto::types::RequestAttributeValue::new(&attribute.key, value)
                })
            })
            .collect();
        let mut state = RequestState::new(
            inner.next_seq,
            record,
            &submission,
            created_at.clone(),
            &at,
            self.lifecycle,
        );
        let effects = state.apply(event, &at)?;
        let record = state.public_record();
        inner.next_seq += 1;
        inner.order.push(id.clone());
        inner.by_person.entry(person).or_default().push(id.clone());
        inner.by_created.insert((created_at, id.clone()));
        inner.requests.insert(id.clone(), Box::new(state));
        let effects = self.scheduled(&mut inner, &id, effects);
        self.changed(&mut inner, &id);
        Ok((record, effects))
    }

    /// Restarts the request `submission.requestId` names: back to `REQUEST_MADE` and
    /// on to `silos`, with the reports so far dropped. Extra identifiers the restart
    /// attests are added (`REMOVE_ENRICHED_IDENTIFIERS` and the other strategies keep
    /// what the submission held: the emulator enriches nothing).
    pub(crate) fn restart(
        &self,
        submission: SubmitDsr,
        silos: Vec<SiloPlan>,
    ) -> Result<(DsrRecord, Vec<Effect>), ServerError> {
        let now = clock();
        let id = submission.request_id.clone().unwrap_or_default();
        let mut inner = self.lock();
        let state = inner
            .requests
            .get_mut(&id)
            .ok_or_else(|| ServerError::NotFound {
                what: format!(
                    "no request with id {} to restart",
                    id.chars().take(128).collect::<String>()
                ),
            })?;
        if state.record.action != submission.action
            || state.record.core_identifier != submission.subject.core_identifier
        {
            return Err(ServerError::BadRequest {
                message: "a restart must name the original request's type and coreIdentifier"
                    .into(),
            });
        }
        if let Some(extra) = submission.subject.attested_extra_identifiers {
            let mut kept = state.submission();
            let held = kept
                .subject
                .attested_extra_identifiers
                .get_or_insert_with(Default::default);
            for (kind, values) in extra.0 {
                let list = held.0.entry(kind).or_default();
                for value in values {
                    if !list.contains(&value) {
                        list.push(value);
                    }
                }
            }
            state.submission = request::Kept::new(&kept);
        }
        state.skip_waiting_period = submission.skip_waiting_period == Some(true);
        let effects = state.apply(Event::Restarted { silos }, &now)?;
        let record = state.public_record();
        let effects = self.scheduled(&mut inner, &id, effects);
        self.changed(&mut inner, &id);
        Ok((record, effects))
    }

    /// A page (`offset`, `limit`) of the open jobs of `silo` for requests of type
    /// `action`, oldest request first: what a cron silo pulls. The scan stops at the
    /// page's end, and the submissions' attributes are read after the lock is let go.
    pub(crate) fn pending(
        &self,
        silo: &str,
        action: &RequestAction,
        offset: usize,
        limit: usize,
    ) -> Vec<PendingJob> {
        let page: Vec<(Detached, request::Kept)> = {
            let inner = self.lock();
            inner
                .order
                .iter()
                .filter_map(|id| inner.requests.get(id))
                .filter(|r| r.record.action == *action && !r.record.status.is_terminal())
                .filter(|r| {
                    r.jobs.get(silo).is_some_and(|job| {
                        matches!(job.view.status, JobStatus::Waiting | JobStatus::Delivering)
                    })
                })
                .skip(offset)
                .take(limit)
                .map(|r| {
                    let mut detached = r.detached();
                    detached.enriched = Vec::new();
                    (detached, r.submission.clone())
                })
                .collect()
        };
        page.into_iter()
            .map(|(request, submission)| PendingJob {
                request_id: request.record.id,
                created_at: request.created_at,
                core_identifier: request.record.core_identifier,
                email: request.record.email,
                attributes: submission.attributes(),
            })
            .collect()
    }

    /// The identifier types a request holds: core, email, attested, enriched.
    pub(crate) fn identifier_types(&self, id: &str) -> Vec<IdentifierType> {
        self.identifiers(id)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| i.identifier_type)
            .collect()
    }

    /// Applies an enricher's identifiers or decision (by nonce, or by hand). Refused
    /// once the enricher has answered, with the message Sombra uses.
    pub(crate) fn enrich(
        &self,
        id: &str,
        enricher: &str,
        body: EnrichIdentifiers,
    ) -> Result<Vec<Effect>, ServerError> {
        let status = match body.status {
            Some(EnrichmentStatus::OnHold) => EnricherStatus::OnHold,
            Some(EnrichmentStatus::Canceled) => EnricherStatus::Canceled,
            _ => EnricherStatus::Resolved,
        };
        let now = clock();
        let mut inner = self.lock();
        let request = inner.requests.get_mut(id).ok_or_else(|| not_found(id))?;
        let effects = request.apply(
            Event::Enriched {
                enricher: enricher.to_owned(),
                status,
            },
            &now,
        )?;
        for (kind, values) in body.enriched_identifiers.into_iter().flatten() {
            for value in values {
                let identifier = RequestIdentifier::new(kind.clone(), value.value);
                if !request.enriched.contains(&identifier) {
                    request.enriched.push(identifier);
                }
            }
        }
        let effects = self.scheduled(&mut inner, id, effects);
        self.changed(&mut inner, id);
        Ok(effects)
    }

    /// Whether a delivery loop of round `round` should still deliver this job: the
    /// request is open, the job still undelivered, and no retry started a new round.
    pub(crate) fn delivery_wanted(&self, id: &str, silo: &str, round: u32) -> bool {
        let inner = self.lock();
        inner.requests.get(id).is_some_and(|request| {
            !request.record.status.is_terminal()
                && request.jobs.get(silo).is_some_and(|job| {
                    job.round == round
                        && matches!(
                            job.view.status,
                            JobStatus::Delivering | JobStatus::DeliveryFailed
                        )
                })
        })
    }

    /// Whether an enricher's webhook of round `round` should still be delivered: the
    /// request is still `ENRICHING`, the enricher has not answered, and no retry
    /// started a new round.
    pub(crate) fn enrichment_wanted(&self, id: &str, enricher: &str, round: u32) -> bool {
        self.with_request(id, |request| {
            request.record.status == RequestStatus::Enriching
                && request.enrichers.get(enricher).is_some_and(|e| {
                    e.round == round
                        && matches!(
                            e.status,
                            EnricherStatus::Delivering | EnricherStatus::DeliveryFailed
                        )
                })
        })
        .unwrap_or(false)
    }

    /// Shows when the next slow delivery of a failed job is due.
    pub(crate) fn next_delivery(&self, id: &str, silo: &str, at: Option<Timestamp>) {
        let mut inner = self.lock();
        if let Some(job) = inner
            .requests
            .get_mut(id)
            .and_then(|r| r.jobs.get_mut(silo))
        {
            job.view.next_delivery_at = at;
            self.changed(&mut inner, id);
        }
    }

    pub(crate) fn status(&self, id: &str) -> Option<DsrStatus> {
        self.lock().requests.get(id).map(|r| r.record.to_status())
    }

    /// The identifiers a request holds: the core identifier, the email, the attested
    /// extra identifiers, the enriched ones, in that order, less those removed.
    pub(crate) fn identifiers(&self, id: &str) -> Option<Vec<RequestIdentifier>> {
        self.detached(id).map(|request| request.identifiers())
    }

    /// What a reader needs of a request, taken under the lock; see [`Detached`].
    pub(crate) fn detached(&self, id: &str) -> Option<Detached> {
        self.lock().requests.get(id).map(|r| r.detached())
    }

    pub(crate) fn view(&self, id: &str) -> Option<RequestView> {
        self.lock().requests.get(id).map(|r| r.view())
    }

    pub(crate) fn list(&self) -> RequestList {
        let inner = self.lock();
        RequestList {
            requests: inner
                .order
                .iter()
                .filter_map(|id| inner.requests.get(id))
                .map(|r| r.view())
                .collect(),
            total: None,
        }
    }

    /// A page of the requests, newest first: the store is held for that page only.
    pub(crate) fn page(&self, offset: usize, limit: usize) -> RequestList {
        let inner = self.lock();
        RequestList {
            requests: inner
                .order
                .iter()
                .rev()
                .skip(offset)
                .take(limit)
                .filter_map(|id| inner.requests.get(id))
                .map(|r| r.view())
                .collect(),
            total: Some(inner.order.len()),
        }
    }

    /// Runs `f` on a request, for building its webhooks.
    pub(crate) fn with_request<T>(
        &self,
        id: &str,
        f: impl FnOnce(&RequestState) -> T,
    ) -> Option<T> {
        self.lock().requests.get(id).map(|r| f(r))
    }

    /// Applies a report to a silo's job: refused with 404 for an unknown request or
    /// job, 409 once the request or the job is finished.
    pub(crate) fn report(
        &self,
        id: &str,
        silo: &str,
        apply: impl FnOnce(&mut JobState),
    ) -> Result<Vec<Effect>, ServerError> {
        let now = clock();
        let mut inner = self.lock();
        let request = inner
            .requests
            .get_mut(id)
            .ok_or_else(|| ServerError::NotFound {
                what: "no request for this nonce".into(),
            })?;
        request.accepts_report(silo)?;
        if let Some(job) = request.jobs.get_mut(silo) {
            apply(job);
        }
        let effects = request.apply(
            Event::Reported {
                silo: silo.to_owned(),
            },
            &now,
        )?;
        let effects = self.scheduled(&mut inner, id, effects);
        self.changed(&mut inner, id);
        Ok(effects)
    }

    /// Whether reports for this request's job are still taken (for checks before
    /// streaming a body).
    pub(crate) fn accepts_reports(&self, id: &str, silo: &str) -> Result<(), ServerError> {
        let inner = self.lock();
        let request = inner
            .requests
            .get(id)
            .ok_or_else(|| ServerError::NotFound {
                what: "no request for this nonce".into(),
            })?;
        Ok(request.accepts_report(silo)?)
    }
}
