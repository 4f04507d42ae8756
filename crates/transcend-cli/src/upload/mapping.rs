//! From a CSV row to a submission: which column holds which field, the defaults every
//! row gets, and the problems of a row named by line, column and field.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use transcend_hyper::types::{
    Attribute, CompletedRequestStatus, Country, CountrySubdivision, ExtraIdentifier,
    IdentifierType, Locale, Region, RequestAction, Subject, SubmitDsr, Timestamp, Validate,
};

/// The fields a column can fill, as Transcend's CLI names them. A column whose header is
/// one of these names (case and `_`/`-` aside) fills it without any mapping.
pub const FIELDS: &[&str] = &[
    "coreIdentifier",
    "email",
    "requestType",
    "subjectType",
    "locale",
    "country",
    "countrySubDivision",
    "requestStatus",
    "createdAt",
    "dataSiloIds",
];

/// How the columns of a CSV become submissions: from flags, a mapping file, or both
/// (flags win).
///
/// The mapping file is TOML:
///
/// ```toml
/// [columns]              # field = column header
/// coreIdentifier = "User ID"
/// requestType = "Request"
///
/// [identifiers]          # identifier type = column (into attestedExtraIdentifiers)
/// phone = "Phone"
///
/// [attributes]           # attribute key = column (into attributes)
/// Source = "Origin"
///
/// [values.requestType]   # a column's values to the API's
/// "Delete my data" = "ERASURE"
///
/// [defaults]
/// type = "ERASURE"
/// subjectType = "customer"
/// silent = true
/// test = false
/// skipWaitingPeriod = false
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Field name to column header.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Identifier type to column header.
    #[serde(default)]
    pub identifiers: BTreeMap<String, String>,
    /// Attribute key to column header.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Per field: a column's value to the value sent.
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// What every row gets.
    #[serde(default)]
    pub defaults: Defaults,
}

/// What every row gets unless its own columns say otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Defaults {
    /// The request type of rows without one.
    #[serde(rename = "type")]
    pub action: Option<String>,
    /// The subject type of rows without one.
    pub subject_type: Option<String>,
    /// Sends every request silently (no email to the person).
    pub silent: Option<bool>,
    /// Marks every request as a test.
    pub test: Option<bool>,
    /// Skips the workflow's waiting period.
    pub skip_waiting_period: Option<bool>,
}

impl Mapping {
    /// Reads a mapping file.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Applies `FIELD=COLUMN` pairs of one kind of flag.
    pub fn extend_pairs(
        target: &mut BTreeMap<String, String>,
        pairs: &[String],
        flag: &str,
    ) -> Result<(), String> {
        for pair in pairs {
            let (name, column) = pair
                .split_once('=')
                .filter(|(name, column)| !name.is_empty() && !column.is_empty())
                .ok_or_else(|| format!("--{flag} {pair:?}: expected NAME=COLUMN"))?;
            target.insert(name.to_owned(), column.to_owned());
        }
        Ok(())
    }

