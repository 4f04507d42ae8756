//! `POST /v1/datapoint`: a data silo uploads one file (any bytes) to one datapoint.
//!
//! The body is the caller's type and is never buffered here: the request carries
//! whatever stream the caller's HTTP library sends (a file, a socket, chunks of unknown
//! length). The same holds on the server side: the head is read, the body is left to
//! the caller.

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response};
use transcend_types::{DatapointUpload, Validate};

use super::{
    Accepted, BodyKind, Endpoint, EndpointInfo, NONCE_HEADER, ParamInfo, Received, Report,
    ResponseBody, Scope,
};
use crate::codec::{
    accepted_response, ascii_header, header_text, request_head, required_nonce, success,
};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::headers::{
    APPLICATION_OCTET_STREAM, X_TRANSCEND_DATAPOINT_NAME, X_TRANSCEND_PROFILE_ID,
    X_TRANSCEND_REMOTE_ID, X_TRANSCEND_SKIP_STATUS_UPDATE,
};
use crate::retry::Idempotency;
use crate::server::{Incoming, ServerError};

/// `POST /v1/datapoint`: one file for one datapoint, the body streamed.
///
/// [`Endpoint::build_request`] builds the head with an empty body;
/// [`build_streamed_request`] puts the caller's body in. Header values are ASCII on the
/// wire: a datapoint name, remote id or profile id with other characters is refused
/// before anything is sent (percent-encode it yourself if the receiving side expects
/// that).
#[derive(Debug, Clone, Copy, Default)]
pub struct UploadDatapointEndpoint;

impl Endpoint for UploadDatapointEndpoint {
    type Input = Report<DatapointUpload>;
    type Output = Accepted;
    /// Sending the same file again replaces it; whether it *can* be sent again depends
    /// on whether its body can be reopened.
    const INFO: EndpointInfo = EndpointInfo {
        name: "upload_datapoint",
        method: Method::POST,
        path: "/v1/datapoint",
        idempotency: Idempotency::Idempotent,
        scope: Scope::DataSilo,
        body: BodyKind::Stream,
        summary: "A data silo uploads one file (any bytes, streamed) to one datapoint of an ACCESS job.",
        headers: &[
            NONCE_HEADER,
            ParamInfo {
                name: "x-transcend-datapoint-name",
                required: true,
                description: "The datapoint the file belongs to.",
            },
            ParamInfo {
                name: "x-transcend-remote-id",
                required: false,
                description: "The file name shown to the person (ASCII).",
            },
            ParamInfo {
                name: "x-transcend-profile-id",
                required: false,
                description: "Deprecated: the profile the file belongs to.",
            },
            ParamInfo {
                name: "x-transcend-skip-status-update",
                required: false,
                description: "`true` on every file but a datapoint's last.",
            },
        ],
        query: &[],
        request_schema: None,
        response: ResponseBody::Accepted,
    };

    fn build_request(config: &Config, report: &Self::Input) -> Result<Request<Bytes>, Error> {
        build_streamed_request(config, report, Bytes::new(), None)
    }

    fn parse_response<B: AsRef<[u8]>>(response: Response<B>) -> Result<Accepted, Error> {
        success(Self::INFO.name, response).map(|_| Accepted)
    }

    fn read_input(request: &Received<'_>) -> Result<Self::Input, ServerError> {
        let headers = &request.head.headers;
        let nonce = required_nonce(headers)?;
        let datapoint_name =
            header_text(headers, &X_TRANSCEND_DATAPOINT_NAME)?.ok_or_else(|| {
                ServerError::BadRequest {
                    message: "missing header x-transcend-datapoint-name".into(),
                }
            })?;
        let mut upload = DatapointUpload::new(datapoint_name);
        upload.remote_id = header_text(headers, &X_TRANSCEND_REMOTE_ID)?;
        upload.profile_id = header_text(headers, &X_TRANSCEND_PROFILE_ID)?;
        upload.skip_status_update = headers
            .get(X_TRANSCEND_SKIP_STATUS_UPDATE)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        upload.validate().map_err(|e| ServerError::BadRequest {
            message: e.to_string(),
        })?;
        Ok(Report {
            nonce,
            body: upload,
        })
    }

