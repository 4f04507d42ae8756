//! The serving loop's limits, probed as an attacker would: slow headers, slow bodies,
//! floods of idle connections, more connections than the cap. Each runs against a
//! plain `Server` and against the data silo's `SiloServer`, which share the loop.
//!
//! No test measures time: each waits (with a generous bound) for the server to close a
//! connection it should close, or checks a count.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use transcend_hyper::Client;
use transcend_hyper::server::{RunningServer, Server, ServerLimits};
use transcend_hyper::silo::{Decision, RunningSilo, SiloServer, WebhookVerifier};

/// Short limits so that the tests finish quickly; the bound on waiting stays generous.
fn limits() -> ServerLimits {
    ServerLimits::default()
        .header_read_timeout(Duration::from_millis(300))
        .idle_timeout(Duration::from_millis(300))
        .shutdown_grace(Duration::from_secs(2))
}

/// How long a test waits for the server to act before failing: far above the limits,
/// so a busy machine does not make it flaky.
const PATIENCE: Duration = Duration::from_secs(20);

/// An echo server that reads the whole body and answers its length.
async fn echo(limits: ServerLimits) -> RunningServer {
    let server = Server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .with_limits(limits);
    server.serve(service_fn(|request: Request<Incoming>| async move {
        let body = request.into_body().collect().await.map(|b| b.to_bytes());
        let length = body.map(|b| b.len()).unwrap_or_default();
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(length.to_string()))))
    }))
}

async fn silo(limits: ServerLimits) -> RunningSilo {
    let client = Client::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("unused")
        .build()
        .unwrap();
    let verifier = WebhookVerifier::new(client, "audience");
    SiloServer::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .with_limits(limits)
        .serve(verifier, |_job| async { Decision::NotFound })
}

/// Waits until the server closes `stream` (a read returns end of file or an error).
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buffer = [0u8; 1024];
    let waited = tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    waited.is_ok()
}

async fn slow_headers_are_cut_off(addr: SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nhost: x\r\nx-slow: ")
        .await
        .unwrap();
    assert!(
        closed_by_server(&mut stream).await,
        "a request head that never ends must be cut off"
    );
}

async fn slow_bodies_are_cut_off(addr: SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n{\"a\":")
        .await
        .unwrap();
    assert!(
        closed_by_server(&mut stream).await,
        "a body that stops arriving must be cut off"
    );
}

async fn idle_floods_are_closed(addr: SocketAddr) {
    let mut idle = Vec::new();
    for _ in 0..100 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    for stream in &mut idle {
        assert!(
            closed_by_server(stream).await,
            "an idle connection must be closed"
        );
    }
}

/// Limits with the minimum receive rate judged over short windows: 1,000 B/s over
/// 400 ms, so a window must bring 400 bytes. The idle and header timeouts are long, so
/// only the rate rule can cut a client off (and a stalled test machine cannot).
fn rate_limits() -> ServerLimits {
    ServerLimits::default()
        .header_read_timeout(Duration::from_secs(10))
        .idle_timeout(Duration::from_secs(10))
        .shutdown_grace(Duration::from_secs(2))
        .min_receive_rate(1_000, Duration::from_millis(400))
}

/// A client that sends a body one byte every 100 ms (10 B/s: never idle) is cut off;
/// one that sends 500 bytes at a time is served whatever the machine's load, since any
/// window with a chunk in it brings more than the least.
async fn trickling_clients_are_cut_off(addr: SocketAddr) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n")
        .await
        .unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        while writer.write_all(b"a").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut buffer = [0u8; 1024];
    let cut = tokio::time::timeout(PATIENCE, async {
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    trickle.abort();
    assert!(cut.is_ok(), "a trickling client must be cut off");
}

async fn a_steady_client_is_served(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let chunks = 8;
    stream
        .write_all(
            format!(
                "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                chunks * 500
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    for _ in 0..chunks {
        stream.write_all(&[b'a'; 500]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut answer = String::new();
    tokio::time::timeout(PATIENCE, stream.read_to_string(&mut answer))
        .await
        .expect("answered")
        .unwrap();
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_cuts_off_trickling_clients_and_serves_steady_ones() {
    let server = echo(rate_limits()).await;
    let addr = server.local_addr();
    trickling_clients_are_cut_off(addr).await;
    let answer = a_steady_client_is_served(addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("\r\n\r\n4000"), "{answer}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_silo_server_cuts_off_trickling_clients() {
    let silo = silo(rate_limits()).await;
    let addr = silo.addr();
    trickling_clients_are_cut_off(addr).await;
    // A steady delivery reaches the verifier (which refuses this one unsigned).
    let answer = a_steady_client_is_served(addr).await;
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    silo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_cuts_off_slow_headers_slow_bodies_and_idle_connections() {
    let server = echo(limits()).await;
    let addr = server.local_addr();
    slow_headers_are_cut_off(addr).await;
    slow_bodies_are_cut_off(addr).await;
    idle_floods_are_closed(addr).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_silo_server_cuts_off_slow_headers_slow_bodies_and_idle_connections() {
    let silo = silo(limits()).await;
    let addr = silo.addr();
    slow_headers_are_cut_off(addr).await;
    slow_bodies_are_cut_off(addr).await;
    idle_floods_are_closed(addr).await;
    silo.shutdown().await;
}

/// Sends one request on a fresh connection and reads the answer's body.
async fn ask(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc",
        )
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_than_the_cap_of_connections_is_open() {
    let limits = ServerLimits::default()
        .max_connections(2)
        .header_read_timeout(Duration::from_secs(60))
        .idle_timeout(Duration::from_secs(60));
    let server = echo(limits).await;
    let addr = server.local_addr();
    let first = TcpStream::connect(addr).await.unwrap();
    let second = TcpStream::connect(addr).await.unwrap();
    tokio::time::timeout(PATIENCE, async {
        while server.open_connections() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("both connections are taken");

    // A third client waits in the kernel's backlog: it is not taken while two are open.
    let third = tokio::spawn(ask(addr));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.open_connections(), 2, "the cap holds");
    assert!(
        !third.is_finished(),
        "the third is not served while two are open"
    );

    // Once one closes, the third is served.
    drop(first);
    let answer = tokio::time::timeout(PATIENCE, third)
        .await
        .expect("the third is served once a connection closes")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("\r\n\r\n3"), "{answer}");
    drop(second);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_a_request_in_flight_finish() {
    let server = Server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
        .with_limits(limits());
    let (entered, mut entered_rx) = tokio::sync::mpsc::channel::<()>(1);
    let running = server.serve(service_fn(move |_request: Request<Incoming>| {
        let entered = entered.clone();
        async move {
            let _ = entered.send(()).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("done"))))
        }
    }));
    let addr = running.local_addr();
    let asked = tokio::spawn(ask(addr));
    entered_rx.recv().await.unwrap();
    running.shutdown().await;
    let answer = asked.await.unwrap();
    assert!(answer.ends_with("done"), "{answer}");
}
