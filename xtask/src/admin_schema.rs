//! The admin API's schemas agree: the project's schema file
//! (`crates/transcend-proto/graphql/admin.graphql`, which the client's operations are
//! generated from) declares nothing that Transcend's published schema lacks or types
//! otherwise, and the emulator serves exactly the project's schema.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use graphql_parser::schema::{Definition, Document, Type, TypeDefinition, parse_schema};

/// The project's schema file, from the workspace root.
pub const PROJECT_SCHEMA: &str = "crates/transcend-proto/graphql/admin.graphql";

/// A schema reduced to what agreement is about: each type's kind, fields,
/// arguments, their types, and enum values. Descriptions and defaults do not count.
#[derive(Debug, Default, PartialEq)]
pub struct Model {
    types: BTreeMap<String, Kind>,
}

#[derive(Debug, PartialEq)]
enum Kind {
    Scalar,
    Object(BTreeMap<String, Field>),
    Input(BTreeMap<String, String>),
    Enum(BTreeSet<String>),
    Other(&'static str),
}

#[derive(Debug, PartialEq)]
struct Field {
    ty: String,
    args: BTreeMap<String, String>,
}

fn type_text(ty: &Type<'_, String>) -> String {
    ty.to_string()
}

/// Reads a schema in GraphQL's schema language.
pub fn model(sdl: &str) -> Result<Model, String> {
    let document: Document<'_, String> = parse_schema(sdl).map_err(|e| e.to_string())?;
    let mut types = BTreeMap::new();
    for definition in document.definitions {
        let Definition::TypeDefinition(definition) = definition else {
            continue;
        };
        let (name, kind) = match definition {
            TypeDefinition::Scalar(t) => (t.name, Kind::Scalar),
            TypeDefinition::Object(t) => (
                t.name,
                Kind::Object(
                    t.fields
                        .into_iter()
                        .map(|f| {
                            let args = f
                                .arguments
                                .iter()
                                .map(|a| (a.name.clone(), type_text(&a.value_type)))
                                .collect();
                            (
                                f.name,
                                Field {
                                    ty: type_text(&f.field_type),
                                    args,
                                },
                            )
                        })
                        .collect(),
                ),
            ),
            TypeDefinition::InputObject(t) => (
                t.name,
                Kind::Input(
                    t.fields
                        .into_iter()
                        .map(|f| (f.name, type_text(&f.value_type)))
                        .collect(),
                ),
            ),
            TypeDefinition::Enum(t) => (
                t.name,
                Kind::Enum(t.values.into_iter().map(|v| v.name).collect()),
            ),
            TypeDefinition::Interface(t) => (t.name, Kind::Other("interface")),
            TypeDefinition::Union(t) => (t.name, Kind::Other("union")),
        };
        types.insert(name, kind);
    }
    Ok(Model { types })
}

fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Scalar => "scalar",
        Kind::Object(_) => "type",
        Kind::Input(_) => "input",
        Kind::Enum(_) => "enum",
        Kind::Other(name) => name,
    }
}

/// Whether a type is non-null (`T!`): a required argument or input field.
fn required(ty: &str) -> bool {
    ty.ends_with('!')
}

/// What `ours` declares that `theirs` lacks or types otherwise; and, with `exact`,
/// what `theirs` has that `ours` lacks. Without `exact`, a required argument or
/// input field of `theirs` that `ours` lacks counts too: operations written against
/// `ours` would omit it.
pub fn differences(ours: &Model, theirs: &Model, exact: bool) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, kind) in &ours.types {
        let Some(other) = theirs.types.get(name) else {
            problems.push(format!(
                "{} {name}: not in the other schema",
                kind_name(kind)
            ));
            continue;
        };
        match (kind, other) {
            (Kind::Scalar, Kind::Scalar) => {}
            (Kind::Object(fields), Kind::Object(others)) => {
                for (field, def) in fields {
                    let Some(other) = others.get(field) else {
                        problems.push(format!("{name}.{field}: not in the other schema"));
                        continue;
                    };
                    if def.ty != other.ty {
                        problems.push(format!(
                            "{name}.{field}: {} here, {} there",
                            def.ty, other.ty
                        ));
                    }
                    problems.extend(compare_inputs(
                        &format!("{name}.{field}"),
                        "argument",
                        &def.args,
                        &other.args,
                        exact,
                    ));
                }
                if exact {
                    for field in others.keys().filter(|f| !fields.contains_key(*f)) {
                        problems.push(format!("{name}.{field}: missing here"));
                    }
                }
            }
            (Kind::Input(fields), Kind::Input(others)) => {
                problems.extend(compare_inputs(name, "field", fields, others, exact));
            }
            (Kind::Enum(values), Kind::Enum(others)) => {
                for value in values.difference(others) {
                    problems.push(format!("{name}.{value}: not in the other schema"));
                }
                if exact {
                    for value in others.difference(values) {
                        problems.push(format!("{name}.{value}: missing here"));
                    }
                }
            }
            (kind, other) => problems.push(format!(
                "{name}: a {} here, a {} there",
                kind_name(kind),
                kind_name(other)
            )),
        }
    }
    if exact {
        for (name, kind) in &theirs.types {
            if !ours.types.contains_key(name) && !is_builtin(name) {
                problems.push(format!("{} {name}: missing here", kind_name(kind)));
            }
        }
    }
    problems
}

