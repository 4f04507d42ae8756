//! The HTTP pieces every endpoint is made of: request heads, JSON bodies, success and
//! error responses, on both sides. Endpoint modules combine these; nothing here knows
//! any one endpoint.

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use transcend_types::Validate;

use crate::config::{Config, RequestPath};
use crate::error::{ApiError, DecodeError, Error};
use crate::headers::{APPLICATION_JSON, X_TRANSCEND_NONCE};
use crate::secret::Nonce;
use crate::server::ServerError;

/// The most of a value an error message quotes; the rest is cut (`…`), so a 10 MB
/// value in a request never comes back as a 10 MB error.
pub(crate) const MAX_QUOTED: usize = 256;

/// The longest error message a server sends.
pub(crate) const MAX_MESSAGE: usize = 2048;

/// `text`, cut at [`MAX_QUOTED`] bytes (on a character boundary) with `…` after.
pub(crate) fn quoted(text: &str) -> String {
    cut(text, MAX_QUOTED)
}

/// `text`, cut at `max` bytes (on a character boundary) with `…` after.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A request with the headers every call carries: credentials, user agent, accept,
/// and the nonce for reports. Callers add their own headers to `headers_mut()`.
pub(crate) fn request_head<B>(
    config: &Config,
    method: Method,
    path: RequestPath,
    nonce: Option<&Nonce>,
    body: B,
) -> Result<Request<B>, Error> {
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = config.uri(path)?;
    *request.headers_mut() = config.common_headers()?;
    if let Some(nonce) = nonce {
        request
            .headers_mut()
            .insert(X_TRANSCEND_NONCE, nonce_header(nonce)?);
    }
    Ok(request)
}

pub(crate) fn nonce_header(nonce: &Nonce) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(nonce.expose())
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Error::invalid_config("nonce", "[REDACTED]", "a non-empty, header-safe token")
        })?;
    value.set_sensitive(true);
    Ok(value)
}

/// A JSON request: validates, serializes, and sets the body headers.
pub(crate) fn json_request<T: Serialize + Validate>(
    endpoint: &'static str,
    config: &Config,
    method: Method,
    path: RequestPath,
    nonce: Option<&Nonce>,
    body: &T,
) -> Result<Request<Bytes>, Error> {
    body.validate()
        .map_err(|source| Error::Invalid { endpoint, source })?;
    let bytes = serde_json::to_vec(body)
        .map_err(|e| Error::invalid_config("body", &e.to_string(), "a serializable body"))?;
    let length = HeaderValue::from(bytes.len());
    let mut request = request_head(config, method, path, nonce, Bytes::from(bytes))?;
    let headers = request.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(APPLICATION_JSON));
    headers.insert(CONTENT_LENGTH, length);
    Ok(request)
}

/// Text as a header value. Header values are ASCII on the wire: anything else is
/// refused with an error naming the header, never sent as raw bytes.
pub(crate) fn ascii_header(header: &'static str, text: &str) -> Result<HeaderValue, Error> {
    if !text.is_ascii() {
        return Err(Error::invalid_config(
            header,
            text,
            "ASCII text (percent-encode or transliterate other characters)",
        ));
    }
    HeaderValue::from_str(text)
        .map_err(|_| Error::invalid_config(header, text, "text without control characters"))
}

/// A header of an incoming request as text, if present.
pub(crate) fn header_text(
    headers: &HeaderMap,
    name: &HeaderName,
) -> Result<Option<String>, ServerError> {
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

/// The decoded `name=value` pairs of a query string (`+` is a space).
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(&text.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// `path` with `?limit=…&offset=…` for the values that are set.
pub(crate) fn with_paging(mut path: String, limit: Option<u32>, offset: Option<u32>) -> String {
    let query: Vec<String> = [("limit", limit), ("offset", offset)]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| format!("{name}={v}")))
        .collect();
    if !query.is_empty() {
        path.push('?');
        path.push_str(&query.join("&"));
    }
    path
}

/// The `limit` and `offset` of an incoming query, each a whole number when present.
pub(crate) fn read_paging(query: Option<&str>) -> Result<(Option<u32>, Option<u32>), ServerError> {
    let (mut limit, mut offset) = (None, None);
    for (name, value) in query_pairs(query) {
        let number = || {
            value.parse::<u32>().map_err(|_| ServerError::BadRequest {
                message: format!(
                    "query parameter {name} has value {:?}, expected a whole number",
                    quoted(&value)
                ),
            })
        };
        match name.as_str() {
            "limit" => limit = Some(number()?),
            "offset" => offset = Some(number()?),
            _ => {}
        }
    }
    Ok((limit, offset))
}

