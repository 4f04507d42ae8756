//! The dashboard in a real browser: a headless Chromium (the system's) loads the page
//! from an emulator on 127.0.0.1, which lists a submitted request; a click on the row
//! and one on Approve move the request on, in the emulator and on the page.
//!
//! Without a Chromium this test says it skips, unless `TRANSCEND_REQUIRE_BROWSER` is
//! set (CI sets it, and installs Chromium).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use chromiumoxide::{Browser, BrowserConfig, Page};
use common::{client, submit};
use futures_util::StreamExt;
use transcend_emulator::{DASHBOARD_PATH, Emulator, EmulatorConfig};
use transcend_hyper::types::{RequestAction, RequestStatus};

/// The system's Chromium (or Chrome), or `CHROME` if set.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROME") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|candidate| candidate.is_file())
}

/// Polls the page until the element `selector` has the text `expected` (at most 30 s).
async fn wait_for_text(page: &Page, selector: &str, expected: &str) {
    let mut last = None;
    for _ in 0..300 {
        if let Ok(element) = page.find_element(selector).await {
            last = element.inner_text().await.ok().flatten();
            if last.as_deref().map(str::trim) == Some(expected) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{selector} never showed {expected:?} (last: {last:?})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_lists_a_request_and_a_click_approves_it() {
    let Some(executable) = chromium() else {
        assert!(
            std::env::var_os("TRANSCEND_REQUIRE_BROWSER").is_none(),
            "TRANSCEND_REQUIRE_BROWSER is set but no Chromium was found"
        );
        eprintln!("skipping the browser test: no chromium on PATH");
        return;
    };
    let mut config = EmulatorConfig::default();
    config.lifecycle.approval = true;
    let emulator = Emulator::builder().config(config).start().await.unwrap();
    let id = submit(&client(&emulator), RequestAction::Access, "user-dash").await;
    assert_eq!(
        emulator.request(&id).unwrap().status,
        RequestStatus::Approving,
        "no silo: the request waits for approval at once"
    );

    let profile =
        std::env::temp_dir().join(format!("transcend-dashboard-{:032x}", fastrand::u128(..)));
    let browser_config = BrowserConfig::builder()
        .chrome_executable(executable)
        .no_sandbox()
        .new_headless_mode()
        .user_data_dir(&profile)
        .launch_timeout(Duration::from_secs(60))
        .request_timeout(Duration::from_secs(30))
        .args([
            "--disable-gpu",
            "--disable-dev-shm-usage",
            // Nothing but loopback: every other host name fails to resolve.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ])
        .build()
        .unwrap();
    let (mut browser, mut handler) = Browser::launch(browser_config).await.unwrap();
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });

    // The key goes in the fragment, which the browser never sends anywhere.
    let url = format!(
        "{}{DASHBOARD_PATH}#key={}",
        emulator.base_url(),
        emulator.api_key()
    );
    let page = browser.new_page(url.as_str()).await.unwrap();
    let row = format!("tr[data-request-id='{id}'] td[data-status]");
    wait_for_text(&page, &row, "APPROVING").await;

    page.find_element(format!("tr[data-request-id='{id}']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&page, "#detail-id", &id).await;
    wait_for_text(&page, "#detail-status", "APPROVING").await;

    page.find_element("#actions button[data-action='approve']")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&page, "#detail-status", "DOWNLOADABLE").await;
    wait_for_text(&page, &row, "DOWNLOADABLE").await;
    assert_eq!(
        emulator.request(&id).unwrap().status,
        RequestStatus::Downloadable
    );

    browser.close().await.unwrap();
    let _ = browser.wait().await;
    events.abort();
    let _ = std::fs::remove_dir_all(&profile);
    emulator.shutdown().await;
}
