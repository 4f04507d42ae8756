//! JSON reports are read as they arrive: a report refused part way (bad JSON, over the
//! limit, a dropped connection) leaves nothing behind, not even the values already
//! written to disk, and the job still takes the next report; a large page of a chunked
//! datapoint is kept on disk.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use common::{TestSilo, client, eventually};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use tokio::io::AsyncWriteExt;
use transcend_emulator::{Emulator, EmulatorConfig};
use transcend_hyper::types::{
    AccessProfile, AccessUpload, RequestAction, RequestStatus, Subject, SubmitDsr,
};
use transcend_proto::Nonce;

struct DataDir(PathBuf);

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The files under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// Polls `check` every 10 ms, failing after 30 s (a bound against a hang, not a
/// measurement).
async fn until(what: &str, check: impl Fn() -> bool) {
    for _ in 0..3000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never: {what}");
}

/// Sends `chunks` as one chunked body (no declared length) to `POST /v1/data-silo`.
/// `None` when the connection broke before the answer was read (the server may close
/// it as soon as it refuses a body it stopped reading).
async fn send_chunked(
    emulator: &Emulator,
    nonce: &Nonce,
    chunks: Vec<Vec<u8>>,
) -> Option<StatusCode> {
    let frames = futures_util::stream::iter(
        chunks
            .into_iter()
            .map(|c| Ok::<_, std::convert::Infallible>(http_body::Frame::data(Bytes::from(c)))),
    );
    let request = Request::post(format!("{}/v1/data-silo", emulator.base_url()))
        .header("authorization", "Bearer test-key")
        .header("content-type", "application/json")
        .header("x-transcend-nonce", nonce.expose())
        .body(StreamBody::new(frames).boxed())
        .unwrap();
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    http.request(request).await.ok().map(|r| r.status())
}

/// The opening of a report whose first value is `size` bytes of string: large enough
/// to be written to disk before the rest arrives.
fn opening(size: usize) -> Vec<u8> {
    format!(
        r#"{{"profiles":[{{"profileId":"ada","profileData":{{"history":"{}""#,
        "x".repeat(size)
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_refused_part_way_leaves_nothing_and_the_next_one_is_taken() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let dir = DataDir(std::env::temp_dir().join(format!(
        "transcend-emulator-access-{:032x}",
        fastrand::u128(..)
    )));
    let mut config = EmulatorConfig::default();
    config.data_dir = Some(dir.0.clone());
    config.body_limit = 512 * 1024;
    config.data_silos.push(
        silo.silo("users-db")
            .actions([RequestAction::Access])
            .datapoints(["name", "history"]),
    );
    let emulator = Emulator::builder().config(config).start().await.unwrap();
    let client = client(&emulator);
    let dsr = SubmitDsr::new(RequestAction::Access, Subject::new("ada"), "customer");
    let id = client.submit_dsr(&dsr).await.unwrap().request.id;
    let nonce = silo.wait_for(1).await.remove(0).nonce;
    let files = dir.0.join("files");

    // Broken JSON after a large value: 400, and the value written so far is deleted.
    let status = send_chunked(
        &emulator,
        &nonce,
        vec![opening(200_000), br#"","name": oops}}]}"#.to_vec()],
    )
    .await;
    assert_eq!(status, Some(StatusCode::BAD_REQUEST));
    assert!(files_under(&files).is_empty(), "{:?}", files_under(&files));

    // Over the limit with no declared length: 413 as it passes the limit.
    let status = send_chunked(
        &emulator,
        &nonce,
        vec![opening(300_000), vec![b'x'; 300_000], br#""}}]}"#.to_vec()],
    )
    .await;
    assert!(
        matches!(status, Some(StatusCode::PAYLOAD_TOO_LARGE) | None),
        "{status:?}"
    );
    assert!(files_under(&files).is_empty(), "{:?}", files_under(&files));

    // A connection dropped half way, once the large value is on disk.
    let address = emulator.base_url().trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(address.trim_end_matches('/'))
        .await
        .unwrap();
    let head = format!(
        "POST /v1/data-silo HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer test-key\r\n\
         content-type: application/json\r\nx-transcend-nonce: {}\r\ncontent-length: 500000\r\n\r\n",
        nonce.expose()
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&opening(300_000)).await.unwrap();
    until("the large value is written to disk", || {
        !files_under(&files).is_empty()
    })
    .await;
    drop(socket);
    until("the broken report's value is deleted", || {
        files_under(&files).is_empty()
    })
    .await;

    let view = emulator.request(&id).unwrap();
    assert!(view.jobs[0].files.is_empty() && view.jobs[0].profiles.is_empty());

    // The job still takes a whole report.
    let history = "y".repeat(300_000);
    let profile = AccessProfile::new("ada")
        .datapoint("name", serde_json::json!("Ada"))
        .datapoint("history", serde_json::json!(history));
    client
        .upload_access(&nonce, &AccessUpload::partial(vec![profile]))
        .await
        .unwrap();
    let view = eventually(&emulator, &id, |v| v.status == RequestStatus::Downloadable).await;
    let job = &view.jobs[0];
    assert_eq!(job.files.len(), 1);
    assert_eq!(job.files[0].datapoint, "history");
    assert_eq!(job.files[0].profile_id.as_deref(), Some("ada"));
    let kept: String = serde_json::from_slice(&std::fs::read(&job.files[0].path).unwrap()).unwrap();
    assert_eq!(kept, history);
    assert_eq!(files_under(&files).len(), 1);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_datapoint_page_is_kept_on_disk_and_a_small_one_in_memory() {
    let silo = TestSilo::start(TestSilo::accepting()).await;
    let emulator = Emulator::builder()
        .data_silo(
            silo.silo("users-db")
                .actions([RequestAction::Access])
                .datapoints(["friends"]),
        )
        .start()
        .await
        .unwrap();
    let client = client(&emulator);
    let dsr = SubmitDsr::new(RequestAction::Access, Subject::new("ada"), "customer");
    let id = client.submit_dsr(&dsr).await.unwrap().request.id;
    let nonce = silo.wait_for(1).await.remove(0).nonce;
    // About 300 KB of records in the first page, one record in the last.
    let large: Vec<serde_json::Value> = (0..10_000)
        .map(|i| serde_json::json!({"friend": i, "since": "2020"}))
        .collect();
    let small = vec![serde_json::json!({"friend": "last"})];
    let pages = client
        .upload_datapoint_chunked(&nonce, "friends", vec![large.clone(), small.clone()])
        .await
        .unwrap();
    assert_eq!(pages, 2);
    let view = eventually(&emulator, &id, |v| v.status == RequestStatus::Downloadable).await;
    let [first, last] = &view.jobs[0].pages[..] else {
        panic!("{:?}", view.jobs[0].pages.len())
    };
    assert!(first.data.is_empty() && !first.is_last_page);
    let path = first.path.as_deref().expect("the large page is on disk");
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(first.size, Some(bytes.len() as u64));
    let kept: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(kept, large);
    assert_eq!(last.data, small);
    assert!(last.path.is_none() && last.is_last_page);
    emulator.shutdown().await;
}
