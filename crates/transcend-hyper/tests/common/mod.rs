//! Servers on 127.0.0.1 for the tests: a programmable HTTP server that records what it
//! receives, and raw TCP servers that misbehave.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use transcend_hyper::server::{RunningServer, Server};

/// What the server received.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: Method,
    pub path: String,
    pub path_and_query: String,
    pub headers: HeaderMap,
    /// The body, unless the server only digests it.
    pub body: Bytes,
    pub body_len: u64,
    pub body_digest: u64,
}

impl Captured {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// FNV-1a, streamed: proves bytes arrived intact without keeping them.
pub fn digest(state: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(state, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}
pub const DIGEST_START: u64 = 0xcbf2_9ce4_8422_2325;

type Handler = dyn Fn(usize, &Captured) -> Response<Full<Bytes>> + Send + Sync;

pub struct TestServer {
    pub url: String,
    pub captured: Arc<Mutex<Vec<Captured>>>,
    /// Serves while the test server lives.
    _server: RunningServer,
}

impl TestServer {
    /// Serves HTTP/1.1; `handler` gets the request's index (0 for the first) and the
    /// request; bodies are kept whole when `keep_bodies`, else only digested.
    pub async fn start(
        keep_bodies: bool,
        handler: impl Fn(usize, &Captured) -> Response<Full<Bytes>> + Send + Sync + 'static,
    ) -> Self {
        let server = Server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr: SocketAddr = server.local_addr();
        let captured: Arc<Mutex<Vec<Captured>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let record = Arc::clone(&captured);
        let running = server.serve(service_fn(move |request: Request<Incoming>| {
            let (record, handler) = (Arc::clone(&record), Arc::clone(&handler));
            async move {
                let (parts, mut body) = request.into_parts();
                let (mut kept, mut len, mut hash) = (Vec::new(), 0u64, DIGEST_START);
                while let Some(frame) = body.frame().await {
                    let Ok(frame) = frame else { break };
                    if let Ok(data) = frame.into_data() {
                        len += data.len() as u64;
                        hash = digest(hash, &data);
                        if keep_bodies {
                            kept.extend_from_slice(&data);
                        }
                    }
                }
                let captured = Captured {
                    method: parts.method,
                    path: parts.uri.path().to_owned(),
                    path_and_query: parts
                        .uri
                        .path_and_query()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    headers: parts.headers,
                    body: Bytes::from(kept),
                    body_len: len,
                    body_digest: hash,
                };
                let index = {
                    let mut all = record.lock().unwrap();
                    all.push(captured.clone());
                    all.len() - 1
                };
                Ok::<_, Infallible>(handler(index, &captured))
            }
        }));
        Self {
            url: format!("http://{addr}"),
            captured,
            _server: running,
        }
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.captured.lock().unwrap().clone()
    }
}

pub fn json(status: u16, body: serde_json::Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

pub fn status_body() -> serde_json::Value {
    serde_json::json!({"id": "da13", "status": "COMPILING", "type": "ACCESS", "subjectType": "customer",
        "email": "user@example.com", "coreIdentifier": "id-123456789"})
}

pub fn submit_body() -> serde_json::Value {
    serde_json::json!({"request": status_body()})
}

/// A TCP server that reads each request's head and then does `misbehave` with the
/// socket. Counts connections.
pub async fn raw_server(
    misbehave: impl Fn(tokio::net::TcpStream) -> tokio::task::JoinHandle<()> + Send + Sync + 'static,
) -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(Mutex::new(0usize));
    let seen = Arc::clone(&count);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            *seen.lock().unwrap() += 1;
            misbehave(stream);
        }
    });
    (format!("http://{addr}"), count)
}

/// Writes part of a response promising more, then closes the connection.
pub fn reset_mid_response(mut stream: tokio::net::TcpStream) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"id\":")
            .await;
        let _ = stream.shutdown().await;
    })
}

/// Never answers; keeps the connection open for a while.
pub fn never_answer(stream: tokio::net::TcpStream) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        drop(stream);
    })
}

/// A P-384 key pair in PEM, as Sombra would hold one.
pub struct Keys {
    pub private: String,
    pub public: String,
}

pub fn keys() -> Keys {
    use p384::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let secret = p384::SecretKey::random(&mut rand_core::OsRng);
    Keys {
        private: secret.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        public: secret
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap(),
    }
}
