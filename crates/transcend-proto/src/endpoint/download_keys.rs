//! `GET /v1/data-subject-request/{id}/download-keys`: a page of an access report's files,
//! each with the key that downloads it.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use transcend_types::DownloadKeysPage;

use super::{BodyKind, Endpoint, EndpointInfo, ParamInfo, Received, ResponseBody, Scope};
use crate::codec::{json_answer, json_response, read_paging, request_head, with_paging};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::retry::Idempotency;
use crate::server::ServerError;

/// `GET /v1/data-subject-request/{id}/download-keys?limit=&offset=`. Needs the scope
/// "View Incoming Requests"; the request must be `DOWNLOADABLE`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DownloadKeysEndpoint;

/// Which page of which request's download keys.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadKeysQuery {
    /// The request.
    pub request_id: String,
    /// How many keys at most (`limit`), when set.
    pub limit: Option<u32>,
    /// How many to skip (`offset`), when set.
    pub offset: Option<u32>,
}

impl DownloadKeysQuery {
    /// The first page, of the server's default size.
    pub fn new(request_id: impl Into<String>) -> Self {
        Self {
            request_id: request_id.into(),
            limit: None,
            offset: None,
        }
    }

    /// The page of `limit` keys after `offset`.
    pub fn page(mut self, limit: u32, offset: u32) -> Self {
        self.limit = Some(limit);
        self.offset = Some(offset);
        self
    }
}

impl DownloadKeysEndpoint {
    /// The path of a request's download keys, the id percent-encoded (no query).
    pub fn path(request_id: &str) -> String {
        Self::INFO.path_with(&[request_id])
    }
}

impl Endpoint for DownloadKeysEndpoint {
    type Input = DownloadKeysQuery;
    type Output = DownloadKeysPage;
    const INFO: EndpointInfo = EndpointInfo {
        name: "download_keys",
        method: Method::GET,
        path: "/v1/data-subject-request/{id}/download-keys",
        idempotency: Idempotency::Idempotent,
        scope: Scope::ViewRequests,
        body: BodyKind::Empty,
        summary: "A page of an access report's files, each with a download key that expires.",
        headers: &[],
        query: &[
            ParamInfo {
                name: "limit",
                required: false,
                description: "How many keys at most.",
            },
            ParamInfo {
                name: "offset",
                required: false,
                description: "How many keys to skip.",
            },
        ],
        request_schema: None,
        response: ResponseBody::Json("DownloadKeysPage"),
    };

    fn build_request(config: &Config, input: &Self::Input) -> Result<Request<Bytes>, Error> {
        if input.request_id.is_empty() {
            return Err(Error::invalid_config("request id", "", "a non-empty id"));
        }
        let path = with_paging(
            Self::INFO.path_with(&[&input.request_id]),
            input.limit,
            input.offset,
        );
        request_head(
            config,
            Method::GET,
            RequestPath::Owned(path),
            None,
            Bytes::new(),
        )
    }

    fn parse_response<B: AsRef<[u8]>>(response: Response<B>) -> Result<Self::Output, Error> {
        json_answer(Self::INFO.name, response)
    }

    fn read_input(request: &Received<'_>) -> Result<Self::Input, ServerError> {
        let request_id = request.params.first().cloned().unwrap_or_default();
        let mut query = DownloadKeysQuery::new(request_id);
        (query.limit, query.offset) = read_paging(request.head.uri.query())?;
        Ok(query)
    }

    fn build_response(output: &Self::Output) -> Response<Bytes> {
        json_response(StatusCode::OK, output)
    }
}
