//! `transcend request approve | cancel | mark-silent | notify-additional-time |
//! enricher-restart | skip-preflight-jobs | reject-unverified-identifiers` and
//! `transcend request system …` against an emulator: what each changes, a dry run that
//! changes nothing, already-done answers counted as done, a kill and a rerun that
//! repeats no mutation, a wrong key, a rate limit.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use transcend_emulator::{Emulator, EmulatorConfig, EnricherConfig, RequestView};
use transcend_hyper::types::{RequestAction, RequestStatus, Subject, SubmitDsr};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "transcend-manage-{name}-{:032x}",
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

async fn emulator(toml: &str) -> Emulator {
    let config = EmulatorConfig::from_toml(toml).unwrap();
    Emulator::builder().config(config).start().await.unwrap()
}

const APPROVAL: &str = "[lifecycle]\napproval = true\n";

fn command(emulator: &Emulator, key: &str, dir: &Dir, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_transcend"));
    command
        .args(args)
        .current_dir(&dir.0)
        .env("TRANSCEND_API_KEY", key)
        .env("TRANSCEND_API_URL", emulator.base_url())
        .env("SOMBRA_URL", emulator.base_url())
        .env_remove("SOMBRA_API_KEY");
    command
}

fn run(emulator: &Emulator, dir: &Dir, args: &[&str]) -> Output {
    let key = emulator.api_key();
    tokio::task::block_in_place(|| command(emulator, &key, dir, args).output().unwrap())
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn submit(emulator: &Emulator, n: usize, action: RequestAction) -> Vec<String> {
    let client = transcend_hyper::Client::builder()
        .base_url(emulator.base_url())
        .api_key(emulator.api_key())
        .build()
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let dsr = SubmitDsr::new(
            action.clone(),
            Subject::new(format!("person-{i}")).email(format!("p{i}@example.com")),
            "customer",
        );
        ids.push(client.submit_dsr(&dsr).await.unwrap().request.id);
    }
    ids
}

fn statuses(emulator: &Emulator, ids: &[String]) -> Vec<RequestStatus> {
    ids.iter()
        .map(|id| emulator.request(id).unwrap().status)
        .collect()
}

