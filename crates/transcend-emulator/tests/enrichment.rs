//! Enrichers against the emulator: a request waits in ENRICHING for its enrichers; the
//! identifiers they add decide which silos get jobs; a hold or a cancellation moves the
//! request; an enrichment sent twice is already done.

mod common;

use common::{TestSilo, client, client as client_of, eventually, verify};
use transcend_emulator::{DataSiloConfig, Emulator, EnricherConfig};
use transcend_hyper::EnrichOutcome;
use transcend_hyper::proto::endpoint::enrich_identifiers::EnrichmentTarget;
use transcend_hyper::proto::webhook::JobAnswer;
use transcend_hyper::types::{
    EnrichIdentifiers, EnrichedIdentifier, EnrichmentAnswer, IdentifierType, RequestAction,
    RequestStatus, Subject, SubmitDsr,
};

fn access(core: &str) -> SubmitDsr {
    SubmitDsr::new(RequestAction::Access, Subject::new(core), "customer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enriched_identifiers_decide_which_silos_get_jobs() {
    let enricher = TestSilo::start(TestSilo::accepting()).await;
    let silos = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .enricher(EnricherConfig::new("phone-finder", &enricher.url))
        .data_silo(silos.silo("users-db").actions([RequestAction::Access]))
        .data_silo(
            silos
                .silo("sms-log")
                .actions([RequestAction::Access])
                .identifiers([IdentifierType::Phone]),
        )
        .data_silo(
            DataSiloConfig::new("ad-log", &silos.url)
                .actions([RequestAction::Access])
                .identifiers([IdentifierType::Gaid]),
        )
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let created = client.submit_dsr(&access("user-7")).await.unwrap();
    assert_eq!(created.request.status, RequestStatus::Enriching);
    let id = created.request.id;

    // The enricher's webhook: signed like a silo's, for the core identifier.
    let delivery = enricher.wait_for(1).await.remove(0);
    let verified = verify(&client, &delivery, "phone-finder").await;
    assert_eq!(verified.core_identifier, "user-7");
    let view = eventually(&emulator, &id, |v| v.enrichers[0].deliveries.len() == 1).await;
    assert!(
        view.jobs.is_empty(),
        "no silo before the enrichers are done"
    );
    assert_eq!(view.status, RequestStatus::Enriching);

    let phone = EnrichIdentifiers::default().identifier(
        IdentifierType::Phone,
        EnrichedIdentifier::new("+14155550100").country_code("US"),
    );
    let target = EnrichmentTarget::Nonce(delivery.nonce.clone());
    let outcome = client
        .enrich_identifiers(target.clone(), phone.clone())
        .await
        .unwrap();
    assert_eq!(outcome, EnrichOutcome::Applied);
    let view = eventually(&emulator, &id, |v| v.status == RequestStatus::Compiling).await;
    let silos_with_jobs: Vec<&str> = view.jobs.iter().map(|j| j.data_silo_id.as_str()).collect();
    assert_eq!(
        silos_with_jobs,
        ["sms-log", "users-db"],
        "ad-log keys on advertising ids"
    );
    assert_eq!(view.enriched_identifiers[0].value, "+14155550100");
    silos.wait_for(2).await;

    // The phone is among the request's identifiers; a second enrichment is already done.
    let identifiers: Vec<_> =
        futures_util::TryStreamExt::try_collect::<Vec<_>>(client.request_identifiers(&id))
            .await
            .unwrap();
    assert!(identifiers.iter().any(|i| i.value == "+14155550100"));
    let again = client.enrich_identifiers(target, phone).await.unwrap();
    assert_eq!(again, EnrichOutcome::AlreadyDone);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_or_a_cancellation_stops_the_request_before_any_silo() {
    let holding = TestSilo::start(|_| JobAnswer::Enrichment(EnrichmentAnswer::on_hold())).await;
    let silos = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .enricher(EnricherConfig::new("kyc", &holding.url))
        .data_silo(silos.silo("users-db"))
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let id = client
        .submit_dsr(&access("user-8"))
        .await
        .unwrap()
        .request
        .id;
    let view = eventually(&emulator, &id, |v| v.status == RequestStatus::OnHold).await;
    assert!(view.jobs.is_empty());
    emulator.shutdown().await;

    let waiting = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .enricher(EnricherConfig::new("fraud-check", &waiting.url))
        .data_silo(silos.silo("users-db"))
        .start()
        .await
        .unwrap();
    let backend = client_of(&emulator);
    let id = backend
        .submit_dsr(&access("user-9"))
        .await
        .unwrap()
        .request
        .id;
    waiting.wait_for(1).await;
    // A manual enrichment names the request and the enricher instead of a nonce.
    let manual = EnrichmentTarget::Manual {
        request_id: id.clone(),
        enricher_id: "fraud-check".into(),
    };
    backend
        .enrich_identifiers(
            manual,
            EnrichIdentifiers::default().canceled("fraud-template"),
        )
        .await
        .unwrap();
    let view = eventually(&emulator, &id, |v| v.status == RequestStatus::Canceled).await;
    assert!(view.jobs.is_empty());
    emulator.shutdown().await;
}
