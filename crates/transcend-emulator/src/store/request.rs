//! A request as the store keeps it: its record, its submission, its silos' jobs and
//! its enrichers, and how a silo's report changes a job.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use transcend_proto::types::{
    AccessUpload, DatapointChunk, DsrRecord, ErasureReport, IdentifierType, IntegrationStatus,
    ProfileStatus, RequestIdentifier, RequestStatus, SubmitDsr, Timestamp,
};

use super::LINK_PREFIX;
use super::admin::AdminFields;
use super::lifecycle::{Held, Now, Step};
use crate::config::LifecycleConfig;
use crate::view::{
    EnricherView, FileView, JobStatus, JobView, PageView, RequestView, StatusChange,
};

/// The id of a silo's or an enricher's part of a request in the admin API:
/// `<request id>~<silo or enricher id>`.
pub(crate) fn part_id(request_id: &str, part: &str) -> String {
    format!("{request_id}~{part}")
}

/// The request and the silo or enricher of a part id.
pub(crate) fn parse_part_id(id: &str) -> Option<(&str, &str)> {
    id.split_once('~')
}

/// A request and everything that happened to it. Its lifecycle's transitions are in
/// [`lifecycle`](super::lifecycle); the changes the admin API makes besides them in
/// [`admin`](super::admin).
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct RequestState {
    /// Its place in creation order.
    #[serde(default)]
    pub(super) seq: u64,
    pub record: DsrRecord,
    /// The submission, as compact JSON: read back when a webhook or a listing needs
    /// it, which is seldom next to what it would cost to keep as a struct.
    pub(super) submission: Kept,
    /// Whether the submission skipped the waiting period.
    #[serde(default)]
    pub(super) skip_waiting_period: bool,
    pub created_at: Timestamp,
    pub(super) timeline: Vec<StatusChange>,
    pub(super) jobs: Jobs,
    pub(super) restarts: u32,
    pub(super) enrichers: BTreeMap<String, EnricherView>,
    pub(super) enriched: Vec<RequestIdentifier>,
    pub(super) lifecycle: LifecycleConfig,
    /// The timed step pending, and when (saved as a wall-clock time).
    #[serde(with = "due_time")]
    pub(super) due: Option<(Instant, Step)>,
    /// Where it was when it was put on hold.
    #[serde(default)]
    pub(super) held: Option<Held>,
    /// The delivery round the next webhook loop takes: each job and each enricher
    /// call gets a round of its own, and a loop stops once its round is not the
    /// current one (a retry or a restart started another).
    #[serde(default)]
    pub(super) next_round: u32,
    /// What the admin API shows and changes besides the lifecycle.
    #[serde(default)]
    pub(super) admin: AdminFields,
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
pub(super) struct Kept(Arc<serde_json::value::RawValue>);

impl Kept {
    pub(super) fn new(submission: &SubmitDsr) -> Self {
        Self(Arc::from(
            serde_json::value::to_raw_value(submission).unwrap_or_else(|_| {
                serde_json::value::RawValue::from_string("{}".into())
                    .unwrap_or_else(|_| unreachable!("{{}} is JSON"))
            }),
        ))
    }

    /// The submission, read back. What this store wrote reads back; should it not,
    /// the request's own record stands in for it.
    pub(super) fn read(&self, record: &DsrRecord) -> SubmitDsr {
        serde_json::from_str(self.0.get()).unwrap_or_else(|error| {
            tracing::error!(request = %record.id, %error, "a kept submission does not read back");
            SubmitDsr::new(
                record.action.clone(),
                transcend_proto::types::Subject::new(record.core_identifier.clone()),
                record.subject_type.clone(),
            )
        })
    }

    /// Only the submission's locale and attributes, read in one pass.
    pub(super) fn locale_and_attributes(&self) -> (Option<String>, Vec<(String, Vec<String>)>) {
        #[derive(serde::Deserialize)]
        struct Parts {
            #[serde(default)]
            locale: Option<String>,
            #[serde(default)]
            attributes: Option<Vec<transcend_proto::types::Attribute>>,
        }
        match serde_json::from_str::<Parts>(self.0.get()) {
            Ok(parts) => (
                parts.locale,
                parts
                    .attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| (a.key, a.values))
                    .collect(),
            ),
            Err(_) => (None, Vec::new()),
        }
    }

    /// Only the submission's attributes (what a cron silo's pending list carries).
    pub(super) fn attributes(&self) -> Vec<(String, Vec<String>)> {
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
    pub(super) enriched: Vec<RequestIdentifier>,
    pub(super) submission: Kept,
    /// The identifiers removed through the admin API.
    pub(super) removed: BTreeSet<String>,
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
        if !self.removed.is_empty() {
            all.retain(|i| i.id.as_ref().is_none_or(|id| !self.removed.contains(id)));
        }
        all
    }
}

