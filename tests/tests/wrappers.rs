//! The wrappers only marshal (ARCHITECTURE.md): no wrapper source names a rule id or a
//! `Severity::` variant, so no verdict, severity or rule logic can live outside `policy-core`;
//! and every Rust wrapper judges, reviews, reads caller context and fixes text through the
//! call layer (`policy_core::call`), never through the façade's entry points or
//! `Context::from_json` itself, so caller input is normalised in one place.
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

/// What a Rust wrapper must not call or import: the façade's entry points that take a parsed
/// [`policy_core::Context`] or choose check, audit or fix, and `Context` itself. The call layer
/// (`policy_core::call`) offers each of them.
const BYPASSES: &[&str] = &[
    "check",
    "check_objects",
    "audit",
    "review",
    "evaluate",
    "evaluate_value",
    "evaluate_request",
    "fix_text",
    "Context",
];

/// The names a `use policy_core::…;` statement imports from the crate root (not from one of
/// its namespaces: `use policy_core::call::{review}` imports the call layer's `review`).
fn root_imports(statement: &str) -> Vec<String> {
    let Some(rest) = statement.trim().strip_prefix("use policy_core::") else {
        return Vec::new();
    };
    let rest = rest.trim_end_matches(';').trim();
    let Some(group) = rest.strip_prefix('{') else {
        // `use policy_core::check;`, `use policy_core::check as c;`, `use policy_core::call;`
        let name = rest.split(" as ").next().unwrap_or("").trim();
        return if name.contains("::") {
            Vec::new()
        } else {
            vec![name.to_owned()]
        };
    };
    let group = group.strip_suffix('}').unwrap_or(group);
    // Items at the top of the group: split at commas outside nested braces.
    let (mut depth, mut item, mut out) = (0, String::new(), Vec::new());
    for c in group.chars().chain(std::iter::once(',')) {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                let name = item.split(" as ").next().unwrap_or("").trim().to_owned();
                if !name.is_empty() && !name.contains("::") {
                    out.push(name);
                }
                item.clear();
                continue;
            }
            _ => {}
        }
        item.push(c);
    }
    out
}

/// Every `(file, line, what)` where a Rust wrapper bypasses the call layer: a call of
/// `policy_core::<entry>(` or `Context::`, or a root import of one of [`BYPASSES`].
fn bypasses(root: &Path) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    for (dir, ext) in SOURCES.iter().filter(|(_, ext)| *ext == ".rs") {
        let mut list = Vec::new();
        files(&root.join(dir), ext, &mut list);
        for path in list {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            out.extend(
                bypasses_in(&text)
                    .into_iter()
                    .map(|(n, what)| (rel.clone(), n, what)),
            );
        }
    }
    out
}

/// [`bypasses`] in one file's text.
fn bypasses_in(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let lines = code(text, ".rs");
    let mut statement: Option<(usize, String)> = None;
    for (n, line) in &lines {
        for name in BYPASSES {
            let call = format!("policy_core::{name}(");
            if line.contains(&call) {
                out.push((*n, call));
            }
        }
        if line.contains("Context::") {
            out.push((*n, String::from("Context::")));
        }
        // `use` statements, joined over their lines.
        let trimmed = line.trim();
        if statement.is_none()
            && (trimmed.starts_with("use policy_core")
                || trimmed.starts_with("pub use policy_core"))
        {
            statement = Some((*n, String::new()));
        }
        if let Some((start, s)) = statement.as_mut() {
            s.push_str(trimmed.trim_start_matches("pub "));
            s.push(' ');
            if trimmed.ends_with(';') {
                for name in root_imports(s) {
                    if BYPASSES.contains(&name.as_str()) {
                        out.push((*start, format!("use policy_core::{name}")));
                    }
                }
                statement = None;
            }
        }
    }
    out
}

/// The wrappers go through the call layer: no Rust wrapper calls or imports the façade's
/// `check`, `audit`, `review`, `fix_text`, … or reads a `Context` itself.
#[test]
fn wrappers_call_the_core_through_the_call_layer() {
    let found = bypasses(&root());
    let bad: Vec<String> = found
        .iter()
        .map(|(file, line, what)| {
            format!("{file}:{line}: `{what}` (go through `policy_core::call` instead)")
        })
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_bypass_scan_finds_what_it_looks_for() {
    let rust = "use policy_core::{call::{self, review}, Judgement, Policy};\nuse policy_core::{\n    audit,\n    Report,\n};\nfn f() {\n    let r = policy_core::check(&p, None, b, &c);\n    let c = Context::from_json(b);\n    // policy_core::review(&p, b, &c)\n    policy_core::check_objects(&p, None, b, &c);\n}\n#[cfg(test)]\nmod t { fn g() { policy_core::audit(); } }\n";
    let found = bypasses_in(rust);
    assert_eq!(
        found,
        [
            (2, String::from("use policy_core::audit")),
            (7, String::from("policy_core::check(")),
            (8, String::from("Context::")),
            (10, String::from("policy_core::check_objects(")),
        ]
    );
    assert_eq!(
        root_imports("use policy_core::fix_text as fix;"),
        ["fix_text"]
    );
    assert!(root_imports("use policy_core::call::review;").is_empty());
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
/// private, the stage folders included, and the only public namespaces are the three the
/// façade re-exports (the call layer, the Kubewarden protocol, kubectl's YAML reader), so a wrapper cannot reach past the re-exports into a rule's internals.
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
        ["call", "kubewarden", "yaml"],
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
