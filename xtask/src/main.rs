//! `cargo xtask …`: generates the files under `schemas/` and the country table, and
//! checks that the committed copies are fresh.
//!
//! ```text
//! cargo xtask schemas            write schemas/*.schema.json
//! cargo xtask schemas --check    exit 1, naming each stale file, if any differs
//! cargo xtask countries [--check]  the same for the ISO 3166-1 country table
//! cargo xtask supply-chain       licences, banned crates, the core crates' weight
//! cargo xtask readme [--check]  README's Rust snippets, from the examples they excerpt
//! cargo xtask admin-schema --check  the admin API's schema file agrees with
//!                                 Transcend's published schema and the emulator's
//! ```

mod admin_schema;
mod countries;
mod generated;
mod readme;
mod schemas;
mod supply_chain;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    let task = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(String::as_str);
    if task == Some("admin-schema") {
        return match admin_schema::check(&workspace_root()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("{message}");
                ExitCode::FAILURE
            }
        };
    }
    if task == Some("supply-chain") {
        return match supply_chain::check() {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("{message}");
                ExitCode::FAILURE
            }
        };
    }
    let files = match task {
        Some("schemas") => schemas::files(),
        Some("readme") => match readme::file(&workspace_root()) {
            Ok(file) => vec![file],
            Err(message) => {
                eprintln!("{message}");
                return ExitCode::FAILURE;
            }
        },
        Some("countries") => vec![countries::file()],
        _ => {
            eprintln!(
                "usage: cargo xtask <schemas|countries|readme> [--check] | cargo xtask supply-chain | cargo xtask admin-schema --check"
            );
            return ExitCode::from(2);
        }
    };
    let root = workspace_root();
    let outcome = if check {
        generated::check(&root, &files, task.unwrap_or_default())
    } else {
        generated::write(&root, &files)
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use generated::GeneratedFile;

    /// `cargo test` fails when a generated file is stale, saying how to fix it.
    #[test]
    fn committed_schemas_are_fresh() {
        let root = workspace_root();
        if let Err(message) = generated::check(&root, &schemas::files(), "schemas") {
            panic!("{message}");
        }
    }

    #[test]
    fn committed_country_table_is_fresh() {
        let root = workspace_root();
        if let Err(message) = generated::check(&root, &[countries::file()], "countries") {
            panic!("{message}");
        }
    }

    #[test]
    fn generated_files_are_deterministic() {
        assert_eq!(schemas::files(), schemas::files());
        assert_eq!(countries::file(), countries::file());
    }

    #[test]
    fn a_stale_file_is_named() {
        let dir = std::env::temp_dir().join(format!("xtask-stale-{}", std::process::id()));
        let files = vec![GeneratedFile {
            path: "a.json".into(),
            contents: "new\n".into(),
        }];
        generated::write(&dir, &files).unwrap();
        assert!(generated::check(&dir, &files, "schemas").is_ok());
        std::fs::write(dir.join("a.json"), "old\n").unwrap();
        let message = generated::check(&dir, &files, "schemas").unwrap_err();
        assert!(
            message.contains("a.json") && message.contains("cargo xtask schemas"),
            "{message}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
