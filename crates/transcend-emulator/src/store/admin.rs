//! What the admin API reads and changes besides a request's lifecycle: listing and
//! filtering requests by cursor, the fields a privacy team edits (silent, test,
//! details, the deadline), each silo's and enricher's part, identifiers.

use std::collections::{BTreeSet, HashSet};
use std::ops::Bound;

use serde::{Deserialize, Serialize};
use transcend_proto::types::time::{Duration as Span, OffsetDateTime};
use transcend_proto::types::{RequestAction, RequestIdentifier, RequestStatus, Timestamp};

use super::request::{Kept, parse_part_id};
use super::{RequestState, Store, clock, not_found};
use crate::view::{EnricherStatus, JobStatus, StatusChange};

/// The admin API's fields of a request that its lifecycle does not move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct AdminFields {
    /// How it was made: `API` for every REST submission.
    pub origin: String,
    /// Free-text details a person added.
    pub details: Option<String>,
    /// Days added to the deadline by `notifyAdditionalTime`.
    pub extra_days: i64,
    /// Identifiers removed (their ids).
    pub removed_identifiers: BTreeSet<String>,
    /// When anything about it last changed.
    pub updated_at: Option<Timestamp>,
}

impl Default for AdminFields {
    fn default() -> Self {
        Self {
            origin: "API".into(),
            details: None,
            extra_days: 0,
            removed_identifiers: BTreeSet::new(),
            updated_at: None,
        }
    }
}

/// A request as the admin API shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AdminRecord {
    pub id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub status: RequestStatus,
    pub action: RequestAction,
    pub subject_type: String,
    pub locale: String,
    pub details: Option<String>,
    pub email: Option<String>,
    pub core_identifier: String,
    pub country: Option<String>,
    pub country_sub_division: Option<String>,
    pub successfully_completed_at: Option<Timestamp>,
    pub days_remaining: Option<i32>,
    pub is_test: bool,
    pub is_silent: bool,
    pub origin: String,
    pub link: String,
    pub attributes: Vec<(String, Vec<String>)>,
}

/// What a listing copies under the lock; the submission is read after.
struct Taken {
    record: AdminRecord,
    submission: Kept,
}

impl RequestState {
    fn take(&self, now: OffsetDateTime) -> Taken {
        let record = &self.record;
        let successfully_completed_at = self
            .timeline
            .iter()
            .rev()
            .find(|change| {
                change.note.is_none()
                    && matches!(
                        change.status,
                        RequestStatus::Completed
                            | RequestStatus::Downloadable
                            | RequestStatus::SecondaryCompleted
                    )
            })
            .map(|change| change.at.clone());
        Taken {
            record: AdminRecord {
                id: record.id.clone(),
                created_at: self.created_at.clone(),
                updated_at: self
                    .admin
                    .updated_at
                    .clone()
                    .unwrap_or_else(|| self.created_at.clone()),
                status: record.status.clone(),
                action: record.action.clone(),
                subject_type: record.subject_type.clone(),
                locale: String::new(),
                details: self.admin.details.clone(),
                email: record.email.clone(),
                core_identifier: record.core_identifier.clone(),
                country: record.country.as_ref().map(|c| c.as_str().to_owned()),
                country_sub_division: record
                    .country_sub_division
                    .as_ref()
                    .map(|s| s.as_str().to_owned()),
                successfully_completed_at,
                days_remaining: self.days_remaining(now),
                is_test: record.is_test.unwrap_or(false),
                is_silent: record.is_silent.unwrap_or(false),
                origin: self.admin.origin.clone(),
                link: format!("{}{}", super::LINK_PREFIX, record.id),
                attributes: Vec::new(),
            },
            submission: self.submission.clone(),
        }
    }

    /// Whole days left before the deadline (`createdAt` + the configured days + the
    /// days added), rounded up; `None` once the request is finished.
    fn days_remaining(&self, now: OffsetDateTime) -> Option<i32> {
        if self.record.status.is_terminal() {
            return None;
        }
        let created = self.created_at.to_datetime().ok()?;
        let days = i64::from(self.lifecycle.deadline_days) + self.admin.extra_days;
        let deadline = created + Span::days(days);
        let left = (deadline - now).whole_seconds();
        Some(left.div_euclid(86_400) as i32 + i32::from(left.rem_euclid(86_400) != 0))
    }

    /// A change that is not a status change, on the timeline.
    fn note(&mut self, note: String, at: Timestamp) {
        let mut change = StatusChange::new(self.record.status.clone(), at);
        change.note = Some(note);
        self.timeline.push(change);
    }
}

