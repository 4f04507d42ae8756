//! `transcend emulator` starts, prints where it listens and its key, and serves the API.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[test]
fn the_emulator_command_prints_its_url_and_key_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_transcend"))
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("transcend emulator listening on ")
        .unwrap()
        .to_owned();
    let key_line = lines.next().unwrap().unwrap();
    assert!(key_line.contains("test-key"), "{key_line}");

    let addr = url.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /public-keys/sombra-general-signing-key HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer test-key\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains("-----BEGIN PUBLIC KEY-----"),
        "{response}"
    );
}

#[test]
fn a_configured_api_key_is_never_printed() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_transcend"))
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--api-key",
            "sk-live-very-secret",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut shown = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        shown.push_str(&line);
        shown.push('\n');
        if line.starts_with("Ctrl-C") {
            break;
        }
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(shown.contains("API keys:"), "{shown}");
    assert!(!shown.contains("sk-live-very-secret"), "{shown}");
    assert!(!stderr.contains("sk-live-very-secret"), "{stderr}");
}

#[test]
fn a_bad_configuration_is_refused_with_its_reason() {
    let dir = std::env::temp_dir().join(format!("transcend-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, "[faults]\nerror_500 = 3.0\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_transcend"))
        .args(["emulator", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("error_500"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Stopped by SIGTERM (a service manager's or a container's stop), the emulator shuts
/// down and removes the folder it made for files in the system's temporary folder.
#[cfg(unix)]
#[test]
fn sigterm_stops_the_emulator_and_removes_its_temporary_files() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_transcend"))
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut files = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(path) = line.trim().strip_prefix("files:") {
            files = Some(std::path::PathBuf::from(path.trim()));
        }
        if line.starts_with("Ctrl-C") {
            break;
        }
    }
    let files = files.expect("the emulator prints its files' folder");
    assert!(files.is_dir(), "{}", files.display());
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "stopped cleanly: {status}");
    assert!(!files.exists(), "{} is left behind", files.display());
}
