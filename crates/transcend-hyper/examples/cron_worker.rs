//! A cron ("pull") silo: it lists the erasure jobs waiting for it, erases each person,
//! and completes the job with its nonce. Run it from cron or a loop.
//!
//! ```sh
//! transcend emulator --config crates/transcend-hyper/examples/cron_worker.toml &
//! TRANSCEND_API_KEY=warehouse-key SOMBRA_URL=http://127.0.0.1:4000 cargo run -p transcend-hyper --example cron_worker
//! ```

use transcend_hyper::prelude::*;
use transcend_hyper::types::ErasureReport;

/// Erases the person from the warehouse (here: says so).
async fn erase(identifier: &str) -> Result<(), Error> {
    println!("erasing {identifier}");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::from_env()?;
    // snippet: cron
    let mut jobs =
        std::pin::pin!(client.pending_requests("warehouse", RequestAction::Erasure, 100));
    while let Some(job) = jobs.next().await {
        let job = job?; // job.identifier, job.core_identifier, job.nonce (never in Debug)
        erase(&job.identifier).await?;
        client
            .report_erasure(&job.nonce, &ErasureReport::erased())
            .await?;
    }
    // end
    Ok(())
}
