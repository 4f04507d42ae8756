//! `transcend cron pull` and `transcend cron mark` against an emulator with a cron silo.

use std::process::Command;

use transcend_emulator::{DataSiloConfig, Emulator};
use transcend_hyper::Client;
use transcend_hyper::types::{RequestAction, Subject, SubmitDsr};

fn transcend(emulator: &Emulator, args: &[&str]) -> (bool, String, String) {
    let output = tokio::task::block_in_place(|| {
        Command::new(env!("CARGO_BIN_EXE_transcend"))
            .args(args)
            .env("TRANSCEND_API_KEY", emulator.api_key())
            .env("SOMBRA_URL", emulator.base_url())
            .env_remove("SOMBRA_API_KEY")
            .output()
            .unwrap()
    });
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_then_mark_and_a_rerun_does_not_redo_finished_work() {
    let emulator = Emulator::builder()
        .data_silo(
            DataSiloConfig::new("warehouse", "http://127.0.0.1:9/never-called")
                .actions([RequestAction::Erasure])
                .pull(),
        )
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .base_url(emulator.base_url())
        .api_key(emulator.api_key())
        .build()
        .unwrap();
    for i in 0..5 {
        let dsr = SubmitDsr::new(
            RequestAction::Erasure,
            Subject::new(format!("p-{i}")),
            "customer",
        );
        client.submit_dsr(&dsr).await.unwrap();
    }
    let dir = std::env::temp_dir().join(format!("transcend-cli-cron-{:032x}", fastrand::u128(..)));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("jobs.csv").display().to_string();
    let jsonl = dir.join("jobs.jsonl").display().to_string();

    let (ok, _, stderr) = transcend(
        &emulator,
        &[
            "cron",
            "pull",
            "--silo",
            "warehouse",
            "--action",
            "ERASURE",
            "--out",
            &csv,
            "--page-size",
            "2",
        ],
    );
    assert!(ok, "{stderr}");
    assert!(stderr.contains("5 jobs waiting"), "{stderr}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 6, "{text}");
    assert!(
        text.starts_with("nonce,requestId,identifier,type"),
        "{text}"
    );
    let (ok, _, stderr) = transcend(
        &emulator,
        &[
            "cron",
            "pull",
            "--silo",
            "warehouse",
            "--action",
            "ERASURE",
            "--out",
            &jsonl,
            "--format",
            "jsonl",
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(std::fs::read_to_string(&jsonl).unwrap().lines().count(), 5);

    let (ok, stdout, stderr) = transcend(
        &emulator,
        &["cron", "mark", "--silo", "warehouse", "--input", &csv],
    );
    assert!(ok, "{stdout} {stderr}");
    assert!(
        stdout.contains("completed 5, already done 0, failed 0, skipped 0"),
        "{stdout}"
    );

    // A rerun skips what the journal records.
    let (ok, stdout, _) = transcend(
        &emulator,
        &["cron", "mark", "--silo", "warehouse", "--input", &csv],
    );
    assert!(ok);
    assert!(
        stdout.contains("completed 0, already done 0, failed 0, skipped 5"),
        "{stdout}"
    );

    // A run interrupted before recording two completions: the rerun finds them done (409).
    let journal = format!("{csv}.done");
    let recorded = std::fs::read_to_string(&journal).unwrap();
    let kept: Vec<&str> = recorded.lines().take(3).collect();
    std::fs::write(&journal, format!("{}\n", kept.join("\n"))).unwrap();
    let (ok, stdout, _) = transcend(
        &emulator,
        &["cron", "mark", "--silo", "warehouse", "--input", &csv],
    );
    assert!(ok);
    assert!(
        stdout.contains("completed 0, already done 2, failed 0, skipped 3"),
        "{stdout}"
    );

    // The JSON-lines file names the same jobs: all done.
    let (ok, stdout, _) = transcend(
        &emulator,
        &[
            "cron",
            "mark",
            "--silo",
            "warehouse",
            "--input",
            &jsonl,
            "--format",
            "jsonl",
        ],
    );
    assert!(ok);
    assert!(stdout.contains("already done 5"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
    emulator.shutdown().await;
}
