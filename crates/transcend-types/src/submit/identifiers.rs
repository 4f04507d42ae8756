//! `subject.attestedExtraIdentifiers`: more identifiers of a person, by type.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::IdentifierType;
use crate::validate::{Checker, ProblemKind};

/// More identifiers of a person, keyed by identifier type
/// (`subject.attestedExtraIdentifiers`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct AttestedExtraIdentifiers(pub BTreeMap<IdentifierType, Vec<ExtraIdentifier>>);

/// One extra identifier: its value, and for `custom` identifiers, its name.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[non_exhaustive]
pub struct ExtraIdentifier {
    /// The identifier.
    #[schemars(length(min = 1))]
    pub value: String,
    /// The name of a custom identifier (required with `custom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub name: Option<String>,
}

impl ExtraIdentifier {
    /// An identifier with its value.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            name: None,
        }
    }

    /// A custom identifier: its name and value.
    pub fn custom(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            name: Some(name.into()),
        }
    }
}

impl AttestedExtraIdentifiers {
    /// Adds an identifier of the given type.
    pub fn push(&mut self, kind: IdentifierType, identifier: ExtraIdentifier) {
        self.0.entry(kind).or_default().push(identifier);
    }

    /// The identifiers of one type.
    pub fn get(&self, kind: &IdentifierType) -> &[ExtraIdentifier] {
        self.0.get(kind).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn check(&self, path: &str, checker: &mut Checker) {
        for (kind, identifiers) in &self.0 {
            checker.known(
                || format!("{path}.{kind}"),
                kind.as_str(),
                kind.is_known(),
                IdentifierType::KNOWN_NAMES,
            );
            for (i, identifier) in identifiers.iter().enumerate() {
                checker.non_empty(|| format!("{path}.{kind}[{i}].value"), &identifier.value);
                match &identifier.name {
                    Some(name) => checker.non_empty(|| format!("{path}.{kind}[{i}].name"), name),
                    None if *kind == IdentifierType::Custom => checker.report(
                        format!("{path}.{kind}[{i}].name"),
                        ProblemKind::Missing {
                            because: "for custom identifiers",
                        },
                    ),
                    None => {}
                }
            }
        }
    }
}

impl schemars::JsonSchema for AttestedExtraIdentifiers {
    fn schema_name() -> Cow<'static, str> {
        "AttestedExtraIdentifiers".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let list = generator.subschema_for::<Vec<ExtraIdentifier>>();
        let properties: serde_json::Map<String, serde_json::Value> = IdentifierType::KNOWN_NAMES
            .iter()
            .map(|name| ((*name).to_owned(), list.clone().into()))
            .collect();
        schemars::json_schema!({
            "description": "More identifiers of the person, keyed by identifier type.",
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        })
    }
}
