//! The one definition of a string enum on the wire.
//!
//! Every enum of the API is a closed list in the reference pages, but Transcend adds
//! values over time. [`wire_enum!`] declares an enum whose known values are unit
//! variants and whose last variant, `Unknown(String)`, keeps anything else exactly as
//! received, so a response never fails to parse and writes back byte-identical. The
//! published JSON Schema stays closed: generators in other languages get real enums.

/// Declares a wire enum: the variants with their wire spelling, plus `Unknown(String)`.
///
/// Generated: `KNOWN` (every known variant, in declaration order), `as_str`, `is_known`,
/// `parse` (infallible), `From<&str>`/`FromStr`/`Display`/`is_*` (strum), serde as a
/// plain string, and a closed JSON Schema (`{"type": "string", "enum": [...]}`).
macro_rules! wire_enum {
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            strum::EnumString, strum::Display, strum::EnumIs,
        )]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[doc = $vdoc])* #[strum(serialize = $wire)] $variant, )+
            /// A value this version does not know yet, kept exactly as received.
            ///
            /// Construct values with [`Self::parse`], which maps known spellings to their
            /// variant; an `Unknown` holding a known spelling compares unequal to it.
            #[strum(default)]
            Unknown(String),
        }

        impl $name {
            /// Every known value, in the order the reference pages list them.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling of every known value, in the order of [`Self::KNOWN`].
            pub const KNOWN_NAMES: &'static [&'static str] = &[$($wire),+];

            /// The value as it is written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Unknown(other) => other,
                }
            }

            /// Whether this is one of the values the reference pages list.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }

            /// Reads a wire value; values not in [`Self::KNOWN`] become `Unknown`.
            pub fn parse(value: &str) -> Self {
                match Self::position(value) {
                    Some(index) => Self::KNOWN[index].clone(),
                    None => Self::Unknown(value.to_owned()),
                }
            }

            fn from_owned(value: String) -> Self {
                match Self::position(&value) {
                    Some(index) => Self::KNOWN[index].clone(),
                    None => Self::Unknown(value),
                }
            }

            /// The index in [`Self::KNOWN`] of a wire value. Short lists compare in turn;
            /// long ones (countries, locales) binary-search the names, sorted once.
            fn position(value: &str) -> Option<usize> {
                if Self::KNOWN_NAMES.len() <= 24 {
                    let mut index = 0usize;
                    $(
                        if value == $wire {
                            return Some(index);
                        }
                        index += 1;
                    )+
                    let _ = index;
                    return None;
                }
                static SORTED: std::sync::LazyLock<Vec<(&'static str, usize)>> = std::sync::LazyLock::new(|| {
                    let mut sorted: Vec<(&'static str, usize)> = $name::KNOWN_NAMES.iter().copied().zip(0..).collect();
                    sorted.sort_unstable();
                    sorted
                });
                SORTED.binary_search_by(|(name, _)| (*name).cmp(value)).ok().map(|found| SORTED[found].1)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a string (", stringify!($name), ")"))
                    }
                    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<$name, E> {
                        Ok($name::parse(value))
                    }
                    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<$name, E> {
                        Ok($name::from_owned(value))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let description = [$($doc),*].map(str::trim).join(" ");
                let mut schema = schemars::json_schema!({
                    "type": "string",
                    "enum": Self::KNOWN_NAMES,
                });
                if !description.is_empty() {
                    schema.insert("description".into(), description.into());
                }
                schema
            }
        }
    };
}

pub(crate) use wire_enum;

#[cfg(test)]
mod tests {
    use crate::RequestStatus;
    use std::str::FromStr;

    #[test]
    fn known_values_parse_to_their_variant() {
        assert_eq!(RequestStatus::parse("COMPILING"), RequestStatus::Compiling);
        assert_eq!(
            RequestStatus::from_str("COMPILING"),
            Ok(RequestStatus::Compiling)
        );
        let json: RequestStatus = serde_json::from_str("\"DOWNLOADABLE\"").unwrap();
        assert_eq!(json, RequestStatus::Downloadable);
    }

    #[test]
    fn unknown_values_are_kept_and_written_back_unchanged() {
        let value: RequestStatus = serde_json::from_str("\"TELEPORTED\"").unwrap();
        assert_eq!(value, RequestStatus::Unknown("TELEPORTED".into()));
        assert!(!value.is_known());
        assert_eq!(value.to_string(), "TELEPORTED");
        assert_eq!(serde_json::to_string(&value).unwrap(), "\"TELEPORTED\"");
        // Case matters on the wire: a near miss is not silently mapped.
        assert!(RequestStatus::parse("compiling").is_unknown());
    }

    #[test]
    fn display_and_as_str_agree_for_every_known_value() {
        for (value, name) in RequestStatus::KNOWN.iter().zip(RequestStatus::KNOWN_NAMES) {
            assert_eq!(value.as_str(), *name);
            assert_eq!(value.to_string(), *name);
            assert_eq!(&RequestStatus::parse(name), value);
        }
    }

    #[test]
    fn every_known_value_of_every_long_list_parses_to_itself() {
        use crate::{Country, IdentifierType, Locale};
        for (value, name) in Country::KNOWN.iter().zip(Country::KNOWN_NAMES) {
            assert_eq!(&Country::parse(name), value);
        }
        for (value, name) in Locale::KNOWN.iter().zip(Locale::KNOWN_NAMES) {
            assert_eq!(&Locale::parse(name), value);
        }
        for (value, name) in IdentifierType::KNOWN
            .iter()
            .zip(IdentifierType::KNOWN_NAMES)
        {
            assert_eq!(&IdentifierType::parse(name), value);
        }
        assert!(Country::parse("ZZ").is_unknown() && Country::parse("").is_unknown());
    }

    #[test]
    fn non_strings_are_refused_with_the_type_named() {
        let error = serde_json::from_str::<RequestStatus>("42").unwrap_err();
        assert!(error.to_string().contains("RequestStatus"), "{error}");
    }
}
