//! `transcend request download` and `transcend request restart` against an emulator.

use std::process::Command;

use transcend_emulator::Emulator;
use transcend_hyper::Client;
use transcend_hyper::types::{RequestAction, Subject, SubmitDsr};

fn transcend(emulator: &Emulator, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_transcend"))
        .args(args)
        .env("TRANSCEND_API_KEY", emulator.api_key())
        .env("SOMBRA_URL", emulator.base_url())
        .env_remove("SOMBRA_API_KEY")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_and_restart_a_request() {
    let emulator = Emulator::builder().start().await.unwrap();
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(emulator.api_key())
        .build()
        .unwrap();
    // No data silo: the ACCESS request is DOWNLOADABLE at once, with an empty report.
    let dsr = SubmitDsr::new(RequestAction::Access, Subject::new("user-9"), "customer");
    let id = client.submit_dsr(&dsr).await.unwrap().request.id;
    let dir = std::env::temp_dir().join(format!(
        "transcend-cli-download-{:032x}",
        fastrand::u128(..)
    ));

    let emulator_ref = &emulator;
    let out = dir.display().to_string();
    let downloaded = tokio::task::block_in_place(|| {
        transcend(emulator_ref, &["request", "download", &id, "--out", &out])
    });
    let stdout = String::from_utf8_lossy(&downloaded.stdout);
    assert!(
        downloaded.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&downloaded.stderr)
    );
    assert!(stdout.contains("0 files downloaded"), "{stdout}");
    assert!(dir.join("manifest.json").exists());

    let restarted = tokio::task::block_in_place(|| {
        transcend(
            emulator_ref,
            &["request", "restart", &id, "--skip-waiting-period"],
        )
    });
    let stdout = String::from_utf8_lossy(&restarted.stdout);
    assert!(
        restarted.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&restarted.stderr)
    );
    assert!(stdout.starts_with(&format!("restarted {id}")), "{stdout}");
    assert_eq!(emulator.request(&id).unwrap().restarts, 1);

    let refused = tokio::task::block_in_place(|| {
        transcend(
            emulator_ref,
            &["request", "restart", &id, "--strategy", "KEEP_EVERYTHING"],
        )
    });
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("PRESERVE_ALL_VERIFICATIONS"));
    std::fs::remove_dir_all(&dir).unwrap();
    emulator.shutdown().await;
}
