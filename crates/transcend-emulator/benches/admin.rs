//! The admin API under load, in one run:
//!
//! 1. The emulator's time per `requests` page (100, by cursor from the middle of the
//!    store) at 100,000 stored requests against 1,000: paging must not scan the store.
//! 2. `approveRequest`'s p50 at 100,000 stored against 1,000.
//! 3. Walking 100,000 requests through the SDK's client (`Client::requests`, every page
//!    parsed into typed requests) against a bare hyper-util client posting the same
//!    query text and reading each body unparsed (it finds the next cursor by a text
//!    search): the rate ratio, in alternating rounds.
//! 4. Approving 10,000 requests, 50 at a time, through the client: the rate.
//!
//! The bare client's latencies stand for the emulator's own time per call: the same
//! request bytes each time, no parsing on the client side. The small and the large
//! store are two emulators running side by side, measured in alternating rounds.
//!
//! Run: `cargo bench -p transcend-emulator --bench admin` (`ADMIN_BENCH_REQUESTS` to
//! change the 100,000).

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use http_body_util::{BodyExt, Full};
use transcend_emulator::{Emulator, EmulatorConfig, LifecycleConfig};
use transcend_hyper::Client;
use transcend_hyper::admin::{self, RequestFilters, RequestStatus};
use transcend_hyper::types::{RequestAction, Subject, SubmitDsr};

const SMALL: usize = 1_000;
const ROUNDS: usize = 10;
const PAGE_SAMPLES: usize = 60;
const APPROVE_SAMPLES: usize = 50;
const WALK_ROUNDS: usize = 3;
const APPROVALS: usize = 10_000;

type Bare = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

