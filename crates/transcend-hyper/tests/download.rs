//! Downloading a report against a scripted Sombra: a key that expired is fetched again,
//! and a file that keeps failing is reported without stopping the others.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{TestServer, json};
use transcend_hyper::{Client, DownloadEvent, DownloadOptions};

fn client(url: &str) -> Client {
    Client::builder()
        .base_url(url)
        .api_key("k")
        .retry_policy(
            transcend_hyper::proto::RetryPolicy::default()
                .with_max_attempts(2)
                .with_backoff(
                    std::time::Duration::from_millis(1),
                    std::time::Duration::from_millis(2),
                ),
        )
        .build()
        .unwrap()
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("transcend-download-{:032x}", fastrand::u128(..)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_key_is_fetched_again_and_a_broken_file_reported() {
    let listings = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&listings);
    let server = TestServer::start(true, move |_, request| {
        let query = request.path_and_query.clone();
        if request.path.ends_with("/download-keys") {
            let round = counted.fetch_add(1, Ordering::SeqCst);
            let key = if round == 0 { "old" } else { "new" };
            return json(
                200,
                serde_json::json!({
                    "nodes": [
                        {"downloadKey": key, "fileName": "a.txt", "size": 5, "dataPoint": "notes"},
                        {"downloadKey": "broken", "fileName": "b.bin", "size": 3},
                    ],
                    "totalCount": 2,
                    "_links": {"next": null, "previous": null},
                }),
            );
        }
        match query.as_str() {
            "/v1/files?downloadKey=old" => json(
                400,
                serde_json::json!({"message": "Client error: fileMetadata#verify failed: expired"}),
            ),
            "/v1/files?downloadKey=new" => http::Response::new(http_body_util::Full::new(
                bytes::Bytes::from_static(b"hello"),
            )),
            _ => json(500, serde_json::json!({"message": "disk on fire"})),
        }
    })
    .await;
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let dir = temp_dir();
    let report = client(&server.url)
        .download_report(
            "r",
            &dir,
            DownloadOptions::default()
                .concurrency(2)
                .progress(move |event| seen.lock().unwrap().push(event)),
        )
        .await
        .unwrap();
    assert_eq!(report.downloaded, 1);
    assert_eq!(std::fs::read(dir.join("a.txt")).unwrap(), b"hello");
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].file, "b.bin");
    assert_eq!(
        report.failed[0].error.status().map(|s| s.as_u16()),
        Some(500)
    );
    assert!(!dir.join("b.bin").exists() && !dir.join("b.bin.part").exists());
    assert_eq!(listings.load(Ordering::SeqCst), 2, "keys listed again once");
    let events = events.lock().unwrap();
    assert_eq!(
        events[0],
        DownloadEvent::Planned {
            files: 2,
            bytes: 8,
            skipped: 0
        }
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, DownloadEvent::Failed { file } if file == "b.bin"))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_holding_another_download_is_refused_and_nothing_is_fetched() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let server = TestServer::start(true, move |_, request| {
        counted.fetch_add(1, Ordering::SeqCst);
        if request.path.ends_with("/download-keys") {
            return json(
                200,
                serde_json::json!({
                    "nodes": [{"downloadKey": "k", "fileName": "a.txt", "size": 5}],
                    "totalCount": 1,
                    "_links": {"next": null, "previous": null},
                }),
            );
        }
        http::Response::new(http_body_util::Full::new(bytes::Bytes::from_static(
            b"hello",
        )))
    })
    .await;
    let client = client(&server.url);

    // The first request's download, then a second request into the same folder.
    let dir = temp_dir();
    client
        .download_report("first", &dir, DownloadOptions::default())
        .await
        .unwrap();
    let before = calls.load(Ordering::SeqCst);
    let error = client
        .download_report("second", &dir, DownloadOptions::default())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("another request (first)"),
        "{error}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), before, "nothing was fetched");
    // The same request again is a rerun: its complete files are skipped.
    let rerun = client
        .download_report("first", &dir, DownloadOptions::default())
        .await
        .unwrap();
    assert_eq!((rerun.downloaded, rerun.skipped), (0, 1));

    // A folder with someone else's files and no manifest.
    let other = temp_dir();
    std::fs::write(other.join("notes.txt"), b"mine").unwrap();
    let error = client
        .download_report("first", &other, DownloadOptions::default())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("is not empty (notes.txt"),
        "{error}"
    );
    assert_eq!(std::fs::read(other.join("notes.txt")).unwrap(), b"mine");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&other).unwrap();
}
