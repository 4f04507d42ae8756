//! A transport for tests: records every request and replays canned responses.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use serde::Serialize;

use crate::transport::Transport;

/// Records each request it is given and answers with the next queued reply, in order.
/// Clones share the same record and queue.
///
/// ```
/// use transcend_proto::testing::RecordingTransport;
/// use transcend_proto::http::StatusCode;
/// use transcend_proto::{Config, call, endpoint::get_dsr::GetDsrEndpoint};
///
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap(); rt.block_on(async {
/// let transport = RecordingTransport::new();
/// transport.reply_json(StatusCode::NOT_FOUND, &serde_json::json!({"message": "No such request"}));
/// let error = call::<GetDsrEndpoint, _>(&transport, &Config::new("key"), &"nope".to_owned()).await.unwrap_err();
/// assert!(error.to_string().contains("No such request"));
/// assert_eq!(transport.requests()[0].uri.path(), "/v1/data-subject-request/nope");
/// # })
/// ```
#[derive(Debug, Clone, Default)]
pub struct RecordingTransport {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<RecordedRequest>,
    replies: VecDeque<Result<Response<Bytes>, TransportFailure>>,
}

/// A request as the transport received it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The URI.
    pub uri: Uri,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl RecordedRequest {
    /// The body read as JSON.
    pub fn json(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_slice(&self.body)
    }
}

/// A transport failure the test asked for, or a request with no reply queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransportFailure(pub String);

impl RecordingTransport {
    /// A transport with nothing queued.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a response.
    pub fn reply(&self, response: Response<Bytes>) -> &Self {
        self.state().replies.push_back(Ok(response));
        self
    }

    /// Queues a JSON response with this status.
    pub fn reply_json(&self, status: StatusCode, body: &impl Serialize) -> &Self {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let mut response = Response::new(Bytes::from(bytes));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        self.reply(response)
    }

    /// Queues a transport failure.
    pub fn fail(&self, message: impl Into<String>) -> &Self {
        self.state()
            .replies
            .push_back(Err(TransportFailure(message.into())));
        self
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    /// How many queued replies are left.
    pub fn pending_replies(&self) -> usize {
        self.state().replies.len()
    }
}

impl<B: AsRef<[u8]>> Transport<B> for RecordingTransport {
    type Error = TransportFailure;

    fn send(
        &self,
        request: Request<B>,
    ) -> impl std::future::Future<Output = Result<Response<Bytes>, TransportFailure>> + Send {
        let (parts, body) = request.into_parts();
        let mut state = self.state();
        state.requests.push(RecordedRequest {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body: Bytes::copy_from_slice(body.as_ref()),
        });
        let reply = state
            .replies
            .pop_front()
            .unwrap_or_else(|| Err(TransportFailure("no reply queued for this request".into())));
        std::future::ready(reply)
    }
}