impl RequestState {
    /// A new request, `REQUEST_MADE`: its lifecycle starts with
    /// [`Event::Submitted`](super::lifecycle::Event::Submitted).
    pub(super) fn new(
        seq: u64,
        record: DsrRecord,
        submission: &SubmitDsr,
        created_at: Timestamp,
        now: &Now,
        lifecycle: LifecycleConfig,
    ) -> Self {
        Self {
            seq,
            record,
            skip_waiting_period: submission.skip_waiting_period == Some(true),
            created_at,
            timeline: {
                // Room for the usual few steps, not the default four.
                let mut timeline = Vec::with_capacity(3);
                timeline.push(StatusChange::new(
                    RequestStatus::RequestMade,
                    now.wall.clone(),
                ));
                timeline
            },
            jobs: Jobs::default(),
            submission: Kept::new(submission),
            restarts: 0,
            enrichers: BTreeMap::new(),
            enriched: Vec::new(),
            lifecycle,
            due: None,
            held: None,
            next_round: 0,
            admin: AdminFields::default(),
        }
    }

    /// The record as the API answers it, with its dashboard link (made here rather
    /// than kept: it is the same prefix for every request).
    pub(super) fn public_record(&self) -> DsrRecord {
        let mut record = self.record.clone();
        record.link = Some(format!("{LINK_PREFIX}{}", record.id));
        record
    }

    /// The submission, read back (under the lock: for changes to it; readers use
    /// [`Store::detached`](super::Store::detached)).
    pub(super) fn submission(&self) -> SubmitDsr {
        self.submission.read(&self.record)
    }

    pub(super) fn detached(&self) -> Detached {
        Detached {
            record: self.record.clone(),
            created_at: self.created_at.clone(),
            enriched: self.enriched.clone(),
            submission: self.submission.clone(),
            removed: self.admin.removed_identifiers.clone(),
        }
    }

    /// The round the next delivery loop takes.
    pub(super) fn take_round(&mut self) -> u32 {
        let round = self.next_round;
        self.next_round += 1;
        round
    }

    pub(super) fn view(&self) -> RequestView {
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

/// A request's jobs, one per silo, in the order of the silos' ids. Few per request,
/// so a list found by silo id and grown one at a time: a map node, or a list growing
/// by doubling, would reserve room for several jobs where one is usual.
#[derive(Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub(super) struct Jobs(Vec<JobState>);

impl Jobs {
    pub(super) fn get(&self, silo: &str) -> Option<&JobState> {
        self.0.iter().find(|job| job.view.data_silo_id == silo)
    }

    pub(super) fn get_mut(&mut self, silo: &str) -> Option<&mut JobState> {
        self.0.iter_mut().find(|job| job.view.data_silo_id == silo)
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &JobState> {
        self.0.iter()
    }

    /// Adds a job, or replaces the silo's job.
    pub(super) fn insert(&mut self, job: JobState) {
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

    pub(super) fn clear(&mut self) {
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
    pub(super) view: JobView,
    reported: BTreeSet<String>,
    expected: Vec<String>,
    /// The delivery round of its webhook loop (see [`RequestState::next_round`]).
    #[serde(default)]
    pub(super) round: u32,
}

impl JobState {
    pub(super) fn new(request_id: &str, silo: &str, expected: Vec<String>, round: u32) -> Self {
        Self {
            view: JobView {
                id: part_id(request_id, silo),
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
            round,
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