impl Taken {
    fn read(self) -> AdminRecord {
        let mut record = self.record;
        let (locale, attributes) = self.submission.locale_and_attributes();
        record.locale = locale.unwrap_or_else(|| "en".into());
        record.attributes = attributes;
        record
    }
}

/// Which requests a listing wants (`RequestFiltersInput`, as far as the emulator
/// knows its fields); times normalised to the store's own format.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestQuery {
    pub statuses: Option<Vec<RequestStatus>>,
    pub actions: Option<Vec<RequestAction>>,
    pub origins: Option<Vec<String>>,
    pub ids: Option<HashSet<String>>,
    pub is_silent: Option<bool>,
    pub is_test: Option<bool>,
    pub is_closed: Option<bool>,
    pub created_after: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
    pub updated_after: Option<Timestamp>,
    pub updated_before: Option<Timestamp>,
    pub identifier_value: Option<String>,
    pub core_identifiers: Option<Vec<String>>,
    pub emails: Option<Vec<String>>,
    pub text: Option<String>,
}

impl RequestQuery {
    /// Whether it lets every request through.
    fn is_empty(&self) -> bool {
        self.statuses.is_none()
            && self.actions.is_none()
            && self.origins.is_none()
            && self.ids.is_none()
            && self.is_silent.is_none()
            && self.is_test.is_none()
            && self.is_closed.is_none()
            && self.created_after.is_none()
            && self.created_before.is_none()
            && self.updated_after.is_none()
            && self.updated_before.is_none()
            && self.identifier_value.is_none()
            && self.core_identifiers.is_none()
            && self.emails.is_none()
            && self.text.is_none()
    }

    fn matches(&self, request: &RequestState) -> bool {
        let record = &request.record;
        self.statuses
            .as_ref()
            .is_none_or(|s| s.contains(&record.status))
            && self
                .actions
                .as_ref()
                .is_none_or(|a| a.contains(&record.action))
            && self
                .origins
                .as_ref()
                .is_none_or(|o| o.contains(&request.admin.origin))
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&record.id))
            && self
                .is_silent
                .is_none_or(|silent| record.is_silent.unwrap_or(false) == silent)
            && self
                .is_test
                .is_none_or(|test| record.is_test.unwrap_or(false) == test)
            && self
                .is_closed
                .is_none_or(|closed| record.status.is_terminal() == closed)
            && self
                .created_after
                .as_ref()
                .is_none_or(|after| request.created_at >= *after)
            && self
                .created_before
                .as_ref()
                .is_none_or(|before| request.created_at < *before)
            && self.updated_within(request)
            && self
                .core_identifiers
                .as_ref()
                .is_none_or(|c| c.contains(&record.core_identifier))
            && self
                .emails
                .as_ref()
                .is_none_or(|e| record.email.as_ref().is_some_and(|email| e.contains(email)))
            && self.identifier_matches(request)
    }

    fn updated_within(&self, request: &RequestState) -> bool {
        if self.updated_after.is_none() && self.updated_before.is_none() {
            return true;
        }
        let updated = request
            .admin
            .updated_at
            .as_ref()
            .unwrap_or(&request.created_at);
        self.updated_after.as_ref().is_none_or(|a| updated >= a)
            && self.updated_before.as_ref().is_none_or(|b| updated < b)
    }

    /// `identifierValue` is an identifier's exact value; `text` a part of the core
    /// identifier, the e-mail or the id.
    fn identifier_matches(&self, request: &RequestState) -> bool {
        let record = &request.record;
        let exact = self.identifier_value.as_ref().is_none_or(|value| {
            record.core_identifier == *value
                || record.email.as_ref() == Some(value)
                || request.enriched.iter().any(|i| i.value == *value)
                || request
                    .detached()
                    .identifiers()
                    .iter()
                    .any(|i| i.value == *value)
        });
        let text = self.text.as_ref().is_none_or(|text| {
            record.core_identifier.contains(text.as_str())
                || record.id.contains(text.as_str())
                || record
                    .email
                    .as_ref()
                    .is_some_and(|e| e.contains(text.as_str()))
        });
        exact && text
    }
}

/// The key of a request in the admin API's order, which a cursor names.
pub(crate) type CursorKey = (Timestamp, String);

/// A page of requests in `createdAt`, `id` order, and whether more follow.
#[derive(Debug, Clone)]
pub(crate) struct RequestsPage {
    pub records: Vec<AdminRecord>,
    pub has_next: bool,
    pub last: Option<CursorKey>,
}

