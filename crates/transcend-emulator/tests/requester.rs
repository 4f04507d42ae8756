//! A requester's loop against the emulator through the client: the report downloaded
//! byte for byte (resumed after a failing file), a request's identifiers, a restart.

mod common;

use std::path::PathBuf;

use common::{TestSilo, client, eventually};
use serde_json::json;
use transcend_emulator::{Emulator, JobStatus};
use transcend_hyper::proto::endpoint::download_file::is_expired_key;
use transcend_hyper::types::{
    AccessProfile, AccessUpload, AttestedExtraIdentifiers, Attribute, DatapointUpload,
    ExtraIdentifier, IdentifierType, RequestAction, RequestAttributeValue, RequestStatus, Subject,
    SubmitDsr,
};
use transcend_hyper::{DatapointSource, Error, ErrorKind, RestartOptions};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("transcend-{name}-{:032x}", fastrand::u128(..)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const PHOTO_LEN: usize = 300_000;

fn photo() -> Vec<u8> {
    (0..PHOTO_LEN).map(|i| (i * 7 % 251) as u8).collect()
}

/// An ACCESS request whose silo reported two JSON datapoints and a file: DOWNLOADABLE.
async fn downloadable(emulator: &Emulator, silo: &TestSilo) -> String {
    let client = client(emulator);
    let dsr = SubmitDsr::new(
        RequestAction::Access,
        Subject::new("user-1").email("ada@example.com"),
        "customer",
    );
    let id = client.submit_dsr(&dsr).await.unwrap().request.id;
    let delivery = silo.wait_for(1).await.remove(0);
    eventually(emulator, &id, |v| v.jobs[0].status == JobStatus::Waiting).await;
    client
        .upload_datapoint(
            &delivery.nonce,
            DatapointUpload::new("photo").remote_id("ada.jpg"),
            DatapointSource::bytes(photo()),
        )
        .await
        .unwrap();
    let profile = AccessProfile::new("ada")
        .datapoint("name", json!("Ada Lovelace"))
        .datapoint("orders", json!([{"id": 1}, {"id": 2}]));
    client
        .upload_access(&delivery.nonce, &AccessUpload::ready(vec![profile]))
        .await
        .unwrap();
    eventually(emulator, &id, |v| v.status == RequestStatus::Downloadable).await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_is_downloaded_byte_for_byte_and_a_rerun_skips_it() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(silo.silo("users-db").actions([RequestAction::Access]))
        .start()
        .await
        .unwrap();
    let id = downloadable(&emulator, &silo).await;
    let client = client(&emulator);
    let dir = temp_dir("report");

    let report = client
        .download_report(&id, &dir, Default::default())
        .await
        .unwrap();
    assert!(report.is_complete(), "{:?}", report.failed);
    assert_eq!((report.downloaded, report.skipped), (3, 0));
    assert_eq!(std::fs::read(dir.join("ada.jpg")).unwrap(), photo());
    let name: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("users-db-ada-name.json")).unwrap())
            .unwrap();
    assert_eq!(name, json!("Ada Lovelace"));
    let orders: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("users-db-ada-orders.json")).unwrap())
            .unwrap();
    assert_eq!(orders, json!([{"id": 1}, {"id": 2}]));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report.manifest).unwrap()).unwrap();
    assert_eq!(manifest["files"].as_array().unwrap().len(), 3);
    let stored = emulator.request(&id).unwrap().jobs[0].files[0].clone();
    let photo_entry = report.files.iter().find(|f| f.file == "ada.jpg").unwrap();
    assert_eq!(
        (photo_entry.size, &photo_entry.sha256),
        (stored.size, &stored.sha256)
    );

    let again = client
        .download_report(&id, &dir, Default::default())
        .await
        .unwrap();
    assert_eq!((again.downloaded, again.skipped), (0, 3));
    std::fs::remove_dir_all(&dir).unwrap();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_file_is_reported_and_a_rerun_fetches_only_what_is_missing() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(silo.silo("users-db").actions([RequestAction::Access]))
        .start()
        .await
        .unwrap();
    let id = downloadable(&emulator, &silo).await;
    let client = client(&emulator);
    let stored = PathBuf::from(&emulator.request(&id).unwrap().jobs[0].files[0].path);
    let kept = std::fs::read(&stored).unwrap();
    std::fs::remove_file(&stored).unwrap();

    let dir = temp_dir("resume");
    let first = client
        .download_report(&id, &dir, Default::default())
        .await
        .unwrap();
    assert_eq!(first.downloaded, 2);
    assert_eq!(first.failed.len(), 1);
    assert_eq!(first.failed[0].file, "ada.jpg");
    assert!(!dir.join("ada.jpg").exists());

    // The file is back: the rerun downloads it alone.
    std::fs::write(&stored, &kept).unwrap();
    let second = client
        .download_report(&id, &dir, Default::default())
        .await
        .unwrap();
    assert!(second.is_complete());
    assert_eq!((second.downloaded, second.skipped), (1, 2));
    assert_eq!(std::fs::read(dir.join("ada.jpg")).unwrap(), photo());

    // A file changed on disk since is downloaded again.
    std::fs::write(dir.join("users-db-ada-name.json"), b"tampered").unwrap();
    let third = client
        .download_report(&id, &dir, Default::default())
        .await
        .unwrap();
    assert_eq!((third.downloaded, third.skipped), (1, 2));
    std::fs::remove_dir_all(&dir).unwrap();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_refused_before_the_report_is_ready_and_when_not_issued() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(silo.silo("users-db").actions([RequestAction::Access]))
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let dsr = SubmitDsr::new(RequestAction::Access, Subject::new("user-2"), "customer");
    let id = client.submit_dsr(&dsr).await.unwrap().request.id;
    let early = client.download_keys(&id).await.unwrap_err();
    assert_eq!(early.kind(), Some(ErrorKind::Conflict), "{early}");

    let dir = temp_dir("forged");
    let forged = client
        .download_file("bm90IGEga2V5.AAAA", &dir.join("x"))
        .await
        .unwrap_err();
    let Error::Protocol(error) = &forged else {
        panic!("{forged:?}")
    };
    assert!(is_expired_key(error), "{forged}");
    std::fs::remove_dir_all(&dir).unwrap();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifiers_are_listed_and_a_restart_runs_the_request_again() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(silo.silo("users-db").actions([RequestAction::Access]))
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let mut phones = AttestedExtraIdentifiers::default();
    phones.0.insert(
        IdentifierType::Phone,
        vec![ExtraIdentifier::new("+15550100")],
    );
    let mut subject = Subject::new("user-3").email("grace@example.com");
    subject.attested_extra_identifiers = Some(phones);
    let dsr = SubmitDsr::new(RequestAction::Access, subject, "customer");
    let id = client.submit_dsr(&dsr).await.unwrap().request.id;

    let identifiers: Vec<_> =
        futures_util::TryStreamExt::try_collect::<Vec<_>>(client.request_identifiers(&id))
            .await
            .unwrap();
    let values: Vec<(&str, Option<IdentifierType>)> = identifiers
        .iter()
        .map(|i| (i.value.as_str(), i.identifier_type.clone()))
        .collect();
    assert_eq!(
        values,
        [
            ("user-3", Some(IdentifierType::CoreIdentifier)),
            ("grace@example.com", Some(IdentifierType::Email)),
            ("+15550100", Some(IdentifierType::Phone)),
        ]
    );

    silo.wait_for(1).await;
    let restarted = client
        .restart_dsr(
            &id,
            RestartOptions::default()
                .copy_identifiers(true)
                .skip_waiting_period(true),
        )
        .await
        .unwrap();
    assert_eq!(restarted.request.id, id);
    assert_eq!(restarted.request.status, RequestStatus::Compiling);
    let view = eventually(&emulator, &id, |v| v.restarts == 1).await;
    assert_eq!(
        view.timeline
            .iter()
            .filter(|c| c.status == RequestStatus::RequestMade)
            .count(),
        2
    );
    // The silo is asked again.
    silo.wait_for(2).await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_keys_expire_after_their_lifetime() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let mut config = transcend_emulator::EmulatorConfig::default();
    config.download_key_lifetime_secs = 0;
    let emulator = Emulator::builder()
        .config(config)
        .data_silo(silo.silo("users-db").actions([RequestAction::Access]))
        .start()
        .await
        .unwrap();
    let id = downloadable(&emulator, &silo).await;
    let client = client(&emulator);
    let keys = client.download_keys(&id).await.unwrap();
    // Keys carry whole seconds: a key valid for 0 s is expired once the second is over.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let dir = temp_dir("expired");
    let expired = client
        .download_file(&keys[0].download_key, &dir.join("x"))
        .await
        .unwrap_err();
    let Error::Protocol(error) = &expired else {
        panic!("{expired:?}")
    };
    assert!(is_expired_key(error), "{expired}");
    assert!(expired.to_string().contains("expired"), "{expired}");
    std::fs::remove_dir_all(&dir).unwrap();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_datapoint_value_is_kept_on_disk_and_downloads_the_same() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(
            silo.silo("users-db")
                .actions([RequestAction::Access])
                .datapoints(["name", "history"]),
        )
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let dsr = SubmitDsr::new(RequestAction::Access, Subject::new("ada"), "customer");
    let id = client.submit_dsr(&dsr).await.unwrap().request.id;
    let delivery = silo.wait_for(1).await.remove(0);
    // About 1 MB of JSON: over the size kept in memory.
    let history: Vec<serde_json::Value> = (0..20_000)
        .map(|i| json!({"order": i, "item": "a book about engines"}))
        .collect();
    let profile = AccessProfile::new("ada")
        .datapoint("name", json!("Ada Lovelace"))
        .datapoint("history", json!(history));
    client
        .upload_access(&delivery.nonce, &AccessUpload::partial(vec![profile]))
        .await
        .unwrap();
    // Both expected datapoints are in: the job resolves.
    let view = eventually(&emulator, &id, |v| v.status == RequestStatus::Downloadable).await;
    let job = &view.jobs[0];
    assert_eq!(
        job.profiles[0].profile_data.len(),
        1,
        "only the small value in memory"
    );
    assert!(job.profiles[0].profile_data.contains_key("name"));
    let kept = &job.files[0];
    assert_eq!(kept.datapoint, "history");
    assert!(kept.size > 1_000_000, "{}", kept.size);

    let dir = temp_dir("large-value");
    let report = client
        .download_report(&id, &dir, Default::default())
        .await
        .unwrap();
    assert!(report.is_complete(), "{:?}", report.failed);
    let downloaded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("users-db-ada-history.json")).unwrap())
            .unwrap();
    assert_eq!(downloaded, json!(history));
    std::fs::remove_dir_all(&dir).unwrap();
    emulator.shutdown().await;
}

