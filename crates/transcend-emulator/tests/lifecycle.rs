//! Whole DSR lifecycles against the emulator, with a test silo that verifies every
//! webhook and reports through the real client.

mod common;

use common::{TestSilo, client, eventually, submit, verify};
use serde_json::json;
use sha2::{Digest, Sha256};
use transcend_emulator::{Emulator, JobStatus, RequestView};
use transcend_hyper::DatapointSource;
use transcend_proto::ErrorKind;
use transcend_proto::types::*;
use transcend_proto::webhook::JobAnswer;

fn statuses(view: &RequestView) -> Vec<RequestStatus> {
    view.timeline.iter().map(|c| c.status.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_access_request() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(
            silo.silo("users-db")
                .datapoints(["name", "photo"])
                .actions([RequestAction::Access]),
        )
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let dsr = SubmitDsr::new(
        RequestAction::Access,
        Subject::new("id-123").email("ada@example.com"),
        "customer",
    );
    let created = client.submit_dsr(&dsr).await.unwrap();
    assert_eq!(created.request.status, RequestStatus::Compiling);
    assert!(
        created
            .request
            .link
            .as_deref()
            .unwrap()
            .ends_with(&created.request.id)
    );

    // The webhook: signed for this silo and this person, with the job's details.
    let delivery = silo.wait_for(1).await.remove(0);
    let verified = verify(&client, &delivery, "users-db").await;
    assert_eq!(verified.core_identifier, "id-123");
    assert!(verified.jti.is_some());
    assert_eq!(delivery.job.action, RequestAction::Access);
    assert_eq!(delivery.job.request_id(), Some(created.request.id.as_str()));
    let profile = delivery.job.profile().unwrap();
    assert_eq!(
        (profile.identifier.as_str(), &profile.identifier_type),
        ("ada@example.com", &IdentifierType::Email)
    );
    eventually(&emulator, &created.request.id, |v| {
        v.jobs[0].status == JobStatus::Waiting
    })
    .await;

    // One datapoint as JSON: not done yet.
    client
        .upload_access(
            &delivery.nonce,
            &AccessUpload::partial(vec![
                AccessProfile::new("ada").datapoint("name", json!("Ada")),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(
        client.get_dsr(&created.request.id).await.unwrap().status,
        RequestStatus::Compiling
    );

    // The other as a file of unknown length (chunked transfer): every datapoint reported.
    let photo: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let reader = std::io::Cursor::new(photo.clone());
    client
        .upload_datapoint(
            &delivery.nonce,
            DatapointUpload::new("photo").remote_id("ada.jpg"),
            DatapointSource::reader(reader, None),
        )
        .await
        .unwrap();
    let done = client.get_dsr(&created.request.id).await.unwrap();
    assert_eq!(done.status, RequestStatus::Downloadable);

    let view = emulator.request(&created.request.id).unwrap();
    assert_eq!(
        statuses(&view),
        [
            RequestStatus::RequestMade,
            RequestStatus::Compiling,
            RequestStatus::Downloadable
        ]
    );
    let job = &view.jobs[0];
    assert_eq!(job.status, JobStatus::Resolved);
    assert_eq!(job.deliveries.len(), 1);
    assert_eq!(job.deliveries[0].status, Some(200));
    assert_eq!(job.profiles[0].profile_data["name"], json!("Ada"));
    assert_eq!(job.datapoints, ["name", "photo"]);
    let file = &job.files[0];
    assert_eq!(
        (file.size, file.remote_id.as_deref()),
        (300_000, Some("ada.jpg"))
    );
    let expected: String = Sha256::digest(&photo)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(file.sha256, expected);
    assert_eq!(
        std::fs::read(&file.path).unwrap(),
        photo,
        "stored byte-exact"
    );

    // Finished: more reports are refused with 409.
    let late = client
        .upload_access(&delivery.nonce, &AccessUpload::not_found())
        .await
        .unwrap_err();
    assert_eq!(late.kind(), Some(ErrorKind::Conflict));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_erasure_request_with_polling() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(silo.silo("billing"))
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let dsr = SubmitDsr::new(RequestAction::Erasure, Subject::new("id-9"), "customer");
    let id = client.submit_dsr(&dsr).await.unwrap().request.id;
    let delivery = silo.wait_for(1).await.remove(0);
    verify(&client, &delivery, "billing").await;

    let retry_at = Timestamp::parse("2030-01-01T00:00:00.000Z").unwrap();
    client
        .report_erasure(
            &delivery.nonce,
            &ErasureReport::polling("async-job-1", "erasing").retry_after(retry_at.clone()),
        )
        .await
        .unwrap();
    let waiting = emulator.request(&id).unwrap();
    assert_eq!(waiting.status, RequestStatus::Compiling);
    assert_eq!(waiting.jobs[0].status, JobStatus::Waiting);
    assert_eq!(waiting.jobs[0].poll_id.as_deref(), Some("async-job-1"));
    assert_eq!(waiting.jobs[0].retry_after_date, Some(retry_at));

    client
        .report_erasure(&delivery.nonce, &ErasureReport::erased())
        .await
        .unwrap();
    let done = client.get_dsr(&id).await.unwrap();
    assert_eq!(done.status, RequestStatus::SecondaryCompleted);
    let view = emulator.request(&id).unwrap();
    assert_eq!(view.jobs[0].reports.len(), 2);
    assert_eq!(
        statuses(&view),
        [
            RequestStatus::RequestMade,
            RequestStatus::Compiling,
            RequestStatus::SecondaryCompleted
        ]
    );
    let late = client
        .report_erasure(&delivery.nonce, &ErasureReport::erased())
        .await
        .unwrap_err();
    assert_eq!(late.kind(), Some(ErrorKind::Conflict));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_204_skips_the_silo_and_an_error_report_keeps_the_request_open() {
    let absent = TestSilo::start(|_| JobAnswer::NotFound).await;
    let failing = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(absent.silo("absent"))
        .data_silo(failing.silo("failing"))
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let id = submit(&client, RequestAction::Erasure, "id-2").await;
    let delivery = failing.wait_for(1).await.remove(0);
    eventually(&emulator, &id, |v| {
        v.jobs
            .iter()
            .any(|j| j.data_silo_id == "absent" && j.status == JobStatus::Skipped)
    })
    .await;
    client
        .report_erasure(&delivery.nonce, &ErasureReport::error("disk full"))
        .await
        .unwrap();
    let view = emulator.request(&id).unwrap();
    let job = view
        .jobs
        .iter()
        .find(|j| j.data_silo_id == "failing")
        .unwrap();
    assert_eq!(
        (job.status, job.message.as_deref()),
        (JobStatus::Error, Some("disk full"))
    );
    assert_eq!(view.status, RequestStatus::Compiling);
    // The silo retries and succeeds: the request finishes.
    client
        .report_erasure(&delivery.nonce, &ErasureReport::erased())
        .await
        .unwrap();
    assert_eq!(
        client.get_dsr(&id).await.unwrap().status,
        RequestStatus::SecondaryCompleted
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deliveries_are_retried_with_backoff() {
    let silo = TestSilo::start(|n| {
        if n < 2 {
            JobAnswer::Failed {
                status: http::StatusCode::SERVICE_UNAVAILABLE,
                message: Some("warming up".into()),
            }
        } else {
            JobAnswer::Accepted
        }
    })
    .await;
    let mut config = transcend_emulator::EmulatorConfig::default();
    config.webhooks.max_attempts = 4;
    config.webhooks.initial_backoff_ms = 10;
    config.webhooks.timeout_ms = 2_000;
    config.data_silos.push(silo.silo("flaky"));
    let emulator = Emulator::builder().config(config).start().await.unwrap();
    let client = client(&emulator);
    let id = submit(&client, RequestAction::Access, "id-3").await;
    let received = silo.wait_for(3).await;
    assert_ne!(
        received[0].token, received[2].token,
        "each delivery carries a fresh token"
    );
    assert_eq!(received[0].nonce, received[2].nonce, "and the same nonce");
    let view = eventually(&emulator, &id, |v| v.jobs[0].status == JobStatus::Waiting).await;
    let outcomes: Vec<Option<u16>> = view.jobs[0].deliveries.iter().map(|d| d.status).collect();
    assert_eq!(outcomes, [Some(503), Some(503), Some(200)]);
    assert!(view.jobs[0].deliveries[0].outcome.contains("warming up"));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silos_in_scope_follow_the_lists_and_the_types_they_handle() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(silo.silo("a"))
        .data_silo(silo.silo("b"))
        .data_silo(silo.silo("erasure-only").actions([RequestAction::Erasure]))
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let jobs_of = |dsr: SubmitDsr| {
        let client = client.clone();
        let emulator = &emulator;
        async move {
            let id = client.submit_dsr(&dsr).await.unwrap().request.id;
            emulator
                .request(&id)
                .unwrap()
                .jobs
                .iter()
                .map(|j| j.data_silo_id.clone())
                .collect::<Vec<_>>()
        }
    };
    let only_a = SubmitDsr::builder(RequestAction::Access, Subject::new("p1"), "customer")
        .data_silo_ids(["a"])
        .build()
        .unwrap();
    assert_eq!(jobs_of(only_a).await, ["a"]);
    let not_a = SubmitDsr::builder(RequestAction::Erasure, Subject::new("p2"), "customer")
        .ignore_data_silo_ids(["a"])
        .build()
        .unwrap();
    assert_eq!(jobs_of(not_a).await, ["b", "erasure-only"]);
    assert_eq!(
        jobs_of(SubmitDsr::new(
            RequestAction::Access,
            Subject::new("p3"),
            "customer"
        ))
        .await,
        ["a", "b"]
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paged_uploads_complete_their_datapoint() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(silo.silo("graph").datapoints(["friends"]))
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let id = submit(&client, RequestAction::Access, "id-4").await;
    let delivery = silo.wait_for(1).await.remove(0);
    let pages = client
        .upload_datapoint_chunked(
            &delivery.nonce,
            "friends",
            vec![
                vec![json!({"n": 1})],
                vec![json!({"n": 2}), json!({"n": 3})],
            ],
        )
        .await
        .unwrap();
    assert_eq!(pages, 2);
    assert_eq!(
        client.get_dsr(&id).await.unwrap().status,
        RequestStatus::Downloadable
    );
    let view = emulator.request(&id).unwrap();
    assert_eq!(view.jobs[0].pages.len(), 2);
    assert!(view.jobs[0].pages[1].is_last_page);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_backlog_request_is_created_finished_without_webhooks() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(silo.silo("a"))
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let dsr = SubmitDsr::builder(RequestAction::Erasure, Subject::new("old"), "customer")
        .completed_request_status(CompletedRequestStatus::SecondaryCompleted)
        .build()
        .unwrap();
    let created = client.submit_dsr(&dsr).await.unwrap();
    assert_eq!(created.request.status, RequestStatus::SecondaryCompleted);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(silo.received.lock().unwrap().is_empty());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_without_a_content_type_is_accepted() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(silo.silo("files").datapoints(["doc"]))
        .start()
        .await
        .unwrap();
    let id = client(&emulator)
        .submit_dsr(&SubmitDsr::new(
            RequestAction::Access,
            Subject::new("id-5"),
            "customer",
        ))
        .await
        .unwrap()
        .request
        .id;
    let nonce = silo.wait_for(1).await.remove(0).nonce;
    let (status, _, _) = common::raw(
        &emulator,
        "POST",
        "/v1/datapoint",
        &[
            ("authorization", "Bearer test-key"),
            ("x-transcend-nonce", nonce.expose()),
            ("x-transcend-datapoint-name", "doc"),
        ],
        "plain bytes, no content type",
    )
    .await;
    assert_eq!(status, 200);
    let view = emulator.request(&id).unwrap();
    assert_eq!(view.jobs[0].files[0].size, 28);
    assert_eq!(view.status, RequestStatus::Downloadable);
    emulator.shutdown().await;
}
