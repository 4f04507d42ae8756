//! Where a file for `POST /v1/datapoint` comes from.

use std::io;
use std::path::PathBuf;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http::Request;
use http_body::Frame;
use http_body_util::StreamBody;
use tokio::io::AsyncRead;
use tokio_util::io::ReaderStream;
use transcend_proto::endpoint::upload_datapoint;
use transcend_proto::types::DatapointUpload;
use transcend_proto::{Config, Report};

use crate::body::Body;
use crate::client::Attempts;
use crate::error::Error;

/// How much of a file or reader is read at a time while uploading.
pub const CHUNK_SIZE: usize = 64 * 1024;

/// The bytes of one datapoint file.
///
/// A file path is opened for each attempt, so a failed upload is retried; bytes are
/// shared between attempts; a reader is one-shot and never retried once read.
#[non_exhaustive]
pub enum DatapointSource {
    /// Bytes in memory.
    Bytes(Bytes),
    /// A file, streamed from disk (never read whole into memory).
    File(PathBuf),
    /// Any reader, streamed; `length` is sent as `content-length` when known, otherwise
    /// the upload uses chunked transfer.
    Reader {
        /// The reader.
        reader: Box<dyn AsyncRead + Send + Unpin>,
        /// Its length, when known.
        length: Option<u64>,
    },
    /// Any body (a stream of chunks), sent as it comes.
    Body(Body),
}

impl DatapointSource {
    /// A file on disk.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::File(path.into())
    }

    /// Bytes in memory.
    pub fn bytes(bytes: impl Into<Bytes>) -> Self {
        Self::Bytes(bytes.into())
    }

    /// A reader of known or unknown length.
    pub fn reader(reader: impl AsyncRead + Send + Unpin + 'static, length: Option<u64>) -> Self {
        Self::Reader {
            reader: Box::new(reader),
            length,
        }
    }

    /// A stream of byte chunks (from a socket, an object store, a generator), sent as
    /// they come with chunked transfer. One-shot, like a reader.
    pub fn stream<S>(chunks: S) -> Self
    where
        S: futures_util::Stream<Item = io::Result<Bytes>> + Send + 'static,
    {
        Self::Body(Body::stream(StreamBody::new(chunks.map_ok(Frame::data))))
    }
}

impl std::fmt::Debug for DatapointSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bytes(bytes) => write!(f, "DatapointSource::Bytes({} bytes)", bytes.len()),
            Self::File(path) => write!(f, "DatapointSource::File({})", path.display()),
            Self::Reader { length, .. } => write!(f, "DatapointSource::Reader(length {length:?})"),
            Self::Body(_) => f.write_str("DatapointSource::Body"),
        }
    }
}

fn reader_body(reader: impl AsyncRead + Send + 'static) -> Body {
    let stream = ReaderStream::with_capacity(reader, CHUNK_SIZE).map_ok(Frame::data);
    Body::stream(StreamBody::new(stream))
}

/// The attempts of one datapoint upload.
pub(crate) struct UploadAttempts {
    config: Config,
    report: Report<DatapointUpload>,
    source: Option<DatapointSource>,
    replayable: bool,
}

impl UploadAttempts {
    pub(crate) fn new(
        config: Config,
        report: Report<DatapointUpload>,
        source: DatapointSource,
    ) -> Result<Self, Error> {
        // Build once up front so an invalid upload fails before anything is opened.
        upload_datapoint::build_streamed_request(&config, &report, (), None)?;
        let replayable = matches!(source, DatapointSource::Bytes(_) | DatapointSource::File(_));
        Ok(Self {
            config,
            report,
            source: Some(source),
            replayable,
        })
    }

    fn request(&self, body: Body, length: Option<u64>) -> Result<Request<Body>, Error> {
        Ok(upload_datapoint::build_streamed_request(
            &self.config,
            &self.report,
            body,
            length,
        )?)
    }
}

impl Attempts for UploadAttempts {
    async fn next(&mut self) -> Result<Request<Body>, Error> {
        match &self.source {
            Some(DatapointSource::Bytes(bytes)) => {
                let length = bytes.len() as u64;
                self.request(Body::full(bytes.clone()), Some(length))
            }
            Some(DatapointSource::File(path)) => {
                let source = |e: io::Error| Error::Source {
                    what: path.display().to_string(),
                    source: e,
                };
                let file = tokio::fs::File::open(path).await.map_err(source)?;
                let length = file.metadata().await.map_err(source)?.len();
                self.request(reader_body(file), Some(length))
            }
            _ => match self.source.take() {
                Some(DatapointSource::Reader { reader, length }) => {
                    self.request(reader_body(reader), length)
                }
                Some(DatapointSource::Body(body)) => {
                    let length = http_body::Body::size_hint(&body).exact();
                    self.request(body, length)
                }
                _ => Err(Error::Config(
                    "a streamed upload cannot be sent twice".into(),
                )),
            },
        }
    }

    fn can_replay(&self) -> bool {
        self.replayable
    }
}
