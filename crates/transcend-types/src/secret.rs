//! Credentials, nonces and tokens that must never be printed.
//!
//! Each serializes as the plain string it wraps (it is sent on the wire) and shows in
//! JSON Schema as a string; only `Debug` hides it.

use std::fmt;

macro_rules! secret {
    ($(#[doc = $doc:literal])* $name:ident) => {
        $(#[doc = $doc])*
        ///
        /// `Debug` prints only the type name and `[REDACTED]`; there is no `Display`.
        /// Call [`expose`](Self::expose) where the raw value is really needed.
        #[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                "String".into()
            }

            fn inline_schema() -> bool {
                true
            }

            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                String::json_schema(generator)
            }
        }

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The raw value, for the one place that must send or compare it.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

secret! {
    /// A Transcend API key, sent as `authorization: Bearer <key>`.
    ApiKey
}

secret! {
    /// The internal key of a self-hosted Sombra, sent as
    /// `x-sombra-authorization: Bearer <key>`.
    SombraKey
}

secret! {
    /// The `x-transcend-nonce` of a DSR job: proves a report belongs to that job.
    /// Opaque, reusable until the job is finished.
    Nonce
}

secret! {
    /// The `x-sombra-token` of a webhook delivery: a signed JWT.
    SombraToken
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug() {
        let shown = format!(
            "{:?} {:?} {:?} {:?} {:#?}",
            ApiKey::new("sk_live_123"),
            SombraKey::new("sombra-abc"),
            Nonce::new("nonce-xyz"),
            SombraToken::new("eyJhbGciOi"),
            Some(ApiKey::new("sk_live_123")),
        );
        for secret in ["sk_live_123", "sombra-abc", "nonce-xyz", "eyJhbGciOi"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("ApiKey([REDACTED])"));
    }
}
