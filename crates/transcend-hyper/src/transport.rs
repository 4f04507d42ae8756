//! Sending requests: the default hyper transport, and any `transcend_proto::Transport`.

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use transcend_proto::Transport;

use crate::body::Body;

pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The largest response body read (responses of this API are small JSON documents).
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// How a send failed, as far as retrying is concerned.
pub(crate) enum SendFailure {
    /// No connection: the request never left.
    Connect(BoxError),
    /// The connection failed after the request started.
    Lost(BoxError),
}

/// A response body read as it arrives (file downloads).
pub(crate) type StreamingBody = UnsyncBoxBody<Bytes, BoxError>;

/// The object-safe form of a transport the client holds.
pub(crate) trait DynTransport: Send + Sync {
    fn send(&self, request: Request<Body>) -> BoxFuture<Result<Response<Bytes>, SendFailure>>;

    /// Sends and hands the response body over unread. The default hyper transport
    /// streams it; any other transport answers whole bodies (within its own limits).
    fn send_streaming(
        &self,
        request: Request<Body>,
    ) -> BoxFuture<Result<Response<StreamingBody>, SendFailure>>;
}

/// The default transport: hyper-util's pooled client over rustls (ring provider,
/// webpki roots), HTTP/1.1 and HTTP/2 by ALPN. Cheap to clone: clones share the pool.
/// It never follows redirects, so credentials never leave for another host.
#[derive(Clone)]
pub struct HyperTransport {
    client: PooledClient<HttpsConnector<HttpConnector>, Body>,
}

impl std::fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HyperTransport")
    }
}

/// Why the default transport failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HyperTransportError {
    /// No connection could be made (refused, unreachable, TLS handshake failed).
    #[error("connect failed: {0}")]
    Connect(#[source] BoxError),
    /// The request or the response failed on the connection.
    #[error("request failed: {0}")]
    Request(#[source] BoxError),
    /// The response body broke off or exceeded the limit.
    #[error("reading the response failed: {0}")]
    Body(#[source] BoxError),
}

impl HyperTransportError {
    /// Whether no connection was made (the request never left).
    pub fn is_connect(&self) -> bool {
        matches!(self, Self::Connect(_))
    }
}

impl HyperTransport {
    /// A pooled HTTPS client; `connect_timeout` bounds TCP connection setup.
    pub fn new(connect_timeout: Duration) -> Result<Self, rustls::Error> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(Arc::new(rustls::crypto::ring::default_provider()))?
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = PooledClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(https);
        Ok(Self { client })
    }
}

impl Transport<Body> for HyperTransport {
    type Error = HyperTransportError;

    fn send(
        &self,
        request: Request<Body>,
    ) -> impl Future<Output = Result<Response<Bytes>, HyperTransportError>> + Send {
        let response = self.client.request(request);
        async move {
            let response = response.await.map_err(|e| {
                if e.is_connect() {
                    HyperTransportError::Connect(Box::new(e))
                } else {
                    HyperTransportError::Request(Box::new(e))
                }
            })?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(HyperTransportError::Body)?
                .to_bytes();
            Ok(Response::from_parts(parts, body))
        }
    }
}

/// Holds any transport behind the object-safe trait.
pub(crate) struct Adapter<T>(pub(crate) Arc<T>);

impl<T> DynTransport for Adapter<T>
where
    T: Transport<Body> + Send + Sync + 'static,
{
    fn send(&self, request: Request<Body>) -> BoxFuture<Result<Response<Bytes>, SendFailure>> {
        let transport = Arc::clone(&self.0);
        Box::pin(async move {
            transport.send(request).await.map_err(|error| {
                if never_sent(&error) {
                    SendFailure::Connect(Box::new(error))
                } else {
                    SendFailure::Lost(Box::new(error))
                }
            })
        })
    }

    fn send_streaming(
        &self,
        request: Request<Body>,
    ) -> BoxFuture<Result<Response<StreamingBody>, SendFailure>> {
        let any: &dyn std::any::Any = self.0.as_ref();
        if let Some(hyper) = any.downcast_ref::<HyperTransport>() {
            let response = hyper.client.request(request);
            return Box::pin(async move {
                let response = response.await.map_err(|e| {
                    if e.is_connect() {
                        SendFailure::Connect(Box::new(e))
                    } else {
                        SendFailure::Lost(Box::new(e))
                    }
                })?;
                Ok(response
                    .map(|body| body.map_err(|e| -> BoxError { Box::new(e) }).boxed_unsync()))
            });
        }
        let whole = self.send(request);
        Box::pin(async move {
            let response = whole.await?;
            Ok(response.map(|bytes| {
                http_body_util::Full::new(bytes)
                    .map_err(|never| match never {})
                    .boxed_unsync()
            }))
        })
    }
}

/// Whether an error proves the request never left: a connect failure of the default
/// transport, or an I/O error anywhere in the chain that only happens before sending.
/// Anything else counts as possibly sent, so a submission is not sent twice.
fn never_sent(error: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(hyper) = error.downcast_ref::<HyperTransportError>() {
            return hyper.is_connect();
        }
        if let Some(io) = error.downcast_ref::<io::Error>()
            && matches!(
                io.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::AddrNotAvailable
                    | io::ErrorKind::HostUnreachable
            )
        {
            return true;
        }
        current = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_errors_that_prove_nothing_was_sent_count_as_connect_failures() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert!(never_sent(&refused));
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert!(!never_sent(&reset));
        let wrapped = HyperTransportError::Request(Box::new(refused));
        assert!(
            !never_sent(&wrapped),
            "the transport's own classification wins"
        );
        assert!(never_sent(&HyperTransportError::Connect("tls".into())));
    }
}