fn compare_inputs(
    owner: &str,
    what: &str,
    ours: &BTreeMap<String, String>,
    theirs: &BTreeMap<String, String>,
    exact: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, ty) in ours {
        match theirs.get(name) {
            None => problems.push(format!("{owner}({name}): {what} not in the other schema")),
            Some(other) if other != ty => {
                problems.push(format!("{owner}({name}): {ty} here, {other} there"))
            }
            Some(_) => {}
        }
    }
    for (name, ty) in theirs {
        if !ours.contains_key(name) && (exact || required(ty)) {
            problems.push(format!("{owner}({name}): {what} of type {ty} missing here"));
        }
    }
    problems
}

fn is_builtin(name: &str) -> bool {
    matches!(name, "String" | "Int" | "Float" | "Boolean" | "ID") || name.starts_with("__")
}

/// Where Transcend's published schema is: `TRANSCEND_ADMIN_SCHEMA`, else a
/// `shared/spec/admin.graphql` beside the workspace or above it.
pub fn reference_path(root: &Path) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TRANSCEND_ADMIN_SCHEMA") {
        return Some(PathBuf::from(path));
    }
    root.ancestors()
        .map(|dir| dir.join("shared/spec/admin.graphql"))
        .find(|path| path.is_file())
}

/// The checks of `cargo xtask admin-schema --check`.
pub fn check(root: &Path) -> Result<(), String> {
    let project_text = std::fs::read_to_string(root.join(PROJECT_SCHEMA))
        .map_err(|e| format!("cannot read {PROJECT_SCHEMA}: {e}"))?;
    let project = model(&project_text).map_err(|e| format!("{PROJECT_SCHEMA}: {e}"))?;
    let mut problems = Vec::new();
    let emulator = model(&transcend_emulator::admin_schema_sdl())
        .map_err(|e| format!("the emulator's schema: {e}"))?;
    for problem in differences(&project, &emulator, true) {
        problems.push(format!("project schema vs the emulator's: {problem}"));
    }
    match reference_path(root) {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let reference = model(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            for problem in differences(&project, &reference, false) {
                problems.push(format!(
                    "project schema vs Transcend's published one: {problem}"
                ));
            }
            println!("admin schema: compared with {}", path.display());
        }
        None => println!(
            "admin schema: Transcend's published schema not found (set TRANSCEND_ADMIN_SCHEMA); compared with the emulator's only"
        ),
    }
    if problems.is_empty() {
        println!("admin schema: {} types agree", project.types.len());
        Ok(())
    } else {
        Err(format!("admin schema:\n  {}", problems.join("\n  ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emulator_serves_exactly_the_project_schema() {
        let root = crate::workspace_root();
        let project = model(&std::fs::read_to_string(root.join(PROJECT_SCHEMA)).unwrap()).unwrap();
        let emulator = model(&transcend_emulator::admin_schema_sdl()).unwrap();
        let problems = differences(&project, &emulator, true);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn differences_name_fields_types_arguments_and_values() {
        let ours = model(
            "type Query { a(x: Int): String! b: Int }\n enum E { X Y }\n input I { f: String }",
        )
        .unwrap();
        let theirs = model(
            "type Query { a(x: Int, y: ID!): String c: Int }\n enum E { X }\n input I { f: Int g: ID! }",
        )
        .unwrap();
        let problems = differences(&ours, &theirs, false);
        assert!(
            problems.contains(&"Query.a: String! here, String there".to_owned()),
            "{problems:?}"
        );
        assert!(
            problems.contains(&"Query.b: not in the other schema".to_owned()),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("Query.a(y)")),
            "{problems:?}"
        );
        assert!(
            problems.contains(&"E.Y: not in the other schema".to_owned()),
            "{problems:?}"
        );
        assert!(
            problems.contains(&"I(f): String here, Int there".to_owned()),
            "{problems:?}"
        );
        assert!(problems.iter().any(|p| p.contains("I(g)")), "{problems:?}");
        assert!(
            !problems.iter().any(|p| p.contains("Query.c")),
            "{problems:?}"
        );
        let exact = differences(&ours, &theirs, true);
        assert!(
            exact.iter().any(|p| p.contains("Query.c: missing here")),
            "{exact:?}"
        );
    }
}
