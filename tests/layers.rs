//! The layers of ARCHITECTURE.md, checked on the source: what each part of
//! `src/` may import. A failure names the file, the line and the rule.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The code of a line, without its comment.
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

/// Lines of the files under `paths` (relative to `src/`) that name one of
/// `forbidden` modules as `crate::module` or `kiln::module`, except the
/// `allowed` paths.
fn violations(paths: &[&str], forbidden: &[&str], allowed: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for p in paths {
        let path = src.join(p);
        if path.is_dir() {
            files.extend(sources(&path));
        } else {
            files.push(path);
        }
    }
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a source file");
        for (n, line) in text.lines().enumerate() {
            let code = code(line);
            for module in forbidden {
                let named = [format!("crate::{module}"), format!("kiln::{module}")]
                    .iter()
                    .any(|pattern| {
                        code.match_indices(pattern.as_str()).any(|(at, _)| {
                            let rest = &code[at + pattern.len()..];
                            let whole =
                                !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_');
                            whole && !allowed.iter().any(|a| code[at..].starts_with(a))
                        })
                    });
                if named {
                    out.push(format!(
                        "{}:{}: imports {module}: {}",
                        file.strip_prefix(&src).unwrap_or(&file).display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    out
}

fn assert_none(rule: &str, found: Vec<String>) {
    assert!(found.is_empty(), "{rule}:\n{}", found.join("\n"));
}

#[test]
fn the_backend_knows_nothing_above_it() {
    assert_none(
        "backend/ must not import the API, lowering or the scheduler",
        violations(
            &["backend"],
            &[
                "ops",
                "transforms",
                "linalg",
                "nn",
                "optimizers",
                "wasm",
                "io",
                "lower",
                "scheduler",
            ],
            &[],
        ),
    );
}

#[test]
fn the_api_reaches_the_device_only_through_its_public_functions() {
    let public = [
        "crate::backend::device::init",
        "crate::backend::device::device_info",
        "crate::backend::device::memory_stats",
        "crate::backend::device::synchronize",
        "crate::backend::device::clear_cache",
    ];
    assert_none(
        "ops/, transforms/, linalg/, nn/, optimizers/, io and wasm/ must not import backend/",
        violations(
            &[
                "ops",
                "transforms",
                "linalg",
                "nn",
                "optimizers",
                "io.rs",
                "wasm",
            ],
            &["backend", "lower", "scheduler"],
            &public,
        ),
    );
}

#[test]
fn the_graph_and_primitives_know_no_ops() {
    assert_none(
        "array.rs, primitive/, dtype.rs and error.rs must not import the API or the backend",
        violations(
            &["array.rs", "primitive", "dtype.rs", "error.rs"],
            &[
                "backend",
                "ops",
                "transforms",
                "linalg",
                "nn",
                "optimizers",
                "io",
                "wasm",
            ],
            &[],
        ),
    );
}

#[test]
fn io_stands_below_nn() {
    assert_none(
        "io.rs must not import nn",
        violations(&["io.rs"], &["nn"], &[]),
    );
}
