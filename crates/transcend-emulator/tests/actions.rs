//! The dashboard's actions through the inspection API: redeliver a failed job, skip
//! one, cancel or revoke a request.

mod common;

use common::{TestSilo, client, eventually, raw, submit};
use http::StatusCode;
use transcend_emulator::{Emulator, EmulatorConfig, JobStatus};
use transcend_hyper::proto::webhook::JobAnswer;
use transcend_hyper::types::{RequestAction, RequestStatus};

const AUTH: [(&str, &str); 1] = [("authorization", "Bearer test-key")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_is_redelivered_and_a_job_skipped() {
    // The silo fails the first delivery and accepts the next.
    let silo = TestSilo::start(|n| {
        if n == 0 {
            JobAnswer::Failed {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: Some("down for maintenance".into()),
            }
        } else {
            JobAnswer::Accepted
        }
    })
    .await;
    let mut config = EmulatorConfig::default();
    config.webhooks.max_attempts = 1;
    let emulator = Emulator::builder()
        .config(config)
        .data_silo(silo.silo("users-db").actions([RequestAction::Access]))
        .start()
        .await
        .unwrap();
    let id = submit(&client(&emulator), RequestAction::Access, "user-1").await;
    eventually(&emulator, &id, |v| {
        v.jobs[0].status == JobStatus::DeliveryFailed
    })
    .await;

    let path = format!("/emulator/v1/requests/{id}/jobs/users-db/redeliver");
    let (status, _, view) = raw(&emulator, "POST", &path, &AUTH, "").await;
    assert_eq!(status, 200, "{view}");
    eventually(&emulator, &id, |v| v.jobs[0].status == JobStatus::Waiting).await;
    assert_eq!(silo.wait_for(2).await.len(), 2);

    let path = format!("/emulator/v1/requests/{id}/jobs/users-db/skip");
    let (status, _, view) = raw(&emulator, "POST", &path, &AUTH, "").await;
    assert_eq!(status, 200);
    assert_eq!(view["status"], "DOWNLOADABLE", "{view}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_canceled_or_revoked_once() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(silo.silo("users-db"))
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let first = submit(&client, RequestAction::Erasure, "user-2").await;
    let second = submit(&client, RequestAction::Erasure, "user-3").await;

    let (status, _, view) = raw(
        &emulator,
        "POST",
        &format!("/emulator/v1/requests/{first}/cancel"),
        &AUTH,
        "",
    )
    .await;
    assert_eq!(
        (status, view["status"].as_str()),
        (StatusCode::OK, Some("CANCELED"))
    );
    let (status, _, _) = raw(
        &emulator,
        "POST",
        &format!("/emulator/v1/requests/{first}/revoke"),
        &AUTH,
        "",
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "finished already");
    let (status, _, view) = raw(
        &emulator,
        "POST",
        &format!("/emulator/v1/requests/{second}/revoke"),
        &AUTH,
        "",
    )
    .await;
    assert_eq!(
        (status, view["status"].as_str()),
        (StatusCode::OK, Some("REVOKED"))
    );
    assert_eq!(
        client.get_dsr(&second).await.unwrap().status,
        RequestStatus::Revoked
    );
    let (status, _, _) = raw(
        &emulator,
        "POST",
        &format!("/emulator/v1/requests/{second}/cancel"),
        &[],
        "",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listing_pages_newest_first() {
    let emulator = Emulator::builder().start().await.unwrap();
    let api = client(&emulator);
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(submit(&api, RequestAction::Erasure, &format!("user-{n}")).await);
    }
    let (status, _, page) = raw(
        &emulator,
        "GET",
        "/emulator/v1/requests?limit=2&offset=1",
        &AUTH,
        "",
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 5);
    let listed: Vec<&str> = page["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ids[3].as_str(), ids[2].as_str()]);
    // Without paging: the first page (100), newest first, never every request at once.
    let (_, _, all) = raw(&emulator, "GET", "/emulator/v1/requests", &AUTH, "").await;
    assert_eq!(all["requests"].as_array().unwrap().len(), 5);
    assert_eq!(all["requests"][0]["id"], ids[4].as_str());
    assert_eq!(all["total"], 5);
    let (status, _, _) = raw(&emulator, "GET", "/emulator/v1/requests?limit=x", &AUTH, "").await;
    assert_eq!(status, 400);
    emulator.shutdown().await;
}
