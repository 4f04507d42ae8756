//! ISO 3166-2 subdivision codes (`US-CA`).

use std::borrow::Cow;
use std::fmt;

use super::Country;

/// An ISO 3166-2 subdivision code such as `US-CA`: a known country code, a hyphen, and
/// one to three letters or digits.
///
/// [`CountrySubdivision::parse`] checks the form. Reading JSON accepts any string so a
/// response never fails; validation of a request body reports a malformed one.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct CountrySubdivision(String);

/// A text that is not an ISO 3166-2 subdivision code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a subdivision code: expected {}", Self::EXPECTED)]
pub struct SubdivisionError {
    /// The text that was given.
    pub value: String,
}

impl SubdivisionError {
    /// The form a subdivision code takes.
    pub const EXPECTED: &'static str = "an ISO 3166-2 code: a known ISO 3166-1 alpha-2 country, '-', 1 to 3 letters or digits (e.g. US-CA)";
}

impl CountrySubdivision {
    /// The pattern of the form, as published in the JSON Schema.
    pub const PATTERN: &'static str = "^[A-Z]{2}-[A-Z0-9]{1,3}$";

    /// Checks the form and that the prefix is a known country.
    pub fn parse(value: impl Into<String>) -> Result<Self, SubdivisionError> {
        let value = value.into();
        match known_country(&value) {
            Some(_) => Ok(Self(value)),
            None => Err(SubdivisionError { value }),
        }
    }

    /// The country, when the code is well formed and its prefix is a known country.
    pub(crate) fn known_country(&self) -> Option<Country> {
        known_country(&self.0)
    }

    /// The code as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country the subdivision belongs to: its prefix.
    pub fn country(&self) -> Country {
        Country::parse(self.0.split('-').next().unwrap_or_default())
    }
}

/// The country of a well-formed code with a known prefix.
fn known_country(value: &str) -> Option<Country> {
    let (country, local) = value.split_once('-')?;
    let well_formed = country.len() == 2
        && country.bytes().all(|b| b.is_ascii_uppercase())
        && (1..=3).contains(&local.len())
        && local
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let country = Country::parse(country);
    (well_formed && country.is_known()).then_some(country)
}

impl fmt::Display for CountrySubdivision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for CountrySubdivision {
    type Err = SubdivisionError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl schemars::JsonSchema for CountrySubdivision {
    fn schema_name() -> Cow<'static, str> {
        "CountrySubdivision".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An ISO 3166-2 subdivision code such as US-CA; its prefix is the country.",
            "type": "string",
            "pattern": Self::PATTERN,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_codes_parse() {
        for code in ["US-CA", "FR-75", "GB-ENG", "DE-BY", "CN-11"] {
            assert_eq!(CountrySubdivision::parse(code).unwrap().as_str(), code);
        }
        assert_eq!(
            CountrySubdivision::parse("GB-ENG").unwrap().country(),
            Country::GB
        );
    }

    #[test]
    fn malformed_codes_are_refused_with_the_expected_form() {
        for code in [
            "", "US", "US-", "us-ca", "USA-CA", "US-CALI", "XX-CA", "US CA", "US-C_",
        ] {
            let error = CountrySubdivision::parse(code).unwrap_err();
            assert!(error.to_string().contains("ISO 3166-2"), "{code}: {error}");
        }
    }
}