fn receipts(path: &std::path::Path) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[2].to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_dry_run_changes_nothing_then_approves_and_a_rerun_repeats_nothing() {
    let emulator = emulator(APPROVAL).await;
    let ids = submit(&emulator, 12, RequestAction::ContactOptOut).await;
    let dir = Dir::new("approve");

    let dry = run(&emulator, &dir, &["request", "approve", "--dry-run"]);
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(text(&dry).contains("12 would change"), "{}", text(&dry));
    assert!(
        statuses(&emulator, &ids)
            .iter()
            .all(|s| *s == RequestStatus::Approving)
    );

    let journal = dir.path("approve.journal");
    let journal_arg = journal.to_str().unwrap();
    let done = run(
        &emulator,
        &dir,
        &["request", "approve", "--journal", journal_arg],
    );
    assert!(done.status.success(), "{}", text(&done));
    assert!(text(&done).contains("12 changed"), "{}", text(&done));
    assert!(
        statuses(&emulator, &ids)
            .iter()
            .all(|s| *s == RequestStatus::Completed)
    );
    let receipts = receipts(&dir.path("approve.journal.receipts.csv"));
    assert_eq!(receipts.len(), 12);
    assert!(receipts.iter().all(|(_, outcome)| outcome == "changed"));

    // The same command again: nothing waits, nothing is sent.
    let again = run(
        &emulator,
        &dir,
        &["request", "approve", "--journal", journal_arg],
    );
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("0 changed"), "{}", text(&again));
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_already_approved_request_counts_as_done_not_failed() {
    let emulator = emulator(APPROVAL).await;
    let ids = submit(&emulator, 3, RequestAction::ContactOptOut).await;
    let dir = Dir::new("already");
    // A journal of an earlier run that approved the first request but failed its line:
    // the rerun sends it again and the admin API says it is done.
    let journal = dir.path("approve.journal");
    std::fs::write(
        &journal,
        format!(
            "{{\"id\":\"{0}\",\"request_id\":\"{0}\",\"outcome\":\"failed\",\"message\":\"timed out\"}}\n",
            ids[0]
        ),
    )
    .unwrap();
    let client = transcend_hyper::Client::builder()
        .base_url(emulator.base_url())
        .backend_url(emulator.base_url())
        .api_key(emulator.api_key())
        .build()
        .unwrap();
    client.approve_request(&ids[0], None).await.unwrap();
    let output = run(
        &emulator,
        &dir,
        &[
            "request",
            "approve",
            "--requestIds",
            &ids.join(","),
            "--statuses",
            "APPROVING,COMPLETED",
            "--journal",
            journal.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("2 changed, 1 already done"),
        "{}",
        text(&output)
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_reruns_without_repeating_a_mutation() {
    // Slow answers, so the kill lands in the middle of the run.
    let emulator = emulator(&format!("{APPROVAL}\n[faults]\nlatency_ms = 15\n")).await;
    let ids = submit(&emulator, 120, RequestAction::ContactOptOut).await;
    let dir = Dir::new("kill");
    let journal = dir.path("notify.journal");
    let args = [
        "request",
        "notify-additional-time",
        "--days-left",
        "40",
        "--days",
        "30",
        "--concurrency",
        "4",
        "--journal",
        journal.to_str().unwrap(),
    ];
    let key = emulator.api_key();
    let mut child = command(&emulator, &key, &dir, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until some requests are settled, then kill -9.
    for _ in 0..2000 {
        let written = std::fs::read_to_string(&journal).unwrap_or_default();
        if written.lines().count() >= 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let first: Vec<String> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"changed\""))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    // (On a machine so busy that the run ends before the kill, the rerun must still
    // send nothing twice: the check below holds either way.)
    assert!(
        !first.is_empty(),
        "the first run settled nothing before the kill"
    );

    let rerun = run(&emulator, &dir, &args);
    assert!(rerun.status.success(), "{}", text(&rerun));
    // Every request was extended exactly once: 30 days + 30 = 60 left, never 90.
    for id in &ids {
        let view: RequestView = emulator.request(id).unwrap();
        let extended = view
            .timeline
            .iter()
            .filter(|c| {
                c.note
                    .as_deref()
                    .is_some_and(|n| n.starts_with("deadline extended"))
            })
            .count();
        assert_eq!(extended, 1, "{id} extended {extended} times");
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_mark_silent_with_templates_and_filters() {
    let emulator = emulator(APPROVAL).await;
    let access = submit(&emulator, 3, RequestAction::Access).await;
    let dir = Dir::new("cancel");
    let silent = run(
        &emulator,
        &dir,
        &["request", "mark-silent", "--requestIds", &access[0]],
    );
    assert!(silent.status.success(), "{}", text(&silent));
    assert!(text(&silent).contains("1 changed"), "{}", text(&silent));

    let missing = run(
        &emulator,
        &dir,
        &["request", "cancel", "--cancellationTitle", "Nope"],
    );
    assert!(!missing.status.success());
    assert!(
        text(&missing).contains("no e-mail template titled \"Nope\""),
        "{}",
        text(&missing)
    );

    let cancel = run(
        &emulator,
        &dir,
        &[
            "request",
            "cancel",
            "--actions",
            "ACCESS",
            "--silentModeBefore",
            "2999-01-01T00:00:00.000Z",
        ],
    );
    assert!(cancel.status.success(), "{}", text(&cancel));
    assert!(text(&cancel).contains("3 changed"), "{}", text(&cancel));
    assert!(
        statuses(&emulator, &access)
            .iter()
            .all(|s| *s == RequestStatus::Canceled)
    );
    // Made silent first (all were made before the date): nobody was e-mailed.
    for id in &access {
        let notes: Vec<String> = emulator
            .request(id)
            .unwrap()
            .timeline
            .into_iter()
            .filter_map(|c| c.note)
            .collect();
        assert!(notes.iter().all(|n| !n.contains("e-mailed")), "{notes:?}");
        assert!(notes.iter().any(|n| n == "marked silent"), "{notes:?}");
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_stops_at_once_without_printing_it() {
    let emulator = emulator(APPROVAL).await;
    submit(&emulator, 2, RequestAction::ContactOptOut).await;
    let dir = Dir::new("wrong");
    let output = tokio::task::block_in_place(|| {
        command(&emulator, "not-the-key-4242", &dir, &["request", "approve"])
            .output()
            .unwrap()
    });
    assert!(!output.status.success());
    let said = text(&output);
    assert!(said.contains("API key"), "{said}");
    assert!(!said.contains("not-the-key-4242"), "{said}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_emulator_slows_the_run_and_nothing_fails() {
    let emulator = emulator(&format!(
        "{APPROVAL}\n[rate_limit]\nrate = 40.0\nburst = 5\n"
    ))
    .await;
    let ids = submit_slowly(&emulator, 30).await;
    let dir = Dir::new("rate");
    let output = run(
        &emulator,
        &dir,
        &["request", "approve", "--concurrency", "10"],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("30 changed"), "{}", text(&output));
    assert!(
        statuses(&emulator, &ids)
            .iter()
            .all(|s| *s == RequestStatus::Completed)
    );
    emulator.shutdown().await;
}

/// Submissions paced under the emulator's own rate limit (the client retries 429s).
async fn submit_slowly(emulator: &Emulator, n: usize) -> Vec<String> {
    let client = transcend_hyper::Client::builder()
        .base_url(emulator.base_url())
        .api_key(emulator.api_key())
        .max_attempts(20)
        .build()
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let dsr = SubmitDsr::new(
            RequestAction::ContactOptOut,
            Subject::new(format!("slow-{i}")),
            "customer",
        );
        ids.push(client.submit_dsr(&dsr).await.unwrap().request.id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_silos_are_retried_skipped_and_marked_completed() {
    let emulator = emulator(
        r#"
        [[data_silos]]
        id = "warehouse"
        webhook_url = "http://127.0.0.1:9/unused"
        audience = "warehouse"
        pull = true
        "#,
    )
    .await;
    let ids = submit(&emulator, 4, RequestAction::Erasure).await;
    let dir = Dir::new("silos");
    let retry = run(
        &emulator,
        &dir,
        &[
            "request",
            "system",
            "retry-request-data-silos",
            "--dataSiloId",
            "warehouse",
        ],
    );
    assert!(retry.status.success(), "{}", text(&retry));
    assert!(text(&retry).contains("4 changed"), "{}", text(&retry));

    let file = dir.path("ids.csv");
    std::fs::write(&file, format!("Request Id\n{}\n{}\n", ids[0], ids[1])).unwrap();
    let mark = run(
        &emulator,
        &dir,
        &[
            "request",
            "system",
            "mark-request-data-silos-completed",
            "--file",
            file.to_str().unwrap(),
            "--data-silo-id",
            "warehouse",
        ],
    );
    assert!(mark.status.success(), "{}", text(&mark));
    assert_eq!(
        statuses(&emulator, &ids[..2]),
        [
            RequestStatus::SecondaryCompleted,
            RequestStatus::SecondaryCompleted
        ]
    );
    let skip = run(
        &emulator,
        &dir,
        &[
            "request",
            "system",
            "skip-request-data-silos",
            "--data-silo-id",
            "warehouse",
        ],
    );
    assert!(skip.status.success(), "{}", text(&skip));
    assert!(text(&skip).contains("2 changed"), "{}", text(&skip));
    assert!(
        statuses(&emulator, &ids)
            .iter()
            .all(|s| *s == RequestStatus::SecondaryCompleted)
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrichers_are_restarted_and_skipped_and_unverified_identifiers_rejected() {
    let config = EmulatorConfig::from_toml("[[enrichers]]\nid = \"id-check\"\n").unwrap();
    assert!(config.enrichers[0].is_manual());
    let emulator = Emulator::builder()
        .config(config)
        .enricher(EnricherConfig::manual("by-hand"))
        .start()
        .await
        .unwrap();
    let ids = submit(&emulator, 2, RequestAction::Access).await;
    let dir = Dir::new("enrichers");
    let restart = run(
        &emulator,
        &dir,
        &["request", "enricher-restart", "--enricherId", "id-check"],
    );
    assert!(restart.status.success(), "{}", text(&restart));
    assert!(text(&restart).contains("2 changed"), "{}", text(&restart));

    let skip = run(
        &emulator,
        &dir,
        &[
            "request",
            "skip-preflight-jobs",
            "--enricherIds",
            "id-check,by-hand",
        ],
    );
    assert!(skip.status.success(), "{}", text(&skip));
    assert!(text(&skip).contains("4 changed"), "{}", text(&skip));
    assert!(
        statuses(&emulator, &ids)
            .iter()
            .all(|s| *s == RequestStatus::Downloadable)
    );

    let reject = run(
        &emulator,
        &dir,
        &[
            "request",
            "reject-unverified-identifiers",
            "--statuses",
            "DOWNLOADABLE",
        ],
    );
    assert!(reject.status.success(), "{}", text(&reject));
    assert!(
        text(&reject).contains("2 skipped"),
        "nothing unverified: {}",
        text(&reject)
    );
    emulator.shutdown().await;
}

fn exported_ids(path: &std::path::Path) -> Vec<String> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader.records().map(|r| r.unwrap()[0].to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_while_requests_change_misses_none_and_repeats_none() {
    let emulator = emulator(&format!("{APPROVAL}\n[faults]\nlatency_ms = 2\n")).await;
    let ids = submit(&emulator, 240, RequestAction::ContactOptOut).await;
    let dir = Dir::new("export");
    let key = emulator.api_key();
    let file = dir.path("out.csv");
    let mut child = command(
        &emulator,
        &key,
        &dir,
        &[
            "request",
            "export",
            "--all-statuses",
            "--identifier-concurrency",
            "1",
            "--file",
            file.to_str().unwrap(),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    // Requests change under the walk: approved, made silent; new ones are made.
    let client = transcend_hyper::Client::builder()
        .base_url(emulator.base_url())
        .backend_url(emulator.base_url())
        .api_key(emulator.api_key())
        .build()
        .unwrap();
    for id in ids.iter().step_by(7) {
        client.approve_request(id, None).await.unwrap();
        client.mark_silent(id).await.unwrap();
    }
    submit(&emulator, 5, RequestAction::Access).await;
    let status = tokio::task::block_in_place(|| child.wait().unwrap());
    assert!(status.success());
    let exported = exported_ids(&file);
    let unique: std::collections::HashSet<&String> = exported.iter().collect();
    assert_eq!(unique.len(), exported.len(), "a request exported twice");
    for id in &ids {
        assert!(unique.contains(id), "{id} missed");
    }
    // Each row carries the request's identifiers, from Sombra's identifiers call.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("email:p0@example.com"),
        "{}",
        &text[..300.min(text.len())]
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_in_chunks_and_as_json_lines() {
    let emulator = emulator(APPROVAL).await;
    let ids = submit(&emulator, 30, RequestAction::ContactOptOut).await;
    let dir = Dir::new("chunks");
    let file = dir.path("requests.csv");
    let output = run(
        &emulator,
        &dir,
        &[
            "request",
            "export",
            "--concurrency",
            "3",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let mut all = Vec::new();
    for n in 1..=3 {
        all.extend(exported_ids(&dir.path(&format!("requests-{n}.csv"))));
    }
    all.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(all, expected, "every request once, across the chunks");

    let jsonl = dir.path("requests.jsonl");
    let output = run(
        &emulator,
        &dir,
        &[
            "request",
            "export",
            "--format",
            "jsonl",
            "--file",
            jsonl.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 30);
    assert_eq!(lines[0]["status"], "APPROVING");
    assert!(lines[0]["identifiers"].as_array().unwrap().len() >= 2);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_identifiers_pulled_filled_in_and_pushed() {
    let emulator = emulator("[[enrichers]]\nid = \"id-check\"\n").await;
    let ids = submit(&emulator, 3, RequestAction::Access).await;
    let dir = Dir::new("preflight");
    let pulled = dir.path("pulled.csv");
    let output = run(
        &emulator,
        &dir,
        &[
            "request",
            "preflight",
            "pull-identifiers",
            "--file",
            pulled.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    // A person adds the phone numbers they found.
    let text_in = std::fs::read_to_string(&pulled).unwrap();
    let mut filled = String::new();
    for (n, line) in text_in.lines().enumerate() {
        if n == 0 {
            filled.push_str(&format!("{line},phone\n"));
        } else {
            filled.push_str(&format!("{line},+1415555010{n}\n"));
        }
    }
    let push_file = dir.path("found.csv");
    std::fs::write(&push_file, filled).unwrap();
    let output = run(
        &emulator,
        &dir,
        &[
            "request",
            "preflight",
            "push-identifiers",
            "--file",
            push_file.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("3 changed"), "{}", text(&output));
    for id in &ids {
        let view = emulator.request(id).unwrap();
        assert_eq!(view.status, RequestStatus::Downloadable);
        assert_eq!(
            view.enriched_identifiers.len(),
            1,
            "{:?}",
            view.enriched_identifiers
        );
    }
    // Pushed again under another journal: the enrichers are resolved, so skipped.
    let again = run(
        &emulator,
        &dir,
        &[
            "request",
            "preflight",
            "push-identifiers",
            "--file",
            push_file.to_str().unwrap(),
            "--journal",
            "other.journal",
        ],
    );
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("3 skipped"), "{}", text(&again));
    emulator.shutdown().await;
}

/// `request export` reads identifiers through Sombra, which answers that call from
/// 7.180.0 on: an organization whose Sombra is older is refused before anything is
/// written, as Transcend's CLI refuses it; 7.180.0 (the emulator's default) is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_needs_sombra_7_180_0() {
    let old = emulator("[admin]\nsombra_version = \"7.179.2\"\n").await;
    submit(&old, 2, RequestAction::Access).await;
    let dir = Dir::new("old-sombra");
    let file = dir.path("requests.csv");
    let output = run(
        &old,
        &dir,
        &[
            "request",
            "export",
            "--all-statuses",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    assert!(!output.status.success());
    assert!(
        text(&output).contains("7.179.2") && text(&output).contains("7.180.0"),
        "{}",
        text(&output)
    );
    assert!(!file.exists(), "nothing written");
    old.shutdown().await;

    let current = emulator("").await;
    let ids = submit(&current, 2, RequestAction::Access).await;
    let output = run(
        &current,
        &dir,
        &[
            "request",
            "export",
            "--all-statuses",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(exported_ids(&file).len(), ids.len());
    current.shutdown().await;
}
