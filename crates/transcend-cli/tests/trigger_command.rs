//! `transcend emulator trigger` has a running emulator send a signed webhook.

use std::convert::Infallible;
use std::process::{Command, Output};

use transcend_emulator::Emulator;
use transcend_hyper::server::RunningServer;
use transcend_hyper::server::Server;

/// A silo answering every webhook with `status` and `body`.
async fn silo(status: u16, body: &'static str) -> (String, RunningServer) {
    let silo = Server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!("http://{}/hook", silo.local_addr());
    let handle = silo.serve(hyper::service::service_fn(move |_request| async move {
        let mut response = transcend_hyper::http::Response::new(http_body_util::Full::new(
            transcend_hyper::bytes::Bytes::from_static(body.as_bytes()),
        ));
        *response.status_mut() = transcend_hyper::http::StatusCode::from_u16(status).unwrap();
        Ok::<_, Infallible>(response)
    }));
    (url, handle)
}

fn trigger(emulator: &Emulator, url: &str) -> Output {
    tokio::task::block_in_place(|| {
        Command::new(env!("CARGO_BIN_EXE_transcend"))
            .args([
                "emulator",
                "trigger",
                "--emulator",
                emulator.base_url(),
                "--url",
                url,
                "--audience",
                "users-db",
                "--core",
                "user-1",
                "--action",
                "ERASURE",
            ])
            .env("TRANSCEND_API_KEY", emulator.api_key())
            .output()
            .unwrap()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_silo_answer_is_printed() {
    let emulator = Emulator::builder().start().await.unwrap();
    let (url, _silo) = silo(204, "").await;
    let output = trigger(&emulator, &url);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("answered 204: not found (skipped)"),
        "{stdout}"
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silo_that_refuses_the_webhook_fails_the_command() {
    let emulator = Emulator::builder().start().await.unwrap();
    let (url, _silo) = silo(401, r#"{"message":"bad token"}"#).await;
    let output = trigger(&emulator, &url);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("answered 401: failed with 401 Unauthorized: bad token"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("Failed {"),
        "no Rust Debug output: {stderr}"
    );
    emulator.shutdown().await;
}
