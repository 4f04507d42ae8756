//! `transcend demo` tells the whole story and proves it: both requests finish, and the
//! emulator holds exactly what the silo sent.

use std::process::Command;

#[test]
fn the_demo_passes_its_checks_and_reports_them_as_json() {
    let output = Command::new(env!("CARGO_BIN_EXE_transcend"))
        .args(["demo", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["ok"], true);
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 8);
    assert!(checks.iter().all(|c| c["ok"] == true), "{checks:?}");
    assert_eq!(report["access"]["status"], "DOWNLOADABLE");
    assert_eq!(report["erasure"]["status"], "SECONDARY_COMPLETED");
    let file = &report["access"]["jobs"][0]["files"][0];
    assert_eq!(file["datapoint"], "photo");
    assert_eq!(file["size"], 96 * 1024);
    let events: Vec<String> = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e.contains("verified the ACCESS webhook")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.contains("verified the ERASURE webhook")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.contains("uploaded the file ada.jpg")),
        "{events:?}"
    );
}

#[test]
fn the_readable_timeline_ends_with_the_checks() {
    let output = Command::new(env!("CARGO_BIN_EXE_transcend"))
        .arg("demo")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("ok   the emulator holds the file the silo sent"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("all checks passed"), "{stdout}");
}
