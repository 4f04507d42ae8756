//! Builds a DSR submission exactly as it goes on the wire, prints it, and reads a
//! canned answer back through the recording transport. Runs offline.
//!
//! `cargo run -p transcend-proto --example submit_offline`

use transcend_proto::http::StatusCode;
use transcend_proto::testing::RecordingTransport;
use transcend_proto::types::{Locale, RequestAction, Subject, SubmitDsr};
use transcend_proto::{Config, Endpoint, call, endpoint::submit_dsr::SubmitDsrEndpoint};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // snippet: sans-io
    let config =
        Config::new(std::env::var("TRANSCEND_API_KEY").unwrap_or_else(|_| "test-key".into()));
    let dsr = SubmitDsr::builder(
        RequestAction::Access,
        Subject::new("id-123456789").email("user@example.com"),
        "customer",
    )
    .locale(Locale::En)
    .is_test(true)
    .build()?;

    let request = SubmitDsrEndpoint::build_request(&config, &dsr)?; // an http::Request, validated
    // … send it with any HTTP library (or `transcend_proto::call` with a Transport) …
    // end
    println!("{} {} HTTP/1.1", request.method(), request.uri());
    for (name, value) in request.headers() {
        let shown = if value.is_sensitive() {
            "[REDACTED]"
        } else {
            value.to_str().unwrap_or("[binary]")
        };
        println!("{name}: {shown}");
    }
    println!("\n{}\n", String::from_utf8_lossy(request.body()));

    let transport = RecordingTransport::new();
    transport.reply_json(
        StatusCode::OK,
        &serde_json::json!({"request": {
            "id": "da13d328-3f9d-40d5-9312-9f4fcf3ad0d2", "status": "COMPILING", "type": "ACCESS",
            "subjectType": "customer", "email": "user@example.com", "coreIdentifier": "id-123456789",
            "isSilent": false, "isTest": true, "replyToEmailAddresses": [],
            "link": "https://app.transcend.io/privacy-requests/incoming-requests/da13d328-3f9d-40d5-9312-9f4fcf3ad0d2"
        }}),
    );
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let created = runtime.block_on(call::<SubmitDsrEndpoint, _>(&transport, &config, &dsr))?;
    println!(
        "created request {} in status {}",
        created.request.id, created.request.status
    );
    Ok(())
}
