//! `POST /v1/data-silo`: a data silo reports JSON datapoints for an ACCESS job.

use transcend_types::AccessUpload;

use super::report_endpoint;

report_endpoint! {
    /// `POST /v1/data-silo`: JSON datapoints for an ACCESS job, with `status: READY` when done.
    UploadAccessEndpoint, AccessUpload, POST, "/v1/data-silo", "upload_access",
    "A data silo reports JSON datapoints for an ACCESS job; `status: READY` completes it."
}
