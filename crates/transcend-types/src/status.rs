//! Where a DSR is in its life (`status`).

use crate::CompletedRequestStatus;
use crate::wire_enum::wire_enum;

wire_enum! {
    /// The state of a DSR (`status`): the 16 states of the reference pages.
    pub enum RequestStatus {
        /// Just submitted.
        RequestMade = "REQUEST_MADE",
        /// The person could not be verified; finished.
        FailedVerification = "FAILED_VERIFICATION",
        /// Identifiers are being enriched.
        Enriching = "ENRICHING",
        /// Put on hold.
        OnHold = "ON_HOLD",
        /// In a waiting period.
        Waiting = "WAITING",
        /// Data silos are being processed.
        Compiling = "COMPILING",
        /// Waiting for approval.
        Approving = "APPROVING",
        /// Delayed.
        Delayed = "DELAYED",
        /// Finished.
        Completed = "COMPLETED",
        /// An access report is ready for the person to download; finished.
        Downloadable = "DOWNLOADABLE",
        /// The person may view the categories of data held; finished.
        ViewCategories = "VIEW_CATEGORIES",
        /// Canceled; finished.
        Canceled = "CANCELED",
        /// In the secondary (erasure) phase.
        Secondary = "SECONDARY",
        /// The secondary (erasure) phase is done; finished.
        SecondaryCompleted = "SECONDARY_COMPLETED",
        /// The secondary phase waits for approval.
        SecondaryApproving = "SECONDARY_APPROVING",
        /// Revoked; finished.
        Revoked = "REVOKED",
    }
}

impl RequestStatus {
    /// Whether the DSR is finished: no further state change is expected.
    ///
    /// An unknown status is not terminal: a poller keeps waiting rather than stopping on
    /// a value it cannot interpret.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::FailedVerification
                | Self::Completed
                | Self::Downloadable
                | Self::ViewCategories
                | Self::Canceled
                | Self::SecondaryCompleted
                | Self::Revoked
        )
    }
}

impl From<CompletedRequestStatus> for RequestStatus {
    fn from(value: CompletedRequestStatus) -> Self {
        match value {
            CompletedRequestStatus::FailedVerification => Self::FailedVerification,
            CompletedRequestStatus::Completed => Self::Completed,
            CompletedRequestStatus::Canceled => Self::Canceled,
            CompletedRequestStatus::SecondaryCompleted => Self::SecondaryCompleted,
            CompletedRequestStatus::Revoked => Self::Revoked,
            CompletedRequestStatus::Unknown(other) => Self::parse(&other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_completed_status_is_a_terminal_request_status() {
        for completed in CompletedRequestStatus::KNOWN {
            let status = RequestStatus::from(completed.clone());
            assert!(status.is_known() && status.is_terminal(), "{status}");
            assert_eq!(status.as_str(), completed.as_str());
        }
    }

    #[test]
    fn in_flight_and_unknown_statuses_are_not_terminal() {
        assert!(!RequestStatus::Compiling.is_terminal());
        assert!(!RequestStatus::parse("SOMETHING_NEW").is_terminal());
    }
}
