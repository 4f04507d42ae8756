use transcend_proto::types::{
    AccessUpload, ErasureReport, IntegrationStatus, ProfileStatus, RequestAction, RequestStatus,
    Subject, SubmitDsr,
};

use super::*;
use crate::view::{Delivery, FileView, JobStatus};

fn submission(action: RequestAction) -> SubmitDsr {
    SubmitDsr::new(action, Subject::new("id-1"), "customer")
}

fn silo(expected: &[&str]) -> Vec<SiloPlan> {
    vec![SiloPlan {
        id: "silo".into(),
        expected: expected.iter().map(|s| s.to_string()).collect(),
        pull: false,
    }]
}

/// What the emulator does with a submission that has no enrichers.
trait CreateWith {
    fn create_with(&self, dsr: SubmitDsr, silos: &[SiloPlan]) -> Result<DsrRecord, ServerError>;
}

impl CreateWith for Store {
    fn create_with(&self, dsr: SubmitDsr, silos: &[SiloPlan]) -> Result<DsrRecord, ServerError> {
        let event = Event::Submitted {
            completed: dsr
                .completed_request_status
                .clone()
                .map(RequestStatus::from),
            enrichers: Vec::new(),
            silos: silos.to_vec(),
        };
        self.create(dsr, event).map(|(record, _)| record)
    }
}

#[test]
fn a_second_open_request_for_the_same_person_and_type_is_a_duplicate() {
    let store = Store::default();
    store
        .create_with(submission(RequestAction::Access), &silo(&[]))
        .unwrap();
    let error = store
        .create_with(submission(RequestAction::Access), &silo(&[]))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Client error: You have already made this request."
    );
    store
        .create_with(submission(RequestAction::Erasure), &silo(&[]))
        .unwrap();
}

#[test]
fn a_downloadable_report_is_still_open_for_the_duplicate_check() {
    let store = Store::default();
    let record = store
        .create_with(submission(RequestAction::Access), &[])
        .unwrap();
    assert_eq!(record.status, RequestStatus::Downloadable);
    let error = store
        .create_with(submission(RequestAction::Access), &[])
        .unwrap_err();
    assert!(error.to_string().contains("already made"), "{error}");
    // Once its download window closed, the person may ask again.
    let due = store.next_due().unwrap();
    assert!(
        store.advance(due).is_empty(),
        "closing the window has no effect"
    );
    assert_eq!(
        store.status(&record.id).unwrap().status,
        RequestStatus::Completed
    );
    store
        .create_with(submission(RequestAction::Access), &[])
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
        ids.push(store.create_with(dsr, &silo(&["name"])).unwrap().id);
    }
    store
        .create_with(submission(RequestAction::Erasure), &silo(&["name"]))
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
        .create_with(submission(RequestAction::Erasure), &[])
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
        .create_with(submission(RequestAction::Access), &silo(&["name", "photo"]))
        .unwrap()
        .id;
    store
        .apply(
            &id,
            Event::JobDelivered {
                silo: "silo".into(),
                delivery: delivery(),
                status: Some(JobStatus::Waiting),
            },
        )
        .unwrap();
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
        let mut job = JobState::new("r", "silo", Vec::new(), 0);
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
    let record = store.create_with(backlog, &silo(&[])).unwrap();
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
