//! The emulator's state, and the rules that move a DSR through its life.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use transcend_proto::server::ServerError;
use transcend_proto::types::{
    AccessUpload, DatapointChunk, DsrRecord, DsrStatus, EnrichIdentifiers, EnrichmentStatus,
    ErasureReport, IdentifierType, IntegrationStatus, ProfileStatus, RequestAction,
    RequestIdentifier, RequestStatus, SubmitDsr, Timestamp,
};

use crate::config::LifecycleConfig;
use crate::view::{
    Delivery, EnricherStatus, EnricherView, FileView, JobStatus, JobView, PageView, RequestList,
    RequestView, StatusChange,
};

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

pub(crate) fn now() -> Timestamp {
    Timestamp::from(transcend_proto::types::time::OffsetDateTime::now_utc())
}

/// Now, to the microsecond: the time of an event in a timeline, so that events keep
/// their true order next to a client's and a silo's own clocks.
pub(crate) fn event_time() -> Timestamp {
    Timestamp::precise(transcend_proto::types::time::OffsetDateTime::now_utc())
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
    /// The requests of each person and type, for the duplicate check: a submission
    /// looks at the few requests of its own person instead of every request.
    by_person: HashMap<(String, String), Vec<String>>,
    /// The creation number the next request takes (its key in the database).
    next_seq: u64,
    /// When requests have a timed step due (stale entries are passed over).
    schedule: BinaryHeap<Reverse<(Instant, String)>>,
}

/// A request's id and one of its silos' or enrichers' ids.
pub(crate) type RequestAnd = (String, String);

/// A timed step of a request's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Step {
    /// The waiting period is over: the silos start.
    WaitingOver,
    /// The ERASURE's secondary phase is over.
    SecondaryOver,
    /// The ACCESS report's download window closed.
    DownloadWindowClosed,
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

