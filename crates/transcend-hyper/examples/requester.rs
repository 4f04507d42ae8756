//! A requester: submits an access request, waits for it, downloads what the silos
//! found, lists its identifiers; and a duplicate submission told apart from a failure.
//!
//! Against the emulator, with the silo of `data_silo.rs` answering:
//!
//! ```sh
//! transcend emulator --config crates/transcend-hyper/examples/requester.toml &
//! TRANSCEND_API_KEY=test-key SOMBRA_URL=http://127.0.0.1:4000 cargo run -p transcend-hyper --example data_silo &
//! TRANSCEND_API_KEY=backend-key SOMBRA_URL=http://127.0.0.1:4000 cargo run -p transcend-hyper --example requester
//! ```

use transcend_hyper::prelude::*;
use transcend_hyper::{DownloadOptions, RestartOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // snippet: submit
    let client = Client::from_env()?; // TRANSCEND_API_KEY, SOMBRA_URL, SOMBRA_API_KEY

    // Submit a DSR and wait for it.
    let dsr = SubmitDsr::new(
        RequestAction::Access,
        Subject::new("user-ada").email("ada@example.com"),
        "customer",
    );
    let created = client.submit_dsr(&dsr).await?;
    let done = client
        .wait_for_dsr(
            &created.request.id,
            WaitOptions::until([RequestStatus::Downloadable]),
        )
        .await?;
    // end
    println!("request {} is {}", created.request.id, done.status);

    // snippet: results
    let report = client
        .download_report(&created.request.id, "report/", DownloadOptions::default())
        .await?;
    // report/manifest.json lists file, datapoint, size, sha256; a rerun skips complete
    // files, expired keys are fetched again, and report.failed names each file that failed.
    let ids: Vec<_> = client
        .request_identifiers(&created.request.id)
        .try_collect()
        .await?;
    // end
    println!("{} files, {} identifiers", report.files.len(), ids.len());

    // snippet: errors
    match client.submit_dsr(&dsr).await {
        Ok(again) => println!("created {}", again.request.id),
        // "You have already made this request.": the request exists; nothing new.
        Err(e) if e.is_duplicate() => println!("already submitted"),
        // Refused before sending: every broken rule, by field.
        Err(e) if e.kind() == Some(ErrorKind::Invalid) => {
            for problem in e.problems() {
                eprintln!("{problem}");
            }
        }
        Err(e) => return Err(e.into()),
    }
    // end
    let restarted = client
        .restart_dsr(&created.request.id, RestartOptions::default())
        .await?;
    println!("restarted as {}", restarted.request.id);
    Ok(())
}
