//! `transcend emulator trigger` has a running emulator send a signed webhook.

use std::convert::Infallible;
use std::process::Command;

use transcend_emulator::Emulator;
use transcend_hyper::server::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_silo_answer_is_printed() {
    let emulator = Emulator::builder().start().await.unwrap();
    let silo = Server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let url = format!("http://{}/hook", silo.local_addr());
    let _silo = silo.serve(hyper::service::service_fn(|_request| async {
        let mut response = transcend_hyper::http::Response::new(http_body_util::Full::new(
            transcend_hyper::bytes::Bytes::new(),
        ));
        *response.status_mut() = transcend_hyper::http::StatusCode::NO_CONTENT;
        Ok::<_, Infallible>(response)
    }));
    let output = tokio::task::block_in_place(|| {
        Command::new(env!("CARGO_BIN_EXE_transcend"))
            .args([
                "emulator",
                "trigger",
                "--emulator",
                emulator.base_url(),
                "--url",
                &url,
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
    });
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
