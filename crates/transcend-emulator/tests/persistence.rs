//! `--data-dir`: requests, jobs, reports, keys and timed steps outlive a restart; an
//! export imported into another emulator gives the same state.

mod common;

use std::path::PathBuf;

use common::{TestSilo, client, eventually, raw, submit};
use futures_util::StreamExt;
use http::StatusCode;
use transcend_emulator::{Emulator, EmulatorConfig, JobStatus, STATE_PATH};
use transcend_hyper::proto::webhook::JobAnswer;
use transcend_hyper::types::{
    AccessProfile, AccessUpload, RequestAction, RequestStatus, Subject, SubmitDsr,
};

const AUTH: [(&str, &str); 1] = [("authorization", "Bearer test-key")];

struct DataDir(PathBuf);

impl DataDir {
    fn new() -> Self {
        Self(std::env::temp_dir().join(format!(
            "transcend-emulator-data-{:032x}",
            fastrand::u128(..)
        )))
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config(dir: &DataDir, silo: &TestSilo) -> EmulatorConfig {
    let mut config = EmulatorConfig::default();
    config.data_dir = Some(dir.0.clone());
    config
        .data_silos
        .push(silo.silo("users-db").actions([RequestAction::Access]));
    config.data_silos.push(
        silo.silo("warehouse")
            .actions([RequestAction::Erasure])
            .pull(),
    );
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_reports_and_keys_outlive_a_restart() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let dir = DataDir::new();
    let first = Emulator::builder()
        .config(config(&dir, &silo))
        .start()
        .await
        .unwrap();
    let api = client(&first);
    let access = submit(&api, RequestAction::Access, "ada").await;
    let erasure = submit(&api, RequestAction::Erasure, "alan").await;
    let nonce = silo.wait_for(1).await.remove(0).nonce;
    api.upload_access(
        &nonce,
        &AccessUpload::partial(vec![
            AccessProfile::new("p1").datapoint("name", serde_json::json!("Ada")),
        ]),
    )
    .await
    .unwrap();
    let before = (
        first.request(&access).unwrap(),
        first.request(&erasure).unwrap(),
    );
    let key = first.signing_key_pem().to_owned();
    first.shutdown().await;

    let second = Emulator::builder()
        .config(config(&dir, &silo))
        .start()
        .await
        .unwrap();
    assert_eq!(second.request_count(), 2);
    assert_eq!(second.request(&access).unwrap(), before.0);
    assert_eq!(second.request(&erasure).unwrap(), before.1);
    assert_eq!(second.signing_key_pem(), key, "silos keep their cached key");
    let api = client(&second);
    // The person's open request still counts.
    let again = SubmitDsr::new(RequestAction::Erasure, Subject::new("alan"), "customer");
    assert!(api.submit_dsr(&again).await.is_err());
    // A nonce issued before the restart still reports.
    api.upload_access(&nonce, &AccessUpload::ready(Vec::new()))
        .await
        .unwrap();
    assert_eq!(
        second.request(&access).unwrap().status,
        RequestStatus::Downloadable
    );
    // The cron silo still finds its job.
    let pending: Vec<_> = api
        .pending_requests("warehouse", RequestAction::Erasure, 50)
        .collect()
        .await;
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].as_ref().unwrap().request_id.as_deref(),
        Some(erasure.as_str())
    );
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_step_and_an_undelivered_webhook_go_on_after_a_restart() {
    // The silo is down until the restart.
    let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let answer = std::sync::Arc::clone(&up);
    let silo = TestSilo::start(move |_| {
        if answer.load(std::sync::atomic::Ordering::SeqCst) {
            JobAnswer::Accepted
        } else {
            JobAnswer::Failed {
                status: StatusCode::BAD_GATEWAY,
                message: None,
            }
        }
    })
    .await;
    let dir = DataDir::new();
    let mut settings = config(&dir, &silo);
    settings.webhooks.max_attempts = 1;
    settings.webhooks.slow_interval_ms = 3_600_000;
    settings.lifecycle.waiting_period_ms = 300;
    let first = Emulator::builder()
        .config(settings.clone())
        .start()
        .await
        .unwrap();
    let api = client(&first);
    let delivered = submit(&api, RequestAction::Access, "ada").await;
    eventually(&first, &delivered, |v| {
        v.jobs
            .first()
            .is_some_and(|j| j.status == JobStatus::DeliveryFailed)
    })
    .await;
    // Submitted just before the restart: in its waiting period (as the answer says;
    // the period may well be over by the time the restart is done).
    let dsr = SubmitDsr::new(RequestAction::Erasure, Subject::new("alan"), "customer");
    let created = api.submit_dsr(&dsr).await.unwrap().request;
    assert_eq!(created.status, RequestStatus::Waiting);
    let waiting = created.id;
    first.shutdown().await;

    up.store(true, std::sync::atomic::Ordering::SeqCst);
    let second = Emulator::builder().config(settings).start().await.unwrap();
    eventually(&second, &delivered, |v| {
        v.jobs[0].status == JobStatus::Waiting
    })
    .await;
    eventually(&second, &waiting, |v| v.status == RequestStatus::Compiling).await;
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imported_elsewhere_gives_the_same_state() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let source = Emulator::builder()
        .data_silo(silo.silo("users-db"))
        .start()
        .await
        .unwrap();
    let ids = [
        submit(&client(&source), RequestAction::Access, "ada").await,
        submit(&client(&source), RequestAction::Erasure, "alan").await,
    ];
    silo.wait_for(2).await;
    for id in &ids {
        eventually(&source, id, |v| v.jobs[0].status == JobStatus::Waiting).await;
    }
    let (status, _, export) = raw(&source, "GET", STATE_PATH, &AUTH, "").await;
    assert_eq!(status, 200);
    assert_eq!(export["requests"].as_array().unwrap().len(), 2);

    let copy = Emulator::builder().start().await.unwrap();
    let (status, _, answer) = raw(&copy, "POST", STATE_PATH, &AUTH, &export.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["imported"], 2);
    for id in &ids {
        assert_eq!(copy.request(id).unwrap(), source.request(id).unwrap());
    }
    assert_eq!(
        copy.requests()
            .requests
            .iter()
            .map(|r| r.id.clone())
            .collect::<Vec<_>>(),
        ids,
        "in creation order"
    );
    // The imported requests are open: the duplicate check sees them.
    let again = SubmitDsr::new(RequestAction::Erasure, Subject::new("alan"), "customer");
    assert!(client(&copy).submit_dsr(&again).await.is_err());

    let (status, _, answer) = raw(&copy, "POST", STATE_PATH, &AUTH, r#"{"version":9}"#).await;
    assert_eq!(status, 400, "{answer}");
    let unauthorized = [("authorization", "Bearer wrong")];
    assert_eq!(
        raw(&copy, "GET", STATE_PATH, &unauthorized, "").await.0,
        401
    );
    source.shutdown().await;
    copy.shutdown().await;
}

/// An emulator that made its files' folder in the system's temporary folder removes it
/// on shutdown, and when it is dropped without one; a folder it was given stays.
#[tokio::test]
async fn the_temporary_files_folder_goes_with_the_emulator() {
    let shut_down = transcend_emulator::Emulator::builder()
        .start()
        .await
        .unwrap();
    let folder = shut_down.storage_dir().to_path_buf();
    assert!(folder.is_dir());
    shut_down.shutdown().await;
    assert!(!folder.exists(), "removed on shutdown");

    let dropped = transcend_emulator::Emulator::builder()
        .start()
        .await
        .unwrap();
    let folder = dropped.storage_dir().to_path_buf();
    std::fs::write(folder.join("a-file"), b"kept until the emulator goes").unwrap();
    drop(dropped);
    assert!(!folder.exists(), "removed when dropped without a shutdown");

    let given = std::env::temp_dir().join(format!("given-files-{:032x}", fastrand::u128(..)));
    let mut config = transcend_emulator::EmulatorConfig::default();
    config.storage_dir = Some(given.clone());
    let kept = transcend_emulator::Emulator::builder()
        .config(config)
        .start()
        .await
        .unwrap();
    drop(kept);
    assert!(given.is_dir(), "a folder it was given stays");
    let _ = std::fs::remove_dir_all(&given);
}
