//! The accept loop: a permit per connection, backoff on accept errors, shutdown.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};

/// Where connections come from (a TCP listener; a fake one in tests).
pub(crate) trait Acceptor: Send + 'static {
    /// A connection.
    type Stream: Send + 'static;
    /// The next connection, or why none could be taken.
    fn accept(&mut self) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

/// The first wait after an accept error; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Accepts until `stopped` changes. Each connection holds one of `permits` while it is
/// open, so at most that many are open at once: with none free, nothing is accepted.
/// An accept error that is the listener's (out of file descriptors, out of memory) is
/// logged and waited out with a doubling pause instead of being retried at once.
pub(crate) async fn accept_loop<A, F, Fut>(
    mut acceptor: A,
    permits: Arc<Semaphore>,
    mut stopped: watch::Receiver<bool>,
    connection: F,
) where
    A: Acceptor,
    F: Fn(A::Stream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut backoff = FIRST_BACKOFF;
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            _ = stopped.changed() => return,
        };
        let accepted = tokio::select! {
            accepted = acceptor.accept() => accepted,
            _ = stopped.changed() => return,
        };
        match accepted {
            Ok(stream) => {
                backoff = FIRST_BACKOFF;
                let served = connection(stream);
                tokio::spawn(async move {
                    served.await;
                    drop(permit);
                });
            }
            // The client gave up before we took the connection: nothing to wait out.
            Err(error) if is_peer_error(&error) => {}
            Err(error) => {
                tracing::warn!(
                    %error,
                    wait_ms = backoff.as_millis() as u64,
                    "accept failed; pausing before the next one"
                );
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stopped.changed() => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

fn is_peer_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Fails like a listener out of file descriptors (`EMFILE`) for `failures` calls,
    /// then hands out connections.
    struct OutOfFiles {
        calls: Arc<AtomicUsize>,
        failures: usize,
    }

    impl Acceptor for OutOfFiles {
        type Stream = ();

        async fn accept(&mut self) -> io::Result<()> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst);
            if call < self.failures {
                Err(io::Error::from_raw_os_error(24))
            } else {
                std::future::pending().await
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn out_of_file_descriptors_backs_off_instead_of_spinning() {
        let calls = Arc::new(AtomicUsize::new(0));
        let acceptor = OutOfFiles {
            calls: Arc::clone(&calls),
            failures: usize::MAX,
        };
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(
            acceptor,
            Arc::new(Semaphore::new(4)),
            stopped,
            |()| async {},
        ));
        // Ten seconds of (paused, simulated) time: a spinning loop would call accept
        // without end; the backoff allows 10+20+…+640 ms, then one call a second.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let made = calls.load(Ordering::SeqCst);
        assert!((5..=20).contains(&made), "{made} accept calls in 10 s");
        stop.send(true).unwrap();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn it_recovers_once_descriptors_are_free_again() {
        let calls = Arc::new(AtomicUsize::new(0));
        let served = Arc::new(AtomicUsize::new(0));
        struct Recovering(Arc<AtomicUsize>);
        impl Acceptor for Recovering {
            type Stream = ();
            async fn accept(&mut self) -> io::Result<()> {
                match self.0.fetch_add(1, Ordering::SeqCst) {
                    0..3 => Err(io::Error::from_raw_os_error(24)),
                    3 => Ok(()),
                    _ => std::future::pending().await,
                }
            }
        }
        let (stop, stopped) = watch::channel(false);
        let counter = Arc::clone(&served);
        let task = tokio::spawn(accept_loop(
            Recovering(Arc::clone(&calls)),
            Arc::new(Semaphore::new(4)),
            stopped,
            move |()| {
                let counter = Arc::clone(&counter);
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            },
        ));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(served.load(Ordering::SeqCst), 1);
        stop.send(true).unwrap();
        task.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn no_permit_no_accept() {
        let calls = Arc::new(AtomicUsize::new(0));
        struct Endless(Arc<AtomicUsize>);
        impl Acceptor for Endless {
            type Stream = ();
            async fn accept(&mut self) -> io::Result<()> {
                self.0.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }
        let (stop, stopped) = watch::channel(false);
        // Connections that never close: two permits, so two accepts and no more.
        let task = tokio::spawn(accept_loop(
            Endless(Arc::clone(&calls)),
            Arc::new(Semaphore::new(2)),
            stopped,
            |()| std::future::pending::<()>(),
        ));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        stop.send(true).unwrap();
        task.await.unwrap();
    }
}
