//! The one serving loop every server of this project runs on (the emulator, the data
//! silo helper, test servers): it owns accepting, connection limits, timeouts and
//! shutdown, so that a server only supplies its hyper `Service`.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use transcend_hyper::server::{Server, ServerLimits};
//! use transcend_hyper::http::Response;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! let server = Server::bind("127.0.0.1:0".parse().unwrap()).await?
//!     .with_limits(ServerLimits::default().max_connections(256));
//! let running = server.serve(hyper::service::service_fn(|_request| async {
//!     Ok::<_, Infallible>(Response::new(http_body_util::Full::new(bytes::Bytes::from("ok"))))
//! }));
//! println!("listening on {}", running.local_addr());
//! running.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! What it protects against, and how:
//!
//! - **slow headers**: a request head must arrive within
//!   [`header_read_timeout`](ServerLimits::header_read_timeout);
//! - **slow bodies and idle connections**: a connection that moves no byte in either
//!   direction for [`idle_timeout`](ServerLimits::idle_timeout) is closed (a handler
//!   that works longer than that without answering loses its connection: answer first,
//!   work after, as the silo helper does);
//! - **trickling clients**, which send a byte every few seconds and so are never idle:
//!   after a first period of [`min_rate_window`](ServerLimits::min_rate_window), a
//!   connection that receives bytes, but fewer than
//!   [`min_receive_rate`](ServerLimits::min_receive_rate) a second on average, over two
//!   windows in a row while the server sends nothing, is closed (Apache's
//!   `mod_reqtimeout` `MinRate` is the model). A window without a byte received is not
//!   trickling (the idle rule judges it), and a window in which the server sends is
//!   not judged (the client is reading an answer). The request head is bounded by
//!   `header_read_timeout` as a whole, so trickling cannot stretch it;
//! - **connection floods**: at most [`max_connections`](ServerLimits::max_connections)
//!   are open; past that the loop stops accepting until one closes (the kernel's backlog
//!   holds the rest);
//! - **running out of file descriptors**: accept errors back off (10 ms doubling to
//!   1 s) and are logged, instead of spinning;
//! - **shutdown**: stop accepting, let open connections finish their request within
//!   [`shutdown_grace`](ServerLimits::shutdown_grace), then close them.

mod accept;
mod activity;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use accept::{Acceptor, accept_loop};
use activity::Activity;

/// The limits of a server. The defaults suit a service on the internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// How long a request head may take to arrive (default 10 s).
    pub header_read_timeout: Duration,
    /// How long a connection may move no byte before it is closed (default 30 s).
    pub idle_timeout: Duration,
    /// How many connections may be open at once (default 1024).
    pub max_connections: usize,
    /// How long open connections get to finish on shutdown (default 5 s).
    pub shutdown_grace: Duration,
    /// The least a connection receiving a request must deliver, in bytes a second on
    /// average over [`min_rate_window`](Self::min_rate_window) (default 500, as
    /// Apache's `MinRate`); 0 turns the rule off.
    pub min_receive_rate: u64,
    /// The period the receive rate is judged over; two slow windows in a row close
    /// the connection (default 10 s).
    pub min_rate_window: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(5),
            min_receive_rate: 500,
            min_rate_window: Duration::from_secs(10),
        }
    }
}

impl ServerLimits {
    /// Sets [`header_read_timeout`](Self::header_read_timeout).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`max_connections`](Self::max_connections) (at least 1).
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Sets [`min_receive_rate`](Self::min_receive_rate) (bytes a second; 0: off) and
    /// [`min_rate_window`](Self::min_rate_window).
    pub fn min_receive_rate(mut self, bytes_per_second: u64, window: Duration) -> Self {
        self.min_receive_rate = bytes_per_second;
        self.min_rate_window = window.max(Duration::from_millis(1));
        self
    }

    /// Sets [`shutdown_grace`](Self::shutdown_grace).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

/// A bound listener, not yet serving.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    limits: ServerLimits,
}

impl Server {
    /// Binds the address (port 0 for an ephemeral one).
    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        Self::from_listener(TcpListener::bind(addr).await?)
    }

    /// Serves on a listener bound elsewhere.
    pub fn from_listener(listener: TcpListener) -> io::Result<Self> {
        let addr = listener.local_addr()?;
        Ok(Self {
            listener,
            addr,
            limits: ServerLimits::default(),
        })
    }

    /// Uses these limits.
    pub fn with_limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves HTTP/1.1 and HTTP/2 (prior knowledge) with `service` until
    /// [`RunningServer::shutdown`]. A service error closes that connection without an
    /// answer.
    pub fn serve<S, B>(self, service: S) -> RunningServer
    where
        S: hyper::service::Service<Request<Incoming>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let limits = self.limits;
        let permits = Arc::new(Semaphore::new(limits.max_connections));
        let (stop, stopped) = watch::channel(false);
        let connection = {
            let stopped = stopped.clone();
            move |stream: tokio::net::TcpStream| {
                let _ = stream.set_nodelay(true);
                serve_connection(stream, service.clone(), limits, stopped.clone())
            }
        };
        let task = tokio::spawn(accept_loop(
            TcpAcceptor(self.listener),
            Arc::clone(&permits),
            stopped,
            connection,
        ));
        RunningServer {
            addr: self.addr,
            limits,
            permits,
            stop,
            task,
        }
    }
}

