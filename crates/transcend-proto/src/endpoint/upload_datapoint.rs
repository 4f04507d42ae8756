//! `POST /v1/datapoint`: a data silo uploads one file (any bytes) to one datapoint.
//!
//! The body is the caller's type and is never buffered here: the request carries
//! whatever stream the caller's HTTP library sends (a file, a socket, chunks of unknown
//! length). The same holds on the server side: the head is read, the body is left to
//! the caller.

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response};
use transcend_types::{DatapointUpload, Validate};

use super::{Accepted, Report, accepted_response, parse_accepted, request_head, required_nonce};
use crate::config::{Config, RequestPath};
use crate::error::Error;
use crate::headers::{
    APPLICATION_OCTET_STREAM, X_TRANSCEND_DATAPOINT_NAME, X_TRANSCEND_PROFILE_ID,
    X_TRANSCEND_REMOTE_ID, X_TRANSCEND_SKIP_STATUS_UPDATE,
};
use crate::retry::Idempotency;
use crate::server::{Credentials, Incoming, ServerError};

/// The endpoint's name in errors and traces.
pub const NAME: &str = "upload_datapoint";
/// The HTTP method.
pub const METHOD: Method = Method::POST;
/// The path.
pub const PATH: &str = "/v1/datapoint";
/// Sending the same file again replaces it; whether it *can* be sent again depends on
/// whether its body can be reopened.
pub const IDEMPOTENCY: Idempotency = Idempotency::Idempotent;

/// Client side: the request for one file. `content_length` is sent when known;
/// otherwise the transport decides (chunked transfer for HTTP/1.1).
pub fn build_request<B>(
    config: &Config,
    report: &Report<DatapointUpload>,
    body: B,
    content_length: Option<u64>,
) -> Result<Request<B>, Error> {
    let upload = &report.body;
    upload.validate().map_err(|source| Error::Invalid {
        endpoint: NAME,
        source,
    })?;
    let datapoint_name = text_header("x-transcend-datapoint-name", &upload.datapoint_name)?;
    let remote_id = upload
        .remote_id
        .as_deref()
        .map(|v| text_header("x-transcend-remote-id", v))
        .transpose()?;
    let profile_id = upload
        .profile_id
        .as_deref()
        .map(|v| text_header("x-transcend-profile-id", v))
        .transpose()?;
    let mut request = request_head(
        config,
        METHOD,
        RequestPath::Static(PATH),
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

/// UTF-8 text as a header value (non-ASCII bytes travel as they are).
fn text_header(what: &'static str, text: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_bytes(text.as_bytes())
        .map_err(|_| Error::invalid_config(what, text, "text without control characters"))
}

/// Client side: any success is [`Accepted`].
pub fn parse_response<B: AsRef<[u8]>>(response: Response<B>) -> Result<Accepted, Error> {
    parse_accepted(NAME, response)
}

/// Server side: reads the head of an upload (method, credentials, nonce, datapoint
/// headers); the body is not touched.
pub fn parse_request_head(
    parts: &http::request::Parts,
) -> Result<Incoming<Report<DatapointUpload>>, ServerError> {
    if parts.method != METHOD {
        return Err(ServerError::MethodNotAllowed {
            method: parts.method.clone(),
            allowed: vec![METHOD],
        });
    }
    let headers = &parts.headers;
    let nonce = required_nonce(headers)?;
    let datapoint_name =
        text(headers, &X_TRANSCEND_DATAPOINT_NAME)?.ok_or_else(|| ServerError::BadRequest {
            message: "missing header x-transcend-datapoint-name".into(),
        })?;
    let mut upload = DatapointUpload::new(datapoint_name);
    upload.remote_id = text(headers, &X_TRANSCEND_REMOTE_ID)?;
    upload.profile_id = text(headers, &X_TRANSCEND_PROFILE_ID)?;
    upload.skip_status_update = headers
        .get(X_TRANSCEND_SKIP_STATUS_UPDATE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    upload.validate().map_err(|e| ServerError::BadRequest {
        message: e.to_string(),
    })?;
    Ok(Incoming {
        credentials: Credentials::from_headers(headers),
        input: Report {
            nonce,
            body: upload,
        },
    })
}

/// Server side: reads the head and hands back the body untouched.
pub fn parse_request<B>(
    request: Request<B>,
) -> Result<(Incoming<Report<DatapointUpload>>, B), ServerError> {
    let (parts, body) = request.into_parts();
    Ok((parse_request_head(&parts)?, body))
}

fn text(headers: &HeaderMap, name: &HeaderName) -> Result<Option<String>, ServerError> {
    headers
        .get(name)
        .map(|value| {
            std::str::from_utf8(value.as_bytes())
                .map(str::to_owned)
                .map_err(|_| ServerError::BadRequest {
                    message: format!("header {name} is not UTF-8"),
                })
        })
        .transpose()
}

/// Server side: the success answer.
pub fn build_response() -> Response<Bytes> {
    accepted_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_the_callers_own_type() {
        struct Unbufferable;
        let report = Report::new("nonce", DatapointUpload::new("files"));
        let request = build_request(&Config::new("k"), &report, Unbufferable, None).unwrap();
        assert!(request.headers().get(CONTENT_LENGTH).is_none());
        let _: &Unbufferable = request.body();
    }

    #[test]
    fn missing_headers_are_named() {
        let request = Request::post(PATH)
            .header("x-transcend-nonce", "n")
            .body(())
            .unwrap();
        let error = parse_request(request).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Client error: missing header x-transcend-datapoint-name"
        );
        let request = Request::post(PATH).body(()).unwrap();
        assert!(
            parse_request(request)
                .unwrap_err()
                .to_string()
                .contains("x-transcend-nonce")
        );
    }
}
