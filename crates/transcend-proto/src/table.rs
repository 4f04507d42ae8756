//! The endpoint table: every endpoint of the API, once.
//!
//! Each row names a [`Route`] variant, the [`Service`] method that serves it, the type
//! that implements [`Endpoint`] in its own module (method, path template, retry class,
//! scope, body kind and both sides of the mapping), and how its request body reaches
//! the service: read whole and decoded (`buffered`), handed over as a stream of bytes
//! (`streamed`), handed over unread with the head's part of the input for a JSON body
//! a server may want to read as it arrives (`json_stream`, see [`StreamedJson`]), or
//! none, with the answer streamed (`download`). The route enum,
//! routing, the service trait and [`dispatch`] are generated from it; so are the
//! clients' retry classes and the servers' scope checks, through
//! [`Route::info`]. Adding a row makes every `match` on [`Route`] and every `impl
//! Service` fail to compile until it handles the new endpoint.

use std::future::Future;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Method, Request, Response};
use http_body::Body;
use http_body_util::BodyExt;

use crate::endpoint::{
    BodyKind, Endpoint, EndpointInfo, PathParams, Received, StreamedJson, download_file,
    download_keys, enrich_identifiers, get_dsr, pending_requests, report_erasure,
    request_identifiers, signing_key, submit_dsr, upload_access, upload_datapoint,
    upload_datapoint_chunked,
};
use crate::server::{Credentials, DEFAULT_BODY_LIMIT, Reply, ServerError};