    /// Resolves the mapping against a CSV's headers: every named column must exist.
    pub fn plan(&self, headers: &csv::StringRecord) -> Result<Plan, String> {
        let find = |column: &str| {
            headers
                .iter()
                .position(|h| h.trim() == column)
                .ok_or_else(|| {
                    format!(
                        "no column {column:?} in the CSV (its columns: {})",
                        headers.iter().collect::<Vec<_>>().join(", ")
                    )
                })
        };
        for field in self.columns.keys() {
            if !FIELDS.contains(&field.as_str()) {
                return Err(format!(
                    "unknown field {field:?} in the mapping: expected one of {}",
                    FIELDS.join(", ")
                ));
            }
        }
        let mut fields = HashMap::new();
        for field in FIELDS {
            let index = match self.columns.get(*field) {
                Some(column) => Some(find(column)?),
                None => headers
                    .iter()
                    .position(|h| same_name(h, field) && !self.is_mapped_elsewhere(h)),
            };
            if let Some(index) = index {
                fields.insert(*field, index);
            }
        }
        let identifiers = self
            .identifiers
            .iter()
            .map(|(kind, column)| {
                let kind = IdentifierType::parse(kind);
                if !kind.is_known() {
                    return Err(format!(
                        "unknown identifier type {:?} for column {column:?}",
                        kind.as_str()
                    ));
                }
                Ok((kind, find(column)?))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let attributes = self
            .attributes
            .iter()
            .map(|(key, column)| Ok((key.clone(), find(column)?)))
            .collect::<Result<Vec<_>, String>>()?;
        let default_action = match &self.defaults.action {
            Some(action) => {
                let parsed = RequestAction::parse(&action.to_ascii_uppercase());
                if !parsed.is_known() {
                    return Err(format!(
                        "unknown request type {action:?}: expected one of {}",
                        RequestAction::KNOWN_NAMES.join(", ")
                    ));
                }
                Some(parsed)
            }
            None => None,
        };
        if !fields.contains_key("coreIdentifier") && !fields.contains_key("email") {
            return Err(
                "no column for coreIdentifier (or email): map one with --column coreIdentifier=COLUMN"
                    .into(),
            );
        }
        if !fields.contains_key("requestType") && default_action.is_none() {
            return Err("no column for requestType: map one or give --type".into());
        }
        Ok(Plan {
            headers: headers.iter().map(str::to_owned).collect(),
            fields,
            identifiers,
            attributes,
            values: self.values.clone(),
            default_action,
            defaults: self.defaults.clone(),
        })
    }

    fn is_mapped_elsewhere(&self, header: &str) -> bool {
        self.columns.values().any(|c| c == header)
    }
}

fn same_name(header: &str, field: &str) -> bool {
    let squash = |s: &str| {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-' | ' '))
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    squash(header) == squash(field)
}

/// The mapping resolved to column positions.
#[derive(Debug, Clone)]
pub struct Plan {
    headers: Vec<String>,
    fields: HashMap<&'static str, usize>,
    identifiers: Vec<(IdentifierType, usize)>,
    attributes: Vec<(String, usize)>,
    values: BTreeMap<String, BTreeMap<String, String>>,
    default_action: Option<RequestAction>,
    defaults: Defaults,
}

/// One thing wrong with a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The column, when the problem is in one.
    pub column: Option<String>,
    /// The field of the submission (a JSON path such as `subject.email`).
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "column {column:?} ({}): {}", self.field, self.reason),
            None => write!(f, "{}: {}", self.field, self.reason),
        }
    }
}

