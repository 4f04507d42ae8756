//! The header names of the protocol.

use http::HeaderName;

/// `x-sombra-authorization: Bearer <sombra internal key>` (self-hosted Sombra only).
pub const X_SOMBRA_AUTHORIZATION: HeaderName = HeaderName::from_static("x-sombra-authorization");
/// `x-transcend-nonce`: the job a report belongs to.
pub const X_TRANSCEND_NONCE: HeaderName = HeaderName::from_static("x-transcend-nonce");
/// `x-sombra-token`: the signed JWT of a webhook delivery.
pub const X_SOMBRA_TOKEN: HeaderName = HeaderName::from_static("x-sombra-token");
/// `x-transcend-datapoint-name`: the datapoint a file belongs to.
pub const X_TRANSCEND_DATAPOINT_NAME: HeaderName =
    HeaderName::from_static("x-transcend-datapoint-name");
/// `x-transcend-remote-id`: the file name shown to the person.
pub const X_TRANSCEND_REMOTE_ID: HeaderName = HeaderName::from_static("x-transcend-remote-id");
/// `x-transcend-profile-id` (deprecated): the profile a file belongs to.
pub const X_TRANSCEND_PROFILE_ID: HeaderName = HeaderName::from_static("x-transcend-profile-id");
/// `x-transcend-skip-status-update: true` on every file but a datapoint's last.
pub const X_TRANSCEND_SKIP_STATUS_UPDATE: HeaderName =
    HeaderName::from_static("x-transcend-skip-status-update");
/// `x-ratelimit-limit`: requests allowed per window.
pub const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// `x-ratelimit-remaining`: requests left in the window.
pub const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// `x-ratelimit-reset`: when the window resets (epoch seconds, epoch milliseconds or a date).
pub const X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
/// `x-request-id`: the server's id for a request, kept on errors for support.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// `application/json`.
pub const APPLICATION_JSON: &str = "application/json";
/// `application/octet-stream`.
pub const APPLICATION_OCTET_STREAM: &str = "application/octet-stream";
/// `text/plain`.
pub const TEXT_PLAIN: &str = "text/plain";
