//! A data silo in an axum application with its own state: the webhook verified by the
//! `VerifiedJob` extractor, the verifier found in the app's state through `FromRef`.
//!
//! ```sh
//! transcend emulator --config crates/transcend-hyper/examples/axum_silo.toml &
//! TRANSCEND_API_KEY=users-db-key SOMBRA_URL=http://127.0.0.1:4000 cargo run -p transcend-hyper --features axum --example axum_silo &
//! transcend emulator trigger --url http://127.0.0.1:9000/transcend/webhook --audience users-db --core user-ada
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::{Router, routing::post};
use serde_json::json;
use transcend_hyper::Client;
use transcend_hyper::silo::axum::VerifiedJob;
use transcend_hyper::silo::{Decision, WebhookVerifier};
use transcend_hyper::types::{AccessProfile, RequestAction};

// snippet: axum
#[derive(Clone)]
struct AppState {
    verifier: WebhookVerifier,
    users: Arc<HashMap<String, String>>, // core identifier -> name
}

impl FromRef<AppState> for WebhookVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

async fn webhook(State(state): State<AppState>, VerifiedJob(job): VerifiedJob) -> Decision {
    let Some(name) = state.users.get(&job.core_identifier).cloned() else {
        return Decision::NotFound; // 204: this silo has no data on the person
    };
    let reporter = job.reporter.clone();
    match job.action {
        RequestAction::Access => Decision::found(async move {
            let profile =
                AccessProfile::new(job.core_identifier.clone()).datapoint("name", json!(name));
            reporter.access(vec![profile]).await
        }),
        _ => Decision::found(async move { reporter.erased().await }),
    }
}
// end

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .init();
    // snippet: axum-router
    let state = AppState {
        verifier: WebhookVerifier::new(Client::from_env()?, "users-db"),
        users: Arc::new(HashMap::from([("user-ada".into(), "Ada Lovelace".into())])),
    };
    let app = Router::new()
        .route("/transcend/webhook", post(webhook))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:9000").await?;
    axum::serve(listener, app).await?;
    // end
    Ok(())
}