fn many() -> usize {
    std::env::var("ADMIN_BENCH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}

fn client(emulator: &Emulator) -> Client {
    Client::builder()
        .base_url(emulator.base_url())
        .backend_url(emulator.base_url())
        .api_key(emulator.api_key())
        .build()
        .unwrap()
}

/// Fills the emulator up to `total` requests (each waits in `APPROVING`), 32 at a time.
async fn fill(client: &Client, from: usize, total: usize) {
    futures_util::stream::iter(from..total)
        .map(|i| async move {
            let dsr = SubmitDsr::new(
                RequestAction::ContactOptOut,
                Subject::new(format!("person-{i}")),
                "customer",
            );
            client.submit_dsr(&dsr).await.unwrap()
        })
        .buffer_unordered(32)
        .for_each(|_| async {})
        .await;
}

/// A pre-built `requests` page: the same document the SDK generates.
fn page_body(config: &transcend_hyper::proto::Config, after: Option<&str>) -> Bytes {
    let mut page = admin::RequestsPage::first(RequestFilters::new());
    if let Some(after) = after {
        page = page.after(after);
    }
    admin::build_request::<admin::ListRequests>(config, &page)
        .unwrap()
        .into_body()
}

async fn post(bare: &Bare, emulator: &Emulator, body: Bytes) -> Bytes {
    let request = http::Request::post(format!("{}/graphql", emulator.base_url()))
        .header("authorization", format!("Bearer {}", emulator.api_key()))
        .header("content-type", "application/json")
        .body(Full::new(body))
        .unwrap();
    let response = bare.request(request).await.unwrap();
    response.into_body().collect().await.unwrap().to_bytes()
}

/// The `endCursor` of a page, found without parsing the page.
fn end_cursor(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let at = text.find("\"endCursor\":\"")? + "\"endCursor\":\"".len();
    let end = text[at..].find('"')?;
    text.get(at..at + end).map(str::to_owned)
}

fn has_next(body: &[u8]) -> bool {
    std::str::from_utf8(body).is_ok_and(|t| t.contains("\"hasNextPage\":true"))
}

/// The query of the page of 100 in the middle of the store: walked to once with the
/// bare client.
async fn middle_page(
    bare: &Bare,
    emulator: &Emulator,
    config: &transcend_hyper::proto::Config,
    stored: usize,
) -> Bytes {
    let mut cursor = None;
    for _ in 0..(stored / 2 / 100) {
        let body = post(bare, emulator, page_body(config, cursor.as_deref())).await;
        cursor = end_cursor(&body);
    }
    page_body(config, cursor.as_deref())
}

/// The latencies of a round of reads of one page.
async fn page_round(bare: &Bare, emulator: &Emulator, body: &Bytes, times: &mut Vec<Duration>) {
    for _ in 0..PAGE_SAMPLES {
        let started = Instant::now();
        let page = post(bare, emulator, body.clone()).await;
        times.push(started.elapsed());
        assert!(has_next(&page));
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The latencies of a round of approvals, one at a time, with pre-built mutations.
async fn approve_round(
    bare: &Bare,
    emulator: &Emulator,
    client: &Client,
    config: &transcend_hyper::proto::Config,
    times: &mut Vec<Duration>,
) {
    let ids: Vec<String> = client
        .requests(RequestFilters::new().status([RequestStatus::Approving]))
        .take(APPROVE_SAMPLES)
        .map_ok(|r| r.id().to_owned())
        .try_collect()
        .await
        .unwrap();
    let bodies: Vec<Bytes> = ids
        .iter()
        .map(|id| {
            admin::build_request::<admin::ApproveRequest>(
                config,
                &admin::CommunicationInput::new(id),
            )
            .unwrap()
            .into_body()
        })
        .collect();
    for body in bodies {
        let started = Instant::now();
        let answer = post(bare, emulator, body).await;
        times.push(started.elapsed());
        assert!(!answer.windows(8).any(|w| w == b"\"errors\""), "{answer:?}");
    }
}

async fn start() -> (Emulator, Client) {
    let mut config = EmulatorConfig::default();
    config.lifecycle = LifecycleConfig::default();
    config.lifecycle.approval = true;
    let emulator = Emulator::builder().config(config).start().await.unwrap();
    let client = client(&emulator);
    (emulator, client)
}

/// Requests per second walking everything with the SDK's client.
async fn walk_client(client: &Client) -> (f64, usize) {
    let started = Instant::now();
    let n = client
        .requests(RequestFilters::new())
        .try_fold(0usize, |n, _| async move { Ok(n + 1) })
        .await
        .unwrap();
    (n as f64 / started.elapsed().as_secs_f64(), n)
}

/// Requests per second walking everything with the bare client.
async fn walk_bare(
    bare: &Bare,
    emulator: &Emulator,
    config: &transcend_hyper::proto::Config,
    total: usize,
) -> f64 {
    let started = Instant::now();
    let mut cursor: Option<String> = None;
    loop {
        let body = post(bare, emulator, page_body(config, cursor.as_deref())).await;
        if !has_next(&body) {
            break;
        }
        cursor = end_cursor(&body);
    }
    total as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (small, small_client) = start().await;
        let (emulator, client) = start().await;
        let proto_config = client.config().clone();
        let bare: Bare = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
        let many = many();

        fill(&small_client, 0, SMALL).await;
        let filling = Instant::now();
        fill(&client, 0, many).await;
        eprintln!("filled {many} in {:.1} s", filling.elapsed().as_secs_f64());
        let small_page = middle_page(&bare, &small, &proto_config, SMALL).await;
        let many_page = middle_page(&bare, &emulator, &proto_config, many).await;
        let (mut pages_small, mut pages_many) = (Vec::new(), Vec::new());
        let (mut approvals_small, mut approvals_many) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            page_round(&bare, &small, &small_page, &mut pages_small).await;
            page_round(&bare, &emulator, &many_page, &mut pages_many).await;
            approve_round(&bare, &small, &small_client, &proto_config, &mut approvals_small).await;
            approve_round(&bare, &emulator, &client, &proto_config, &mut approvals_many).await;
        }
        let (page_small, page_many) = (median(pages_small), median(pages_many));
        let (approve_small, approve_many) = (median(approvals_small), median(approvals_many));
        small.shutdown().await;

        println!("| figure | {SMALL} stored | {many} stored | ratio |");
        println!("|---|---|---|---|");
        println!(
            "| `requests` page of 100 from the middle, p50 | {:.0} µs | {:.0} µs | **{:.2}** |",
            page_small.as_secs_f64() * 1e6,
            page_many.as_secs_f64() * 1e6,
            page_many.as_secs_f64() / page_small.as_secs_f64()
        );
        println!(
            "| `approveRequest`, p50 | {:.0} µs | {:.0} µs | **{:.2}** |",
            approve_small.as_secs_f64() * 1e6,
            approve_many.as_secs_f64() * 1e6,
            approve_many.as_secs_f64() / approve_small.as_secs_f64()
        );

        let mut client_rates = Vec::new();
        let mut bare_rates = Vec::new();
        for _ in 0..WALK_ROUNDS {
            let (rate, walked) = walk_client(&client).await;
            assert_eq!(walked, many);
            client_rates.push(rate);
            bare_rates.push(walk_bare(&bare, &emulator, &proto_config, many).await);
        }
        client_rates.sort_by(f64::total_cmp);
        bare_rates.sort_by(f64::total_cmp);
        let (client_rate, bare_rate) = (client_rates[WALK_ROUNDS / 2], bare_rates[WALK_ROUNDS / 2]);
        println!();
        println!("| walking {many} requests, 100 a page | bare hyper-util, unparsed | `Client::requests`, parsed | ratio |");
        println!("|---|---|---|---|");
        println!(
            "| requests per second (median of {WALK_ROUNDS}) | {bare_rate:.0}/s | {client_rate:.0}/s | **{:.2}** |",
            client_rate / bare_rate
        );

        let ids: Vec<String> = client
            .requests(RequestFilters::new().status([RequestStatus::Approving]))
            .take(APPROVALS)
            .map_ok(|r| r.id().to_owned())
            .try_collect()
            .await
            .unwrap();
        let started = Instant::now();
        let approved = futures_util::stream::iter(ids.iter())
            .map(|id| {
                let client = &client;
                async move { client.approve_request(id, None).await }
            })
            .buffer_unordered(50)
            .filter(|r| std::future::ready(r.is_ok()))
            .count()
            .await;
        let elapsed = started.elapsed().as_secs_f64();
        println!();
        println!(
            "| approving {} requests, 50 in flight, through the client | {:.0}/s ({approved} approved) |",
            ids.len(),
            approved as f64 / elapsed
        );
        emulator.shutdown().await;
    });
}
