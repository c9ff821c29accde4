//! The JavaScript and TypeScript faces of the elementwise op tables. Parts
//! of `www/src/index.js`, `www/src/index.d.ts` and `www/test/errors.mjs`
//! between `BEGIN generated` and `END generated` lines are written from
//! the Rust tables; this test fails when one is stale, and rewrites them
//! when run with `KILN_BLESS=1`:
//!
//! ```sh
//! KILN_BLESS=1 cargo test --test js_face
//! ```

use kiln::primitive::elementwise::Class;
use kiln::{BinaryOp, UnaryOp};
use std::path::Path;

const BEGIN: &str = "BEGIN generated from the op tables (KILN_BLESS=1 cargo test --test js_face)";
const END: &str = "END generated";

fn unary_names() -> Vec<&'static str> {
    UnaryOp::ALL.iter().map(|op| op.js_name()).collect()
}

fn binary_names(keep: impl Fn(Class) -> bool) -> Vec<&'static str> {
    BinaryOp::ALL
        .iter()
        .filter(|op| keep(op.class()))
        .map(|op| op.js_name())
        .collect()
}

/// Words joined into lines of at most `width` characters after `indent`.
fn wrapped(words: &[&str], sep: &str, indent: &str, width: usize) -> String {
    let mut lines: Vec<String> = vec![];
    let mut line = String::new();
    for w in words {
        let piece = format!("{w}{sep}");
        if !line.is_empty() && indent.len() + line.len() + piece.trim_end().len() > width {
            lines.push(format!("{indent}{}", line.trim_end()));
            line.clear();
        }
        line.push_str(&piece);
    }
    if !line.is_empty() {
        lines.push(format!("{indent}{}", line.trim_end()));
    }
    lines.join("\n")
}

/// The generated parts of each file, in the order they appear.
fn parts(file: &str) -> Vec<String> {
    let unary = unary_names();
    let binary = binary_names(|_| true);
    match file {
        "www/src/index.js" => {
            let mut out = String::new();
            for name in &unary {
                out += &format!("export const {name} = unary('{name}');\n");
            }
            for name in &binary {
                out += &format!("export const {name} = binary('{name}');\n");
            }
            let all: Vec<&str> = unary.iter().chain(&binary).copied().collect();
            out += "/** Every elementwise op of the tables, as Array methods. */\n";
            out += "const tableMethods = {\n";
            out += &wrapped(&all, ", ", "  ", 100);
            out += "\n};\n";
            vec![out]
        }
        "www/src/index.d.ts" => {
            let mut methods = String::new();
            for name in &unary {
                methods += &format!("  {name}(): Array;\n");
            }
            for name in &binary {
                methods += &format!("  {name}(other: ArrayLike): Array;\n");
            }
            let mut functions = String::new();
            for name in &unary {
                functions += &format!("export declare function {name}(a: ArrayLike): Array;\n");
            }
            for name in &binary {
                functions += &format!(
                    "export declare function {name}(a: ArrayLike, b: ArrayLike): Array;\n"
                );
            }
            vec![methods, functions]
        }
        "www/test/errors.mjs" => {
            let list = |names: &[&str]| format!("'{}'", names.join(" "));
            let logical = binary_names(|c| c == Class::Logical);
            let integer = binary_names(|c| matches!(c, Class::Bitwise | Class::Shift));
            let float =
                binary_names(|c| !matches!(c, Class::Logical | Class::Bitwise | Class::Shift));
            vec![format!(
                "const unaryOps = {};\nconst floatBinaryOps = {};\nconst logicalBinaryOps = {};\nconst integerBinaryOps = {};\n",
                list(&unary),
                list(&float),
                list(&logical),
                list(&integer),
            )]
        }
        _ => unreachable!("no generated parts in {file}"),
    }
}

/// `text` with its generated parts replaced by `parts`; an error when the
/// markers do not match.
fn regenerate(file: &str, text: &str, parts: &[String]) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    for part in parts {
        let begin = rest
            .find(BEGIN)
            .ok_or_else(|| format!("{file}: a `{BEGIN}` line is missing"))?;
        let body = begin + rest[begin..].find('\n').ok_or("no line end")? + 1;
        let end = body
            + rest[body..]
                .find(END)
                .ok_or_else(|| format!("{file}: an `{END}` line is missing"))?;
        // The END marker's line starts with its comment and indentation.
        let end_line = rest[..end].rfind('\n').map_or(0, |k| k + 1);
        out.push_str(&rest[..body]);
        out.push_str(part);
        rest = &rest[end_line..];
    }
    if rest.contains(BEGIN) {
        return Err(format!("{file}: more generated parts than expected"));
    }
    out.push_str(rest);
    Ok(out)
}

#[test]
fn js_and_ts_faces_follow_the_op_tables() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var("KILN_BLESS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for file in [
        "www/src/index.js",
        "www/src/index.d.ts",
        "www/test/errors.mjs",
    ] {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path).expect("a source file");
        let fresh = regenerate(file, &text, &parts(file)).unwrap_or_else(|e| panic!("{e}"));
        if fresh != text {
            if bless {
                std::fs::write(&path, fresh).expect("writable");
            } else {
                stale.push(file);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated parts are stale in {stale:?}; run `KILN_BLESS=1 cargo test --test js_face`"
    );
}

#[test]
fn every_op_has_a_distinct_camel_case_name() {
    let mut names: Vec<&str> = unary_names();
    names.extend(binary_names(|_| true));
    for name in &names {
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric()) && !name.contains('_'),
            "{name} is not a camelCase JavaScript name"
        );
    }
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "two ops share a JavaScript name");
}
