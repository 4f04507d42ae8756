//! What the admin API serves besides requests: e-mail templates, custom fields, data
//! subject types.

use serde::{Deserialize, Serialize};

/// The admin API's organization data.
///
/// ```toml
/// [admin]
/// subject_types = ["customer", "employee"]
///
/// [[admin.templates]]
/// title = "Request Canceled"
/// subject = "Your request was canceled"
/// body = "We could not verify your identity."
///
/// [[admin.attribute_keys]]
/// name = "Source"
/// type = "SINGLE_SELECT"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AdminConfig {
    /// The e-mail templates (`templates`); by default the two Transcend's CLI looks
    /// for: "Request Canceled" and "Additional Time Needed".
    pub templates: Vec<TemplateConfig>,
    /// The custom fields of requests (`attributeKeys`).
    pub attribute_keys: Vec<AttributeKeyConfig>,
    /// The data subject types (`internalSubjects`).
    pub subject_types: Vec<String>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            templates: vec![
                TemplateConfig::new(
                    "Request Canceled",
                    "Your privacy request was canceled",
                    "Your request was canceled. Reply to this e-mail if you have questions.",
                ),
                TemplateConfig::new(
                    "Additional Time Needed",
                    "Your privacy request needs more time",
                    "We need more time to complete your request, as the law allows.",
                ),
            ],
            attribute_keys: Vec::new(),
            subject_types: vec!["customer".into()],
        }
    }
}

/// An e-mail template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TemplateConfig {
    /// Its title: how Transcend's CLI finds it.
    pub title: String,
    /// The e-mail's subject.
    pub subject: String,
    /// The e-mail's text.
    pub body: String,
}

impl TemplateConfig {
    /// A template.
    pub fn new(title: &str, subject: &str, body: &str) -> Self {
        Self {
            title: title.into(),
            subject: subject.into(),
            body: body.into(),
        }
    }
}

/// A custom field of requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AttributeKeyConfig {
    /// Its name.
    pub name: String,
    /// `MULTI_SELECT`, `SINGLE_SELECT`, `TEXT`, … (the admin API's `AttributeKeyType`).
    #[serde(rename = "type", default = "text")]
    pub kind: String,
}

fn text() -> String {
    "TEXT".into()
}
