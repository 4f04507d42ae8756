//! Writing generated files and checking committed copies against them.

use std::path::Path;

/// A file the xtask owns: its path from the workspace root and its exact contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub path: String,
    pub contents: String,
}

pub fn write(root: &Path, files: &[GeneratedFile]) -> Result<(), String> {
    for file in files {
        let path = root.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let unchanged = std::fs::read_to_string(&path).is_ok_and(|old| old == file.contents);
        if !unchanged {
            std::fs::write(&path, &file.contents)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            println!("wrote {}", file.path);
        }
    }
    Ok(())
}

/// Fails naming each file that is missing or differs from what `task` generates.
pub fn check(root: &Path, files: &[GeneratedFile], task: &str) -> Result<(), String> {
    let stale: Vec<&str> = files
        .iter()
        .filter(|file| {
            std::fs::read_to_string(root.join(&file.path)).map_or(true, |old| old != file.contents)
        })
        .map(|file| file.path.as_str())
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    Err(format!(
        "stale generated files:\n  {}\nrun `cargo xtask {task}` and commit",
        stale.join("\n  ")
    ))
}
