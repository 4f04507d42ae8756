//! The JSON body of an error response.

/// The body of an error response: `{"message": "…"}`.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct ErrorBody {
    /// What went wrong, for example
    /// `Client error: You have already made this request.`
    pub message: String,
}

impl ErrorBody {
    /// An error body with its message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}
