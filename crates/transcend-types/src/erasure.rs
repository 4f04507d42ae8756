//! The body of `PUT /v1/data-silo`: a data silo's outcome for an ERASURE (or any) job.

use crate::validate::{Checker, Validate, ValidationError};
use crate::{IntegrationStatus, ProfileStatus, Timestamp};

/// A silo's outcome for a job (`PUT /v1/data-silo`).
///
/// `{}` means erased, done.
///
/// ```
/// use transcend_types::{ErasureReport, Timestamp};
///
/// let erased = ErasureReport::erased();
/// let nothing_here = ErasureReport::not_found();
/// let failed = ErasureReport::error("Something went wrong! Please reach out to Bobby.");
/// let polling = ErasureReport::polling("async-job-id-123", "Polling for the DSR.")
///     .retry_after(Timestamp::parse("2025-06-07T00:00:00.000Z")?);
/// # let _ = (erased, nothing_here, failed, polling);
/// # Ok::<(), transcend_types::TimestampError>(())
/// ```
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ErasureReport {
    /// Deprecated: the profiles erased. Recent Sombra versions read the profile from the
    /// nonce; leave this out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("deprecated" = true))]
    pub profiles: Option<Vec<ErasedProfile>>,
    /// Overrides the state of the silo's job. `READY` or `RESOLVED` also resolve the
    /// profiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<IntegrationStatus>,
    /// Overrides the state of the profiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_status: Option<ProfileStatus>,
    /// The id of an asynchronous job polling for this DSR in the silo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub poll_id: Option<String>,
    /// A message shown in the dashboard: an error, or the state of the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub message: Option<String>,
    /// When the job may be retried (asynchronous workflows, retryable errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_date: Option<Timestamp>,
}

/// Deprecated: a profile named in an erasure report.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ErasedProfile {
    /// The profile's identifier in the silo.
    #[schemars(length(min = 1))]
    pub profile_id: String,
}

impl ErasedProfile {
    /// A profile by its identifier.
    pub fn new(profile_id: impl Into<String>) -> Self {
        Self {
            profile_id: profile_id.into(),
        }
    }
}

impl ErasureReport {
    /// The person's data is erased and the job is done: `{}`.
    pub fn erased() -> Self {
        Self::default()
    }

    /// Nothing to erase here: `{"status": "SKIPPED"}`.
    pub fn not_found() -> Self {
        Self {
            status: Some(IntegrationStatus::Skipped),
            ..Self::default()
        }
    }

    /// The erasure failed: `{"message": …, "profileStatus": "ERROR"}`.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            profile_status: Some(ProfileStatus::Error),
            ..Self::default()
        }
    }

    /// An asynchronous job in the silo is working on it.
    pub fn polling(poll_id: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            poll_id: Some(poll_id.into()),
            profile_status: Some(ProfileStatus::Waiting),
            ..Self::default()
        }
    }

    /// A report with only the given statuses.
    pub fn with_status(
        status: Option<IntegrationStatus>,
        profile_status: Option<ProfileStatus>,
    ) -> Self {
        Self {
            status,
            profile_status,
            ..Self::default()
        }
    }

    /// Sets the deprecated `profiles`, for Sombra versions that still read it: the
    /// profiles erased, by identifier. Recent versions read the profile from the nonce.
    pub fn profiles<S: Into<String>>(mut self, profile_ids: impl IntoIterator<Item = S>) -> Self {
        self.profiles = Some(
            profile_ids
                .into_iter()
                .map(|id| ErasedProfile::new(id))
                .collect(),
        );
        self
    }

    /// Sets `retryAfterDate`.
    pub fn retry_after(mut self, at: Timestamp) -> Self {
        self.retry_after_date = Some(at);
        self
    }

    /// Sets `message`.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

impl Validate for ErasureReport {
    fn validate(&self) -> Result<(), ValidationError> {
        let mut checker = Checker::default();
        for (i, profile) in self.profiles.iter().flatten().enumerate() {
            checker.non_empty(|| format!("profiles[{i}].profileId"), &profile.profile_id);
        }
        if let Some(status) = &self.status {
            checker.known(
                || "status".into(),
                status.as_str(),
                status.is_known(),
                IntegrationStatus::KNOWN_NAMES,
            );
        }
        if let Some(status) = &self.profile_status {
            checker.known(
                || "profileStatus".into(),
                status.as_str(),
                status.is_known(),
                ProfileStatus::KNOWN_NAMES,
            );
        }
        for (field, value) in [("pollId", &self.poll_id), ("message", &self.message)] {
            if let Some(value) = value {
                checker.non_empty(|| field.into(), value);
            }
        }
        checker.timestamp("retryAfterDate", self.retry_after_date.as_ref());
        checker.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deprecated_profiles_have_a_setter() {
        let report = ErasureReport::erased().profiles(["ben", "ada"]);
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"profiles":[{"profileId":"ben"},{"profileId":"ada"}]}"#
        );
    }

    #[test]
    fn erased_is_the_empty_object() {
        assert_eq!(
            serde_json::to_string(&ErasureReport::erased()).unwrap(),
            "{}"
        );
    }

    #[test]
    fn unknown_statuses_and_bad_dates_are_named() {
        let report: ErasureReport = serde_json::from_str(
            r#"{"status":"DONE","profileStatus":"MAYBE","retryAfterDate":"soon"}"#,
        )
        .unwrap();
        let error = report.validate().unwrap_err();
        for field in ["status", "profileStatus", "retryAfterDate"] {
            assert!(error.names_field(field), "{field}: {error}");
        }
    }
}
