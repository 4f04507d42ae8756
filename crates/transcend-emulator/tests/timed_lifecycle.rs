//! The timed steps of a request's life: the waiting period, approval, the secondary
//! phase, the download window; and deliveries that keep failing, retried slowly.

mod common;

use std::time::Duration;

use common::{TestSilo, client, eventually, raw, submit};
use http::StatusCode;
use transcend_emulator::{Emulator, EmulatorConfig, JobStatus, RequestView};
use transcend_hyper::proto::webhook::JobAnswer;
use transcend_hyper::types::{RequestAction, RequestStatus, Subject, SubmitDsr};

const AUTH: [(&str, &str); 1] = [("authorization", "Bearer test-key")];

fn statuses(view: &RequestView) -> Vec<RequestStatus> {
    view.timeline.iter().map(|c| c.status.clone()).collect()
}

async fn approve(emulator: &Emulator, id: &str) -> (StatusCode, serde_json::Value) {
    let path = format!("/emulator/v1/requests/{id}/approve");
    let (status, _, view) = raw(emulator, "POST", &path, &AUTH, "").await;
    (status, view)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_request_waits_is_approved_and_its_download_window_closes() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let mut config = EmulatorConfig::default();
    config.lifecycle.waiting_period_ms = 300;
    config.lifecycle.approval = true;
    // Long enough that the refusal below comes well inside the window on a busy
    // machine; short enough to wait for its end.
    config.lifecycle.download_window_secs = 4;
    let emulator = Emulator::builder()
        .config(config)
        .data_silo(silo.silo("users-db").pull())
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let id = submit(&client, RequestAction::Access, "user-1").await;
    eventually(&emulator, &id, |v| v.status == RequestStatus::Compiling).await;

    // Approving before the silos are done is refused.
    let (status, view) = approve(&emulator, &id).await;
    assert_eq!(status, 409, "{view}");
    let path = format!("/emulator/v1/requests/{id}/jobs/users-db/skip");
    let (status, _, _) = raw(&emulator, "POST", &path, &AUTH, "").await;
    assert_eq!(status, 200);
    eventually(&emulator, &id, |v| v.status == RequestStatus::Approving).await;
    let (status, view) = approve(&emulator, &id).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "DOWNLOADABLE");

    // While the report can be downloaded, the request is open: a second one is refused.
    let again = SubmitDsr::new(RequestAction::Access, Subject::new("user-1"), "customer");
    let refused = client.submit_dsr(&again).await.unwrap_err();
    assert!(
        refused
            .message()
            .unwrap_or_default()
            .contains("already made"),
        "{refused}"
    );

    let view = eventually(&emulator, &id, |v| v.status == RequestStatus::Completed).await;
    assert_eq!(
        statuses(&view),
        [
            RequestStatus::RequestMade,
            RequestStatus::Waiting,
            RequestStatus::Compiling,
            RequestStatus::Approving,
            RequestStatus::Downloadable,
            RequestStatus::Completed,
        ]
    );
    // The waiting period lasted at least its length.
    let at = |n: usize| view.timeline[n].at.to_datetime().unwrap();
    assert!(at(2) - at(1) >= Duration::from_millis(300));
    // Closed now: the person may ask again.
    client.submit_dsr(&again).await.unwrap();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silos_start_only_after_the_waiting_period_unless_it_is_skipped() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let mut config = EmulatorConfig::default();
    config.lifecycle.waiting_period_ms = 200;
    let emulator = Emulator::builder()
        .config(config)
        .data_silo(silo.silo("users-db"))
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let waited = submit(&client, RequestAction::Erasure, "user-1").await;
    let mut skipping = SubmitDsr::new(RequestAction::Erasure, Subject::new("user-2"), "customer");
    skipping.skip_waiting_period = Some(true);
    let skipped = client.submit_dsr(&skipping).await.unwrap().request.id;

    for (id, waits) in [(&waited, true), (&skipped, false)] {
        let view = eventually(&emulator, id, |v| {
            v.jobs
                .first()
                .is_some_and(|j| j.status == JobStatus::Waiting)
        })
        .await;
        let list = statuses(&view);
        assert_eq!(list.contains(&RequestStatus::Waiting), waits, "{list:?}");
        let compiling = view
            .timeline
            .iter()
            .find(|c| c.status == RequestStatus::Compiling)
            .unwrap()
            .at
            .to_datetime()
            .unwrap();
        let delivered = view.jobs[0].deliveries[0].at.to_datetime().unwrap();
        assert!(delivered >= compiling, "the webhook left before COMPILING");
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_goes_through_its_secondary_phase_and_a_second_approval() {
    let mut config = EmulatorConfig::default();
    config.lifecycle.approval = true;
    config.lifecycle.secondary_ms = 100;
    let emulator = Emulator::builder().config(config).start().await.unwrap();
    let id = submit(&client(&emulator), RequestAction::Erasure, "user-1").await;
    eventually(&emulator, &id, |v| v.status == RequestStatus::Approving).await;
    assert_eq!(approve(&emulator, &id).await.0, 200);
    eventually(&emulator, &id, |v| {
        v.status == RequestStatus::SecondaryApproving
    })
    .await;
    let (status, view) = approve(&emulator, &id).await;
    assert_eq!(status, 200);
    assert_eq!(view["status"], "SECONDARY_COMPLETED");
    assert_eq!(
        approve(&emulator, &id).await.0,
        409,
        "nothing left to approve"
    );
    let view = emulator.request(&id).unwrap();
    assert_eq!(
        statuses(&view),
        [
            RequestStatus::RequestMade,
            RequestStatus::Compiling,
            RequestStatus::Approving,
            RequestStatus::Secondary,
            RequestStatus::SecondaryApproving,
            RequestStatus::SecondaryCompleted,
        ]
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_that_keep_failing_go_on_slowly_until_the_silo_answers() {
    // Down for three deliveries, then up.
    let silo = TestSilo::start(|n| {
        if n < 3 {
            JobAnswer::Failed {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: Some("down".into()),
            }
        } else {
            JobAnswer::Accepted
        }
    })
    .await;
    let mut config = EmulatorConfig::default();
    config.webhooks.max_attempts = 2;
    config.webhooks.initial_backoff_ms = 10;
    config.webhooks.slow_interval_ms = 250;
    config.webhooks.slow_attempts = 10;
    let emulator = Emulator::builder()
        .config(config)
        .data_silo(silo.silo("users-db"))
        .start()
        .await
        .unwrap();
    let id = submit(&client(&emulator), RequestAction::Erasure, "user-1").await;
    // After the quick attempts the job shows as failed, with its next delivery.
    let failed = eventually(&emulator, &id, |v| {
        v.jobs[0].status == JobStatus::DeliveryFailed || v.jobs[0].deliveries.len() >= 4
    })
    .await;
    if failed.jobs[0].status == JobStatus::DeliveryFailed {
        assert!(failed.jobs[0].next_delivery_at.is_some(), "{failed:?}");
    }
    let view = eventually(&emulator, &id, |v| v.jobs[0].status == JobStatus::Waiting).await;
    let deliveries = &view.jobs[0].deliveries;
    assert_eq!(deliveries.len(), 4, "{deliveries:?}");
    assert_eq!(deliveries[3].status, Some(200));
    assert!(view.jobs[0].next_delivery_at.is_none());
    // The slow deliveries are spaced by the slow interval.
    let at = |n: usize| deliveries[n].at.to_datetime().unwrap();
    assert!(at(2) - at(1) >= Duration::from_millis(250));
    assert!(at(3) - at(2) >= Duration::from_millis(250));
    assert_eq!(view.status, RequestStatus::Compiling);
    emulator.shutdown().await;
}