impl Inner {
    /// Puts a step the request `id` has just scheduled on the clock's list; whether one
    /// was.
    fn track(&mut self, id: &str) -> bool {
        let Some(due) = self.requests.get_mut(id).and_then(|r| r.scheduled.take()) else {
            return false;
        };
        self.schedule.push(Reverse((due, id.to_owned())));
        true
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct RequestState {
    /// Its place in creation order.
    #[serde(default)]
    seq: u64,
    pub record: DsrRecord,
    /// The submission, as compact JSON: read back when a webhook or a listing needs
    /// it, which is seldom next to what it would cost to keep as a struct.
    submission: Kept,
    /// Whether the submission skipped the waiting period.
    #[serde(default)]
    skip_waiting_period: bool,
    pub created_at: Timestamp,
    timeline: Vec<StatusChange>,
    jobs: Jobs,
    restarts: u32,
    enrichers: BTreeMap<String, EnricherView>,
    enriched: Vec<RequestIdentifier>,
    lifecycle: LifecycleConfig,
    /// The timed step pending, and when (saved as a wall-clock time).
    #[serde(with = "due_time")]
    due: Option<(Instant, Step)>,
    /// A step scheduled since the store last looked.
    #[serde(skip)]
    scheduled: Option<Instant>,
}

/// A pending step's time, saved as milliseconds since the epoch and read back as an
/// instant of this process (a step already past is due at once).
mod due_time {
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use super::Step;

    pub(super) fn serialize<S: serde::Serializer>(
        due: &Option<(Instant, Step)>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let wall = due.map(|(at, step)| {
            let from_now = at.saturating_duration_since(Instant::now());
            let at = (SystemTime::now() + from_now)
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis() as u64;
            (at, step)
        });
        serde::Serialize::serialize(&wall, serializer)
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<(Instant, Step)>, D::Error> {
        let wall: Option<(u64, Step)> = serde::Deserialize::deserialize(deserializer)?;
        Ok(wall.map(|(at, step)| {
            let at = UNIX_EPOCH + Duration::from_millis(at);
            let from_now = at.duration_since(SystemTime::now()).unwrap_or_default();
            (Instant::now() + from_now, step)
        }))
    }
}

/// A submission kept as its compact JSON text, shared: a reader takes it under the
/// store's lock for the price of a reference count and parses it after letting go, so
/// a large submission never holds the store.
#[derive(Clone)]
struct Kept(Arc<serde_json::value::RawValue>);

impl Kept {
    fn new(submission: &SubmitDsr) -> Self {
        Self(Arc::from(
            serde_json::value::to_raw_value(submission).unwrap_or_else(|_| {
                serde_json::value::RawValue::from_string("{}".into())
                    .unwrap_or_else(|_| unreachable!("{{}} is JSON"))
            }),
        ))
    }

    /// The submission, read back. What this store wrote reads back; should it not,
    /// the request's own record stands in for it.
    fn read(&self, record: &DsrRecord) -> SubmitDsr {
        serde_json::from_str(self.0.get()).unwrap_or_else(|error| {
            tracing::error!(request = %record.id, %error, "a kept submission does not read back");
            SubmitDsr::new(
                record.action.clone(),
                transcend_proto::types::Subject::new(record.core_identifier.clone()),
                record.subject_type.clone(),
            )
        })
    }

    /// Only the submission's attributes (what a cron silo's pending list carries).
    fn attributes(&self) -> Vec<(String, Vec<String>)> {
        #[derive(serde::Deserialize)]
        struct Attributes {
            #[serde(default)]
            attributes: Option<Vec<transcend_proto::types::Attribute>>,
        }
        serde_json::from_str::<Attributes>(self.0.get())
            .ok()
            .and_then(|a| a.attributes)
            .unwrap_or_default()
            .into_iter()
            .map(|a| (a.key, a.values))
            .collect()
    }
}

impl serde::Serialize for Kept {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Kept {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<serde_json::value::RawValue>::deserialize(deserializer)
            .map(|raw| Self(Arc::from(raw)))
    }
}

/// What a reader needs of a request, copied out under the store's lock (the
/// submission's text shared, not copied): the submission is parsed after the lock
/// is let go.
pub(crate) struct Detached {
    pub record: DsrRecord,
    pub created_at: Timestamp,
    enriched: Vec<RequestIdentifier>,
    submission: Kept,
}

impl Detached {
    /// The submission, read back.
    pub(crate) fn submission(&self) -> SubmitDsr {
        self.submission.read(&self.record)
    }

    /// The identifiers the request holds: the core identifier, the email, the attested
    /// extra identifiers, the enriched ones, in that order.
    pub(crate) fn identifiers(&self) -> Vec<RequestIdentifier> {
        let submission = self.submission();
        let subject = &submission.subject;
        let mut all = vec![RequestIdentifier::new(
            IdentifierType::CoreIdentifier,
            subject.core_identifier.clone(),
        )];
        if let Some(email) = &subject.email {
            all.push(RequestIdentifier::new(IdentifierType::Email, email.clone()));
        }
        for (kind, values) in subject
            .attested_extra_identifiers
            .iter()
            .flat_map(|a| a.0.iter())
        {
            for value in values {
                all.push(RequestIdentifier::new(kind.clone(), value.value.clone()));
            }
        }
        all.extend(self.enriched.iter().cloned());
        for (n, identifier) in all.iter_mut().enumerate() {
            identifier.id = Some(format!("{}-identifier-{n}", self.record.id));
        }
        all
    }
}

impl RequestState {
    /// 409 once the request is finished: the dashboard's actions apply to open ones.
    fn still_open(&self) -> Result<(), ServerError> {
        if self.record.status.is_terminal() {
            return Err(ServerError::Conflict {
                message: format!("the request is {} already", self.record.status),
            });
        }
        Ok(())
    }

    /// A silo's job, or 404.
    fn job_mut(&mut self, silo: &str) -> Result<&mut JobState, ServerError> {
        self.jobs
            .get_mut(silo)
            .ok_or_else(|| ServerError::NotFound {
                what: "no job for that data silo".into(),
            })
    }

    /// The record as the API answers it, with its dashboard link (made here rather
    /// than kept: it is the same prefix for every request).
    fn public_record(&self) -> DsrRecord {
        let mut record = self.record.clone();
        record.link = Some(format!("{LINK_PREFIX}{}", record.id));
        record
    }

    /// The submission, read back (under the lock: for changes to it; readers use
    /// [`Store::detached`]).
    fn submission(&self) -> SubmitDsr {
        self.submission.read(&self.record)
    }

    fn detached(&self) -> Detached {
        Detached {
            record: self.record.clone(),
            created_at: self.created_at.clone(),
            enriched: self.enriched.clone(),
            submission: self.submission.clone(),
        }
    }
}

/// A request's jobs, one per silo, in the order of the silos' ids. Few per request,
/// so a list found by silo id and grown one at a time: a map node, or a list growing
/// by doubling, would reserve room for several jobs where one is usual.
#[derive(Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
struct Jobs(Vec<JobState>);

impl Jobs {
    fn get(&self, silo: &str) -> Option<&JobState> {
        self.0.iter().find(|job| job.view.data_silo_id == silo)
    }

    fn get_mut(&mut self, silo: &str) -> Option<&mut JobState> {
        self.0.iter_mut().find(|job| job.view.data_silo_id == silo)
    }

    fn values(&self) -> impl Iterator<Item = &JobState> {
        self.0.iter()
    }

    /// Adds a job, or replaces the silo's job.
    fn insert(&mut self, job: JobState) {
        match self.get_mut(&job.view.data_silo_id.clone()) {
            Some(existing) => *existing = job,
            None => {
                self.0.reserve_exact(1);
                let at = self
                    .0
                    .partition_point(|j| j.view.data_silo_id < job.view.data_silo_id);
                self.0.insert(at, job);
            }
        }
    }

    fn clear(&mut self) {
        self.0 = Vec::new();
    }
}

/// A job a cron silo may pull, as the store knows it.
pub(crate) struct PendingJob {
    pub request_id: String,
    pub created_at: Timestamp,
    pub core_identifier: String,
    pub email: Option<String>,
    pub attributes: Vec<(String, Vec<String>)>,
}

#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct JobState {
    view: JobView,
    reported: BTreeSet<String>,
    expected: Vec<String>,
    /// Bumped by each redelivery from the dashboard, so an older delivery loop stops.
    #[serde(default)]
    round: u32,
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
                Some(existing) => request.seq = existing.seq,
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
            request.scheduled = request.due.map(|(at, _)| at);
            inner.requests.insert(id.clone(), Box::new(request));
            if save {
                self.changed(&mut inner, &id);
            } else {
                self.track(&mut inner, &id);
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

    /// The jobs whose webhooks are still to be delivered, and the enrichers still to
    /// be called: a restarted emulator delivers them again.
    pub(crate) fn undelivered(&self) -> (Vec<RequestAnd>, Vec<RequestAnd>) {
        let inner = self.lock();
        let mut jobs = Vec::new();
        let mut enrichers = Vec::new();
        for (id, request) in &inner.requests {
            if request.record.status == RequestStatus::Compiling {
                for job in request.jobs.values() {
                    let silo = &job.view.data_silo_id;
                    if matches!(
                        job.view.status,
                        JobStatus::Delivering | JobStatus::DeliveryFailed
                    ) {
                        jobs.push((id.clone(), silo.clone()));
                    }
                }
            }
            if request.record.status == RequestStatus::Enriching {
                for (enricher, view) in &request.enrichers {
                    if matches!(
                        view.status,
                        EnricherStatus::Delivering | EnricherStatus::DeliveryFailed
                    ) {
                        enrichers.push((id.clone(), enricher.clone()));
                    }
                }
            }
        }
        (jobs, enrichers)
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

    /// After a change to request `id`: its timed step on the schedule, its state saved.
    fn changed(&self, inner: &mut Inner, id: &str) {
        self.track(inner, id);
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

    /// Records a step `id` scheduled, and wakes the clock.
    fn track(&self, inner: &mut Inner, id: &str) {
        if inner.track(id) {
            self.clock.notify_one();
        }
    }

    /// When the next timed step is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.lock().schedule.peek().map(|Reverse((at, _))| *at)
    }

    /// Takes every step due at `now`. Returns the requests whose waiting period ended:
    /// their silos are to start.
    pub(crate) fn advance(&self, now: Instant) -> Vec<String> {
        let mut inner = self.lock();
        let mut start = Vec::new();
        let mut touched = Vec::new();
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
            if request.take_step(step) {
                start.push(id.clone());
            }
            touched.push(id);
        }
        for id in touched {
            self.changed(&mut inner, &id);
        }
        start
    }

    /// Changes request `id` with `change` (404 when there is none); when it succeeds,
    /// the request's timed step is scheduled and its state saved.
    fn update<T>(
        &self,
        id: &str,
        change: impl FnOnce(&mut RequestState) -> Result<T, ServerError>,
    ) -> Result<T, ServerError> {
        let mut inner = self.lock();
        let request = inner.requests.get_mut(id).ok_or_else(|| not_found(id))?;
        let changed = change(request)?;
        self.changed(&mut inner, id);
        Ok(changed)
    }

    /// Approves a request waiting for it (`APPROVING` or `SECONDARY_APPROVING`); 409
    /// otherwise.
    pub(crate) fn approve(&self, id: &str) -> Result<(), ServerError> {
        self.update(id, |request| {
            match request.record.status {
                RequestStatus::Approving => request.finish_primary(),
                RequestStatus::SecondaryApproving => {
                    request.enter(RequestStatus::SecondaryCompleted);
                }
                ref other => {
                    return Err(ServerError::Conflict {
                        message: format!("the request is {other}, not waiting for approval"),
                    });
                }
            }
            Ok(())
        })
    }

    /// Creates a request: refuses a duplicate of an open one, then starts it in
    /// `COMPILING` with one job per silo (`silos`: id and expected datapoints), in
    /// `WAITING` when a waiting period applies, or directly in `completedRequestStatus`.
    pub(crate) fn create(
        &self,
        submission: SubmitDsr,
        silos: &[(String, Vec<String>)],
    ) -> Result<DsrRecord, ServerError> {
        self.create_with_enrichers(submission, silos, &[])
    }

    /// [`create`](Self::create), but with enrichers the request starts `ENRICHING`
    /// and its silos' jobs wait for [`proceed`](Self::proceed).
    pub(crate) fn create_with_enrichers(
        &self,
        submission: SubmitDsr,
        silos: &[(String, Vec<String>)],
        enrichers: &[String],
    ) -> Result<DsrRecord, ServerError> {
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
        let completed = submission.completed_request_status.clone();
        let mut state = RequestState {
            seq: inner.next_seq,
            record,
            skip_waiting_period: submission.skip_waiting_period == Some(true),
            created_at: created_at.clone(),
            timeline: {
                // Room for the usual few steps, not the default four.
                let mut timeline = Vec::with_capacity(3);
                timeline.push(StatusChange {
                    status: RequestStatus::RequestMade,
                    at: event_time(),
                });
                timeline
            },
            jobs: Jobs::default(),
            submission: Kept::new(&submission),
            restarts: 0,
            enrichers: BTreeMap::new(),
            enriched: Vec::new(),
            lifecycle: self.lifecycle,
            due: None,
            scheduled: None,
        };
        if let Some(completed) = completed {
            state.enter(RequestStatus::from(completed));
        } else if !enrichers.is_empty() {
            state.enter(RequestStatus::Enriching);
            for enricher in enrichers {
                state.enrichers.insert(
                    enricher.clone(),
                    EnricherView {
                        enricher_id: enricher.clone(),
                        status: EnricherStatus::Delivering,
                        deliveries: Vec::new(),
                    },
                );
            }
        } else {
            state.begin(silos);
        }
        let record = state.public_record();
        inner.next_seq += 1;
        inner.order.push(id.clone());
        inner.by_person.entry(person).or_default().push(id.clone());
        inner.requests.insert(id.clone(), Box::new(state));
        self.changed(&mut inner, &id);
        Ok(record)
    }

    /// Restarts the request `submission.requestId` names: back to `REQUEST_MADE` and
    /// `COMPILING`, with new jobs for `silos` and the reports so far dropped. Extra
    /// identifiers the restart attests are added (`REMOVE_ENRICHED_IDENTIFIERS` and the
    /// other strategies keep what the submission held: the emulator enriches nothing).
    pub(crate) fn restart(
        &self,
        submission: SubmitDsr,
        silos: &[(String, Vec<String>)],
    ) -> Result<DsrRecord, ServerError> {
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
            state.submission = Kept::new(&kept);
        }
        state.skip_waiting_period = submission.skip_waiting_period == Some(true);
        state.restarts += 1;
        state.jobs.clear();
        state.enter(RequestStatus::RequestMade);
        state.begin(silos);
        let record = state.public_record();
        self.changed(&mut inner, &id);
        Ok(record)
    }

    /// A cron silo's job is open as soon as it exists: no webhook to answer.
    pub(crate) fn await_pull(&self, id: &str, silo: &str) {
        if let Some(job) = self
            .lock()
            .requests
            .get_mut(id)
            .and_then(|r| r.jobs.get_mut(silo))
            && job.view.status == JobStatus::Delivering
        {
            job.view.status = JobStatus::Waiting;
        }
        let mut inner = self.lock();
        self.changed(&mut inner, id);
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
        let page: Vec<(Detached, Kept)> = {
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

    /// Records an enrichment webhook delivery and, when it settled, the enricher's state.
    pub(crate) fn enricher_delivered(
        &self,
        id: &str,
        enricher: &str,
        delivery: Delivery,
        status: Option<EnricherStatus>,
    ) -> bool {
        let mut inner = self.lock();
        let Some(request) = inner.requests.get_mut(id) else {
            return false;
        };
        if let Some(view) = request.enrichers.get_mut(enricher) {
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
        let ready = request.after_enrichment();
        self.changed(&mut inner, id);
        ready
    }

    /// Applies an enricher's identifiers or decision. Refused once the enricher has
    /// answered (the message Sombra uses). Returns whether every enricher is done, so
    /// the silos may start.
    pub(crate) fn enrich(
        &self,
        id: &str,
        enricher: &str,
        body: EnrichIdentifiers,
    ) -> Result<bool, ServerError> {
        self.update(id, |request| {
            let view =
                request
                    .enrichers
                    .get_mut(enricher)
                    .ok_or_else(|| ServerError::NotFound {
                        what: format!(
                            "no enricher {} on this request",
                            enricher.chars().take(128).collect::<String>()
                        ),
                    })?;
            if !matches!(
                view.status,
                EnricherStatus::Delivering | EnricherStatus::Waiting
            ) {
                return Err(ServerError::BadRequest {
                    message: transcend_proto::endpoint::enrich_identifiers::RESOLVED_ENRICHER
                        .into(),
                });
            }
            view.status = match body.status {
                Some(EnrichmentStatus::OnHold) => EnricherStatus::OnHold,
                Some(EnrichmentStatus::Canceled) => EnricherStatus::Canceled,
                _ => EnricherStatus::Resolved,
            };
            for (kind, values) in body.enriched_identifiers.into_iter().flatten() {
                for value in values {
                    let identifier = RequestIdentifier::new(kind.clone(), value.value);
                    if !request.enriched.contains(&identifier) {
                        request.enriched.push(identifier);
                    }
                }
            }
            Ok(request.after_enrichment())
        })
    }

    /// Moves a request on to its silos: an `ENRICHING` one once every enricher
    /// answered (to `WAITING` when a waiting period applies, else `COMPILING`), a
    /// `WAITING` one whose period is over (to `COMPILING`), with jobs for `silos`.
    /// The record when it is `COMPILING` now, so its jobs start.
    pub(crate) fn proceed(&self, id: &str, silos: &[(String, Vec<String>)]) -> Option<DsrRecord> {
        let mut inner = self.lock();
        let request = inner.requests.get_mut(id)?;
        match request.record.status {
            RequestStatus::Enriching
                if request
                    .enrichers
                    .values()
                    .all(|e| e.status == EnricherStatus::Resolved) =>
            {
                request.begin(silos);
            }
            RequestStatus::Waiting if request.due.is_none() => request.compile(silos),
            _ => return None,
        }
        let record = request.record.clone();
        self.changed(&mut inner, id);
        (record.status == RequestStatus::Compiling).then_some(record)
    }

    /// Ends a request that is still open (canceled or revoked from the dashboard);
    /// 409 once it is finished.
    pub(crate) fn finish(&self, id: &str, status: RequestStatus) -> Result<(), ServerError> {
        self.update(id, |request| {
            request.still_open()?;
            request.enter(status);
            Ok(())
        })
    }

    /// Marks a silo's job skipped (from the dashboard); the request may finish.
    pub(crate) fn skip_job(&self, id: &str, silo: &str) -> Result<(), ServerError> {
        self.update(id, |request| {
            let job = request.job_mut(silo)?;
            job.view.status = JobStatus::Skipped;
            job.view.next_delivery_at = None;
            request.settle();
            Ok(())
        })
    }

    /// Puts a silo's job back to delivering, for a new round of webhook deliveries.
    pub(crate) fn redeliver_job(&self, id: &str, silo: &str) -> Result<(), ServerError> {
        self.update(id, |request| {
            request.still_open()?;
            let job = request.job_mut(silo)?;
            job.view.status = JobStatus::Delivering;
            job.view.next_delivery_at = None;
            job.round += 1;
            Ok(())
        })
    }

    /// Whether a delivery loop of round `round` should still deliver this job: the
    /// request is open, the job still undelivered, and no redelivery started a new round.
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

    /// Whether an enricher's webhook should still be delivered: the request is still
    /// `ENRICHING` and the enricher has not answered.
    pub(crate) fn enrichment_wanted(&self, id: &str, enricher: &str) -> bool {
        self.with_request(id, |request| {
            request.record.status == RequestStatus::Enriching
                && request.enrichers.get(enricher).is_some_and(|e| {
                    matches!(
                        e.status,
                        EnricherStatus::Delivering | EnricherStatus::DeliveryFailed
                    )
                })
        })
        .unwrap_or(false)
    }

    /// The round of a job's deliveries (see [`delivery_wanted`](Self::delivery_wanted)).
    pub(crate) fn delivery_round(&self, id: &str, silo: &str) -> u32 {
        self.with_request(id, |r| r.jobs.get(silo).map_or(0, |job| job.round))
            .unwrap_or(0)
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
    /// extra identifiers, in that order.
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

    /// Records a webhook delivery and what the silo answered.
    pub(crate) fn delivered(
        &self,
        id: &str,
        silo: &str,
        delivery: Delivery,
        status: Option<JobStatus>,
    ) {
        let mut inner = self.lock();
        let Some(request) = inner.requests.get_mut(id) else {
            return;
        };
        if let Some(job) = request.jobs.get_mut(silo) {
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
        request.settle();
        self.changed(&mut inner, id);
    }

    /// Applies a report to a silo's job: refused with 404 for an unknown request or
    /// job, 409 once the request is finished.
    pub(crate) fn report(
        &self,
        id: &str,
        silo: &str,
        apply: impl FnOnce(&mut JobState),
    ) -> Result<(), ServerError> {
        self.report_with(id, silo, apply, true)
    }

    fn report_with(
        &self,
        id: &str,
        silo: &str,
        apply: impl FnOnce(&mut JobState),
        save: bool,
    ) -> Result<(), ServerError> {
        let mut inner = self.lock();
        let request = inner
            .requests
            .get_mut(id)
            .ok_or_else(|| ServerError::NotFound {
                what: "no request for this nonce".into(),
            })?;
        if request.record.status.is_terminal() {
            return Err(ServerError::Conflict {
                message: format!(
                    "the request is already finished ({})",
                    request.record.status
                ),
            });
        }
        let job = request
            .jobs
            .get_mut(silo)
            .ok_or_else(|| ServerError::NotFound {
                what: "no job for this nonce".into(),
            })?;
        apply(job);
        request.settle();
        if save {
            self.changed(&mut inner, id);
        }
        Ok(())
    }

    /// Whether reports for this request are still taken (for checks before streaming).
    pub(crate) fn accepts_reports(&self, id: &str, silo: &str) -> Result<(), ServerError> {
        self.report_with(id, silo, |_| {}, false)
    }
}

impl RequestState {
    fn enter(&mut self, status: RequestStatus) {
        if self.record.status != status {
            self.due = None;
            tracing::info!(request = %self.record.id, from = %self.record.status, to = %status, "request status changed");
            self.record.status = status.clone();
            self.timeline.push(StatusChange {
                status,
                at: event_time(),
            });
        }
    }

    /// Finishes the request once every job is resolved or skipped.
    /// After an enricher answered: a hold or a cancellation moves the request; returns
    /// whether every enricher has resolved, so the silos may start.
    fn after_enrichment(&mut self) -> bool {
        if self.record.status != RequestStatus::Enriching {
            return false;
        }
        let statuses: Vec<EnricherStatus> = self.enrichers.values().map(|e| e.status).collect();
        if statuses.contains(&EnricherStatus::Canceled) {
            self.enter(RequestStatus::Canceled);
            return false;
        }
        if statuses.contains(&EnricherStatus::OnHold) {
            self.enter(RequestStatus::OnHold);
            return false;
        }
        statuses.iter().all(|s| *s == EnricherStatus::Resolved)
    }

    /// Schedules a timed step.
    fn schedule(&mut self, after: Duration, step: Step) {
        let at = Instant::now() + after;
        self.due = Some((at, step));
        self.scheduled = Some(at);
    }

    /// The silos' phase begins: `WAITING` first when a waiting period applies and the
    /// submission did not skip it, else `COMPILING` at once.
    fn begin(&mut self, silos: &[(String, Vec<String>)]) {
        let wait = self.lifecycle.waiting_period_ms;
        if wait > 0 && !self.skip_waiting_period {
            self.enter(RequestStatus::Waiting);
            self.schedule(Duration::from_millis(wait), Step::WaitingOver);
        } else {
            self.compile(silos);
        }
    }

    /// Takes a timed step that is due; `true` when the silos are to start now.
    fn take_step(&mut self, step: Step) -> bool {
        match (step, &self.record.status) {
            (Step::WaitingOver, RequestStatus::Waiting) => true,
            (Step::SecondaryOver, RequestStatus::Secondary) => {
                self.finish_secondary();
                false
            }
            (Step::DownloadWindowClosed, RequestStatus::Downloadable) => {
                self.enter(RequestStatus::Completed);
                false
            }
            _ => false,
        }
    }

    /// The silos are done (and the request approved, if it had to be).
    fn finish_primary(&mut self) {
        match self.record.action {
            RequestAction::Access => {
                self.enter(RequestStatus::Downloadable);
                self.schedule(
                    Duration::from_secs(self.lifecycle.download_window_secs),
                    Step::DownloadWindowClosed,
                );
            }
            RequestAction::Erasure if self.lifecycle.secondary_ms > 0 => {
                self.enter(RequestStatus::Secondary);
                self.schedule(
                    Duration::from_millis(self.lifecycle.secondary_ms),
                    Step::SecondaryOver,
                );
            }
            RequestAction::Erasure => self.finish_secondary(),
            _ => self.enter(RequestStatus::Completed),
        }
    }

    fn finish_secondary(&mut self) {
        if self.lifecycle.approval {
            self.enter(RequestStatus::SecondaryApproving);
        } else {
            self.enter(RequestStatus::SecondaryCompleted);
        }
    }

    /// `COMPILING`, with one job per silo; finished at once when no silo is in scope.
    fn compile(&mut self, silos: &[(String, Vec<String>)]) {
        self.enter(RequestStatus::Compiling);
        for (silo, expected) in silos {
            self.jobs.insert(JobState::new(silo, expected.clone()));
        }
        self.settle();
    }

    fn settle(&mut self) {
        if self.record.status != RequestStatus::Compiling {
            return;
        }
        if self.jobs.values().all(|job| job.view.status.is_settled()) {
            if self.lifecycle.approval {
                self.enter(RequestStatus::Approving);
            } else {
                self.finish_primary();
            }
        }
    }

    fn view(&self) -> RequestView {
        RequestView {
            id: self.record.id.clone(),
            status: self.record.status.clone(),
            action: self.record.action.clone(),
            subject_type: self.record.subject_type.clone(),
            core_identifier: self.record.core_identifier.clone(),
            email: self.record.email.clone(),
            created_at: self.created_at.clone(),
            timeline: self.timeline.clone(),
            jobs: self.jobs.values().map(|job| job.view.clone()).collect(),
            restarts: self.restarts,
            enrichers: self.enrichers.values().cloned().collect(),
            enriched_identifiers: self.enriched.clone(),
        }
    }
}

impl JobState {
    fn new(silo: &str, expected: Vec<String>) -> Self {
        Self {
            view: JobView {
                data_silo_id: silo.to_owned(),
                status: JobStatus::Delivering,
                message: None,
                poll_id: None,
                retry_after_date: None,
                deliveries: Vec::new(),
                profiles: Vec::new(),
                datapoints: Vec::new(),
                pages: Vec::new(),
                files: Vec::new(),
                reports: Vec::new(),
                next_delivery_at: None,
            },
            reported: BTreeSet::new(),
            expected,
            round: 0,
        }
    }

    fn datapoint_reported(&mut self, name: &str) {
        if self.reported.insert(name.to_owned()) {
            self.view.datapoints.push(name.to_owned());
        }
        if !self.expected.is_empty() && self.expected.iter().all(|e| self.reported.contains(e)) {
            self.resolve(JobStatus::Resolved);
        }
    }

    fn resolve(&mut self, status: JobStatus) {
        self.view.status = status;
    }

    /// `POST /v1/data-silo`: merges profiles; `READY`, or every expected datapoint
    /// reported, resolves the job.
    pub(crate) fn upload_access(&mut self, upload: AccessUpload) {
        for profile in upload.profiles.unwrap_or_default() {
            let keys: Vec<String> = profile.profile_data.keys().cloned().collect();
            match self
                .view
                .profiles
                .iter_mut()
                .find(|p| p.profile_id == profile.profile_id)
            {
                Some(existing) => existing.profile_data.extend(profile.profile_data),
                None => self.view.profiles.push(profile),
            }
            for key in keys {
                self.datapoint_reported(&key);
            }
        }
        if upload.status.is_some() {
            self.resolve(JobStatus::Resolved);
        }
    }

    /// `POST /v1/datapoint-chunked`: the last page completes the datapoint. `on_disk`:
    /// where a large page's records were written, and their size.
    pub(crate) fn upload_datapoint_chunked(
        &mut self,
        chunk: DatapointChunk,
        on_disk: Option<(std::path::PathBuf, u64)>,
    ) {
        let (name, last) = (chunk.datapoint_name.clone(), chunk.is_last_page);
        let (path, size) = on_disk.map_or((None, None), |(path, size)| {
            (Some(path.display().to_string()), Some(size))
        });
        self.view.pages.push(PageView {
            datapoint: chunk.datapoint_name,
            file_id: chunk.file_id,
            data: chunk.data,
            is_last_page: chunk.is_last_page,
            path,
            size,
        });
        if last {
            self.datapoint_reported(&name);
        }
    }

    /// `POST /v1/datapoint`: a stored file; it completes its datapoint unless more
    /// files follow (`x-transcend-skip-status-update`).
    pub(crate) fn upload_datapoint(&mut self, file: FileView, skip_status_update: bool) {
        let name = file.datapoint.clone();
        self.view.files.push(file);
        if !skip_status_update {
            self.datapoint_reported(&name);
        }
    }

    /// `PUT /v1/data-silo`: `status` decides when given, else `profileStatus`; `{}`
    /// means done.
    pub(crate) fn report_erasure(&mut self, report: ErasureReport) {
        let next = match (&report.status, &report.profile_status) {
            (Some(status), _) => match status {
                IntegrationStatus::Ready | IntegrationStatus::Resolved => JobStatus::Resolved,
                IntegrationStatus::Skipped | IntegrationStatus::SkippedDueToException => {
                    JobStatus::Skipped
                }
                IntegrationStatus::ActionRequired => JobStatus::ActionRequired,
                _ => JobStatus::Waiting,
            },
            (None, Some(profile)) => match profile {
                ProfileStatus::Resolved => JobStatus::Resolved,
                ProfileStatus::Skipped | ProfileStatus::SkippedDueToException => JobStatus::Skipped,
                ProfileStatus::Error => JobStatus::Error,
                _ => JobStatus::Waiting,
            },
            (None, None) => JobStatus::Resolved,
        };
        if report.message.is_some() {
            self.view.message = report.message.clone();
        }
        if report.poll_id.is_some() {
            self.view.poll_id = report.poll_id.clone();
        }
        if report.retry_after_date.is_some() {
            self.view.retry_after_date = report.retry_after_date.clone();
        }
        self.view.reports.push(report);
        self.resolve(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use transcend_proto::types::Subject;

    fn submission(action: RequestAction) -> SubmitDsr {
        SubmitDsr::new(action, Subject::new("id-1"), "customer")
    }

    fn silo(expected: &[&str]) -> Vec<(String, Vec<String>)> {
        vec![(
            "silo".into(),
            expected.iter().map(|s| s.to_string()).collect(),
        )]
    }

    #[test]
    fn a_second_open_request_for_the_same_person_and_type_is_a_duplicate() {
        let store = Store::default();
        store
            .create(submission(RequestAction::Access), &silo(&[]))
            .unwrap();
        let error = store
            .create(submission(RequestAction::Access), &silo(&[]))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "Client error: You have already made this request."
        );
        store
            .create(submission(RequestAction::Erasure), &silo(&[]))
            .unwrap();
    }

    #[test]
    fn a_downloadable_report_is_still_open_for_the_duplicate_check() {
        let store = Store::default();
        let record = store
            .create(submission(RequestAction::Access), &[])
            .unwrap();
        assert_eq!(record.status, RequestStatus::Downloadable);
        let error = store
            .create(submission(RequestAction::Access), &[])
            .unwrap_err();
        assert!(error.to_string().contains("already made"), "{error}");
        // Once its download window closed, the person may ask again.
        let due = store.next_due().unwrap();
        assert!(store.advance(due).is_empty());
        assert_eq!(
            store.status(&record.id).unwrap().status,
            RequestStatus::Completed
        );
        store
            .create(submission(RequestAction::Access), &[])
            .unwrap();
    }

    #[test]
    fn pending_jobs_come_a_page_at_a_time_oldest_first_with_their_attributes() {
        let store = Store::default();
        let mut ids = Vec::new();
        for i in 0..5 {
            let mut dsr = SubmitDsr::new(
                RequestAction::Access,
                Subject::new(format!("person-{i}")),
                "customer",
            );
            dsr.attributes = Some(vec![transcend_proto::types::Attribute::new(
                "tier",
                [format!("t{i}")],
            )]);
            ids.push(store.create(dsr, &silo(&["name"])).unwrap().id);
        }
        store
            .create(submission(RequestAction::Erasure), &silo(&["name"]))
            .unwrap();
        let page = store.pending("silo", &RequestAction::Access, 1, 2);
        let got: Vec<_> = page.iter().map(|j| j.request_id.as_str()).collect();
        assert_eq!(got, [ids[1].as_str(), ids[2].as_str()]);
        assert_eq!(page[0].attributes, [("tier".into(), vec!["t1".into()])]);
        assert_eq!(page[1].core_identifier, "person-2");
        assert!(
            store
                .pending("silo", &RequestAction::Access, 5, 10)
                .is_empty()
        );
        assert_eq!(
            store.pending("silo", &RequestAction::Erasure, 0, 10).len(),
            1
        );
        assert!(
            store
                .pending("other", &RequestAction::Access, 0, 10)
                .is_empty()
        );
    }

    #[test]
    fn no_silo_in_scope_finishes_at_once() {
        let store = Store::default();
        let record = store
            .create(submission(RequestAction::Erasure), &[])
            .unwrap();
        assert_eq!(record.status, RequestStatus::SecondaryCompleted);
        let view = store.view(&record.id).unwrap();
        let statuses: Vec<_> = view.timeline.iter().map(|c| c.status.clone()).collect();
        assert_eq!(
            statuses,
            [
                RequestStatus::RequestMade,
                RequestStatus::Compiling,
                RequestStatus::SecondaryCompleted
            ]
        );
    }

    #[test]
    fn every_expected_datapoint_resolves_the_job() {
        let store = Store::default();
        let id = store
            .create(submission(RequestAction::Access), &silo(&["name", "photo"]))
            .unwrap()
            .id;
        store.delivered(&id, "silo", delivery(), Some(JobStatus::Waiting));
        store
            .report(&id, "silo", |job| {
                job.upload_access(AccessUpload::partial(vec![
                    transcend_proto::types::AccessProfile::new("p")
                        .datapoint("name", serde_json::json!("A")),
                ]))
            })
            .unwrap();
        assert_eq!(store.status(&id).unwrap().status, RequestStatus::Compiling);
        let file = FileView {
            datapoint: "photo".into(),
            remote_id: None,
            profile_id: None,
            size: 1,
            sha256: "00".into(),
            path: "x".into(),
        };
        store
            .report(&id, "silo", |job| job.upload_datapoint(file.clone(), true))
            .unwrap();
        assert_eq!(
            store.status(&id).unwrap().status,
            RequestStatus::Compiling,
            "more files follow"
        );
        store
            .report(&id, "silo", |job| job.upload_datapoint(file, false))
            .unwrap();
        assert_eq!(
            store.status(&id).unwrap().status,
            RequestStatus::Downloadable
        );
        let error = store.report(&id, "silo", |_| {}).unwrap_err();
        assert_eq!(error.status().as_u16(), 409);
    }

    #[test]
    fn erasure_outcomes_follow_the_reference_page() {
        let cases = [
            (ErasureReport::erased(), JobStatus::Resolved),
            (ErasureReport::not_found(), JobStatus::Skipped),
            (
                ErasureReport::with_status(
                    Some(IntegrationStatus::Waiting),
                    Some(ProfileStatus::Skipped),
                ),
                JobStatus::Waiting,
            ),
            (ErasureReport::error("boom"), JobStatus::Error),
            (
                ErasureReport::polling("job-1", "polling"),
                JobStatus::Waiting,
            ),
            (
                ErasureReport::with_status(Some(IntegrationStatus::ActionRequired), None),
                JobStatus::ActionRequired,
            ),
        ];
        for (report, expected) in cases {
            let mut job = JobState::new("silo", Vec::new());
            job.report_erasure(report.clone());
            assert_eq!(job.view.status, expected, "{report:?}");
        }
    }

    #[test]
    fn a_completed_status_creates_the_request_finished() {
        let store = Store::default();
        let mut backlog = submission(RequestAction::Access);
        backlog.completed_request_status =
            Some(transcend_proto::types::CompletedRequestStatus::Completed);
        let record = store.create(backlog, &silo(&[])).unwrap();
        assert_eq!(record.status, RequestStatus::Completed);
        assert!(store.view(&record.id).unwrap().jobs.is_empty());
    }

    fn delivery() -> Delivery {
        Delivery {
            attempt: 1,
            at: now(),
            status: Some(200),
            outcome: "accepted".into(),
        }
    }
}