/// A silo's part of a request, as the admin API lists it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SiloPart {
    pub id: String,
    pub request_id: String,
    pub action: RequestAction,
    pub request_status: RequestStatus,
    pub data_silo_id: String,
    pub status: JobStatus,
    /// The last failure: the error the silo reported, else the outcome of its last
    /// delivery that was not accepted.
    pub error: Option<String>,
    /// How many webhooks were delivered for it.
    pub deliveries: usize,
}

impl SiloPart {
    /// What Transcend's dashboard says of the part, for a silo called `title`.
    pub(crate) fn details(&self, title: &str) -> String {
        match self.status {
            JobStatus::Resolved => format!("{title} has completed its part of the request."),
            JobStatus::Skipped => format!("{title} was skipped for this request."),
            JobStatus::Error => format!(
                "{title} reported an error: {}",
                self.error.as_deref().unwrap_or("no message")
            ),
            JobStatus::ActionRequired => format!("{title} needs a person to act."),
            JobStatus::DeliveryFailed => format!(
                "Every webhook delivery to {title} failed ({} attempts).",
                self.deliveries
            ),
            _ if self.deliveries == 0 => format!("Waiting to notify {title}."),
            _ => format!(
                "Waiting for {title} to respond ({} webhook deliveries so far).",
                self.deliveries
            ),
        }
    }
}

/// An enricher's part of a request, as the admin API lists it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EnricherPart {
    pub id: String,
    pub enricher_id: String,
    pub status: EnricherStatus,
}

/// One identifier of a request, with whether it was ever verified: what the
/// submitting system attested (core identifier, e-mail, attested extras) was; what an
/// enricher added was not.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IdentifierPart {
    pub identifier: RequestIdentifier,
    pub verified: bool,
}

fn wall_now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

impl Store {
    /// A request as the admin API shows it.
    pub(crate) fn admin_record(&self, id: &str) -> Option<AdminRecord> {
        let now = wall_now();
        let taken = self.lock().requests.get(id).map(|r| r.take(now));
        taken.map(Taken::read)
    }

    /// Up to `first` requests matching `query` after the cursor `after` (or after
    /// skipping `offset` matches), in `createdAt`, `id` order (reversed when
    /// `descending`). Only the requests from the cursor on are looked at.
    pub(crate) fn admin_page(
        &self,
        query: &RequestQuery,
        after: Option<&CursorKey>,
        offset: usize,
        first: usize,
        descending: bool,
    ) -> RequestsPage {
        let now = wall_now();
        let (taken, has_next, last) = {
            let inner = self.lock();
            let range = match (after, descending) {
                (Some(key), false) => (Bound::Excluded(key.clone()), Bound::Unbounded),
                (Some(key), true) => (Bound::Unbounded, Bound::Excluded(key.clone())),
                (None, _) => (Bound::Unbounded, Bound::Unbounded),
            };
            let keys = inner.by_created.range(range);
            let keys: Box<dyn Iterator<Item = &CursorKey>> = if descending {
                Box::new(keys.rev())
            } else {
                Box::new(keys)
            };
            let mut matching = keys
                .filter_map(|key| Some((key, inner.requests.get(&key.1)?)))
                .filter(|(_, request)| query.matches(request))
                .skip(offset);
            let mut taken = Vec::with_capacity(first.min(100));
            let mut last = None;
            for (key, request) in matching.by_ref().take(first) {
                taken.push(request.take(now));
                last = Some(key.clone());
            }
            let has_next = matching.next().is_some();
            (taken, has_next, last)
        };
        RequestsPage {
            records: taken.into_iter().map(Taken::read).collect(),
            has_next,
            last,
        }
    }

    /// How many requests match `query` (every request is looked at, unless the
    /// query is empty).
    pub(crate) fn admin_count(&self, query: &RequestQuery) -> usize {
        let inner = self.lock();
        if query.is_empty() {
            return inner.requests.len();
        }
        inner
            .requests
            .values()
            .filter(|request| query.matches(request))
            .count()
    }

