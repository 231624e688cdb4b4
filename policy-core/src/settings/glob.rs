//! Settings globs, compiled cheaply: the simple patterns every default list uses (`cw-*`,
//! `*-slurm-scheduler`, `*`, `kube-system`, `registry.example.com/**`) match with string
//! comparisons, and only patterns with real wildcards build a `globset::GlobSet` (a regex).
//! So compiling default settings builds no regex at all, and an empty list costs nothing.
//!
//! The semantics are globset's with its default options (`literal_separator: false`, so `*`
//! matches `/`; `backslash_escape: true`), which the settings document; the fast path is taken
//! only for shapes whose equivalence is certain, and a table test compares both on tricky
//! patterns.

use globset::{Glob, GlobSet, GlobSetBuilder};

/// How one simple pattern matches its literal part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No metacharacter: the whole text.
    Exact,
    /// `P*` (and `P/**`, as `P/` + `*`): text starting with `P`.
    Prefix,
    /// `*S`: text ending with `S`.
    Suffix,
    /// `*M*`: text containing `M`.
    Contains,
    /// `*` (or `**`): any text.
    Any,
}

/// A simple pattern: its kind and its literal part.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Simple<'a>(Kind, std::borrow::Cow<'a, str>);

fn matches(kind: Kind, literal: &str, s: &str) -> bool {
    match kind {
        Kind::Exact => s == literal,
        Kind::Prefix => s.starts_with(literal),
        Kind::Suffix => s.ends_with(literal),
        Kind::Contains => s.contains(literal),
        Kind::Any => true,
    }
}

/// Whether `s` holds none of globset's metacharacters (`*?[]{}\`, and `,` which is special
/// inside alternates; `!`/`^` only matter inside classes, which need `[`).
fn literal(s: &str) -> bool {
    !s.bytes()
        .any(|b| matches!(b, b'*' | b'?' | b'[' | b']' | b'{' | b'}' | b'\\' | b','))
}

/// The fast form of `pattern`, when it has one.
fn simple(pattern: &str) -> Option<Simple<'_>> {
    use std::borrow::Cow::{Borrowed, Owned};
    if pattern == "*" || pattern == "**" {
        return Some(Simple(Kind::Any, Borrowed("")));
    }
    if literal(pattern) {
        return Some(Simple(Kind::Exact, Borrowed(pattern)));
    }
    // `P/**`: globset's recursive suffix matches everything below `P/` (and `P/` itself).
    if let Some(p) = pattern.strip_suffix("/**") {
        if literal(p) {
            return Some(Simple(Kind::Prefix, Owned(format!("{p}/"))));
        }
    }
    let inner = |s: &'_ str| !s.is_empty() && literal(s);
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(rest), Some(_)) => rest
            .strip_suffix('*')
            .filter(|m| inner(m))
            .map(|m| Simple(Kind::Contains, Borrowed(m))),
        (Some(rest), None) => inner(rest).then_some(Simple(Kind::Suffix, Borrowed(rest))),
        (None, Some(head)) => inner(head).then_some(Simple(Kind::Prefix, Borrowed(head))),
        (None, None) => None,
    }
}

/// A list of settings globs, matched as one set.
#[derive(Debug, Clone, Default)]
pub struct Globs {
    /// The literal parts of the simple patterns, one after another.
    text: String,
    /// Each simple pattern: its kind and the end of its literal part in `text` (it starts
    /// where the previous one ends).
    simple: Vec<(Kind, usize)>,
    /// The patterns with real wildcards, compiled; `None` when there are none.
    set: Option<GlobSet>,
}

impl Globs {
    /// Compiles `patterns` (settings at `path`), reporting each invalid one at its index.
    pub(crate) fn new(
        path: &str,
        patterns: &[String],
        problems: &mut Vec<crate::settings::error::SettingsProblem>,
    ) -> Self {
        let mut out = Globs::default();
        let mut builder: Option<GlobSetBuilder> = None;
        for (i, p) in patterns.iter().enumerate() {
            if let Some(Simple(kind, lit)) = simple(p) {
                out.text.push_str(&lit);
                out.simple.push((kind, out.text.len()));
                continue;
            }
            match Glob::new(p) {
                Ok(g) => {
                    builder.get_or_insert_with(GlobSetBuilder::new).add(g);
                }
                Err(e) => problems.push(crate::settings::error::SettingsProblem::new(
                    format!("{path}/{i}"),
                    format!("`{p}` is not a valid glob: {}", e.kind()),
                )),
            }
        }
        if let Some(b) = builder {
            match b.build() {
                Ok(set) => out.set = Some(set),
                Err(e) => problems.push(crate::settings::error::SettingsProblem::new(
                    path,
                    format!("the globs cannot be compiled: {e}"),
                )),
            }
        }
        out
    }

