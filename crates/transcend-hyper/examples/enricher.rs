//! An enricher ("preflight"): before any silo runs, Transcend asks it for more of the
//! person's identifiers; it answers with a phone number found by e-mail, or nothing.
//!
//! ```sh
//! transcend emulator --config crates/transcend-hyper/examples/enricher.toml &
//! TRANSCEND_API_KEY=phone-lookup-key SOMBRA_URL=http://127.0.0.1:4000 cargo run -p transcend-hyper --example enricher
//! ```

use transcend_hyper::Client;
use transcend_hyper::silo::{EnrichmentDecision, SiloServer, WebhookVerifier};
use transcend_hyper::types::IdentifierType;

/// The phone number of a person (here: one known person).
fn lookup_phone(identifier: &str) -> Option<String> {
    (identifier == "ada@example.com").then(|| "+15555550100".to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .init();
    let verifier = WebhookVerifier::new(Client::from_env()?, "phone-lookup");
    let addr = "127.0.0.1:9100".parse()?;
    // snippet: enricher
    let running = SiloServer::bind(addr)
        .await?
        .serve_enricher(verifier, |job| async move {
            match lookup_phone(&job.identifier) {
                // the signed identifier
                Some(phone) => {
                    let reporter = job.reporter.clone();
                    EnrichmentDecision::enrich(async move {
                        reporter
                            .identifiers(IdentifierType::Phone, [phone])
                            .await
                            .map(drop)
                    })
                }
                None => EnrichmentDecision::NothingFound, // or Hold, or Cancel { template_id }
            }
        });
    // end
    tokio::signal::ctrl_c().await?;
    running.shutdown().await;
    Ok(())
}
