//! The body of `POST /v1/data-silo`: a data silo's JSON datapoints for an ACCESS job.

use crate::AccessStatus;
use crate::validate::{Checker, Validate, ValidationError};

/// JSON datapoints for an ACCESS job (`POST /v1/data-silo`).
///
/// ```
/// use transcend_types::{AccessProfile, AccessUpload};
/// use serde_json::json;
///
/// let done = AccessUpload::ready(vec![AccessProfile::new("ben").datapoint("name", json!("Ben Farrell"))]);
/// let partial = AccessUpload::partial(vec![AccessProfile::new("ben").datapoint("favoriteFood", json!(["pizza"]))]);
/// let nobody_here = AccessUpload::not_found();
/// # let _ = (done, partial, nobody_here);
/// ```
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct AccessUpload {
    /// The profiles found for the person: zero, one or many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiles: Option<Vec<AccessProfile>>,
    /// `READY` finishes the job: every datapoint not yet reported becomes "no data".
    /// Leave it out when more uploads follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AccessStatus>,
}

/// One profile (account) of the person and its datapoints.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AccessProfile {
    /// The profile's identifier in the silo. Optional: the reference page's own examples
    /// send profiles without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub profile_id: Option<String>,
    /// Datapoint key to its data (any JSON).
    pub profile_data: serde_json::Map<String, serde_json::Value>,
}

impl AccessProfile {
    /// A profile with this identifier and no datapoints yet.
    pub fn new(profile_id: impl Into<String>) -> Self {
        Self {
            profile_id: Some(profile_id.into()),
            profile_data: serde_json::Map::new(),
        }
    }

    /// A profile without an identifier (`profileId` left out) and no datapoints yet.
    pub fn unnamed() -> Self {
        Self {
            profile_id: None,
            profile_data: serde_json::Map::new(),
        }
    }

    /// Adds a datapoint.
    pub fn datapoint(mut self, key: impl Into<String>, value: serde_json::Value) -> Self {
        self.profile_data.insert(key.into(), value);
        self
    }
}

impl AccessUpload {
    /// Profiles, with more uploads to come.
    pub fn partial(profiles: Vec<AccessProfile>) -> Self {
        Self {
            profiles: Some(profiles),
            status: None,
        }
    }

    /// Profiles, and the job is done.
    pub fn ready(profiles: Vec<AccessProfile>) -> Self {
        Self {
            profiles: Some(profiles),
            status: Some(AccessStatus::Ready),
        }
    }

    /// The person is not in this silo: `{"status": "READY"}`.
    pub fn not_found() -> Self {
        Self {
            profiles: None,
            status: Some(AccessStatus::Ready),
        }
    }
}

impl Validate for AccessUpload {
    fn validate(&self) -> Result<(), ValidationError> {
        let mut checker = Checker::default();
        for (i, profile) in self.profiles.iter().flatten().enumerate() {
            if let Some(id) = &profile.profile_id {
                checker.non_empty(|| format!("profiles[{i}].profileId"), id);
            }
        }
        if let Some(status) = &self.status {
            checker.known(
                || "status".into(),
                status.as_str(),
                status.is_known(),
                AccessStatus::KNOWN_NAMES,
            );
        }
        checker.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_is_status_ready_alone() {
        assert_eq!(
            serde_json::to_string(&AccessUpload::not_found()).unwrap(),
            r#"{"status":"READY"}"#
        );
    }

    #[test]
    fn a_profile_may_have_no_id() {
        let upload: AccessUpload =
            serde_json::from_str(r#"{"profiles":[{"profileData":{"name":"Ben"}}]}"#).unwrap();
        assert_eq!(upload.profiles.as_ref().unwrap()[0].profile_id, None);
        upload.validate().unwrap();
        assert_eq!(
            serde_json::to_string(&upload).unwrap(),
            r#"{"profiles":[{"profileData":{"name":"Ben"}}]}"#
        );
    }

    #[test]
    fn an_empty_profile_id_is_named() {
        let error = AccessUpload::partial(vec![AccessProfile::new("")])
            .validate()
            .unwrap_err();
        assert!(error.names_field("profiles[0].profileId"));
    }
}
