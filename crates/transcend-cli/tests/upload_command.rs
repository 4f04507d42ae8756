//! `transcend request upload`, `status --from` and `restart --from` against an emulator:
//! exactly once under faults, resumed after a kill, paced under a rate limit.
//!
//! The emulator's data silo is a cron silo, so requests stay open and a second
//! submission for the same person is refused as already made: the duplicate check the
//! upload relies on when an answer was lost.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use transcend_emulator::{Emulator, EmulatorConfig};

const PULL_SILO: &str = r#"
[[data_silos]]
id = "warehouse"
webhook_url = "http://127.0.0.1:9/unused"
audience = "warehouse"
pull = true
"#;

async fn emulator(extra: &str) -> Emulator {
    let config = EmulatorConfig::from_toml(&format!("{PULL_SILO}\n{extra}")).unwrap();
    Emulator::builder().config(config).start().await.unwrap()
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "transcend-upload-{name}-{:032x}",
            fastrand::u128(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A CSV of `rows` people, alternating ERASURE and ACCESS.
fn write_csv(path: &Path, rows: usize) {
    let mut text = String::from("User ID,email,requestType,Phone\n");
    for i in 0..rows {
        let action = if i.is_multiple_of(2) {
            "ERASURE"
        } else {
            "ACCESS"
        };
        text.push_str(&format!(
            "user-{i},u{i}@example.com,{action},+1415555{:04}\n",
            i % 10_000
        ));
    }
    std::fs::write(path, text).unwrap();
}

fn command(emulator: &Emulator, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_transcend"));
    command
        .args(args)
        .env("TRANSCEND_API_KEY", emulator.api_key())
        .env("SOMBRA_URL", emulator.base_url())
        .env_remove("SOMBRA_API_KEY");
    command
}

fn run(emulator: &Emulator, args: &[&str]) -> Output {
    tokio::task::block_in_place(|| command(emulator, args).output().unwrap())
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The receipts as maps from column to value.
fn receipts(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// Every row of the CSV is one request in the emulator, and no other request exists.
fn assert_each_row_created_once(emulator: &Emulator, rows: usize) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for request in emulator.requests().requests {
        *seen.entry(request.core_identifier).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "created more than once: {twice:?}");
    let missing: Vec<String> = (0..rows)
        .map(|i| format!("user-{i}"))
        .filter(|id| !seen.contains_key(id))
        .collect();
    assert!(missing.is_empty(), "never created: {missing:?}");
    assert_eq!(seen.len(), rows);
}

const UPLOAD: &[&str] = &[
    "request",
    "upload",
    "--column",
    "coreIdentifier=User ID",
    "--identifier",
    "phone=Phone",
];

fn upload_args<'a>(csv: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = UPLOAD.to_vec();
    args.push(csv);
    args.extend_from_slice(extra);
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_is_created_exactly_once_under_faults_before_and_after_effect() {
    // 20% of answers fail: half before the submission is stored, half after it.
    let emulator = emulator(
        "[faults]\nerror_500 = 0.04\nerror_502 = 0.03\ndrop_connection = 0.03\n\
         error_500_after = 0.04\nerror_502_after = 0.03\ndrop_connection_after = 0.03\nseed = 11",
    )
    .await;
    let dir = Dir::new("exact");
    let csv = dir.path("backlog.csv");
    let rows = 10_000;
    write_csv(&csv, rows);
    let csv_arg = csv.display().to_string();
    // 30 attempts: the chance that any of 10,000 rows meets 30 faults in a row is nil.
    let output = run(
        &emulator,
        &upload_args(&csv_arg, &["--concurrency", "32", "--max-attempts", "30"]),
    );
    assert!(output.status.success(), "{}", text(&output));

    assert_each_row_created_once(&emulator, rows);
    let receipts = receipts(&dir.path("backlog.csv.receipts.csv"));
    assert_eq!(receipts.len(), rows);
    let by_outcome = |name: &str| receipts.iter().filter(|r| r["outcome"] == name).count();
    let (created, earlier) = (by_outcome("created"), by_outcome("created_earlier"));
    assert_eq!(created + earlier, rows, "{}", text(&output));
    assert!(
        earlier > 0,
        "faults after effect must have lost some answers"
    );
    // Every id in the receipts is the emulator's request for that row's person.
    for receipt in receipts.iter().filter(|r| r["outcome"] == "created") {
        let request = emulator.request(&receipt["requestId"]).unwrap();
        assert_eq!(request.core_identifier, receipt["coreIdentifier"]);
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path("backlog.csv.summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["total"]["failed"], 0);
    assert_eq!(summary["total"]["not_done"], 0);
    assert_eq!(summary["total"]["created"], created);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_upload_resumes_and_nothing_is_lost_or_doubled() {
    // Each answer takes a while, so the kill lands mid-upload.
    let emulator =
        emulator("[faults]\nlatency_ms = 20\ndrop_connection_after = 0.05\nseed = 5").await;
    let dir = Dir::new("resume");
    let csv = dir.path("backlog.csv");
    let rows = 5_000;
    write_csv(&csv, rows);
    let csv_arg = csv.display().to_string();
    let journal = dir.path("backlog.csv.journal");

    // At most 8 in flight with 20 ms each: about 12 s for the whole file, so the kill
    // after 300 rows lands well before the end.
    let mut child = command(
        &emulator,
        &upload_args(&csv_arg, &["--concurrency", "8", "--max-attempts", "30"]),
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    // Wait for some outcomes, then kill it without warning.
    let outcomes = |path: &Path| {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .matches("\"event\":\"done\"")
            .count()
    };
    let mut waited = 0;
    while outcomes(&journal) < 300 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
        assert!(waited < 3_000, "the upload made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before the kill"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = emulator.requests().requests.len();
    assert!(before < rows, "killed mid-upload: {before} of {rows}");

    let output = run(
        &emulator,
        &upload_args(&csv_arg, &["--concurrency", "64", "--max-attempts", "30"]),
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("settled in earlier runs; run 2"),
        "{}",
        text(&output)
    );
    assert_each_row_created_once(&emulator, rows);
    let receipts = receipts(&dir.path("backlog.csv.receipts.csv"));
    assert_eq!(receipts.len(), rows);
    assert!(
        receipts
            .iter()
            .all(|r| r["outcome"] == "created" || r["outcome"] == "created_earlier"),
        "{receipts:?}"
    );
    assert!(receipts.iter().any(|r| r["run"] == "1") && receipts.iter().any(|r| r["run"] == "2"));

    // A third run has nothing left to do and sends nothing.
    let again = run(&emulator, &upload_args(&csv_arg, &[]));
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(emulator.requests().requests.len(), rows);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_upload_waits_instead_of_failing() {
    let emulator = emulator("[rate_limit]\nrate = 150.0\nburst = 10").await;
    let dir = Dir::new("rate");
    let csv = dir.path("backlog.csv");
    write_csv(&csv, 300);
    let csv_arg = csv.display().to_string();
    let output = run(&emulator, &upload_args(&csv_arg, &["--concurrency", "20"]));
    assert!(output.status.success(), "{}", text(&output));
    assert_each_row_created_once(&emulator, 300);
    let receipts = receipts(&dir.path("backlog.csv.receipts.csv"));
    assert!(
        receipts.iter().all(|r| r["outcome"] == "created"),
        "{receipts:?}"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_names_each_problem_and_sends_nothing() {
    let emulator = emulator("").await;
    let dir = Dir::new("dry");
    let csv = dir.path("backlog.csv");
    std::fs::write(
        &csv,
        "User ID,email,requestType,Phone,When\n\
         user-1,a@example.com,ERASURE,+14155550100,2024-01-02\n\
         ,b@example.com,ERASURE,,\n\
         user-3,c@example.com,DELETE_IT,,\n\
         user-4,d@example.com,ACCESS,,last tuesday\n",
    )
    .unwrap();
    let csv_arg = csv.display().to_string();
    let output = run(
        &emulator,
        &upload_args(&csv_arg, &["--column", "createdAt=When", "--dry-run"]),
    );
    let out = text(&output);
    assert!(!output.status.success(), "{out}");
    assert!(
        out.contains("line 4: column \"requestType\" (type)"),
        "{out}"
    );
    assert!(out.contains("line 5: column \"When\" (createdAt)"), "{out}");
    assert!(out.contains("4 rows: 2 valid, 2 invalid"), "{out}");
    // The second row has no core identifier: its email stands in for it.
    assert!(!out.contains("line 3"), "{out}");
    assert!(emulator.requests().requests.is_empty());
    assert!(!dir.path("backlog.csv.journal").exists());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_invalid_rows_status_and_restart_from_the_receipts() {
    let emulator = emulator("").await;
    let dir = Dir::new("status");
    let csv = dir.path("backlog.csv");
    std::fs::write(
        &csv,
        "User ID,email,requestType,Phone\n\
         user-1,a@example.com,ERASURE,\n\
         user-1,a@example.com,ERASURE,\n\
         user-2,b@example.com,NOPE,\n\
         user-3,c@example.com,,\n",
    )
    .unwrap();
    let csv_arg = csv.display().to_string();
    let output = run(
        &emulator,
        &upload_args(&csv_arg, &["--type", "ACCESS", "--concurrency", "1"]),
    );
    assert!(output.status.success(), "{}", text(&output));
    let receipts_path = dir.path("backlog.csv.receipts.csv");
    let receipts = receipts(&receipts_path);
    let outcome = |row: &str| {
        receipts
            .iter()
            .find(|r| r["row"] == row)
            .map(|r| r["outcome"].clone())
    };
    assert_eq!(outcome("1").as_deref(), Some("created"));
    assert_eq!(outcome("2").as_deref(), Some("duplicate"));
    assert_eq!(outcome("3").as_deref(), Some("invalid"));
    assert_eq!(
        outcome("4").as_deref(),
        Some("created"),
        "the default type applies"
    );
    let user_3 = emulator
        .requests()
        .requests
        .into_iter()
        .find(|r| r.core_identifier == "user-3")
        .unwrap();
    assert_eq!(user_3.action.as_str(), "ACCESS");

    let receipts_arg = receipts_path.display().to_string();
    let status_out = dir.path("status.csv");
    let status_arg = status_out.display().to_string();
    let status = run(
        &emulator,
        &[
            "request",
            "status",
            "--from",
            &receipts_arg,
            "--out",
            &status_arg,
        ],
    );
    assert!(status.status.success(), "{}", text(&status));
    let written = std::fs::read_to_string(&status_out).unwrap();
    assert_eq!(written.lines().count(), 3, "{written}");
    assert!(written.starts_with("requestId,status,type,coreIdentifier,error\n"));
    assert!(written.contains(",COMPILING,ERASURE,user-1,"), "{written}");

    // A plain list of ids works too.
    let ids = dir.path("ids.txt");
    std::fs::write(&ids, format!("{}\n", user_3.id)).unwrap();
    let ids_arg = ids.display().to_string();
    let restarted = run(
        &emulator,
        &[
            "request",
            "restart",
            "--from",
            &ids_arg,
            "--skip-waiting-period",
        ],
    );
    assert!(restarted.status.success(), "{}", text(&restarted));
    assert!(String::from_utf8_lossy(&restarted.stdout).contains(&user_3.id));
    assert_eq!(emulator.request(&user_3.id).unwrap().restarts, 1);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_stops_the_upload_and_leaves_the_rows_for_a_rerun() {
    let emulator = emulator("").await;
    let dir = Dir::new("key");
    let csv = dir.path("backlog.csv");
    write_csv(&csv, 50);
    let csv_arg = csv.display().to_string();
    let output = tokio::task::block_in_place(|| {
        command(&emulator, &upload_args(&csv_arg, &[]))
            .env("TRANSCEND_API_KEY", "wrong-key")
            .output()
            .unwrap()
    });
    let out = text(&output);
    assert!(!output.status.success(), "{out}");
    assert!(out.contains("the server refused the key"), "{out}");
    assert!(!out.contains("wrong-key"), "the key is never shown: {out}");
    assert!(emulator.requests().requests.is_empty());
    let rerun = run(&emulator, &upload_args(&csv_arg, &[]));
    assert!(rerun.status.success(), "{}", text(&rerun));
    assert_each_row_created_once(&emulator, 50);
    emulator.shutdown().await;
}
