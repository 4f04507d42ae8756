//! Uploads to one datapoint: a binary file (`POST /v1/datapoint`) and paged JSON
//! (`POST /v1/datapoint-chunked`).

use crate::validate::{Checker, ProblemKind, Validate, ValidationError};

/// The headers of a file upload to one datapoint (`POST /v1/datapoint`); the body is the
/// file itself (`application/octet-stream`).
///
/// As JSON (and in its schema) the fields are named after their headers.
///
/// ```
/// use transcend_types::DatapointUpload;
///
/// let first = DatapointUpload::new("profile_picture").remote_id("photo-1.jpg").skip_status_update(true);
/// let last = DatapointUpload::new("profile_picture").remote_id("photo-2.jpg");
/// # let _ = (first, last);
/// ```
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct DatapointUpload {
    /// `x-transcend-datapoint-name`: the datapoint key the file belongs to.
    #[serde(rename = "x-transcend-datapoint-name")]
    #[schemars(length(min = 1))]
    pub datapoint_name: String,
    /// `x-transcend-remote-id`: the file name shown to the person; defaults to
    /// "{datapoint name} (#)".
    #[serde(
        rename = "x-transcend-remote-id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 1))]
    pub remote_id: Option<String>,
    /// `x-transcend-profile-id`, deprecated: recent Sombra versions read the profile
    /// from the nonce.
    #[serde(
        rename = "x-transcend-profile-id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 1), extend("deprecated" = true))]
    pub profile_id: Option<String>,
    /// `x-transcend-skip-status-update: true` on every file but the last when several
    /// files go to one datapoint.
    #[serde(
        rename = "x-transcend-skip-status-update",
        default,
        skip_serializing_if = "is_false"
    )]
    pub skip_status_update: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl DatapointUpload {
    /// An upload to the named datapoint.
    pub fn new(datapoint_name: impl Into<String>) -> Self {
        Self {
            datapoint_name: datapoint_name.into(),
            remote_id: None,
            profile_id: None,
            skip_status_update: false,
        }
    }

    /// Sets the file name shown to the person.
    pub fn remote_id(mut self, remote_id: impl Into<String>) -> Self {
        self.remote_id = Some(remote_id.into());
        self
    }

    /// Sets the deprecated profile id.
    pub fn profile_id(mut self, profile_id: impl Into<String>) -> Self {
        self.profile_id = Some(profile_id.into());
        self
    }

    /// Marks this file as not the last one for its datapoint.
    pub fn skip_status_update(mut self, skip: bool) -> Self {
        self.skip_status_update = skip;
        self
    }
}

impl Validate for DatapointUpload {
    fn validate(&self) -> Result<(), ValidationError> {
        let mut checker = Checker::default();
        header_text(
            &mut checker,
            "x-transcend-datapoint-name",
            Some(&self.datapoint_name),
        );
        header_text(
            &mut checker,
            "x-transcend-remote-id",
            self.remote_id.as_deref(),
        );
        header_text(
            &mut checker,
            "x-transcend-profile-id",
            self.profile_id.as_deref(),
        );
        checker.finish()
    }
}

/// A header value must be non-empty printable ASCII: control characters would split or
/// end the header, and other characters have no agreed encoding in a header (the
/// receiver would see raw UTF-8 bytes or mojibake), so they are refused rather than
/// sent. Percent-encode or transliterate a file name before setting it.
fn header_text(checker: &mut Checker, field: &str, value: Option<&str>) {
    let Some(value) = value else { return };
    if value.is_empty() {
        checker.report(field, ProblemKind::Empty);
    } else if value.chars().any(char::is_control) {
        checker.report(
            field,
            ProblemKind::Malformed {
                value: value.to_owned(),
                expected: "text without control characters",
            },
        );
    } else if !value.is_ascii() {
        checker.report(
            field,
            ProblemKind::Malformed {
                value: value.to_owned(),
                expected: "ASCII text (header values carry no other characters; percent-encode or transliterate them)",
            },
        );
    }
}

/// One page of JSON for one datapoint (`POST /v1/datapoint-chunked`), for data too large
/// for a single call. The page with `isLastPage: true` completes the datapoint.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DatapointChunk {
    /// The datapoint key.
    #[serde(rename = "dataPointName")]
    #[schemars(length(min = 1))]
    pub datapoint_name: String,
    /// This page's records; may be empty on the last page.
    pub data: Vec<serde_json::Value>,
    /// Identifies the page (for example `page 3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// Whether this page completes the datapoint.
    #[serde(default)]
    pub is_last_page: bool,
}

impl DatapointChunk {
    /// A page of records.
    pub fn new(
        datapoint_name: impl Into<String>,
        data: Vec<serde_json::Value>,
        is_last_page: bool,
    ) -> Self {
        Self {
            datapoint_name: datapoint_name.into(),
            data,
            file_id: None,
            is_last_page,
        }
    }

    /// Sets the page's id.
    pub fn file_id(mut self, file_id: impl Into<String>) -> Self {
        self.file_id = Some(file_id.into());
        self
    }
}

impl Validate for DatapointChunk {
    fn validate(&self) -> Result<(), ValidationError> {
        let mut checker = Checker::default();
        checker.non_empty(|| "dataPointName".into(), &self.datapoint_name);
        checker.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_that_would_break_the_request_are_refused() {
        let upload = DatapointUpload::new("").remote_id("evil\r\nx-injected: 1");
        let error = upload.validate().unwrap_err();
        assert!(error.names_field("x-transcend-datapoint-name"), "{error}");
        assert!(error.names_field("x-transcend-remote-id"), "{error}");
        let error = DatapointUpload::new("files")
            .remote_id("résumé.pdf")
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains("ASCII"), "{error}");
    }

    #[test]
    fn ascii_file_names_with_spaces_are_fine() {
        DatapointUpload::new("files")
            .remote_id("Resume 2024 (final).pdf")
            .validate()
            .unwrap();
    }

    #[test]
    fn the_chunk_example_round_trips() {
        let text = r#"{"dataPointName":"friends","data":[{"name":"a"}],"fileId":"page 3","isLastPage":false}"#;
        let chunk: DatapointChunk = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&chunk).unwrap(), text);
    }
}
