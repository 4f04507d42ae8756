//! The statuses a data silo reports back for a job.

use crate::wire_enum::wire_enum;

wire_enum! {
    /// `status` of an access upload (`POST /v1/data-silo`): forces the job ready; every
    /// datapoint not yet reported becomes "no data".
    pub enum AccessStatus {
        /// The silo is done with this job.
        Ready = "READY",
    }
}

wire_enum! {
    /// `status` of an erasure report (`PUT /v1/data-silo`): overrides the state of the
    /// silo's job (the integration).
    pub enum IntegrationStatus {
        /// Done; also marks the profiles resolved.
        Ready = "READY",
        /// Resolved; also marks the profiles resolved.
        Resolved = "RESOLVED",
        /// Skipped: no data was found.
        Skipped = "SKIPPED",
        /// Skipped because of an exception.
        SkippedDueToException = "SKIPPED_DUE_TO_EXCEPTION",
        /// A person has to act before the job can continue.
        ActionRequired = "ACTION_REQUIRED",
        /// More is to come.
        Waiting = "WAITING",
    }
}

wire_enum! {
    /// `profileStatus` of an erasure report (`PUT /v1/data-silo`): overrides the state of
    /// the profiles the report is about.
    pub enum ProfileStatus {
        /// Erased.
        Resolved = "RESOLVED",
        /// Skipped: nothing to erase.
        Skipped = "SKIPPED",
        /// Skipped because of an exception.
        SkippedDueToException = "SKIPPED_DUE_TO_EXCEPTION",
        /// Still being worked on (for example by an asynchronous job).
        Waiting = "WAITING",
        /// Failed; the report's `message` says why.
        Error = "ERROR",
    }
}