impl Plan {
    fn cell<'r>(&self, row: &'r csv::StringRecord, field: &str) -> Option<&'r str> {
        let index = *self.fields.get(field)?;
        row.get(index).map(str::trim).filter(|v| !v.is_empty())
    }

    /// A field's cell with the mapping file's value translation applied.
    fn value(&self, row: &csv::StringRecord, field: &str) -> Option<String> {
        let raw = self.cell(row, field)?;
        Some(
            self.values
                .get(field)
                .and_then(|table| table.get(raw))
                .cloned()
                .unwrap_or_else(|| raw.to_owned()),
        )
    }

    fn column_of(&self, field: &str) -> Option<String> {
        self.fields.get(field).map(|i| self.headers[*i].clone())
    }

    /// The submission a row stands for, or everything wrong with it.
    pub fn submission(&self, row: &csv::StringRecord) -> Result<SubmitDsr, Vec<RowProblem>> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, column: Option<String>, reason: String| {
            problems.push(RowProblem {
                column,
                field: field.to_owned(),
                reason,
            })
        };
        let email = self.value(row, "email");
        let core = self.value(row, "coreIdentifier").or_else(|| email.clone());
        let action = match self.value(row, "requestType") {
            Some(value) => RequestAction::parse(&value.to_ascii_uppercase()),
            None => self
                .default_action
                .clone()
                .unwrap_or_else(|| RequestAction::parse("")),
        };
        let subject_type = self
            .value(row, "subjectType")
            .or_else(|| self.defaults.subject_type.clone())
            .unwrap_or_default();
        let mut subject = Subject::new(core.unwrap_or_default());
        if let Some(email) = email {
            subject = subject.email(email);
        }
        for (kind, index) in &self.identifiers {
            for value in list(row.get(*index).unwrap_or_default()) {
                subject = subject.extra_identifier(kind.clone(), ExtraIdentifier::new(value));
            }
        }
        let mut dsr = SubmitDsr::new(action, subject, subject_type);
        if let Some(locale) = self.value(row, "locale") {
            dsr.locale = Some(Locale::parse(&locale));
        }
        let country = self
            .value(row, "country")
            .map(|c| Country::parse(&c.to_ascii_uppercase()));
        let subdivision = match self.value(row, "countrySubDivision") {
            Some(value) => match CountrySubdivision::parse(value.to_ascii_uppercase()) {
                Ok(sub) => Some(sub),
                Err(e) => {
                    problem(
                        "region.countrySubDivision",
                        self.column_of("countrySubDivision"),
                        e.to_string(),
                    );
                    None
                }
            },
            None => None,
        };
        dsr.region = match (country, subdivision) {
            (Some(country), sub) => {
                let mut region = Region::country(country);
                region.country_sub_division = sub;
                Some(region)
            }
            (None, Some(sub)) => Some(Region::subdivision(sub)),
            (None, None) => None,
        };
        if let Some(status) = self.value(row, "requestStatus") {
            dsr.completed_request_status =
                Some(CompletedRequestStatus::parse(&status.to_ascii_uppercase()));
        }
        if let Some(at) = self.value(row, "createdAt") {
            match timestamp(&at) {
                Some(at) => dsr.created_at = Some(at),
                None => problem(
                    "createdAt",
                    self.column_of("createdAt"),
                    format!("{at:?} is not a date (2024-01-31 or 2024-01-31T10:00:00Z)"),
                ),
            }
        }
        if let Some(ids) = self.value(row, "dataSiloIds") {
            dsr.data_silo_ids = Some(list(&ids).map(str::to_owned).collect());
        }
        let attributes: Vec<Attribute> = self
            .attributes
            .iter()
            .filter_map(|(key, index)| {
                let values: Vec<&str> = list(row.get(*index).unwrap_or_default()).collect();
                (!values.is_empty()).then(|| Attribute::new(key.clone(), values))
            })
            .collect();
        if !attributes.is_empty() {
            dsr.attributes = Some(attributes);
        }
        dsr.is_silent = self.defaults.silent;
        dsr.is_test = self.defaults.test;
        dsr.skip_waiting_period = self.defaults.skip_waiting_period;
        if let Err(error) = dsr.validate() {
            for found in error.problems() {
                problem(
                    &found.field,
                    self.column_for_path(&found.field),
                    found.kind.to_string(),
                );
            }
        }
        if problems.is_empty() {
            Ok(dsr)
        } else {
            Err(problems)
        }
    }

    /// The column a submission's JSON path came from.
    fn column_for_path(&self, path: &str) -> Option<String> {
        let field = match path {
            "type" => "requestType",
            "subject.coreIdentifier" => {
                if self.fields.contains_key("coreIdentifier") {
                    "coreIdentifier"
                } else {
                    "email"
                }
            }
            "subject.email" => "email",
            "subjectType" => "subjectType",
            "locale" => "locale",
            "region.country" => "country",
            "region.countrySubDivision" => "countrySubDivision",
            "completedRequestStatus" => "requestStatus",
            "createdAt" => "createdAt",
            p if p.starts_with("dataSiloIds") => "dataSiloIds",
            p if p.starts_with("subject.attestedExtraIdentifiers.") => {
                let kind = p["subject.attestedExtraIdentifiers.".len()..]
                    .split(['[', '.'])
                    .next()
                    .unwrap_or_default();
                return self
                    .identifiers
                    .iter()
                    .find(|(k, _)| k.as_str() == kind)
                    .map(|(_, i)| self.headers[*i].clone());
            }
            p if p.starts_with("attributes[") => {
                let n: usize = p["attributes[".len()..]
                    .split(']')
                    .next()
                    .and_then(|n| n.parse().ok())?;
                return self
                    .attributes
                    .get(n)
                    .map(|(_, i)| self.headers[*i].clone());
            }
            _ => return None,
        };
        self.column_of(field)
    }
}