/// Generates [`Route`], [`Service`] and the dispatching `call` from the rows below.
macro_rules! endpoint_table {
    ($( $(#[doc = $doc:literal])* $variant:ident => $method:ident: $ty:path, $kind:ident; )*) => {
        /// Which endpoint a request is for: one variant per row of the endpoint table.
        /// Exhaustive on purpose: a server that matches on it must handle every
        /// endpoint, so an endpoint added to the table is a compile error until it is.
        ///
        /// ```compile_fail
        /// fn name(route: transcend_proto::Route) -> &'static str {
        ///     match route {
        ///         transcend_proto::Route::SubmitDsr => "submit",
        ///     }
        /// }
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Route {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Route {
            /// Every endpoint, in table order.
            pub const ALL: &'static [Route] = &[$(Route::$variant),*];

            /// What the table says about the endpoint.
            pub fn info(self) -> &'static EndpointInfo {
                match self {
                    $( Route::$variant => {
                        const INFO: &EndpointInfo = &<$ty as Endpoint>::INFO;
                        INFO
                    } )*
                }
            }

            /// Whether the table hands this endpoint's body over as a stream.
            pub fn is_streamed(self) -> bool {
                match self {
                    $( Route::$variant => endpoint_table!(@streamed $kind), )*
                }
            }
        }

        /// A server of the API: one method per endpoint of the table, each given the
        /// authorized caller and the endpoint's input, read and validated, and returning
        /// its output or the error to answer with. [`dispatch`] does the rest.
        ///
        /// `B` is the request body type of the server's HTTP library; only streamed
        /// endpoints see it.
        pub trait Service<B>: Send + Sync {
            /// Who is calling, as the service knows it (an API key's configuration, a
            /// tenant), from [`authorize`](Self::authorize).
            type Caller: Send;

            /// Checks the credentials for `route` (its [`Scope`](crate::endpoint::Scope)
            /// is `route.info().scope`), before the body is read. Rate limits belong
            /// here too.
            fn authorize(
                &self,
                route: Route,
                credentials: Credentials,
            ) -> impl Future<Output = Result<Self::Caller, ServerError>> + Send;

            /// The body of a streamed file answer (`download` rows).
            type FileBody: Body<Data = Bytes> + Send + Unpin;

            /// The largest JSON body read (a larger one is answered 413).
            fn body_limit(&self) -> u64 {
                DEFAULT_BODY_LIMIT
            }

            $( endpoint_table!{ @method $kind, $(#[doc = $doc])* $method, $ty } )*
        }

        async fn call<S, B>(
            service: &S,
            routed: Routed,
            head: http::request::Parts,
            body: B,
        ) -> Result<Response<Reply<S::FileBody>>, ServerError>
        where
            S: Service<B>,
            B: Body + Send,
            B::Data: Send,
            B::Error: std::fmt::Display,
        {
            let caller = service
                .authorize(routed.route, Credentials::from_headers(&head.headers))
                .await?;
            let params = &routed.params;
            match routed.route {
                $( Route::$variant => endpoint_table!(@call $kind, service, caller, head, params, body, $method, $ty), )*
            }
        }
    };

    (@streamed buffered) => { false };
    (@streamed streamed) => { true };
    (@streamed json_stream) => { true };
    (@streamed download) => { false };

    (@method buffered, $(#[doc = $doc:literal])* $method:ident, $ty:path) => {
        $(#[doc = $doc])*
        fn $method(
            &self,
            caller: Self::Caller,
            input: <$ty as Endpoint>::Input,
        ) -> impl Future<Output = Result<<$ty as Endpoint>::Output, ServerError>> + Send;
    };
    (@method download, $(#[doc = $doc:literal])* $method:ident, $ty:path) => {
        $(#[doc = $doc])*
        ///
        /// Answers the file's head and its bytes as a stream of the service's own.
        fn $method(
            &self,
            caller: Self::Caller,
            input: <$ty as Endpoint>::Input,
        ) -> impl Future<Output = Result<(download_file::FileHead, Self::FileBody), ServerError>> + Send;
    };
    (@method streamed, $(#[doc = $doc:literal])* $method:ident, $ty:path) => {
        $(#[doc = $doc])*
        ///
        /// The body is the server's own stream, unread: enforce your own size limit.
        fn $method(
            &self,
            caller: Self::Caller,
            input: <$ty as Endpoint>::Input,
            body: B,
        ) -> impl Future<Output = Result<<$ty as Endpoint>::Output, ServerError>> + Send;
    };

    (@method json_stream, $(#[doc = $doc:literal])* $method:ident, $ty:path) => {
        $(#[doc = $doc])*
        ///
        /// The JSON body is the server's own stream, unread (a declared length over
        /// [`body_limit`](Self::body_limit) was refused): enforce the limit on what
        /// arrives, or read it whole with [`read_json`](crate::server::read_json).
        fn $method(
            &self,
            caller: Self::Caller,
            head: <$ty as StreamedJson>::Head,
            body: B,
        ) -> impl Future<Output = Result<<$ty as Endpoint>::Output, ServerError>> + Send;
    };

    (@call buffered, $service:ident, $caller:ident, $head:ident, $params:ident, $body:ident, $method:ident, $ty:path) => {{
        let bytes = if <$ty as Endpoint>::INFO.body == BodyKind::Empty {
            Bytes::new()
        } else {
            read_body($body, &$head.headers, $service.body_limit()).await?
        };
        let input = <$ty as Endpoint>::read_input(&Received::new(&$head, $params, &bytes))?;
        let output = $service.$method($caller, input).await?;
        Ok(<$ty as Endpoint>::build_response(&output).map(Reply::full))
    }};
    (@call download, $service:ident, $caller:ident, $head:ident, $params:ident, $body:ident, $method:ident, $ty:path) => {{
        let input = <$ty as Endpoint>::read_input(&Received::new(&$head, $params, &[]))?;
        let (file, stream) = $service.$method($caller, input).await?;
        Ok(file.response(Reply::Stream(stream)))
    }};
    (@call json_stream, $service:ident, $caller:ident, $head:ident, $params:ident, $body:ident, $method:ident, $ty:path) => {{
        check_declared_length(&$head.headers, $service.body_limit())?;
        let head = <$ty as StreamedJson>::read_head(&Received::new(&$head, $params, &[]))?;
        let output = $service.$method($caller, head, $body).await?;
        Ok(<$ty as Endpoint>::build_response(&output).map(Reply::full))
    }};
    (@call streamed, $service:ident, $caller:ident, $head:ident, $params:ident, $body:ident, $method:ident, $ty:path) => {{
        check_declared_length(&$head.headers, $service.body_limit())?;
        let input = <$ty as Endpoint>::read_input(&Received::new(&$head, $params, &[]))?;
        let output = $service.$method($caller, input, $body).await?;
        Ok(<$ty as Endpoint>::build_response(&output).map(Reply::full))
    }};
}

endpoint_table! {
    /// Submit a DSR.
    SubmitDsr => submit_dsr: submit_dsr::SubmitDsrEndpoint, buffered;
    /// The state of a DSR.
    GetDsr => get_dsr: get_dsr::GetDsrEndpoint, buffered;
    /// JSON datapoints for an ACCESS job; the body (up to 50 MB) is handed over unread.
    UploadAccess => upload_access: upload_access::UploadAccessEndpoint, json_stream;
    /// The outcome of an ERASURE (or any) job.
    ReportErasure => report_erasure: report_erasure::ReportErasureEndpoint, buffered;
    /// One file for one datapoint; the body is streamed.
    UploadDatapoint => upload_datapoint: upload_datapoint::UploadDatapointEndpoint, streamed;
    /// One page of JSON for one datapoint; the body is handed over unread.
    UploadDatapointChunked => upload_datapoint_chunked: upload_datapoint_chunked::UploadDatapointChunkedEndpoint, json_stream;
    /// The public key that signs webhook tokens.
    SigningKey => signing_key: signing_key::SigningKeyEndpoint, buffered;
    /// A page of the identifiers a request holds.
    RequestIdentifiers => request_identifiers: request_identifiers::RequestIdentifiersEndpoint, buffered;
    /// A page of an access report's download keys.
    DownloadKeys => download_keys: download_keys::DownloadKeysEndpoint, buffered;
    /// One file of an access report; the answer is streamed.
    DownloadFile => download_file: download_file::DownloadFileEndpoint, download;
    /// The jobs waiting for a cron (pull) data silo.
    PendingRequests => pending_requests: pending_requests::PendingRequestsEndpoint, buffered;
    /// An enricher's identifiers or decision for a request.
    EnrichIdentifiers => enrich_identifiers: enrich_identifiers::EnrichIdentifiersEndpoint, buffered;
}

/// A request matched to an endpoint, with its path parameters decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Routed {
    /// The endpoint.
    pub route: Route,
    /// The `{name}` segments of the path, decoded, in template order.
    pub params: PathParams,
}

impl Route {
    /// Routes a method and path (no query) through the table. Answers `404` for an
    /// unknown path and `405` (with the methods the path takes) for a known path with
    /// another method.
    pub fn of(method: &Method, path: &str) -> Result<Routed, ServerError> {
        let mut allowed = Vec::new();
        for &route in Self::ALL {
            let info = route.info();
            if let Some(params) = info.match_path(path) {
                if info.method == *method {
                    return Ok(Routed { route, params });
                }
                allowed.push(info.method.clone());
            }
        }
        Err(if allowed.is_empty() {
            ServerError::NotFound {
                what: format!("no endpoint at {}", crate::codec::quoted(path)),
            }
        } else {
            ServerError::MethodNotAllowed {
                method: method.clone(),
                allowed,
            }
        })
    }
}

/// Serves one request: routes it, asks `service` to authorize its credentials for the
/// endpoint (before any body is read), reads the input once (a JSON body within
/// [`Service::body_limit`], validated), calls the endpoint's method, and builds the
/// response. Every failure becomes its [`ServerError`] response; nothing panics on
/// what the request holds.
pub async fn dispatch<S, B>(service: &S, request: Request<B>) -> Response<Reply<S::FileBody>>
where
    S: Service<B>,
    B: Body + Send,
    B::Data: Send,
    B::Error: std::fmt::Display,
{
    let (head, body) = request.into_parts();
    let sent_a_body = has_body(&head.headers);
    let answered = match Route::of(&head.method, head.uri.path()) {
        Ok(routed) => call(service, routed, head, body).await,
        Err(error) => Err(error),
    };
    answered.unwrap_or_else(|error| {
        let mut response = error.to_response();
        if sent_a_body {
            // The body may be left unread (refused before or while reading it): the
            // connection cannot carry another request, and the client must not reuse it.
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response.map(Reply::full)
    })
}

/// Whether a request announces a body (a length above zero, or chunked transfer).
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(TRANSFER_ENCODING)
        || headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v != "0")
}

/// Refuses a body whose `Content-Length` is over `limit` before any of it is read.
fn check_declared_length(headers: &HeaderMap, limit: u64) -> Result<(), ServerError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit => Err(ServerError::PayloadTooLarge { limit }),
        _ => Ok(()),
    }
}

/// Reads a JSON body whole and decodes and validates it as [`dispatch`] does for a
/// `buffered` row: refused with 413 as soon as what arrives passes `limit`, 400 for a
/// body that breaks off, is not JSON, or is not a valid `T`. For services that take a
/// `json_stream` row's body whole.
pub async fn read_json<T, B>(body: B, limit: u64) -> Result<T, ServerError>
where
    T: serde::de::DeserializeOwned + transcend_types::Validate,
    B: Body,
    B::Error: std::fmt::Display,
{
    let bytes = read_body(body, &HeaderMap::new(), limit).await?;
    crate::codec::decode_json_request(&bytes)
}

/// Reads a JSON body whole, refusing it as soon as it passes `limit` (by its declared
/// length first, then by what arrives).
async fn read_body<B>(body: B, headers: &HeaderMap, limit: u64) -> Result<Bytes, ServerError>
where
    B: Body,
    B::Error: std::fmt::Display,
{
    check_declared_length(headers, limit)?;
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut rest = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ServerError::BadRequest {
            message: format!("body could not be read: {e}"),
        })?;
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        let held = first.as_ref().map_or(0, Bytes::len) + rest.len();
        if (held + data.remaining()) as u64 > limit {
            return Err(ServerError::PayloadTooLarge { limit });
        }
        match first.take() {
            None if rest.is_empty() => first = Some(data.copy_to_bytes(data.remaining())),
            held => {
                if let Some(held) = held {
                    rest.put(held);
                }
                rest.put(data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| rest.freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn every_endpoint_routes() {
        let cases = [
            (Method::POST, "/v1/data-subject-request", Route::SubmitDsr),
            (
                Method::GET,
                "/v1/data-subject-request/abc%20def",
                Route::GetDsr,
            ),
            (Method::POST, "/v1/data-silo", Route::UploadAccess),
            (Method::PUT, "/v1/data-silo", Route::ReportErasure),
            (Method::POST, "/v1/datapoint", Route::UploadDatapoint),
            (
                Method::POST,
                "/v1/datapoint-chunked",
                Route::UploadDatapointChunked,
            ),
            (
                Method::GET,
                "/public-keys/sombra-general-signing-key",
                Route::SigningKey,
            ),
        ];
        for (method, path, route) in cases {
            assert_eq!(
                Route::of(&method, path).map(|r| r.route),
                Ok(route),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
        assert_eq!(
            Route::of(&Method::GET, "/v2/nothing").unwrap_err().status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            Route::of(&Method::GET, "/v1/data-subject-request/")
                .unwrap_err()
                .status(),
            StatusCode::NOT_FOUND
        );
        let error = Route::of(&Method::DELETE, "/v1/data-silo").unwrap_err();
        let response = error.to_response();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[http::header::ALLOW], "POST, PUT");
    }

    #[test]
    fn path_parameters_come_back_decoded() {
        let routed = Route::of(&Method::GET, "/v1/data-subject-request/abc%20def").unwrap();
        assert_eq!(routed.params, vec!["abc def".to_owned()]);
    }

    #[test]
    fn the_table_is_consistent() {
        let mut seen = std::collections::HashSet::new();
        for &route in Route::ALL {
            let info = route.info();
            // A byte stream is always handed over as one; a JSON body may be.
            assert!(
                route.is_streamed() || info.body != BodyKind::Stream,
                "{}: the row's body kind and the endpoint's disagree",
                info.name
            );
            assert!(
                !route.is_streamed() || matches!(info.body, BodyKind::Stream | BodyKind::Json),
                "{}: only a byte or JSON body can be handed over unread",
                info.name
            );
            assert!(
                seen.insert((info.method.clone(), info.path)),
                "{} twice",
                info.name
            );
            assert!(info.path.starts_with('/'), "{}", info.name);
            let example: Vec<&str> = info.path.matches('{').map(|_| "x").collect();
            let routed = Route::of(&info.method, &info.path_with(&example)).unwrap();
            assert_eq!(routed.route, route, "{} routes to itself", info.name);
        }
    }
}
