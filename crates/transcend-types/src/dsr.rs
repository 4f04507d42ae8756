//! What the API says about a DSR: the submit response and the status response.

use crate::{Country, CountrySubdivision, RequestAction, RequestStatus};

/// The answer to a submission (`POST /v1/data-subject-request`): the created request.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct SubmitDsrResponse {
    /// The request as created; store its `id` to poll it later.
    pub request: DsrRecord,
}

/// A DSR as the submit response (and a restart's) describes it.
///
/// Transcend always sends `email`, `country`, `countrySubDivision` (`null` when none)
/// and `attributeValues` (`[]` when none), and Transcend's own CLI refuses an answer
/// without them: they are always written, and required in the JSON Schema. Reading is
/// lenient: an answer that leaves them out reads as `None` and `[]`. Fields the server
/// adds beyond these are ignored, never an error.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = crate::schema::require_always_sent)]
#[non_exhaustive]
pub struct DsrRecord {
    /// The request's id.
    pub id: String,
    /// Its state.
    pub status: RequestStatus,
    /// Its kind.
    #[serde(rename = "type")]
    pub action: RequestAction,
    /// The class of data subject.
    pub subject_type: String,
    /// The person's email address; `null` when none is known.
    #[schemars(schema_with = "crate::schema::nullable_string")]
    pub email: Option<String>,
    /// The person's core identifier.
    pub core_identifier: String,
    /// Whether emails to the person are suppressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_silent: Option<bool>,
    /// Whether this is a test request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_test: Option<bool>,
    /// Addresses copied on emails to the person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_email_addresses: Option<Vec<String>>,
    /// The request in the Transcend dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The country the request came from; `null` when none is known.
    #[serde(default)]
    pub country: Option<Country>,
    /// The subdivision the request came from; `null` when none is known.
    #[serde(rename = "countrySubDivision", default)]
    pub country_sub_division: Option<CountrySubdivision>,
    /// The values of the request's custom fields, one per value; `[]` when none (a
    /// `null` reads as `[]` too).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub attribute_values: Vec<RequestAttributeValue>,
}

/// One value of a request's custom field (attribute): `{ "name": "value",
/// "attributeKey": { "name": "key" } }`.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RequestAttributeValue {
    /// The value.
    pub name: String,
    /// The custom field it is a value of.
    pub attribute_key: AttributeKeyName,
}

impl RequestAttributeValue {
    /// The value `name` of the custom field `key`.
    pub fn new(key: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            attribute_key: AttributeKeyName { name: key.into() },
        }
    }
}

/// A custom field (attribute key), by name.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct AttributeKeyName {
    /// The field's name.
    pub name: String,
}

/// The state of a DSR (`GET /v1/data-subject-request/{id}`).
///
/// Fields the server adds beyond these are ignored, never an error.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DsrStatus {
    /// The request's id.
    pub id: String,
    /// Its state.
    pub status: RequestStatus,
    /// Its kind.
    #[serde(rename = "type")]
    pub action: RequestAction,
    /// The class of data subject.
    pub subject_type: String,
    /// The person's email address; `null` when none is known.
    #[schemars(schema_with = "crate::schema::nullable_string")]
    pub email: Option<String>,
    /// The person's core identifier.
    pub core_identifier: String,
}

impl SubmitDsrResponse {
    /// The answer for a created request.
    pub fn new(request: DsrRecord) -> Self {
        Self { request }
    }
}

/// A list that may be sent as `null`: read as empty.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    let list: Option<Vec<T>> = serde::Deserialize::deserialize(deserializer)?;
    Ok(list.unwrap_or_default())
}

impl DsrStatus {
    /// A status report with every required field.
    pub fn new(
        id: impl Into<String>,
        status: RequestStatus,
        action: RequestAction,
        subject_type: impl Into<String>,
        email: Option<String>,
        core_identifier: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            status,
            action,
            subject_type: subject_type.into(),
            email,
            core_identifier: core_identifier.into(),
        }
    }
}

impl DsrRecord {
    /// A record with the fields both responses share; the optional ones are unset.
    pub fn new(status: DsrStatus) -> Self {
        Self {
            id: status.id,
            status: status.status,
            action: status.action,
            subject_type: status.subject_type,
            email: status.email,
            core_identifier: status.core_identifier,
            is_silent: None,
            is_test: None,
            reply_to_email_addresses: None,
            link: None,
            country: None,
            country_sub_division: None,
            attribute_values: Vec::new(),
        }
    }

    /// The fields the status endpoint reports for this request.
    pub fn to_status(&self) -> DsrStatus {
        DsrStatus::new(
            self.id.clone(),
            self.status.clone(),
            self.action.clone(),
            self.subject_type.clone(),
            self.email.clone(),
            self.core_identifier.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_fields_and_values_do_not_break_parsing() {
        let status: DsrStatus = serde_json::from_str(
            r#"{"id":"1","status":"TELEPORTED","type":"NEW_KIND","subjectType":"customer",
                "email":null,"coreIdentifier":"c","brandNewField":{"x":[1,2]}}"#,
        )
        .unwrap();
        assert_eq!(status.status, RequestStatus::parse("TELEPORTED"));
        assert_eq!(status.email, None);
        let back = serde_json::to_value(&status).unwrap();
        assert_eq!(back["status"], "TELEPORTED");
        assert_eq!(back["type"], "NEW_KIND");
        assert_eq!(back["email"], serde_json::Value::Null);
    }

    #[test]
    fn a_missing_required_field_is_named() {
        let error =
            serde_json::from_str::<DsrStatus>(r#"{"id":"1","status":"COMPILING"}"#).unwrap_err();
        assert!(error.to_string().contains("`type`"), "{error}");
    }
}