    /// Changes a request's own fields (`updateRequest`); each change is noted on its
    /// timeline.
    pub(crate) fn update_fields(
        &self,
        id: &str,
        is_silent: Option<bool>,
        is_test: Option<bool>,
        details: Option<String>,
    ) -> Result<(), transcend_proto::server::ServerError> {
        let now = clock();
        let mut inner = self.lock();
        let request = inner.requests.get_mut(id).ok_or_else(|| not_found(id))?;
        if let Some(silent) = is_silent
            && request.record.is_silent != Some(silent)
        {
            request.record.is_silent = Some(silent);
            let note = if silent {
                "marked silent"
            } else {
                "no longer silent"
            };
            request.note(note.into(), now.wall.clone());
        }
        if let Some(test) = is_test
            && request.record.is_test != Some(test)
        {
            request.record.is_test = Some(test);
            let note = if test {
                "marked as a test"
            } else {
                "no longer a test"
            };
            request.note(note.into(), now.wall.clone());
        }
        if let Some(details) = details {
            request.admin.details = Some(details);
            request.note("details changed".into(), now.wall.clone());
        }
        request.admin.updated_at = Some(now.wall);
        self.changed(&mut inner, id);
        Ok(())
    }

    /// Pushes a request's deadline back by `days` (`notifyAdditionalTime`); refused
    /// once the request is finished.
    pub(crate) fn extend_deadline(
        &self,
        id: &str,
        days: i64,
    ) -> Result<(), transcend_proto::server::ServerError> {
        let now = clock();
        let mut inner = self.lock();
        let request = inner.requests.get_mut(id).ok_or_else(|| not_found(id))?;
        if request.record.status.is_terminal() {
            return Err(transcend_proto::server::ServerError::Conflict {
                message: format!("the request is {} already", request.record.status),
            });
        }
        request.admin.extra_days += days;
        request.note(
            format!("deadline extended by {days} days; the person was told"),
            now.wall.clone(),
        );
        request.admin.updated_at = Some(now.wall);
        self.changed(&mut inner, id);
        Ok(())
    }

    /// Notes a change on a request's timeline (a silo's part set by hand, say).
    pub(crate) fn note(&self, id: &str, note: String) {
        let now = clock();
        let mut inner = self.lock();
        if let Some(request) = inner.requests.get_mut(id) {
            request.note(note, now.wall);
            self.changed(&mut inner, id);
        }
    }

    /// The silos' parts matching the filter, a page of them, and how many match.
    pub(crate) fn silo_parts(
        &self,
        request_id: Option<&str>,
        data_silo_id: Option<&str>,
        statuses: Option<&[JobStatus]>,
        request_statuses: Option<&[RequestStatus]>,
        offset: usize,
        first: usize,
    ) -> (Vec<SiloPart>, usize) {
        let inner = self.lock();
        let requests: Box<dyn Iterator<Item = &RequestState>> = match request_id {
            Some(id) => Box::new(inner.requests.get(id).map(|r| &**r).into_iter()),
            None => Box::new(
                inner
                    .order
                    .iter()
                    .filter_map(|id| inner.requests.get(id))
                    .map(|r| &**r),
            ),
        };
        let matching = requests
            .filter(|r| request_statuses.is_none_or(|s| s.contains(&r.record.status)))
            .flat_map(|r| r.jobs.values().map(move |job| (r, job)))
            .filter(|(_, job)| data_silo_id.is_none_or(|silo| job.view.data_silo_id == silo))
            .filter(|(_, job)| statuses.is_none_or(|s| s.contains(&job.view.status)));
        let mut total = 0;
        let mut page = Vec::new();
        for (request, job) in matching {
            if total >= offset && page.len() < first {
                page.push(SiloPart {
                    id: job.view.id.clone(),
                    request_id: request.record.id.clone(),
                    action: request.record.action.clone(),
                    request_status: request.record.status.clone(),
                    data_silo_id: job.view.data_silo_id.clone(),
                    status: job.view.status,
                    error: last_failure(&job.view),
                    deliveries: job.view.deliveries.len(),
                });
            }
            total += 1;
        }
        (page, total)
    }

    /// One silo's part, by its id.
    pub(crate) fn silo_part(&self, part_id: &str) -> Option<SiloPart> {
        let (request_id, silo) = parse_part_id(part_id)?;
        let (parts, _) = self.silo_parts(Some(request_id), Some(silo), None, None, 0, 1);
        parts.into_iter().next()
    }

    /// A request's enrichers' parts.
    pub(crate) fn enricher_parts(&self, request_id: &str) -> Option<Vec<EnricherPart>> {
        let inner = self.lock();
        let request = inner.requests.get(request_id)?;
        Some(
            request
                .enrichers
                .values()
                .map(|view| EnricherPart {
                    id: view.id.clone(),
                    enricher_id: view.enricher_id.clone(),
                    status: view.status,
                })
                .collect(),
        )
    }

