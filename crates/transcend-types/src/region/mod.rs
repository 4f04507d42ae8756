//! Where a request comes from (`region`): an ISO 3166-1 country and an ISO 3166-2
//! subdivision.

mod country;
mod subdivision;

pub use country::Country;
pub use subdivision::{CountrySubdivision, SubdivisionError};

use crate::validate::{Checker, ProblemKind};

/// The region a request is submitted from (`region`).
///
/// Given only a subdivision, its country is the subdivision's prefix (`FR-75`: `FR`).
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct Region {
    /// ISO 3166-1 alpha-2 code of the country (or `EU`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Country>,
    /// ISO 3166-2 code of the subdivision, such as `US-CA`.
    #[serde(
        rename = "countrySubDivision",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub country_sub_division: Option<CountrySubdivision>,
}

impl Region {
    /// A region naming only a country.
    pub fn country(country: Country) -> Self {
        Self {
            country: Some(country),
            country_sub_division: None,
        }
    }

    /// A region naming a subdivision and, explicitly, the country it belongs to.
    pub fn subdivision(subdivision: CountrySubdivision) -> Self {
        Self {
            country: Some(subdivision.country()),
            country_sub_division: Some(subdivision),
        }
    }

    /// The country: the one given, else the prefix of the subdivision.
    pub fn effective_country(&self) -> Option<Country> {
        self.country.clone().or_else(|| {
            self.country_sub_division
                .as_ref()
                .map(CountrySubdivision::country)
        })
    }

    pub(crate) fn check(&self, path: &str, checker: &mut Checker) {
        if let Some(country) = &self.country {
            checker.known(
                || format!("{path}.country"),
                country.as_str(),
                country.is_known(),
                &["an ISO 3166-1 alpha-2 code or EU"],
            );
        }
        if let Some(subdivision) = &self.country_sub_division {
            match subdivision.known_country() {
                None => checker.report(
                    format!("{path}.countrySubDivision"),
                    ProblemKind::Malformed {
                        value: subdivision.to_string(),
                        expected: SubdivisionError::EXPECTED,
                    },
                ),
                Some(prefix) => {
                    if let Some(country) = &self.country
                        && *country != prefix
                    {
                        checker.report(
                            format!("{path}.country"),
                            ProblemKind::CountryMismatch {
                                country: country.to_string(),
                                subdivision: subdivision.to_string(),
                            },
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Checker;

    fn problems(region: &Region) -> Vec<String> {
        let mut checker = Checker::default();
        region.check("region", &mut checker);
        checker
            .finish()
            .err()
            .map(|e| e.problems().iter().map(|p| p.to_string()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_subdivision_implies_its_country() {
        let region = Region::subdivision(CountrySubdivision::parse("US-CA").unwrap());
        assert_eq!(region.country, Some(Country::US));
        let only_subdivision = Region {
            country: None,
            country_sub_division: Some(CountrySubdivision::parse("FR-75").unwrap()),
        };
        assert_eq!(only_subdivision.effective_country(), Some(Country::FR));
        assert!(problems(&only_subdivision).is_empty());
    }

    #[test]
    fn a_country_that_contradicts_the_subdivision_is_refused() {
        let region = Region {
            country: Some(Country::GB),
            country_sub_division: Some(CountrySubdivision::parse("US-CA").unwrap()),
        };
        assert_eq!(
            problems(&region),
            ["`region.country` is \"GB\" but the subdivision \"US-CA\" belongs to \"US\""]
        );
    }

    #[test]
    fn unknown_countries_and_malformed_subdivisions_are_refused() {
        let region: Region =
            serde_json::from_str(r#"{"country":"XX","countrySubDivision":"california"}"#).unwrap();
        let found = problems(&region);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("`region.country` has value \"XX\""));
        assert!(found[1].starts_with("`region.countrySubDivision` has value \"california\""));
    }

    #[test]
    fn the_european_union_is_a_country_value() {
        assert_eq!(Country::parse("EU"), Country::EU);
        assert!(Country::KNOWN.len() > 240);
    }
}
