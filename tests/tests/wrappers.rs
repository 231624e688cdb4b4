//! The wrappers only marshal (issue 10, item 4): no wrapper source names a rule id or a
//! `Severity::` variant, so no verdict, severity or rule logic can live outside `policy-core`.
//!
//! Scanned: `cli/src`, `policy-wasm/kubewarden/src`, `policy-wasm/web/src`, `policy-ffi/src`,
//! `policy-ffi/go/*.go` and `policy-ffi/python/cks_policy`. Comments are not code and are
//! skipped, and so are tests (a Rust file from its `#[cfg(test)]` line on, Go `_test.go` files):
//! they assert what the core answers, they decide nothing. Everything else that matches must be
//! in [`ALLOWED`] with the reason it is pure marshalling.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use cks_policy_tests::root;

/// `(file, needle, why it is only marshalling)`: each entry must still match, so a stale one
/// fails too.
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "cli/src/output/sarif.rs",
        "Severity::",
        "maps each severity to its SARIF 2.1.0 `level` name (`note` for info): a fixed output encoding",
    ),
    (
        "cli/src/output/github.rs",
        "Severity::",
        "maps each severity to its GitHub workflow command (`error`/`warning`/`notice`): a fixed output encoding",
    ),
];

/// Where wrapper code lives, and which file names count.
const SOURCES: &[(&str, &str)] = &[
    ("cli/src", ".rs"),
    ("policy-wasm/kubewarden/src", ".rs"),
    ("policy-wasm/web/src", ".rs"),
    ("policy-ffi/src", ".rs"),
    ("policy-ffi/go", ".go"),
    ("policy-ffi/python/cks_policy", ".py"),
];

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        // Only the Go package itself: its examples are programs of their own, not the wrapper.
        if p.is_dir() && !dir.ends_with("policy-ffi/go") {
            files(&p, ext, out);
        } else if p.is_file()
            && p.to_string_lossy().ends_with(ext)
            && !p.to_string_lossy().ends_with("_test.go")
        {
            out.push(p);
        }
    }
}

/// The code of a source file: comments and test modules removed.
fn code(text: &str, ext: &str) -> Vec<(usize, String)> {
    let comment = if ext == ".py" { "#" } else { "//" };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if ext == ".rs" && line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let body = match line.find(comment) {
            // A `//` inside a string (a URL) is kept: only cut at a comment outside quotes.
            Some(at) if line[..at].matches('"').count() % 2 == 0 => &line[..at],
            _ => line,
        };
        out.push((i + 1, body.to_owned()));
    }
    out
}

/// Whether `line` holds `id` as a whole rule id (not as part of a longer word).
fn names(line: &str, id: &str) -> bool {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    line.match_indices(id).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + id.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

/// Every `(file, line, needle)` in the wrapper sources.
fn hits(root: &Path) -> Vec<(String, usize, String)> {
    let mut needles: Vec<String> = policy_core::RULES.iter().map(|r| r.id.to_owned()).collect();
    needles.push(String::from("Severity::"));
    let mut out = Vec::new();
    for (dir, ext) in SOURCES {
        let mut list = Vec::new();
        files(&root.join(dir), ext, &mut list);
        assert!(!list.is_empty(), "no {ext} files in {dir}");
        for path in list {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in code(&text, ext) {
                for needle in &needles {
                    let found = if needle.ends_with("::") {
                        line.contains(needle.as_str())
                    } else {
                        names(&line, needle)
                    };
                    if found {
                        out.push((rel.clone(), n, needle.clone()));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn wrappers_hold_no_rule_ids_or_severities() {
    let found = hits(&root());
    let bad: Vec<String> = found
        .iter()
        .filter(|(file, _, needle)| !ALLOWED.iter().any(|(f, n, _)| f == file && n == needle))
        .map(|(file, line, needle)| {
            format!("{file}:{line}: `{needle}` (move the decision into policy-core)")
        })
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    for (file, needle, why) in ALLOWED {
        assert!(!why.is_empty());
        assert!(
            found.iter().any(|(f, _, n)| f == file && n == needle),
            "stale allowlist entry {file} `{needle}`: remove it"
        );
    }
}

#[test]
fn the_scan_finds_what_it_looks_for() {
    let rust = "fn f() {\n    // input-invalid in a comment\n    let x = \"image-mutable-tag\";\n    let s = Severity::Error;\n}\n#[cfg(test)]\nmod t { const X: &str = \"label-syntax\"; }\n";
    let lines = code(rust, ".rs");
    assert_eq!(lines.len(), 5, "stops at the test module");
    assert!(!names(&lines[1].1, "input-invalid"), "comments skipped");
    assert!(names(&lines[2].1, "image-mutable-tag"));
    assert!(lines[3].1.contains("Severity::"));
    assert!(
        !names("my-label-syntax-x", "label-syntax"),
        "whole ids only"
    );
    assert!(names("\"label-syntax\":", "label-syntax"));
    let py = "x = 'pin-digests'  # control-plane-namespace\n";
    let lines = code(py, ".py");
    assert!(names(&lines[0].1, "pin-digests"));
    assert!(!names(&lines[0].1, "control-plane-namespace"));
}

/// The core's contract is its façade (README "Library"): every module of `policy-core` is
/// private, the stage folders included, and the only public namespaces are the two the façade
/// re-exports, so a wrapper cannot reach past the re-exports into a rule's internals.
#[test]
fn policy_core_exports_only_its_facade() {
    let lib = std::fs::read_to_string(root().join("policy-core/src/lib.rs")).unwrap();
    let public_mods = lib
        .lines()
        .filter(|l| l.trim().starts_with("pub mod "))
        .count();
    assert_eq!(
        public_mods, 0,
        "policy-core's lib.rs declares a public module"
    );
    let namespaces: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub use "))
        .map(|l| l.trim_end_matches(';'))
        // `stage::module` (a module of a stage folder), not `stage::module::item`.
        .filter(|l| !l.contains('{') && l.split(" as ").next().unwrap().split("::").count() == 2)
        .filter_map(|l| l.rsplit([' ', ':']).next())
        .collect();
    assert_eq!(
        namespaces,
        ["kubewarden", "yaml"],
        "public namespaces of policy-core"
    );
    let private: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("mod "))
        .map(|m| m.trim_end_matches(';'))
        .collect();
    assert_eq!(
        private,
        ["answer", "judge", "model", "read", "scheduling", "settings"],
        "the engine's modules are its private stage folders"
    );
}
