//! A complete data silo over an in-memory table: it verifies Transcend's webhooks,
//! exports a person's data for ACCESS jobs and deletes it for ERASURE jobs.
//!
//! Against the emulator (`cargo run -p transcend-cli -- emulator --config …` with a silo
//! whose webhook_url is http://127.0.0.1:9000/… and audience `users-db`):
//!
//! `TRANSCEND_API_KEY=test-key SOMBRA_URL=http://127.0.0.1:4000 cargo run -p transcend-hyper --example data_silo`

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;
use transcend_hyper::Client;
use transcend_hyper::silo::{Decision, SiloServer, WebhookVerifier};
use transcend_hyper::types::{AccessProfile, RequestAction};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Refused webhooks are logged with their reason (never the token): show them.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .init();

    // core identifier -> (email, name, plan): the personal data this service holds.
    // People are looked up by the core identifier, the one field the webhook's
    // signature covers; the body's other fields (`job.unsigned`) are not to be trusted.
    let table = Arc::new(Mutex::new(HashMap::from([
        (
            "user-ada".to_owned(),
            ("ada@example.com", "Ada Lovelace", "pro"),
        ),
        (
            "user-alan".to_owned(),
            ("alan@example.com", "Alan Turing", "free"),
        ),
    ])));

    // snippet: silo
    let verifier = WebhookVerifier::new(Client::from_env()?, "users-db"); // key cached 1 h
    let server = SiloServer::bind("127.0.0.1:9000".parse()?).await?;
    tracing::info!(addr = %server.addr(), "data silo listening");

    let running = server.serve(verifier, move |job| {
        let table = Arc::clone(&table);
        async move {
            let reporter = job.reporter.clone();
            let mut table = table
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match job.action {
                RequestAction::Access => match table.get(&job.core_identifier).copied() {
                    Some((email, name, plan)) => Decision::found(async move {
                        let profile = AccessProfile::new(email)
                            .datapoint("name", json!(name))
                            .datapoint("plan", json!(plan));
                        reporter.access(vec![profile]).await
                    }),
                    None => Decision::NotFound,
                },
                RequestAction::Erasure => match table.remove(&job.core_identifier) {
                    Some(_) => Decision::found(async move { reporter.erased().await }),
                    None => Decision::NotFound,
                },
                _ => Decision::NotFound,
            }
        }
    });

    // end
    tokio::signal::ctrl_c().await?;
    running.shutdown().await;
    Ok(())
}