    fn build_response(_: &Accepted) -> Response<Bytes> {
        accepted_response()
    }
}

/// Client side: the request for one file with the caller's body. `content_length` is
/// sent when known; otherwise the transport decides (chunked transfer for HTTP/1.1).
pub fn build_streamed_request<B>(
    config: &Config,
    report: &Report<DatapointUpload>,
    body: B,
    content_length: Option<u64>,
) -> Result<Request<B>, Error> {
    let upload = &report.body;
    upload.validate().map_err(|source| Error::Invalid {
        endpoint: UploadDatapointEndpoint::INFO.name,
        source,
    })?;
    let datapoint_name = ascii_header("x-transcend-datapoint-name", &upload.datapoint_name)?;
    let remote_id = upload
        .remote_id
        .as_deref()
        .map(|v| ascii_header("x-transcend-remote-id", v))
        .transpose()?;
    let profile_id = upload
        .profile_id
        .as_deref()
        .map(|v| ascii_header("x-transcend-profile-id", v))
        .transpose()?;
    let mut request = request_head(
        config,
        Method::POST,
        RequestPath::Static(UploadDatapointEndpoint::INFO.path),
        Some(&report.nonce),
        body,
    )?;
    let headers = request.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(APPLICATION_OCTET_STREAM),
    );
    headers.insert(X_TRANSCEND_DATAPOINT_NAME, datapoint_name);
    if let Some(remote_id) = remote_id {
        headers.insert(X_TRANSCEND_REMOTE_ID, remote_id);
    }
    if let Some(profile_id) = profile_id {
        headers.insert(X_TRANSCEND_PROFILE_ID, profile_id);
    }
    if upload.skip_status_update {
        headers.insert(
            X_TRANSCEND_SKIP_STATUS_UPDATE,
            HeaderValue::from_static("true"),
        );
    }
    if let Some(length) = content_length {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    Ok(request)
}

/// Server side, in one step: reads the head (route, credentials, nonce, datapoint
/// headers) and hands back the body untouched.
pub fn parse_streamed_request<B>(
    request: Request<B>,
) -> Result<(Incoming<Report<DatapointUpload>>, B), ServerError> {
    let (head, body) = request.into_parts();
    let incoming = UploadDatapointEndpoint::parse_request(Request::from_parts(head, Bytes::new()))?;
    Ok((incoming, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_the_callers_own_type() {
        struct Unbufferable;
        let report = Report::new("nonce", DatapointUpload::new("files"));
        let request =
            build_streamed_request(&Config::new("k"), &report, Unbufferable, None).unwrap();
        assert!(request.headers().get(CONTENT_LENGTH).is_none());
        let _: &Unbufferable = request.body();
    }

    #[test]
    fn missing_headers_are_named() {
        let request = Request::post("/v1/datapoint")
            .header("x-transcend-nonce", "n")
            .body(())
            .unwrap();
        let error = parse_streamed_request(request).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Client error: missing header x-transcend-datapoint-name"
        );
        let request = Request::post("/v1/datapoint").body(()).unwrap();
        assert!(
            parse_streamed_request(request)
                .unwrap_err()
                .to_string()
                .contains("x-transcend-nonce")
        );
    }

    #[test]
    fn non_ascii_header_values_are_refused_by_name() {
        let report = Report::new("n", DatapointUpload::new("files").remote_id("photo-é.jpg"));
        let error = build_streamed_request(&Config::new("k"), &report, (), None).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("x-transcend-remote-id"), "{message}");
        assert!(message.contains("ASCII"), "{message}");
    }
}