/// A cell holding several values: split on commas and semicolons.
fn list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([',', ';'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A date-time with an offset as the API takes it, or a date alone (midnight UTC).
fn timestamp(value: &str) -> Option<Timestamp> {
    Timestamp::parse(value).ok().or_else(|| {
        let is_date = value.len() == 10
            && value.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        is_date
            .then(|| Timestamp::parse(format!("{value}T00:00:00.000Z")).ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> csv::StringRecord {
        csv::StringRecord::from(names.to_vec())
    }

    #[test]
    fn columns_named_like_fields_need_no_mapping() {
        let plan = Mapping::default()
            .plan(&headers(&[
                "core_identifier",
                "Email",
                "request-type",
                "Subject Type",
            ]))
            .unwrap();
        let dsr = plan
            .submission(&headers(&["u1", "a@example.com", "erasure", "customer"]))
            .unwrap();
        assert_eq!(dsr.action, RequestAction::Erasure);
        assert_eq!(dsr.subject.core_identifier, "u1");
        assert_eq!(dsr.subject.email.as_deref(), Some("a@example.com"));
        assert_eq!(dsr.subject_type, "customer");
    }

    #[test]
    fn a_mapping_file_maps_columns_identifiers_attributes_values_and_defaults() {
        let mapping: Mapping = toml::from_str(
            r#"
            [columns]
            coreIdentifier = "User"
            requestType = "Kind"
            createdAt = "When"
            requestStatus = "Done"
            [identifiers]
            phone = "Phone"
            [attributes]
            Source = "Origin"
            [values.requestType]
            "Delete my data" = "ERASURE"
            [defaults]
            subjectType = "customer"
            silent = true
            "#,
        )
        .unwrap();
        let plan = mapping
            .plan(&headers(&[
                "User", "Kind", "When", "Done", "Phone", "Origin", "country",
            ]))
            .unwrap();
        let dsr = plan
            .submission(&headers(&[
                "u7",
                "Delete my data",
                "2024-02-03",
                "COMPLETED",
                "+14155550100; +14155550101",
                "iOS",
                "fr",
            ]))
            .unwrap();
        assert_eq!(dsr.action, RequestAction::Erasure);
        assert_eq!(dsr.is_silent, Some(true));
        assert_eq!(dsr.created_at.unwrap().as_str(), "2024-02-03T00:00:00.000Z");
        assert_eq!(
            dsr.completed_request_status,
            Some(CompletedRequestStatus::Completed)
        );
        let phones = dsr.subject.attested_extra_identifiers.unwrap();
        assert_eq!(phones.get(&IdentifierType::Phone).len(), 2);
        assert_eq!(dsr.attributes.unwrap()[0].values, ["iOS"]);
        assert_eq!(dsr.region.unwrap().country, Some(Country::parse("FR")));
    }

    #[test]
    fn problems_name_the_column_and_the_field() {
        let plan = Mapping::default()
            .plan(&headers(&[
                "coreIdentifier",
                "requestType",
                "subjectType",
                "locale",
                "createdAt",
            ]))
            .unwrap();
        let problems = plan
            .submission(&headers(&["", "DELET", "customer", "xx-YY", "yesterday"]))
            .unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let all = text.join("\n");
        assert!(all.contains("column \"createdAt\" (createdAt)"), "{all}");
        assert!(all.contains("column \"requestType\" (type)"), "{all}");
        assert!(
            all.contains("column \"coreIdentifier\" (subject.coreIdentifier)"),
            "{all}"
        );
        assert!(all.contains("column \"locale\" (locale)"), "{all}");
    }

    #[test]
    fn a_mapping_naming_a_missing_column_or_unknown_field_is_refused() {
        let mut mapping = Mapping::default();
        mapping
            .columns
            .insert("coreIdentifier".into(), "Nope".into());
        let error = mapping.plan(&headers(&["User"])).unwrap_err();
        assert!(error.contains("no column \"Nope\""), "{error}");
        let mut mapping = Mapping::default();
        mapping
            .columns
            .insert("favouriteColour".into(), "User".into());
        assert!(
            mapping
                .plan(&headers(&["User"]))
                .unwrap_err()
                .contains("unknown field")
        );
        let error = Mapping::default().plan(&headers(&["User"])).unwrap_err();
        assert!(error.contains("coreIdentifier"), "{error}");
    }
}
