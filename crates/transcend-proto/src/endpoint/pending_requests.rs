//! `GET /v1/data-silo/{dataSiloId}/pending-requests/{action}`: the jobs waiting for a
//! cron ("pull") data silo, oldest first.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use transcend_types::{PendingRequestsPage, RequestAction};

use super::{BodyKind, Endpoint, EndpointInfo, ParamInfo, Received, ResponseBody, Scope};
use crate::codec::{json_answer, json_response, quoted, read_paging, request_head, with_paging};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::retry::Idempotency;
use crate::server::ServerError;

/// `GET /v1/data-silo/{dataSiloId}/pending-requests/{action}?limit=&offset=`. Needs a key
/// of the silo. A page shorter than `limit` is the last; completing jobs shifts later
/// offsets (see `transcend-hyper`'s `pending_requests`, which never skips one).
#[derive(Debug, Clone, Copy, Default)]
pub struct PendingRequestsEndpoint;

/// Which page of which silo's jobs of which type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingRequestsQuery {
    /// The silo.
    pub data_silo_id: String,
    /// The request type (`ERASURE`, `ACCESS`, …).
    pub action: RequestAction,
    /// How many jobs at most (`limit`; the server's default is 50).
    pub limit: Option<u32>,
    /// How many to skip (`offset`).
    pub offset: Option<u32>,
}

impl PendingRequestsQuery {
    /// The first page of `data_silo_id`'s `action` jobs, of the server's default size.
    pub fn new(data_silo_id: impl Into<String>, action: RequestAction) -> Self {
        Self {
            data_silo_id: data_silo_id.into(),
            action,
            limit: None,
            offset: None,
        }
    }

    /// The page of `limit` jobs after `offset`.
    pub fn page(mut self, limit: u32, offset: u32) -> Self {
        self.limit = Some(limit);
        self.offset = Some(offset);
        self
    }
}

impl Endpoint for PendingRequestsEndpoint {
    type Input = PendingRequestsQuery;
    type Output = PendingRequestsPage;
    const INFO: EndpointInfo = EndpointInfo {
        name: "pending_requests",
        method: Method::GET,
        path: "/v1/data-silo/{dataSiloId}/pending-requests/{action}",
        idempotency: Idempotency::Idempotent,
        scope: Scope::DataSilo,
        body: BodyKind::Empty,
        summary: "The jobs waiting for a cron (pull) data silo, oldest first; each completes with its nonce.",
        headers: &[],
        query: &[
            ParamInfo {
                name: "limit",
                required: false,
                description: "How many jobs at most (default 50).",
            },
            ParamInfo {
                name: "offset",
                required: false,
                description: "How many jobs to skip.",
            },
        ],
        request_schema: None,
        response: ResponseBody::Json("PendingRequestsPage"),
    };

    fn build_request(config: &Config, input: &Self::Input) -> Result<Request<Bytes>, Error> {
        if input.data_silo_id.is_empty() {
            return Err(Error::invalid_config("data silo id", "", "a non-empty id"));
        }
        if !input.action.is_known() {
            return Err(Error::invalid_config(
                "action",
                input.action.as_str(),
                "a request type of the reference pages",
            ));
        }
        let path = with_paging(
            Self::INFO.path_with(&[&input.data_silo_id, input.action.as_str()]),
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
        let (Some(silo), Some(action)) = (request.params.first(), request.params.get(1)) else {
            return Err(ServerError::NotFound {
                what: "no data silo and request type in the path".into(),
            });
        };
        let action = RequestAction::parse(action);
        if !action.is_known() {
            return Err(ServerError::BadRequest {
                message: format!(
                    "unknown request type {:?} in the path",
                    quoted(action.as_str())
                ),
            });
        }
        let mut query = PendingRequestsQuery::new(silo.clone(), action);
        (query.limit, query.offset) = read_paging(request.head.uri.query())?;
        Ok(query)
    }

    fn build_response(output: &Self::Output) -> Response<Bytes> {
        json_response(StatusCode::OK, output)
    }
}
