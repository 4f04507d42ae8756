//! No public type holding an API key, a Sombra key, a nonce or a token shows it in
//! `Debug`, plain or pretty, alone or inside what holds it.

use transcend_hyper::Report;
use transcend_hyper::proto::webhook::{parse_enrichment_webhook, parse_webhook};
use transcend_hyper::proto::{Config, SombraToken};
use transcend_hyper::silo::testing::TestSigner;
use transcend_hyper::types::{
    DsrJob, EnrichmentJob, ErasureReport, PendingRequest, PendingRequestsPage, RequestAction,
};
use transcend_hyper::{ApiKey, Client, ClientBuilder, EnrichmentTarget, Nonce, SombraKey};

const API_KEY: &str = "secret-api-key-1";
const SOMBRA_KEY: &str = "secret-sombra-key-2";
const NONCE: &str = "secret-nonce-3";
const TOKEN: &str = "secret-token-4";

fn assert_redacted(what: &str, shown: &[String]) {
    for shown in shown {
        for secret in [API_KEY, SOMBRA_KEY, NONCE, TOKEN] {
            assert!(!shown.contains(secret), "{what} shows {secret}: {shown}");
        }
    }
}

macro_rules! check {
    ($($value:expr),+ $(,)?) => {
        $(
            let value = &$value;
            assert_redacted(stringify!($value), &[format!("{value:?}"), format!("{value:#?}")]);
        )+
    };
}

fn builder() -> ClientBuilder {
    Client::builder()
        .api_key(API_KEY)
        .sombra_key(SOMBRA_KEY)
        .base_url("http://127.0.0.1:9")
}

#[tokio::test]
async fn debug_never_shows_a_key_a_nonce_or_a_token() {
    let job = PendingRequest::new("ada@example.com", NONCE);
    check!(
        ApiKey::new(API_KEY),
        SombraKey::new(SOMBRA_KEY),
        Nonce::new(NONCE),
        SombraToken::new(TOKEN),
        Some(Nonce::new(NONCE)),
        job.clone(),
        PendingRequestsPage::new(vec![job.clone()]),
        Report::new(NONCE, ErasureReport::default()),
        EnrichmentTarget::Nonce(Nonce::new(NONCE)),
        Config::new(API_KEY).with_sombra_key(SOMBRA_KEY).unwrap(),
        builder(),
        builder().build().unwrap(),
    );

    // What a pulled page holds, read from the wire.
    let page: PendingRequestsPage = serde_json::from_str(&format!(
        r#"{{"items":[{{"identifier":"ada@example.com","nonce":"{NONCE}"}}]}}"#
    ))
    .unwrap();
    assert_eq!(page.items[0].nonce.expose(), NONCE);
    check!(page);

    // Webhook deliveries, as read and as verified, and what a handler holds.
    let signer = TestSigner::new().unwrap();
    let verifier = signer.verifier(builder().build().unwrap(), "silo");
    let webhook = signer
        .webhook(
            "silo",
            &DsrJob::new(RequestAction::Access).with_core_identifier("id-1"),
            NONCE,
        )
        .unwrap();
    check!(parse_webhook(&webhook).unwrap(), verifier);
    let job = verifier.verify(&webhook).await.unwrap();
    check!(job.reporter, job);

    let enrichment = signer
        .enrichment_webhook("silo", &EnrichmentJob::new("id-2"), NONCE)
        .unwrap();
    check!(parse_enrichment_webhook(&enrichment).unwrap());
    let job = verifier.verify_enrichment(&enrichment).await.unwrap();
    check!(job.reporter, job);
}
