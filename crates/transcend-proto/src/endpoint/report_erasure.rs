//! `PUT /v1/data-silo`: a data silo reports the outcome of an ERASURE (or any) job: erased, skipped, waiting, failed.

use transcend_types::ErasureReport;

use super::report_endpoint;

report_endpoint! {
    /// `PUT /v1/data-silo`: the outcome of an ERASURE (or any) job. `{}` means erased, done.
    ReportErasureEndpoint, ErasureReport, PUT, "/v1/data-silo", "report_erasure",
    "A data silo reports the outcome of a job: erased (`{}`), skipped, waiting or failed."
}