    /// One enricher's part, by its id.
    pub(crate) fn enricher_part(&self, part_id: &str) -> Option<EnricherPart> {
        let (request_id, enricher) = parse_part_id(part_id)?;
        self.enricher_parts(request_id)?
            .into_iter()
            .find(|part| part.enricher_id == enricher)
    }

    /// A request's identifiers, with whether each was ever verified.
    pub(crate) fn identifier_parts(&self, request_id: &str) -> Option<Vec<IdentifierPart>> {
        let detached = self.detached(request_id)?;
        let enriched = detached.enriched.clone();
        Some(
            detached
                .identifiers()
                .into_iter()
                .map(|identifier| {
                    let from_enricher = enriched.iter().any(|e| {
                        e.value == identifier.value
                            && e.identifier_type == identifier.identifier_type
                    });
                    IdentifierPart {
                        verified: !from_enricher,
                        identifier,
                    }
                })
                .collect(),
        )
    }

    /// Removes identifiers from a request; how many it held of those named.
    pub(crate) fn remove_identifiers(
        &self,
        request_id: &str,
        identifier_ids: &[String],
    ) -> Result<usize, transcend_proto::server::ServerError> {
        let held: HashSet<String> = self
            .identifiers(request_id)
            .ok_or_else(|| not_found(request_id))?
            .into_iter()
            .filter_map(|i| i.id)
            .collect();
        let now = clock();
        let mut inner = self.lock();
        let request = inner
            .requests
            .get_mut(request_id)
            .ok_or_else(|| not_found(request_id))?;
        let mut count = 0;
        for id in identifier_ids {
            if held.contains(id) && request.admin.removed_identifiers.insert(id.clone()) {
                count += 1;
            }
        }
        if count > 0 {
            request.note(format!("{count} identifiers removed"), now.wall.clone());
            request.admin.updated_at = Some(now.wall);
            self.changed(&mut inner, request_id);
        }
        Ok(count)
    }

    /// How many of a data silo's jobs are open (or resolved), for requests of `action`
    /// when given.
    pub(crate) fn count_jobs(
        &self,
        data_silo_id: Option<&str>,
        resolved: bool,
        action: Option<&RequestAction>,
    ) -> usize {
        let inner = self.lock();
        inner
            .requests
            .values()
            .filter(|r| action.is_none_or(|a| r.record.action == *a))
            .flat_map(|r| r.jobs.values().map(move |job| (r, job)))
            .filter(|(_, job)| data_silo_id.is_none_or(|s| job.view.data_silo_id == s))
            .filter(|(r, job)| {
                let settled = job.view.status.is_settled() || r.record.status.is_terminal();
                settled == resolved
            })
            .count()
    }
}

/// A time a filter names, in the store's own format (so times compare as text), or
/// `None` when it is not an ISO 8601 date or date-time.
pub(crate) fn filter_time(value: &str) -> Option<Timestamp> {
    if let Ok(at) = Timestamp::parse(value).and_then(|t| t.to_datetime()) {
        return Some(Timestamp::from_datetime(at));
    }
    let date = transcend_proto::types::time::Date::parse(
        value,
        &transcend_proto::types::time::format_description::well_known::Iso8601::DEFAULT,
    )
    .ok()?;
    Some(Timestamp::from_datetime(date.midnight().assume_utc()))
}

/// A silo part's last failure: the error the silo reported (an `ERROR` status), else
/// the outcome of the last delivery it did not accept; `None` when nothing failed.
fn last_failure(view: &crate::view::JobView) -> Option<String> {
    if view.status == JobStatus::Error {
        return Some(
            view.message
                .clone()
                .unwrap_or_else(|| "the data silo reported an error".into()),
        );
    }
    let last = view.deliveries.last()?;
    let accepted = last
        .status
        .is_some_and(|status| (200..300).contains(&status));
    (!accepted).then(|| match last.status {
        Some(status) => format!("the webhook was answered {status}: {}", last.outcome),
        None => format!("the webhook could not be delivered: {}", last.outcome),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_times_read_dates_and_date_times() {
        assert_eq!(
            filter_time("2026-01-02T03:04:05Z").unwrap().as_str(),
            "2026-01-02T03:04:05.000Z"
        );
        assert_eq!(
            filter_time("2026-01-02").unwrap().as_str(),
            "2026-01-02T00:00:00.000Z"
        );
        assert!(filter_time("yesterday").is_none());
    }
}
