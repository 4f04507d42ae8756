//! One JSON Schema file per body and enum of `transcend-types`.

use crate::generated::GeneratedFile;

pub fn files() -> Vec<GeneratedFile> {
    transcend_types::schema::all()
        .into_iter()
        .map(|schema| GeneratedFile {
            path: format!("schemas/{}.schema.json", schema.name),
            contents: schema.to_pretty_json(),
        })
        .collect()
}