/// Splits a response into its success parts, or turns an error status into [`ApiError`].
pub(crate) fn success<B: AsRef<[u8]>>(
    endpoint: &'static str,
    response: Response<B>,
) -> Result<(http::response::Parts, B), Error> {
    let (parts, body) = response.into_parts();
    if parts.status.is_success() {
        Ok((parts, body))
    } else {
        let body = Bytes::copy_from_slice(body.as_ref());
        Err(Error::Api(Box::new(ApiError::from_response(
            endpoint,
            parts.status,
            parts.headers,
            body,
        ))))
    }
}

/// Reads a JSON answer: the typed body of a success, or the typed error of any other
/// status.
pub(crate) fn json_answer<T: DeserializeOwned, B: AsRef<[u8]>>(
    endpoint: &'static str,
    response: Response<B>,
) -> Result<T, Error> {
    let (parts, body) = success(endpoint, response)?;
    decode_json(endpoint, &parts, body.as_ref())
}

/// Reads a JSON success body; on failure, names the JSON path where reading stopped.
pub(crate) fn decode_json<T: DeserializeOwned>(
    endpoint: &'static str,
    parts: &http::response::Parts,
    body: &[u8],
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|_| {
        let (path, reason) = json_error_at::<T>(body);
        Error::Decode(Box::new(DecodeError {
            endpoint,
            status: parts.status,
            path,
            reason,
            request_id: crate::error::request_id(&parts.headers),
            body: Bytes::copy_from_slice(body),
        }))
    })
}

/// Reads a JSON body again, tracking the path, to say where and why it fails.
/// Only called once reading has failed, so the fast path pays nothing for it.
fn json_error_at<T: DeserializeOwned>(body: &[u8]) -> (String, String) {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(_) => (
            ".".into(),
            "trailing characters after the JSON value".into(),
        ),
        Err(error) => (
            quoted(&error.path().to_string()),
            quoted(&error.into_inner().to_string()),
        ),
    }
}

/// The body of a server-side JSON request, validated.
pub(crate) fn decode_json_request<T: DeserializeOwned + Validate>(
    body: &[u8],
) -> Result<T, ServerError> {
    let value: T = serde_json::from_slice(body).map_err(|_| {
        let (path, reason) = json_error_at::<T>(body);
        ServerError::BadRequest {
            message: format!("invalid body at `{path}`: {reason}"),
        }
    })?;
    value.validate().map_err(|e| ServerError::BadRequest {
        message: e.to_string(),
    })?;
    Ok(value)
}

/// The `x-transcend-nonce` of an incoming report.
pub(crate) fn required_nonce(headers: &HeaderMap) -> Result<Nonce, ServerError> {
    headers
        .get(X_TRANSCEND_NONCE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(Nonce::new)
        .ok_or_else(|| ServerError::BadRequest {
            message: "missing header x-transcend-nonce".into(),
        })
}

/// A JSON response with the given status.
pub(crate) fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response<Bytes> {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Bytes::from(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(APPLICATION_JSON));
    response
}

/// The success answer to a report: `200` with `{}`.
pub(crate) fn accepted_response() -> Response<Bytes> {
    let mut response = Response::new(Bytes::from_static(b"{}"));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(APPLICATION_JSON));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_capped_on_a_character_boundary() {
        assert_eq!(quoted("short"), "short");
        let long = "é".repeat(1000);
        let cut = quoted(&long);
        assert!(cut.len() <= MAX_QUOTED + '…'.len_utf8(), "{}", cut.len());
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn a_huge_bad_value_is_not_echoed_whole() {
        #[derive(serde::Deserialize, Debug)]
        struct Body {
            #[allow(dead_code)]
            n: u8,
        }
        impl Validate for Body {
            fn validate(&self) -> Result<(), transcend_types::ValidationError> {
                Ok(())
            }
        }
        let body = format!(r#"{{"n": "{}"}}"#, "x".repeat(10 << 20));
        let error = decode_json_request::<Body>(body.as_bytes()).unwrap_err();
        assert!(error.message().len() < 1024, "{}", error.message().len());
    }
}