    /// Whether any pattern matches `s`.
    pub fn is_match(&self, s: impl AsRef<str>) -> bool {
        let s = s.as_ref();
        let mut start = 0;
        for &(kind, end) in &self.simple {
            if matches(kind, self.text.get(start..end).unwrap_or_default(), s) {
                return true;
            }
            start = end;
        }
        self.set.as_ref().is_some_and(|g| g.is_match(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globset(p: &str) -> Option<GlobSet> {
        let g = Glob::new(p).ok()?;
        let mut b = GlobSetBuilder::new();
        b.add(g);
        b.build().ok()
    }

    /// Every pattern against every text: the fast matcher and globset agree, and the fast path
    /// is taken exactly where the table says.
    #[test]
    fn fast_matchers_agree_with_globset() {
        // (pattern, fast path expected)
        let patterns: &[(&str, bool)] = &[
            ("", true),
            ("*", true),
            ("**", true),
            ("***", false),
            ("kube-system", true),
            ("cw-*", true),
            ("*-slurm-scheduler", true),
            ("*nginx*", true),
            ("*a*b*", false),
            ("a*b", false),
            ("registry.example.com/**", true),
            ("registry.example.com/*", true),
            ("a/**/b", false),
            ("**/b", false),
            ("a/**", true),
            ("/**", true),
            ("?", false),
            ("c?-*", false),
            ("[ab]-x", false),
            ("[!a]*", false),
            ("{a,b}*", false),
            ("a,b", false),
            ("\\*", false),
            ("a\\*", false),
            ("*\\*", false),
            ("a]", false),
            ("a}", false),
            ("docker.io/library/*", true),
            ("*/*", true),
            ("*/", true),
            ("/*", true),
            ("é*", true),
            ("*.", true),
            ("a.b", true),
            ("a+b(c)|d$^", true),
        ];
        let texts = [
            "",
            "a",
            "b",
            "ab",
            "a/b",
            "a/",
            "a/c/b",
            "/",
            "//",
            "*",
            "a*",
            "a,b",
            "a]",
            "a}",
            "a+b(c)|d$^",
            "a.b",
            "axb",
            "kube-system",
            "kube-system2",
            "xkube-system",
            "cw-",
            "cw-system",
            "cw",
            "CW-system",
            "x-slurm-scheduler",
            "-slurm-scheduler",
            "slurm-scheduler",
            "nginx",
            "docker.io/library/nginx:1.25",
            "registry.example.com",
            "registry.example.com/",
            "registry.example.com/a/b:1",
            "registry.example.comx/a",
            "é",
            "éa",
            "x.",
            "\n",
            "a\nb",
        ];
        for (p, fast) in patterns {
            assert_eq!(
                simple(p).is_some(),
                *fast,
                "fast path for {p:?}: {:?}",
                simple(p)
            );
            let reference = globset(p);
            let mut problems = Vec::new();
            let ours = Globs::new("/x", &[(*p).to_owned()], &mut problems);
            match &reference {
                None => assert!(!problems.is_empty(), "{p:?} is invalid for globset"),
                Some(g) => {
                    assert!(problems.is_empty(), "{p:?}: {problems:?}");
                    for t in texts {
                        assert_eq!(ours.is_match(t), g.is_match(t), "pattern {p:?} on {t:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn invalid_globs_are_reported_at_their_index() {
        let mut problems = Vec::new();
        let g = Globs::new(
            "/images/allow",
            &["ok".to_owned(), "[".to_owned(), "a{b".to_owned()],
            &mut problems,
        );
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["/images/allow/1", "/images/allow/2"]);
        assert!(g.is_match("ok"));
    }

    #[test]
    fn empty_lists_match_nothing() {
        let g = Globs::new("/x", &[], &mut Vec::new());
        assert!(g.simple.is_empty() && g.set.is_none() && g.text.capacity() == 0);
        assert!(!g.is_match(""));
        assert!(!g.is_match("a"));
    }
}