/// The answer to a submission, and to a restart, carries every field Transcend's does
/// (Transcend's own CLI decodes it strictly): `email`, `country` and
/// `countrySubDivision` are `null` when empty, `attributeValues` is `[]`, or one
/// `{name, attributeKey: {name}}` per value of the request's custom fields; the client
/// reads them back typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_submission_answer_carries_every_field_with_nulls_and_typed_attributes() {
    let emulator = Emulator::builder().start().await.unwrap();
    let (status, _, plain) = common::raw(
        &emulator,
        "POST",
        "/v1/data-subject-request",
        &[
            ("authorization", "Bearer test-key"),
            ("content-type", "application/json"),
        ],
        r#"{"type":"ACCESS","subject":{"coreIdentifier":"user-9"},"subjectType":"customer"}"#,
    )
    .await;
    assert_eq!(status, 200, "{plain}");
    let request = &plain["request"];
    for field in [
        "id",
        "link",
        "status",
        "type",
        "subjectType",
        "coreIdentifier",
        "isSilent",
        "isTest",
    ] {
        assert!(!request[field].is_null(), "{field}: {request}");
    }
    for field in ["email", "country", "countrySubDivision"] {
        let object = request.as_object().unwrap();
        assert_eq!(object.get(field), Some(&json!(null)), "{field}: {request}");
    }
    assert_eq!(request["attributeValues"], json!([]));

    let client = client(&emulator);
    let mut dsr = SubmitDsr::new(
        RequestAction::Erasure,
        Subject::new("user-10").email("ada@example.com"),
        "customer",
    );
    dsr.attributes = Some(vec![
        Attribute::new("Source", ["web", "app"]),
        Attribute::new("Tier", ["gold"]),
    ]);
    let created = client.submit_dsr(&dsr).await.unwrap().request;
    let expected = vec![
        RequestAttributeValue::new("Source", "web"),
        RequestAttributeValue::new("Source", "app"),
        RequestAttributeValue::new("Tier", "gold"),
    ];
    assert_eq!(created.attribute_values, expected);
    assert_eq!(created.email.as_deref(), Some("ada@example.com"));
    let restarted = client
        .restart_dsr(&created.id, RestartOptions::default())
        .await
        .unwrap()
        .request;
    assert_eq!(
        restarted.attribute_values, expected,
        "a restart answers alike"
    );
    assert_eq!(
        (restarted.country, restarted.country_sub_division),
        (None, None)
    );
    emulator.shutdown().await;
}
