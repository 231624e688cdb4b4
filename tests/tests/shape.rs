//! The shape of `policy-core` (ARCHITECTURE.md): its folders are the stages data flows through,
//! in order, and a folder imports only from the folders before it. This test reads the `use`
//! paths of `policy-core/src` (`crate::…` and `super::…`, comments and test modules left out)
//! and fails on an import from a later stage, on a path through the façade (`crate::Name`)
//! from inside a folder, on a file loose beside `lib.rs`, and on a circle inside a folder other
//! than those ARCHITECTURE.md lists (its table "Circles inside a folder" is read here).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cks_policy_tests::root;

/// The stage folders in the order data flows through them.
const STAGES: &[&str] = &["read", "model", "settings", "scheduling", "judge", "answer"];

struct Module {
    /// `judge::rules::images`; `` for `lib.rs`.
    path: String,
    /// The code, without comments and test modules.
    code: String,
}

fn read_modules(dir: &Path, src: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            read_modules(&p, src, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut path = rel.to_str().unwrap().replace('/', "::");
            if let Some(parent) = path.strip_suffix("::mod") {
                path = parent.to_owned();
            }
            if path == "lib" {
                path.clear();
            }
            out.push((path, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

/// `text` without `//` comments and without the test module at its end.
fn code_of(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        // The next line that is neither blank nor an attribute.
        let next = lines[i + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && !l.starts_with("#["));
        if line.trim() == "#[cfg(test)]" && next.is_some_and(|n| n.starts_with("mod ")) {
            break;
        }
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Children of `parent` declared under a `cfg(test)` attribute: test files.
fn test_children(parent: &str, text: &str, into: &mut BTreeSet<String>) {
    let mut previous = "";
    for line in text.lines() {
        let t = line.trim();
        let decl = t
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub ")
            .strip_prefix("mod ")
            .and_then(|r| r.strip_suffix(';'));
        if let Some(name) = decl {
            if previous.contains("cfg(") && previous.contains("test") {
                into.insert(join(parent, name));
            }
        }
        previous = t;
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}::{name}")
    }
}

fn ident_len(s: &str) -> usize {
    s.bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count()
}

/// The paths a piece of code names after `prefix` (`crate::` or `super::`), as segments;
/// a group `{a::b, c}` gives one path per item.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = code[from..].find(prefix) {
        let at = from + found;
        from = at + prefix.len();
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue; // the second `super::` of `super::super::`, or `foo_crate::`
        }
        let rest = &code[from..];
        out.extend(path_at(rest).into_iter().map(|mut p| {
            if prefix == "super::" {
                p.insert(0, String::from("super"));
            }
            p
        }));
    }
    out
}

/// The path (or the paths of a group) at the start of `s`.
fn path_at(s: &str) -> Vec<Vec<String>> {
    let mut segments = Vec::new();
    let mut rest = s;
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|&(_, c)| {
                    depth += i32::from(c == '{') - i32::from(c == '}');
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            let mut items = Vec::new();
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group[..end].char_indices() {
                depth += i32::from(c == '{') - i32::from(c == '}');
                if c == ',' && depth == 0 {
                    items.push(&group[start..i]);
                    start = i + 1;
                }
            }
            items.push(&group[start..end]);
            return items
                .into_iter()
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .flat_map(path_at)
                .map(|p| segments.iter().cloned().chain(p).collect())
                .collect();
        }
        let n = ident_len(rest);
        if n == 0 {
            break;
        }
        segments.push(rest[..n].to_owned());
        match rest[n..].strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    if segments.is_empty() {
        vec![]
    } else {
        vec![segments]
    }
}

/// The module path `segments` name from `module`, resolving leading `super`s (each is the
/// parent module, whether the file is `x.rs` or `x/mod.rs`).
fn absolute(module: &str, segments: &[String]) -> Vec<String> {
    let mut base: Vec<String> = if module.is_empty() {
        vec![]
    } else {
        module.split("::").map(str::to_owned).collect()
    };
    let mut rest = segments;
    if rest.first().is_some_and(|s| s == "super") {
        while rest.first().is_some_and(|s| s == "super") {
            base.pop();
            rest = &rest[1..];
        }
        base.extend(rest.iter().cloned());
        base
    } else {
        rest.to_vec()
    }
}

/// The circles ARCHITECTURE.md allows: the rows of its table under "Circles inside a folder",
/// `| \`folder/\` | \`a\`, \`b\` (\`c\`) | why |`, where `mod` is the folder's own module and a
/// name in parentheses is a module of the one before it.
fn allowed_circles(architecture: &str) -> BTreeSet<Vec<String>> {
    let section = architecture
        .split("### Circles inside a folder")
        .nth(1)
        .expect("ARCHITECTURE.md has a \"Circles inside a folder\" section");
    let mut out = BTreeSet::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let folder = cells[1].trim_matches('`').trim_end_matches('/');
        let mut modules = Vec::new();
        let (mut last, mut nested) = (String::new(), false);
        for (i, part) in cells[2].split('`').enumerate() {
            if i % 2 == 0 {
                nested = match (part.rfind('('), part.rfind(')')) {
                    (Some(open), Some(close)) => open > close,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => nested,
                };
                continue;
            }
            let path = if part == "mod" {
                folder.to_owned()
            } else if nested {
                format!("{folder}::{last}::{part}")
            } else {
                last = part.to_owned();
                format!("{folder}::{part}")
            };
            modules.push(path);
        }
        modules.sort();
        out.insert(modules);
    }
    out
}