struct TcpAcceptor(TcpListener);

impl Acceptor for TcpAcceptor {
    type Stream = tokio::net::TcpStream;

    async fn accept(&mut self) -> io::Result<Self::Stream> {
        self.0.accept().await.map(|(stream, _)| stream)
    }
}

/// One connection: hyper with the header timeout, watched for idleness and shutdown.
async fn serve_connection<S, B>(
    stream: tokio::net::TcpStream,
    service: S,
    limits: ServerLimits,
    mut stopped: watch::Receiver<bool>,
) where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (io, activity) = Activity::watch(stream);
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let connection = builder.serve_connection(TokioIo::new(io), service);
    let mut connection = std::pin::pin!(connection);
    let mut seen = activity.count();
    let mut ticker = tokio::time::interval(limits.idle_timeout);
    ticker.tick().await;
    let mut rate = RateWatch::new(&limits, &activity);
    let mut window = tokio::time::interval(limits.min_rate_window);
    window.tick().await;
    loop {
        tokio::select! {
            _ = connection.as_mut() => return,
            _ = ticker.tick() => {
                let now = activity.count();
                if now == seen {
                    tracing::debug!("closing an idle connection");
                    return;
                }
                seen = now;
            }
            _ = window.tick(), if limits.min_receive_rate > 0 => {
                if rate.trickling(&activity) {
                    tracing::debug!(
                        min_rate = limits.min_receive_rate,
                        "closing a connection receiving below the minimum rate"
                    );
                    return;
                }
            }
            _ = stopped.changed() => break,
        }
    }
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(limits.shutdown_grace, connection).await;
}

/// The minimum receive rate's bookkeeping for one connection.
struct RateWatch {
    /// Bytes a window must bring, at least.
    least: u64,
    read: u64,
    written: u64,
    slow_windows: u32,
}

impl RateWatch {
    fn new(limits: &ServerLimits, activity: &Activity) -> Self {
        let least = (limits.min_receive_rate as f64 * limits.min_rate_window.as_secs_f64()).ceil();
        Self {
            least: least as u64,
            read: activity.read(),
            written: activity.written(),
            slow_windows: 0,
        }
    }

    /// At the end of a window: whether the client has been trickling for two windows.
    fn trickling(&mut self, activity: &Activity) -> bool {
        let (read, written) = (activity.read(), activity.written());
        let received = read - self.read;
        let sent = written - self.written;
        (self.read, self.written) = (read, written);
        let slow = received > 0 && received < self.least && sent == 0;
        self.slow_windows = if slow { self.slow_windows + 1 } else { 0 };
        self.slow_windows >= 2
    }
}

/// A serving loop, running. Dropping it stops the loop too, without waiting for open
/// connections: keep it for as long as the server should serve.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    limits: ServerLimits,
    permits: Arc<Semaphore>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// The address it serves.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The limits in force.
    pub fn limits(&self) -> &ServerLimits {
        &self.limits
    }

    /// How many connections are open now.
    pub fn open_connections(&self) -> usize {
        self.limits.max_connections - self.permits.available_permits()
    }

    /// Stops accepting, lets open connections finish within the grace period, and
    /// returns once every connection is closed.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        let all = u32::try_from(self.limits.max_connections).unwrap_or(u32::MAX);
        let wait = self.limits.shutdown_grace + Duration::from_secs(1);
        let _ = tokio::time::timeout(wait, self.permits.acquire_many(all)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch() -> (RateWatch, Activity) {
        let limits = ServerLimits::default().min_receive_rate(100, Duration::from_secs(10));
        let activity = Activity::default();
        (RateWatch::new(&limits, &activity), activity)
    }

    #[test]
    fn two_slow_windows_in_a_row_are_trickling() {
        let (mut rate, activity) = watch();
        activity.moved(10, 0);
        assert!(!rate.trickling(&activity), "one slow window is not enough");
        activity.moved(10, 0);
        assert!(rate.trickling(&activity));
    }

    #[test]
    fn a_fast_window_an_idle_one_or_an_answer_resets_the_count() {
        let (mut rate, activity) = watch();
        // 1,000 bytes a window is the least (100 B/s over 10 s).
        for between in [(1_000, 0), (0, 0), (10, 5)] {
            activity.moved(10, 0);
            assert!(!rate.trickling(&activity));
            activity.moved(between.0, between.1);
            assert!(!rate.trickling(&activity), "{between:?} is not trickling");
        }
        activity.moved(10, 0);
        assert!(!rate.trickling(&activity));
        activity.moved(999, 0);
        assert!(rate.trickling(&activity), "999 bytes is below the least");
    }
}
