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
    // email -> (name, plan): the personal data this service holds.
    let table = Arc::new(Mutex::new(HashMap::from([
        (
            "ada@example.com".to_owned(),
            ("Ada Lovelace".to_owned(), "pro".to_owned()),
        ),
        (
            "alan@example.com".to_owned(),
            ("Alan Turing".to_owned(), "free".to_owned()),
        ),
    ])));

    let verifier = WebhookVerifier::new(Client::from_env()?, "users-db");
    let server = SiloServer::bind("127.0.0.1:9000".parse()?).await?;
    println!("data silo listening on http://{}", server.addr());

    let running = server.serve(verifier, move |job| {
        let table = Arc::clone(&table);
        async move {
            let Some((email, _)) = job.profile.clone() else {
                return Decision::NotFound;
            };
            let reporter = job.reporter.clone();
            let mut table = table
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match job.action {
                RequestAction::Access => match table.get(&email).cloned() {
                    Some((name, plan)) => Decision::found(async move {
                        let profile = AccessProfile::new(&email)
                            .datapoint("name", json!(name))
                            .datapoint("plan", json!(plan));
                        reporter.access(vec![profile]).await
                    }),
                    None => Decision::NotFound,
                },
                RequestAction::Erasure => match table.remove(&email) {
                    Some(_) => Decision::found(async move { reporter.erased().await }),
                    None => Decision::NotFound,
                },
                _ => Decision::NotFound,
            }
        }
    });

    tokio::signal::ctrl_c().await?;
    running.shutdown().await;
    Ok(())
}
