//! `POST /emulator/v1/webhooks`: one signed webhook to a URL, and what came back.

mod common;

use common::{TestSilo, client, raw, verify};
use transcend_emulator::Emulator;
use transcend_hyper::proto::webhook::JobAnswer;
use transcend_hyper::types::{EnrichmentAnswer, RequestAction};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_triggered_webhook_is_signed_and_its_answer_shown() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder().start().await.unwrap();
    let auth = [
        ("authorization", "Bearer test-key"),
        ("content-type", "application/json"),
    ];
    let body = format!(
        r#"{{"url":"{}","audience":"users-db","coreIdentifier":"user-5","action":"ERASURE"}}"#,
        silo.url
    );
    let (status, _, answer) = raw(&emulator, "POST", "/emulator/v1/webhooks", &auth, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["answer"], "accepted");
    let delivery = silo.wait_for(1).await.remove(0);
    assert_eq!(delivery.job.action, RequestAction::Erasure);
    let verified = verify(&client(&emulator), &delivery, "users-db").await;
    assert_eq!(verified.core_identifier, "user-5");

    let enricher = TestSilo::start(|_| JobAnswer::Enrichment(EnrichmentAnswer::on_hold())).await;
    let body = format!(
        r#"{{"url":"{}","audience":"kyc","coreIdentifier":"user-5","enrichment":true}}"#,
        enricher.url
    );
    let (_, _, answer) = raw(&emulator, "POST", "/emulator/v1/webhooks", &auth, &body).await;
    assert_eq!(answer["answer"], "decided ON_HOLD", "{answer}");

    let (status, _, _) = raw(&emulator, "POST", "/emulator/v1/webhooks", &[], &body).await;
    assert_eq!(status, 401, "a key is needed");
    emulator.shutdown().await;
}
