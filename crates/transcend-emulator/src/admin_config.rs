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
///
/// # The organization's Sombra version (Transcend's CLI needs 7.180.0 or later for
/// # `request export`), and its AI settings (an MCP server asks before each Sombra call).
/// sombra_version = "7.180.0"
/// [admin.ai_setting]
/// is_ai_enabled = true
/// is_mcp_sombra_enabled = false
///
/// # Who answers for requests and data silos (`owners`, `teams`).
/// [[admin.users]]
/// id = "u-1"
/// name = "Ada Lovelace"
/// email = "ada@example.com"
/// [[admin.teams]]
/// id = "t-1"
/// name = "Privacy"
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
    /// The version `organization { sombra { version } }` answers (default
    /// [`DEFAULT_SOMBRA_VERSION`]): lower it to rehearse a tool's refusal of an old Sombra.
    pub sombra_version: String,
    /// What `organization { aiSetting }` answers: both on by default, so AI tooling
    /// works against a default emulator; off to rehearse a refusal.
    pub ai_setting: AiSettingConfig,
    /// The organization's users (`[[admin.users]]`): each request's and each data
    /// silo's `owners`. None by default.
    pub users: Vec<UserConfig>,
    /// The organization's teams (`[[admin.teams]]`): each request's and each data
    /// silo's `teams`. None by default.
    pub teams: Vec<TeamConfig>,
}

/// A user of the organization (`UserPreview`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct UserConfig {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its e-mail address.
    pub email: String,
}

impl UserConfig {
    /// A user.
    pub fn new(id: impl Into<String>, name: impl Into<String>, email: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            email: email.into(),
        }
    }
}

/// A team of the organization (`TeamPreview`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TeamConfig {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

impl TeamConfig {
    /// A team.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
        }
    }
}

/// The Sombra version a default emulator reports: the first that serves every call
/// Transcend's CLI makes (its `request export` refuses anything older).
pub const DEFAULT_SOMBRA_VERSION: &str = "7.180.0";

/// The organization's AI settings (`aiSetting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AiSettingConfig {
    /// `isAiEnabled`: AI features are on for the organization.
    pub is_ai_enabled: bool,
    /// `isMcpSombraEnabled`: MCP servers may call the organization's Sombra.
    pub is_mcp_sombra_enabled: bool,
}

impl Default for AiSettingConfig {
    fn default() -> Self {
        Self {
            is_ai_enabled: true,
            is_mcp_sombra_enabled: true,
        }
    }
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
            sombra_version: DEFAULT_SOMBRA_VERSION.into(),
            ai_setting: AiSettingConfig::default(),
            users: Vec::new(),
            teams: Vec::new(),
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
