//! The JSON Schemas of `transcend-types` (every definition once in
//! `definitions.schema.json`, and a file per body and enum referring to it) and the
//! OpenAPI 3.1 document made from `transcend-proto`'s endpoint table.

use crate::generated::GeneratedFile;

pub fn files() -> Vec<GeneratedFile> {
    let openapi = transcend_proto::openapi::document().unwrap_or_else(|e| panic!("{e}"));
    let mut openapi_text = serde_json::to_string_pretty(&transcend_types::schema::sorted(openapi))
        .unwrap_or_else(|e| panic!("{e}"));
    openapi_text.push('\n');
    let openapi = GeneratedFile {
        path: "schemas/openapi.json".into(),
        contents: openapi_text,
    };
    transcend_types::schema::bundle()
        .unwrap_or_else(|conflict| panic!("{conflict}"))
        .into_iter()
        .map(|schema| GeneratedFile {
            path: format!("schemas/{}.schema.json", schema.name),
            contents: schema.to_pretty_json(),
        })
        .chain([openapi])
        .collect()
}
