//! The body of a response [`dispatch`](super::dispatch) builds: whole bytes, or the
//! stream a service hands over for a file.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// A response body: whole bytes (JSON answers, errors) or a service's file stream.
#[derive(Debug)]
pub enum Reply<F> {
    /// Whole bytes, sent once.
    Full(Option<Bytes>),
    /// A file, streamed as the service produces it.
    Stream(F),
}

impl<F> Reply<F> {
    /// Whole bytes.
    pub fn full(bytes: Bytes) -> Self {
        Self::Full((!bytes.is_empty()).then_some(bytes))
    }
}

impl<F> Body for Reply<F>
where
    F: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = F::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            Self::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Self::Stream(stream) => Pin::new(stream).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Full(bytes) => bytes.is_none(),
            Self::Stream(stream) => stream.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Self::Stream(stream) => stream.size_hint(),
        }
    }
}
