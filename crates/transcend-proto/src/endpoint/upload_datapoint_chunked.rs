//! `POST /v1/datapoint-chunked`: a data silo reports one page of JSON for one datapoint.

use transcend_types::DatapointChunk;

use super::report_endpoint;

report_endpoint! {
    /// `POST /v1/datapoint-chunked`: one page of JSON for one datapoint; the page with `isLastPage` completes it.
    UploadDatapointChunkedEndpoint, DatapointChunk, POST, "/v1/datapoint-chunked", "upload_datapoint_chunked",
    "A data silo reports one page of JSON for one datapoint; the last page completes it."
}
