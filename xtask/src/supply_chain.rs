//! `cargo xtask supply-chain`: what the workspace may depend on, checked from
//! `cargo metadata` (every package the lock file resolves, all features, all targets).
//!
//! - **licences**: every dependency's licence expression uses only licences on the
//!   allow list below;
//! - **banned crates**: crates with an advisory that has no fixed release
//!   (`rsa`, RUSTSEC-2023-0071) and a second TLS stack (`openssl`, `native-tls`):
//!   rustls with ring is the one TLS stack;
//! - **opt-in crates**: `aws-lc-rs` (and its C library) only as transcend-proto's
//!   optional ES384 backend (feature `aws-lc`): depended on by nothing else (so never
//!   rustls's provider) and absent from every workspace crate's default build;
//! - **weight**: how many crates `transcend-types` and `transcend-proto` pull in (normal
//!   dependencies), printed, and held under a ceiling so that growth is a decision.
//!
//! Advisories beyond the banned list need the RustSec database, which this check does
//! not fetch (CI reaches only the package registries); run `cargo deny check
//! advisories` where the network allows.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

/// Licences a dependency may be under (SPDX identifiers).
const ALLOWED_LICENCES: &[&str] = &[
    "MIT",
    "MIT-0",
    "Apache-2.0",
    "Apache-2.0 WITH LLVM-exception",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSL-1.0",
    "ISC",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Zlib",
    "CC0-1.0",
    "MPL-2.0",
    "CDLA-Permissive-2.0",
    "0BSD",
];

/// Crates that may not appear, and why.
const BANNED: &[(&str, &str)] = &[
    ("rsa", "RUSTSEC-2023-0071 (Marvin attack), no fixed release"),
    ("openssl", "a second TLS stack: rustls is the one"),
    ("openssl-sys", "a second TLS stack: rustls is the one"),
    ("native-tls", "a second TLS stack: rustls is the one"),
];

/// Crates allowed only as a dependency of the named packages, and never in a default
/// build: what they are for.
const OPT_IN: &[(&str, &[&str], &str)] = &[
    (
        "aws-lc-rs",
        &["transcend-proto"],
        "transcend-proto's optional ES384 backend (feature `aws-lc`); TLS stays on ring",
    ),
    (
        "aws-lc-sys",
        &["aws-lc-rs"],
        "AWS-LC's C library, under aws-lc-rs",
    ),
];

/// The most crates each core crate may pull in (itself included).
const CEILINGS: &[(&str, usize)] = &[("transcend-types", 35), ("transcend-proto", 80)];

pub fn check() -> Result<(), String> {
    let metadata = cargo(&[
        "metadata",
        "--format-version",
        "1",
        "--all-features",
        "--locked",
    ])?;
    let metadata: Value = serde_json::from_str(&metadata).map_err(|e| e.to_string())?;
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    let mut problems = Vec::new();
    for package in &packages {
        let name = package["name"].as_str().unwrap_or_default();
        let version = package["version"].as_str().unwrap_or_default();
        if package["source"].is_null() {
            continue; // this workspace
        }
        if let Some((_, why)) = BANNED.iter().find(|(banned, _)| *banned == name) {
            problems.push(format!("{name} {version} is banned: {why}"));
        }
        match package["license"].as_str() {
            Some(expression) if licence_allowed(expression) => {}
            Some(expression) => problems.push(format!(
                "{name} {version}: licence {expression:?} is not on the allow list"
            )),
            None => problems.push(format!("{name} {version}: no licence declared")),
        }
    }
    problems.extend(opt_in_problems(&metadata));
    let defaults = cargo(&[
        "tree",
        "--workspace",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--locked",
    ])?;
    for (krate, _, why) in OPT_IN {
        if defaults
            .lines()
            .any(|line| line.split(' ').next() == Some(krate))
        {
            problems.push(format!(
                "{krate} is in a default build; it must be opted into: {why}"
            ));
        }
    }
    for (krate, ceiling) in CEILINGS {
        let count = weight(krate)?;
        println!(
            "{krate}: {count} crates (normal dependencies, itself included; ceiling {ceiling})"
        );
        if count > *ceiling {
            problems.push(format!(
                "{krate} pulls in {count} crates, over its ceiling of {ceiling}"
            ));
        }
    }
    if problems.is_empty() {
        println!(
            "supply chain: {} packages checked, no problem",
            packages.len()
        );
        Ok(())
    } else {
        Err(format!("supply chain:\n  {}", problems.join("\n  ")))
    }
}

/// Opt-in crates depended on by a package other than the ones allowed.
fn opt_in_problems(metadata: &Value) -> Vec<String> {
    let names: std::collections::BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    let mut problems = Vec::new();
    for node in metadata["resolve"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(from) = node["id"].as_str().and_then(|id| names.get(id)) else {
            continue;
        };
        for dep in node["deps"].as_array().into_iter().flatten() {
            let Some(to) = dep["pkg"].as_str().and_then(|id| names.get(id)) else {
                continue;
            };
            if let Some((_, allowed, why)) = OPT_IN.iter().find(|(name, ..)| name == to)
                && !allowed.contains(from)
            {
                problems.push(format!("{from} depends on {to}, allowed only as {why}"));
            }
        }
    }
    problems
}

/// Whether an SPDX expression can be satisfied with allowed licences: each `OR`
/// alternative is a set of `AND`ed terms; one alternative must be wholly allowed.
fn licence_allowed(expression: &str) -> bool {
    let normalized = expression.replace('/', " OR ").replace(['(', ')'], " ");
    normalized.split(" OR ").any(|alternative| {
        alternative
            .split(" AND ")
            .map(str::trim)
            .all(|term| ALLOWED_LICENCES.contains(&term))
    })
}

/// The distinct crates in `krate`'s normal dependency tree, itself included.
fn weight(krate: &str) -> Result<usize, String> {
    let tree = cargo(&[
        "tree", "-p", krate, "-e", "normal", "--prefix", "none", "--locked",
    ])?;
    let crates: BTreeSet<&str> = tree
        .lines()
        .map(|line| line.trim_end_matches(" (*)"))
        .filter(|line| !line.is_empty())
        .collect();
    Ok(crates.len())
}

fn cargo(args: &[&str]) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn licence_expressions_are_read() {
        assert!(licence_allowed("MIT OR Apache-2.0"));
        assert!(licence_allowed("MIT/Apache-2.0"));
        assert!(licence_allowed("(MIT OR Apache-2.0) AND Unicode-3.0"));
        assert!(!licence_allowed("GPL-3.0"));
        assert!(licence_allowed("GPL-3.0 OR MIT"));
        assert!(!licence_allowed("MIT AND GPL-3.0"));
    }

    #[test]
    fn the_list_of_banned_crates_names_the_advisory() {
        let map: BTreeMap<_, _> = BANNED.iter().copied().collect();
        assert!(map["rsa"].contains("RUSTSEC-2023-0071"));
    }

    #[test]
    fn an_opt_in_crate_is_refused_under_another_package() {
        let metadata = serde_json::json!({
            "packages": [
                {"id": "p", "name": "transcend-proto"},
                {"id": "r", "name": "rustls"},
                {"id": "a", "name": "aws-lc-rs"},
            ],
            "resolve": {"nodes": [
                {"id": "p", "deps": [{"pkg": "a"}]},
                {"id": "r", "deps": [{"pkg": "a"}]},
            ]},
        });
        let problems = opt_in_problems(&metadata);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("rustls depends on aws-lc-rs"));
    }
}
