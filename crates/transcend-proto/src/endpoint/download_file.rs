//! `GET /v1/files?downloadKey=…`: one file of an access report, as a binary stream.

use bytes::Bytes;
use http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::{BodyKind, Endpoint, EndpointInfo, ParamInfo, Received, ResponseBody, Scope};
use crate::codec::{query_pairs, request_head, success};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::headers::APPLICATION_OCTET_STREAM;
use crate::retry::Idempotency;
use crate::server::ServerError;

/// `GET /v1/files?downloadKey=…`: a report file's bytes. Needs the scope "View Incoming
/// Requests". Keys expire: an error whose message holds [`EXPIRED_KEY_MARKER`] means
/// the key is no longer valid (fetch the download keys again).
///
/// The buffered [`Endpoint`] side reads the whole file into memory (fine for tests and
/// small files); a server streams it with the table's `download` kind, and
/// `transcend-hyper` streams it to disk.
#[derive(Debug, Clone, Copy, Default)]
pub struct DownloadFileEndpoint;

/// The text Sombra's error carries when a download key expired.
pub const EXPIRED_KEY_MARKER: &str = "fileMetadata#verify";

/// What a server says about a file before its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileHead {
    /// Its media type.
    pub content_type: String,
    /// Its length, when known.
    pub content_length: Option<u64>,
    /// Its file name, for `content-disposition`.
    pub file_name: Option<String>,
}

impl FileHead {
    /// A file of this media type and length.
    pub fn new(content_type: impl Into<String>, content_length: Option<u64>) -> Self {
        Self {
            content_type: content_type.into(),
            content_length,
            file_name: None,
        }
    }

    /// Names the file.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// The response head for this file, with `body` as its body.
    pub fn response<B>(&self, body: B) -> Response<B> {
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_str(&self.content_type)
                .unwrap_or(HeaderValue::from_static(APPLICATION_OCTET_STREAM)),
        );
        if let Some(length) = self.content_length {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
        if let Some(name) = &self.file_name {
            let ascii: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_graphic() && c != '"' && c != '\\' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"")) {
                headers.insert(CONTENT_DISPOSITION, value);
            }
        }
        response
    }
}

/// The request path and query for a key.
pub fn path(download_key: &str) -> String {
    format!(
        "{}?downloadKey={}",
        DownloadFileEndpoint::INFO.path,
        utf8_percent_encode(download_key, NON_ALPHANUMERIC)
    )
}

/// Whether an error says the download key expired.
pub fn is_expired_key(error: &Error) -> bool {
    error
        .message()
        .is_some_and(|m| m.contains(EXPIRED_KEY_MARKER))
}

impl Endpoint for DownloadFileEndpoint {
    /// The download key.
    type Input = String;
    /// The whole file.
    type Output = Bytes;
    const INFO: EndpointInfo = EndpointInfo {
        name: "download_file",
        method: Method::GET,
        path: "/v1/files",
        idempotency: Idempotency::Idempotent,
        scope: Scope::ViewRequests,
        body: BodyKind::Empty,
        summary: "One file of an access report, streamed, by its download key.",
        headers: &[],
        query: QUERY,
        request_schema: None,
        response: ResponseBody::File,
    };

    fn build_request(config: &Config, key: &String) -> Result<Request<Bytes>, Error> {
        if key.is_empty() {
            return Err(Error::invalid_config("download key", "", "a non-empty key"));
        }
        request_head(
            config,
            Method::GET,
            RequestPath::Owned(path(key)),
            None,
            Bytes::new(),
        )
    }

    fn parse_response<B: AsRef<[u8]>>(response: Response<B>) -> Result<Bytes, Error> {
        let (_, body) = success(Self::INFO.name, response)?;
        Ok(Bytes::copy_from_slice(body.as_ref()))
    }

    fn read_input(request: &Received<'_>) -> Result<String, ServerError> {
        query_pairs(request.head.uri.query())
            .into_iter()
            .find(|(name, _)| name == "downloadKey")
            .map(|(_, key)| key)
            .filter(|key| !key.is_empty())
            .ok_or_else(|| ServerError::BadRequest {
                message: "missing query parameter downloadKey".into(),
            })
    }

    fn build_response(output: &Bytes) -> Response<Bytes> {
        FileHead::new(APPLICATION_OCTET_STREAM, Some(output.len() as u64)).response(output.clone())
    }
}

/// The query parameter of the endpoint, for documents.
pub const QUERY: &[ParamInfo] = &[ParamInfo {
    name: "downloadKey",
    required: true,
    description: "A key from the request's download keys; keys expire.",
}];
