//! Checking a body against the rules of the reference pages before it is sent.

use std::fmt;

/// A body that can check itself against the rules of the reference pages.
pub trait Validate {
    /// Every rule the body breaks, each naming the field; `Ok` when there is none.
    fn validate(&self) -> Result<(), ValidationError>;
}

/// One or more rules a body breaks, each naming the field (as a JSON path) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    problems: Vec<FieldProblem>,
}

impl ValidationError {
    /// Every broken rule, in field order.
    pub fn problems(&self) -> &[FieldProblem] {
        &self.problems
    }

    /// Whether a rule about `field` (a JSON path such as `subject.coreIdentifier`) broke.
    pub fn names_field(&self, field: &str) -> bool {
        self.problems.iter().any(|p| p.field == field)
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid request body: ")?;
        for (i, problem) in self.problems.iter().take(MAX_LISTED).enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        if self.problems.len() > MAX_LISTED {
            write!(f, "; and {} more", self.problems.len() - MAX_LISTED)?;
        }
        Ok(())
    }
}

/// The most problems a message lists; the rest are counted. A body with a million bad
/// fields gets a short message, not one as large as the body.
const MAX_LISTED: usize = 10;

/// The most bytes of a value a message quotes.
const MAX_QUOTED: usize = 128;

/// `value` for a message: quoted, and cut (`…`) past [`MAX_QUOTED`] bytes.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.len() <= MAX_QUOTED {
            return write!(f, "{:?}", self.0);
        }
        let mut end = MAX_QUOTED;
        while !self.0.is_char_boundary(end) {
            end -= 1;
        }
        write!(f, "{:?}… ({} bytes)", &self.0[..end], self.0.len())
    }
}

/// A field path for a message, cut like a value but without quotes (paths built
/// from map keys can be as long as the keys).
struct Unquoted<'a>(&'a str);

impl fmt::Display for Unquoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.len() <= MAX_QUOTED {
            return f.write_str(self.0);
        }
        let mut end = MAX_QUOTED;
        while !self.0.is_char_boundary(end) {
            end -= 1;
        }
        write!(f, "{}…", &self.0[..end])
    }
}

/// A rule that one field breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldProblem {
    /// The field, as a JSON path from the body's root (`subject.coreIdentifier`,
    /// `attributes[1].key`).
    pub field: String,
    /// What is wrong with it.
    pub kind: ProblemKind,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", Unquoted(&self.field), self.kind)
    }
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The field is empty but needs at least one character.
    Empty,
    /// The value is not one the API accepts in a request.
    UnknownValue {
        /// The value given.
        value: String,
        /// What the field takes.
        expected: String,
    },
    /// The value does not have the right form.
    Malformed {
        /// The value given.
        value: String,
        /// The form expected.
        expected: &'static str,
    },
    /// The field may not be set together with another one.
    Conflicts {
        /// The other field (a JSON path).
        other: String,
    },
    /// The field is required in this situation but missing.
    Missing {
        /// Why it is required.
        because: &'static str,
    },
    /// A country does not match the prefix of the subdivision given with it.
    CountryMismatch {
        /// The country given.
        country: String,
        /// The subdivision given.
        subdivision: String,
    },
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("must not be empty (minimum length 1)"),
            Self::UnknownValue { value, expected } => {
                write!(f, "has value {}, expected {expected}", Quoted(value))
            }
            Self::Malformed { value, expected } => {
                write!(f, "has value {}, expected {expected}", Quoted(value))
            }
            Self::Conflicts { other } => {
                write!(
                    f,
                    "cannot be set together with `{other}`: set one or neither"
                )
            }
            Self::Missing { because } => write!(f, "is required {because}"),
            Self::CountryMismatch {
                country,
                subdivision,
            } => write!(
                f,
                "is {} but the subdivision {} belongs to {}",
                Quoted(country),
                Quoted(subdivision),
                Quoted(subdivision.split('-').next().unwrap_or_default())
            ),
        }
    }
}

/// Collects problems while a body checks its fields.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    problems: Vec<FieldProblem>,
    /// Values the reference pages do not list pass (the body asked for it).
    pub(crate) allow_unlisted: bool,
}

impl Checker {
    pub(crate) fn report(&mut self, field: impl Into<String>, kind: ProblemKind) {
        self.problems.push(FieldProblem {
            field: field.into(),
            kind,
        });
    }

    /// Reports `field` when `value` is empty.
    pub(crate) fn non_empty(&mut self, field: impl FnOnce() -> String, value: &str) {
        if value.is_empty() {
            self.report(field(), ProblemKind::Empty);
        }
    }

    /// Reports `field` when a wire enum holds a value the reference pages do not list.
    pub(crate) fn known(
        &mut self,
        field: impl FnOnce() -> String,
        value: &str,
        is_known: bool,
        names: &[&str],
    ) {
        if !is_known && !self.allow_unlisted {
            let expected = if names.len() <= 8 {
                format!("one of {}", names.join(", "))
            } else {
                format!("one of the {} values of the reference pages", names.len())
            };
            self.report(
                field(),
                ProblemKind::UnknownValue {
                    value: value.to_owned(),
                    expected,
                },
            );
        }
    }

    /// Reports `field` when a timestamp is not ISO-8601 with an offset.
    pub(crate) fn timestamp(&mut self, field: &str, value: Option<&crate::Timestamp>) {
        if let Some(at) = value
            && !at.is_valid()
        {
            self.report(
                field,
                ProblemKind::Malformed {
                    value: at.to_string(),
                    expected: "an ISO-8601 date-time with an offset (e.g. 2022-03-30T04:56:00.143Z)",
                },
            );
        }
    }

    pub(crate) fn finish(self) -> Result<(), ValidationError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ValidationError {
                problems: self.problems,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_every_field_and_why() {
        let mut checker = Checker::default();
        checker.non_empty(|| "subjectType".into(), "");
        checker.report(
            "dataSiloIds",
            ProblemKind::Conflicts {
                other: "ignoreDataSiloIds".into(),
            },
        );
        let error = checker.finish().unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid request body: `subjectType` must not be empty (minimum length 1); \
             `dataSiloIds` cannot be set together with `ignoreDataSiloIds`: set one or neither"
        );
        assert!(error.names_field("dataSiloIds"));
        assert!(!error.names_field("type"));
    }

    #[test]
    fn messages_stay_short_whatever_the_input() {
        let mut checker = Checker::default();
        for i in 0..100_000 {
            checker.non_empty(|| format!("attributes[{i}].key"), "");
        }
        checker.report(
            "type",
            ProblemKind::UnknownValue {
                value: "X".repeat(10 << 20),
                expected: "one of ACCESS, ERASURE".into(),
            },
        );
        let message = checker.finish().unwrap_err().to_string();
        assert!(message.len() < 2048, "{}", message.len());
        assert!(message.ends_with("; and 99991 more"), "{message}");
    }

    #[test]
    fn no_problem_is_ok() {
        assert!(Checker::default().finish().is_ok());
    }
}
