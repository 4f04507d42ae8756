//! What a DSR asks for (`type`) and how it ended (`completedRequestStatus`).

use crate::wire_enum::wire_enum;

wire_enum! {
    /// The kind of data subject request (`type`): the 19 actions of the reference pages.
    pub enum RequestAction {
        /// Give the person a copy of their data.
        Access = "ACCESS",
        /// Delete the person's data.
        Erasure = "ERASURE",
        /// Correct the person's data.
        Rectification = "RECTIFICATION",
        /// Restrict processing of the person's data.
        Restriction = "RESTRICTION",
        /// Business-purpose disclosure.
        BusinessPurpose = "BUSINESS_PURPOSE",
        /// Place the person's data on legal hold.
        PlaceOnLegalHold = "PLACE_ON_LEGAL_HOLD",
        /// Remove the person's data from legal hold.
        RemoveFromLegalHold = "REMOVE_FROM_LEGAL_HOLD",
        /// Opt out of automated decision making.
        AutomatedDecisionMakingOptOut = "AUTOMATED_DECISION_MAKING_OPT_OUT",
        /// Opt out of the use of sensitive information.
        UseOfSensitiveInformationOptOut = "USE_OF_SENSITIVE_INFORMATION_OPT_OUT",
        /// Opt out of contact.
        ContactOptOut = "CONTACT_OPT_OUT",
        /// Opt out of the sale of data.
        SaleOptOut = "SALE_OPT_OUT",
        /// Opt out of tracking.
        TrackingOptOut = "TRACKING_OPT_OUT",
        /// A custom opt-out.
        CustomOptOut = "CUSTOM_OPT_OUT",
        /// Opt in to automated decision making.
        AutomatedDecisionMakingOptIn = "AUTOMATED_DECISION_MAKING_OPT_IN",
        /// Opt in to the use of sensitive information.
        UseOfSensitiveInformationOptIn = "USE_OF_SENSITIVE_INFORMATION_OPT_IN",
        /// Opt in to the sale of data.
        SaleOptIn = "SALE_OPT_IN",
        /// Opt in to tracking.
        TrackingOptIn = "TRACKING_OPT_IN",
        /// Opt in to contact.
        ContactOptIn = "CONTACT_OPT_IN",
        /// A custom opt-in.
        CustomOptIn = "CUSTOM_OPT_IN",
    }
}

wire_enum! {
    /// Where a DSR uploaded from a backlog starts (`completedRequestStatus`): it is created
    /// directly in this finished state.
    pub enum CompletedRequestStatus {
        /// The person could not be verified.
        FailedVerification = "FAILED_VERIFICATION",
        /// Completed.
        Completed = "COMPLETED",
        /// Canceled.
        Canceled = "CANCELED",
        /// Completed in its secondary phase (erasures).
        SecondaryCompleted = "SECONDARY_COMPLETED",
        /// Revoked.
        Revoked = "REVOKED",
    }
}
