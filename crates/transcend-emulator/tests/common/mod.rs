//! A data silo for the tests: a hyper server on 127.0.0.1 that receives the emulator's
//! webhooks, verifies them with transcend-proto, records them, and answers as told.
#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use transcend_emulator::{DataSiloConfig, Emulator};
use transcend_hyper::Client;
use transcend_hyper::server::{RunningServer, Server};
use transcend_proto::types::DsrJob;
use transcend_proto::webhook::{JobAnswer, VerifiedToken, parse_webhook, verify_sombra_token};
use transcend_proto::{Nonce, SombraToken};

/// A webhook the silo received.
#[derive(Debug, Clone)]
pub struct Received {
    pub nonce: Nonce,
    pub token: SombraToken,
    pub job: DsrJob,
}

pub struct TestSilo {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Serves while the test silo lives.
    _server: RunningServer,
}

impl TestSilo {
    /// Answers the n-th delivery (0 first) with `answer(n)`.
    pub async fn start(answer: impl Fn(usize) -> JobAnswer + Send + Sync + 'static) -> Self {
        let server = Server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let url = format!("http://{}/transcend/webhook", server.local_addr());
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let record = Arc::clone(&received);
        let answer = Arc::new(answer);
        let running = server.serve(service_fn(move |request: Request<Incoming>| {
            let (record, answer) = (Arc::clone(&record), Arc::clone(&answer));
            async move {
                let (parts, body) = request.into_parts();
                let body = body
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                let request = Request::from_parts(parts, body);
                let response = match parse_webhook(&request) {
                    Ok(delivery) => {
                        let n = {
                            let mut all = record.lock().unwrap();
                            all.push(Received {
                                nonce: delivery.nonce,
                                token: delivery.token,
                                job: delivery.job,
                            });
                            all.len() - 1
                        };
                        answer(n).to_response()
                    }
                    Err(error) => JobAnswer::Failed {
                        status: error.status(),
                        message: Some(error.to_string()),
                    }
                    .to_response(),
                };
                Ok::<_, Infallible>(response.map(Full::new))
            }
        }));
        Self {
            url,
            received,
            _server: running,
        }
    }

    pub fn accepting() -> impl Fn(usize) -> JobAnswer + Send + Sync + 'static {
        |_| JobAnswer::Accepted
    }

    /// Waits until `n` deliveries arrived (at most 10 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..1000 {
            let received = self.received.lock().unwrap().clone();
            if received.len() >= n {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "expected {n} webhook deliveries, got {}",
            self.received.lock().unwrap().len()
        );
    }

    pub fn silo(&self, id: &str) -> DataSiloConfig {
        DataSiloConfig::new(id, &self.url)
    }
}

pub fn client(emulator: &Emulator) -> Client {
    Client::builder()
        .base_url(emulator.base_url())
        .api_key(emulator.api_key())
        .build()
        .unwrap()
}

pub fn client_with_key(emulator: &Emulator, key: &str) -> Client {
    Client::builder()
        .base_url(emulator.base_url())
        .api_key(key)
        .max_attempts(1)
        .build()
        .unwrap()
}

/// Verifies a received token against the key the emulator publishes.
pub async fn verify(client: &Client, received: &Received, audience: &str) -> VerifiedToken {
    let pem = client.signing_key().await.unwrap();
    verify_sombra_token(&received.token, pem.as_str(), audience, SystemTime::now()).unwrap()
}

/// Waits until the emulator's view of a request satisfies `done` (at most 10 s).
pub async fn eventually(
    emulator: &Emulator,
    id: &str,
    done: impl Fn(&transcend_emulator::RequestView) -> bool,
) -> transcend_emulator::RequestView {
    for _ in 0..1000 {
        if let Some(view) = emulator.request(id)
            && done(&view)
        {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "request {id} never reached the expected state: {:?}",
        emulator.request(id)
    );
}

/// A raw JSON request, bypassing the client's validation.
pub async fn raw(
    emulator: &Emulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, http::HeaderMap, serde_json::Value) {
    let url = format!("{}{path}", emulator.base_url());
    let mut builder = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http();
    let response = client.request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    (parts.status, parts.headers, json)
}

pub fn ok_body() -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::OK)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// Submits a DSR of this type for this core identifier; returns the request id.
pub async fn submit(
    client: &Client,
    action: transcend_proto::types::RequestAction,
    core: &str,
) -> String {
    let dsr = transcend_proto::types::SubmitDsr::new(
        action,
        transcend_proto::types::Subject::new(core),
        "customer",
    );
    client.submit_dsr(&dsr).await.unwrap().request.id
}
