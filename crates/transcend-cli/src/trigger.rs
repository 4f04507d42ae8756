//! `transcend emulator trigger`: has a running emulator send one signed webhook to a
//! URL and prints what came back.

use std::time::Duration;

use clap::Args;
use transcend_hyper::proto::Transport;
use transcend_hyper::{Body, HyperTransport};

/// `transcend emulator trigger`.
#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// The running emulator.
    #[arg(long, default_value = "http://127.0.0.1:4000")]
    pub emulator: String,
    /// An API key of the emulator that may view.
    #[arg(
        long,
        env = "TRANSCEND_API_KEY",
        default_value = "test-key",
        hide_env_values = true
    )]
    pub api_key: String,
    /// Where to send the webhook (your silo or enricher).
    #[arg(long)]
    pub url: String,
    /// The token's audience (the silo's).
    #[arg(long)]
    pub audience: String,
    /// The person's core identifier (the token's value).
    #[arg(long)]
    pub core: String,
    /// The DSR type of the job.
    #[arg(long, default_value = "ACCESS")]
    pub action: String,
    /// Sends an enrichment webhook instead of a DSR job.
    #[arg(long)]
    pub enrichment: bool,
}

pub async fn run(args: TriggerArgs) -> Result<(), String> {
    let body = serde_json::json!({
        "url": args.url,
        "audience": args.audience,
        "coreIdentifier": args.core,
        "action": args.action,
        "enrichment": args.enrichment,
    });
    let request = transcend_hyper::http::Request::post(format!(
        "{}{}",
        args.emulator.trim_end_matches('/'),
        transcend_emulator::TRIGGER_PATH
    ))
    .header("authorization", format!("Bearer {}", args.api_key))
    .header("content-type", "application/json")
    .body(Body::full(body.to_string()))
    .map_err(|e| e.to_string())?;
    let transport = HyperTransport::new(Duration::from_secs(10)).map_err(|e| e.to_string())?;
    let response = transport.send(request).await.map_err(|e| e.to_string())?;
    let answer: serde_json::Value = serde_json::from_slice(response.body()).unwrap_or_default();
    if !response.status().is_success() {
        return Err(format!(
            "the emulator refused: {} {}",
            response.status(),
            answer["message"].as_str().unwrap_or_default()
        ));
    }
    let status = answer["status"].as_u64().unwrap_or(0);
    let what = answer["answer"].as_str().unwrap_or_default();
    let body = answer["body"].as_str().filter(|b| !b.is_empty());
    // 2xx is an answer Transcend takes (accepted, not found, a decision); anything else
    // (an error status, a timeout, no connection) is a silo that failed the delivery.
    if !(200..300).contains(&status) {
        let mut error = match status {
            0 => format!("{} did not answer: {what}", args.url),
            _ => format!("{} answered {status}: {what}", args.url),
        };
        if let Some(body) = body {
            error.push('\n');
            error.push_str(body);
        }
        return Err(error);
    }
    println!("{} answered {status}: {what}", args.url);
    if let Some(body) = body {
        println!("{body}");
    }
    Ok(())
}
