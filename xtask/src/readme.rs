//! README.md's Rust snippets are excerpts of examples that CI builds, so none can stop
//! compiling unnoticed. Before each ```` ```rust ```` block, a comment names its source:
//!
//! ```text
//! <!-- snippet: crates/transcend-hyper/examples/requester.rs#submit -->
//! ```
//!
//! and the example marks the excerpt with `// snippet: submit` … `// end`. `cargo xtask
//! readme` rewrites each block from its source (dedented); `--check` fails on any that
//! differs, and on a Rust block without a source.

use std::path::Path;

use crate::generated::GeneratedFile;

const README: &str = "README.md";
const MARKER: &str = "<!-- snippet: ";

/// README.md with every snippet taken from its source.
pub fn file(root: &Path) -> Result<GeneratedFile, String> {
    let readme =
        std::fs::read_to_string(root.join(README)).map_err(|e| format!("{README}: {e}"))?;
    let contents = render(&readme, |path| {
        std::fs::read_to_string(root.join(path)).map_err(|e| format!("{path}: {e}"))
    })?;
    Ok(GeneratedFile {
        path: README.into(),
        contents,
    })
}

fn render(readme: &str, read: impl Fn(&str) -> Result<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(readme.len());
    let mut lines = readme.split_inclusive('\n').enumerate().peekable();
    let mut source: Option<(String, String)> = None;
    while let Some((number, line)) = lines.next() {
        out.push_str(line);
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix(MARKER) {
            let reference = rest.trim_end_matches("-->").trim();
            let (path, name) = reference
                .split_once('#')
                .ok_or_else(|| format!("{README}:{}: expected PATH#NAME", number + 1))?;
            source = Some((path.to_owned(), name.to_owned()));
            continue;
        }
        if trimmed.starts_with("```rust") {
            let Some((path, name)) = source.take() else {
                return Err(format!(
                    "{README}:{}: a Rust block without `{MARKER}PATH#NAME -->` before it",
                    number + 1
                ));
            };
            let snippet = excerpt(&read(&path)?, &name)
                .ok_or_else(|| format!("{path}: no `// snippet: {name}` … `// end`"))?;
            out.push_str(&snippet);
            // Skip the old block's lines up to its closing fence.
            for (_, old) in lines.by_ref() {
                if old.trim_start().starts_with("```") {
                    out.push_str(old);
                    break;
                }
            }
            continue;
        }
        if !trimmed.is_empty() {
            source = None;
        }
    }
    Ok(out)
}

/// The lines between `// snippet: NAME` and the next `// end`, dedented.
fn excerpt(text: &str, name: &str) -> Option<String> {
    let start = format!("// snippet: {name}");
    let mut lines = text.lines().skip_while(|l| l.trim() != start);
    lines.next()?;
    let body: Vec<&str> = lines.take_while(|l| l.trim() != "// end").collect();
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for line in body {
        out.push_str(line.get(indent..).unwrap_or("").trim_end());
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str =
        "fn main() {\n    // snippet: one\n    let a = 1;\n        let b = 2;\n    // end\n}\n";

    #[test]
    fn a_block_is_rewritten_from_its_source() {
        let readme = "Text\n\n<!-- snippet: ex.rs#one -->\n```rust\nold\n```\nmore\n";
        let out = render(readme, |_| Ok(EXAMPLE.into())).unwrap();
        assert_eq!(
            out,
            "Text\n\n<!-- snippet: ex.rs#one -->\n```rust\nlet a = 1;\n    let b = 2;\n```\nmore\n"
        );
        assert_eq!(render(&out, |_| Ok(EXAMPLE.into())).unwrap(), out);
    }

    #[test]
    fn a_block_without_a_source_or_a_missing_excerpt_is_refused() {
        let bare = "```rust\nlet x = 1;\n```\n";
        assert!(
            render(bare, |_| Ok(EXAMPLE.into()))
                .unwrap_err()
                .contains("without")
        );
        let missing = "<!-- snippet: ex.rs#two -->\n```rust\n```\n";
        assert!(
            render(missing, |_| Ok(EXAMPLE.into()))
                .unwrap_err()
                .contains("two")
        );
        let shell = "```sh\ncargo test\n```\n";
        assert_eq!(render(shell, |_| Ok(String::new())).unwrap(), shell);
    }
}