#[test]
fn stages_import_only_earlier_stages() {
    let src = root().join("policy-core/src");
    let mut files = Vec::new();
    read_modules(&src, &src, &mut files);

    // Every file is lib.rs or inside a stage folder, and every stage folder exists.
    let top: BTreeSet<String> = files
        .iter()
        .map(|(p, _)| p.split("::").next().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = STAGES
        .iter()
        .map(|s| (*s).to_owned())
        .chain([String::new()])
        .collect();
    assert_eq!(
        top, expected,
        "the top of policy-core/src is lib.rs and the stage folders"
    );

    let mut tests = BTreeSet::new();
    for (path, text) in &files {
        test_children(path, text, &mut tests);
    }
    let modules: Vec<Module> = files
        .iter()
        .filter(|(p, _)| !tests.contains(p))
        .map(|(p, t)| Module {
            path: p.clone(),
            code: code_of(t),
        })
        .collect();
    let known: BTreeSet<&str> = modules.iter().map(|m| m.path.as_str()).collect();

    let stage = |p: &str| STAGES.iter().position(|s| p.split("::").next() == Some(*s));
    let mut problems = Vec::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut count = 0;
    for m in modules.iter().filter(|m| !m.path.is_empty()) {
        let from = stage(&m.path).unwrap();
        let named = paths_after(&m.code, "crate::")
            .into_iter()
            .chain(paths_after(&m.code, "super::"));
        for segments in named {
            let target = absolute(&m.path, &segments);
            count += 1;
            let Some(to) = stage(&target.join("::")) else {
                problems.push(format!(
                    "{} names `crate::{}` through the façade: name the stage's module",
                    m.path,
                    target.join("::")
                ));
                continue;
            };
            if to > from {
                problems.push(format!(
                    "{} ({}) imports {} from a later stage ({})",
                    m.path,
                    STAGES[from],
                    target.join("::"),
                    STAGES[to]
                ));
            }
            // The longest prefix that is a module is the edge's end.
            let end = (1..=target.len())
                .rev()
                .map(|n| target[..n].join("::"))
                .find(|c| known.contains(c.as_str()));
            if let Some(end) = end.filter(|e| *e != m.path) {
                edges.entry(m.path.clone()).or_default().insert(end);
            }
        }
    }
    assert!(count > 300, "read only {count} paths: the parser is broken");
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // Circles (strongly connected modules) inside a folder: only the documented ones.
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_owned()];
        while let Some(n) = todo.pop() {
            for next in edges.get(&n).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&str, BTreeSet<String>> = known.iter().map(|m| (*m, reach(m))).collect();
    let mut circles: BTreeSet<Vec<String>> = BTreeSet::new();
    for m in &known {
        let circle: Vec<String> = known
            .iter()
            .filter(|o| reached[m].contains(**o) && reached[**o].contains(*m))
            .map(|o| (*o).to_owned())
            .collect();
        if circle.len() > 1 {
            circles.insert(circle);
        }
    }
    for c in &circles {
        let stages: BTreeSet<_> = c.iter().map(|m| stage(m)).collect();
        assert_eq!(stages.len(), 1, "a circle across folders: {c:?}");
    }
    let architecture = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let allowed = allowed_circles(&architecture);
    assert!(!allowed.is_empty(), "ARCHITECTURE.md lists no circles");
    assert_eq!(
        circles, allowed,
        "the circles inside folders differ from those ARCHITECTURE.md allows (\"Circles inside a folder\")"
    );
}

#[test]
fn the_parser_reads_groups_and_super() {
    let table = "### Circles inside a folder\n\n| folder | modules | why |\n|---|---|---|\n| `judge/` | `eval`, `rules` (`images`, `nodes`) | x |\n| `settings/` | `mod`, `policy` | y |\n";
    let allowed = allowed_circles(table);
    assert_eq!(
        allowed.into_iter().collect::<Vec<_>>(),
        [
            vec![
                "judge::eval",
                "judge::rules",
                "judge::rules::images",
                "judge::rules::nodes"
            ],
            vec!["settings", "settings::policy"],
        ]
    );
    assert_eq!(
        paths_after("use crate::{a::b, c::{d, e}};", "crate::"),
        [vec!["a", "b"], vec!["c", "d"], vec!["c", "e"]]
    );
    let p = paths_after("use super::super::x::Y;", "super::");
    assert_eq!(p, [vec!["super", "super", "x", "Y"]]);
    assert_eq!(absolute("judge::rules::nodes", &p[0]), ["judge", "x", "Y"]);
    assert_eq!(
        code_of("use crate::a;\n// crate::b\n#[cfg(test)]\nmod tests {\n use crate::c;\n}\n"),
        "use crate::a;\n\n"
    );
}
