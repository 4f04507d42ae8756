//! Registers the admin API's schema file with cynic, so the operations of
//! `transcend_proto::admin` are checked against it when the crate compiles.

fn main() {
    println!("cargo::rerun-if-changed=graphql/admin.graphql");
    #[cfg(feature = "admin")]
    cynic_codegen::register_schema("admin")
        .from_sdl_file("graphql/admin.graphql")
        .and_then(|schema| schema.as_default())
        .unwrap_or_else(|error| panic!("graphql/admin.graphql cannot be read: {error}"));
}
