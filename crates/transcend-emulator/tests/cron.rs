//! Cron ("pull") data silos against the emulator through the client: no webhook, jobs
//! listed until reported, none skipped while completing between pages, 409 counted as
//! already done.

mod common;

use common::{client, eventually, submit};
use futures_util::StreamExt;
use transcend_emulator::{ApiKeyConfig, DataSiloConfig, Emulator, Scope};
use transcend_hyper::Nonce;
use transcend_hyper::types::{RequestAction, RequestStatus};

fn cron_silo() -> DataSiloConfig {
    DataSiloConfig::new("warehouse", "http://127.0.0.1:9/never-called")
        .actions([RequestAction::Erasure])
        .pull()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completing_between_pages_skips_no_job() {
    let emulator = Emulator::builder()
        .data_silo(cron_silo())
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(submit(&client, RequestAction::Erasure, &format!("person-{i}")).await);
    }
    let mut seen = Vec::new();
    {
        let mut jobs =
            std::pin::pin!(client.pending_requests("warehouse", RequestAction::Erasure, 10));
        while let Some(job) = jobs.next().await {
            let job = job.unwrap();
            // Completing each job as it comes shifts the offsets of the pages after it.
            client
                .report_erasure(&job.nonce.clone(), &Default::default())
                .await
                .unwrap();
            seen.push(job.request_id.unwrap());
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no job twice");
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(sorted, expected, "every job once");
    for id in &ids {
        eventually(&emulator, id, |v| {
            v.status == RequestStatus::SecondaryCompleted
        })
        .await;
        assert!(
            emulator.request(id).unwrap().jobs[0].deliveries.is_empty(),
            "no webhook"
        );
    }
    let left = client
        .pending_requests("warehouse", RequestAction::Erasure, 10)
        .collect::<Vec<_>>()
        .await;
    assert!(left.is_empty());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_complete_in_batches_and_a_second_time_is_already_done() {
    let emulator = Emulator::builder()
        .data_silo(cron_silo())
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    for i in 0..7 {
        submit(&client, RequestAction::Erasure, &format!("p-{i}")).await;
    }
    // An ACCESS request is not listed for ERASURE.
    submit(&client, RequestAction::Access, "p-access").await;
    let jobs: Vec<_> = client
        .pending_requests("warehouse", RequestAction::Erasure, 3)
        .map(|job| job.unwrap())
        .collect()
        .await;
    assert_eq!(jobs.len(), 7);
    let nonces: Vec<Nonce> = jobs.iter().map(|j| j.nonce.clone()).collect();
    let first = client.complete_jobs(nonces.clone(), 4, |_, _| {}).await;
    assert_eq!(
        (first.completed, first.already_done, first.failed.len()),
        (7, 0, 0)
    );
    let again = client.complete_jobs(nonces, 4, |_, _| {}).await;
    assert_eq!(
        (again.completed, again.already_done, again.failed.len()),
        (0, 7, 0)
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_of_another_silo_cannot_list_its_jobs() {
    let emulator = Emulator::builder()
        .data_silo(cron_silo())
        .data_silo(DataSiloConfig::new("elsewhere", "http://127.0.0.1:9/never-called").pull())
        .api_key(ApiKeyConfig::new("other-silo-key", Scope::ALL).for_silo("elsewhere"))
        .start()
        .await
        .unwrap();
    let other = common::client_with_key(&emulator, "other-silo-key");
    let refused = other
        .pending_requests("warehouse", RequestAction::Erasure, 10)
        .collect::<Vec<_>>()
        .await;
    assert_eq!(refused.len(), 1);
    assert_eq!(
        refused[0]
            .as_ref()
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(401)
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silo_keyed_on_a_type_is_handed_the_identifier_of_that_type() {
    use transcend_hyper::types::{ExtraIdentifier, IdentifierType, Subject, SubmitDsr};
    let emulator = Emulator::builder()
        .data_silo(cron_silo().identifiers([IdentifierType::Phone]))
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let dsr = SubmitDsr::new(
        RequestAction::Erasure,
        Subject::new("person-1")
            .email("p1@example.com")
            .extra_identifier(IdentifierType::Phone, ExtraIdentifier::new("+15555550100")),
        "customer",
    );
    client.submit_dsr(&dsr).await.unwrap();
    let mut job = None;
    for _ in 0..1000 {
        let mut jobs =
            std::pin::pin!(client.pending_requests("warehouse", RequestAction::Erasure, 10));
        if let Some(listed) = jobs.next().await {
            job = Some(listed.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let job = job.expect("the job is listed");
    assert_eq!(job.identifier, "+15555550100");
    assert_eq!(job.identifier_type, Some(IdentifierType::Phone));
    assert_eq!(job.core_identifier.as_deref(), Some("person-1"));
    emulator.shutdown().await;
}
