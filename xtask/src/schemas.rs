//! The JSON Schemas of `transcend-types`: every definition once in
//! `definitions.schema.json`, and a file per body and enum referring to it.

use crate::generated::GeneratedFile;

pub fn files() -> Vec<GeneratedFile> {
    transcend_types::schema::bundle()
        .unwrap_or_else(|conflict| panic!("{conflict}"))
        .into_iter()
        .map(|schema| GeneratedFile {
            path: format!("schemas/{}.schema.json", schema.name),
            contents: schema.to_pretty_json(),
        })
        .collect()
}
