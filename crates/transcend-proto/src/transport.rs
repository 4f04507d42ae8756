//! Plugging in an HTTP library: a transport sends one request and returns its response.

use std::future::Future;

use bytes::Bytes;
use http::{Request, Response};

use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::error::Error;

/// Sends one request and returns its response, with the body read whole (responses of
/// this API are small JSON documents).
///
/// Closures implement it, so any HTTP library plugs in with a few lines:
///
/// ```
/// use transcend_proto::bytes::Bytes;
/// use transcend_proto::http::{Request, Response};
/// use transcend_proto::{Config, Transport, call, endpoint::get_dsr::GetDsrEndpoint};
///
/// # tokio_test();
/// # fn tokio_test() { let rt = tokio::runtime::Builder::new_current_thread().build().unwrap(); rt.block_on(async {
/// let transport = |request: Request<Bytes>| async move {
///     assert_eq!(request.uri().path(), "/v1/data-subject-request/da13");
///     // Send it with reqwest, ureq, hyper… here, answer directly.
///     Ok::<_, std::io::Error>(Response::new(Bytes::from_static(
///         br#"{"id":"da13","status":"COMPILING","type":"ACCESS","subjectType":"customer","email":null,"coreIdentifier":"c"}"#,
///     )))
/// };
/// let status = call::<GetDsrEndpoint, _>(&transport, &Config::new("key"), &"da13".to_owned()).await.unwrap();
/// assert_eq!(status.id, "da13");
/// # }) }
/// ```
pub trait Transport<B = Bytes> {
    /// The transport's own error (connection refused, timed out, …).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Sends the request; resolves to the response with its whole body.
    fn send(
        &self,
        request: Request<B>,
    ) -> impl Future<Output = Result<Response<Bytes>, Self::Error>> + Send;
}

impl<F, Fut, B, E> Transport<B> for F
where
    F: Fn(Request<B>) -> Fut,
    Fut: Future<Output = Result<Response<Bytes>, E>> + Send,
    E: std::error::Error + Send + Sync + 'static,
{
    type Error = E;

    fn send(&self, request: Request<B>) -> impl Future<Output = Result<Response<Bytes>, E>> + Send {
        self(request)
    }
}

/// A call through a [`Transport`] failed: in the protocol (building, API error, bad
/// response) or in the transport.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError<E> {
    /// Building the request failed, or the server answered with an error or a body that
    /// cannot be read.
    #[error(transparent)]
    Protocol(#[from] Error),
    /// The transport could not deliver the request or receive the response.
    #[error("transport failed: {0}")]
    Transport(#[source] E),
}

/// One attempt at an endpoint through any transport: build, send, parse. Retries are
/// the caller's (see [`RetryPolicy`](crate::RetryPolicy)); `transcend-hyper` has the
/// loop ready-made.
pub async fn call<E: Endpoint, T: Transport>(
    transport: &T,
    config: &Config,
    input: &E::Input,
) -> Result<E::Output, CallError<T::Error>> {
    let request = E::build_request(config, input)?;
    let response = transport
        .send(request)
        .await
        .map_err(CallError::Transport)?;
    Ok(E::parse_response(response)?)
}
