//! CEL text builders: string literals, settings globs, and quantifiers over pointer patterns.

/// A CEL string literal (single-quoted; `\` and `'` escaped, control characters as `\u`).
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Whether a settings glob holds no metacharacter (matches only itself).
pub fn is_literal_glob(s: &str) -> bool {
    !s.bytes()
        .any(|b| matches!(b, b'*' | b'?' | b'[' | b']' | b'{' | b'}' | b'\\' | b','))
}

/// CEL: `expr` (a string) matches one of `globs` (globset semantics with its default options,
/// as `glob.rs` documents: `*` also matches `/`).
pub fn glob_any(expr: &str, globs: &[String]) -> String {
    let parts: Vec<String> = globs.iter().map(|g| glob(expr, g)).collect();
    format!("({})", parts.join(" || "))
}

fn glob(expr: &str, g: &str) -> String {
    if g == "*" || g == "**" {
        return String::from("true");
    }
    if is_literal_glob(g) {
        return format!("{expr} == {}", string(g));
    }
    if let Some(head) = g.strip_suffix('*') {
        if is_literal_glob(head) {
            return format!("{expr}.startsWith({})", string(head));
        }
    }
    if let Some(tail) = g.strip_prefix('*') {
        if is_literal_glob(tail) {
            return format!("{expr}.endsWith({})", string(tail));
        }
    }
    format!("{expr}.matches({})", string(&glob_regex(g)))
}

/// The RE2 regular expression of a globset glob (`*`, `**`, `?`, `[...]`, `[!...]`, `{a,b}`,
/// `\` escapes), anchored. Source: globset `src/glob.rs` (`Tokens::to_regex_with`).
pub fn glob_regex(g: &str) -> String {
    if g == "**" {
        // globset's special case: the glob `**` alone matches everything.
        return String::from("(?s)^.*$");
    }
    let mut re = String::from("(?s)^");
    let chars: Vec<char> = g.chars().collect();
    let mut i = 0;
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) != Some(&'*') => re.push_str(".*"),
            '*' => {
                // `**` (globset `Parser::parse_star`): at the start of the glob (or of a `{}`
                // branch) and before `/` or the end, `RecursivePrefix` `(?:/?|.*/)`; after `/`
                // and at the end (or a branch's end), `RecursiveSuffix` `/.*`; between two `/`,
                // `RecursiveZeroOrMore` `(?:/|/.*/)`; anywhere else two `*`, `.*`.
                i += 1;
                let prev = (i >= 2).then(|| chars[i - 2]);
                let next = chars.get(i + 1).copied();
                let branch_start = prev.is_none() || (depth > 0 && matches!(prev, Some('{' | ',')));
                let branch_end = next.is_none() || (depth > 0 && matches!(next, Some(',' | '}')));
                if branch_start && prev.is_none() {
                    if next.is_none() || next == Some('/') {
                        if next == Some('/') {
                            i += 1;
                        }
                        re.push_str("(?:/?|.*/)");
                    } else {
                        re.push_str(".*");
                    }
                } else if prev == Some('/') && (branch_end || next == Some('/')) {
                    re.pop();
                    if branch_end {
                        re.push_str("/.*");
                    } else {
                        i += 1;
                        re.push_str("(?:/|/.*/)");
                    }
                } else {
                    re.push_str(".*");
                }
            }
            '?' => re.push('.'),
            '\\' if i + 1 < chars.len() => {
                i += 1;
                push_literal(&mut re, chars[i]);
            }
            '[' => {
                let mut j = i + 1;
                let mut class = String::from("[");
                if j < chars.len() && (chars[j] == '!' || chars[j] == '^') {
                    class.push('^');
                    j += 1;
                }
                let start = j;
                while j < chars.len() && (chars[j] != ']' || j == start) {
                    let k = chars[j];
                    if matches!(k, '\\' | '[' | ']' | '^') {
                        class.push('\\');
                    }
                    class.push(k);
                    j += 1;
                }
                if j >= chars.len() {
                    // Unclosed: globset refuses it; policy settings never hold one.
                    push_literal(&mut re, '[');
                } else {
                    class.push(']');
                    re.push_str(&class);
                    i = j;
                }
            }
            '{' => {
                depth += 1;
                re.push_str("(?:");
            }
            '}' if depth > 0 => {
                depth -= 1;
                re.push(')');
            }
            ',' if depth > 0 => re.push('|'),
            c => push_literal(&mut re, c),
        }
        i += 1;
    }
    re.push('$');
    re
}

fn push_literal(re: &mut String, c: char) {
    if "\\.+*?()|[]{}^$".contains(c) {
        re.push('\\');
    }
    re.push(c);
}

/// CEL: some value at `pattern` (a pointer pattern whose `*` is any map key or list index)
/// under `root` satisfies `body` (given the CEL of that value).
pub fn exists(root: &str, pattern: &str, body: &mut dyn FnMut(&str) -> String) -> String {
    quantify(
        &format!("dyn({root})"),
        &segments(pattern),
        var(root),
        0,
        body,
        false,
    )
}

/// CEL: every value at `pattern` under `root` satisfies `body`.
pub fn all(root: &str, pattern: &str, body: &mut dyn FnMut(&str) -> String) -> String {
    quantify(
        &format!("dyn({root})"),
        &segments(pattern),
        var(root),
        0,
        body,
        true,
    )
}

fn var(root: &str) -> char {
    if root == "oldObject" {
        'u'
    } else {
        'v'
    }
}

fn segments(pattern: &str) -> Vec<&str> {
    pattern.split('/').filter(|s| !s.is_empty()).collect()
}

fn quantify(
    at: &str,
    segs: &[&str],
    v: char,
    depth: usize,
    body: &mut dyn FnMut(&str) -> String,
    every: bool,
) -> String {
    let Some((seg, rest)) = segs.split_first() else {
        return format!("({})", body(at));
    };
    let q = if every { "all" } else { "exists" };
    if *seg == "*" {
        // A list's elements, or a map's values (the body is written once: a `*` under a `*`
        // would otherwise double the text per level).
        let name = format!("{v}{depth}");
        let inner = quantify(&name, rest, v, depth + 1, body, every);
        return format!(
            "(type({at}) == list ? {at} : {at}.map({name}k, {at}[{name}k])).{q}({name}, {inner})"
        );
    }
    let field = format!("{at}.{seg}");
    let inner = quantify(&field, rest, v, depth, body, every);
    if every {
        format!("(!has({field}) || {inner})")
    } else {
        format!("(has({field}) && {inner})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_escape() {
        assert_eq!(string("a'b\\c"), "'a\\'b\\\\c'");
    }

    /// The CEL form of a glob (string functions, or an RE2 `matches`) agrees with globset, the
    /// core's matcher (`settings/glob.rs`), on a table of patterns × strings: `*`, `**`, `?`,
    /// `[...]`, `[!...]`, `{a,b}`, escapes, and regex metacharacters written literally.
    #[test]
    fn glob_regex_agrees_with_globset() {
        let globs = [
            "cw-*",
            "*-slurm-scheduler",
            "registry.example.com/**",
            "registry.example.com/*/app:*",
            "**/nginx:*",
            "system:serviceaccount:*",
            "a/**/b",
            "a/**",
            "a**b",
            "a?c",
            "[ab]x",
            "[!ab]x",
            "[a-c]x",
            "{foo,bar}-*",
            "{docker.io/library/nginx,ghcr.io/*}:latest",
            "x.y+z",
            "(a|b)^$",
            "*mid*",
            "a\\*b",
            "ns/*-ci",
            "docker.io/library/nginx:1.25",
            "*",
            "**",
        ];
        let probes = [
            "cw-x",
            "cw-",
            "cw",
            "a-slurm-scheduler",
            "slurm-scheduler",
            "registry.example.com/a/b",
            "registry.example.com/team/app:1.0",
            "registry.example.com/a/b/app:1.0",
            "registry.example.com",
            "docker.io/library/nginx:1.25",
            "nginx:1.25",
            "ghcr.io/x/y:latest",
            "docker.io/library/nginx:latest",
            "system:serviceaccount:ns:n",
            "abc",
            "a/c",
            "ax",
            "bx",
            "cx",
            "dx",
            "foo-1",
            "bar-",
            "baz-1",
            "x.y+z",
            "xxy+z",
            "(a|b)^$",
            "a^$",
            "amidb",
            "mid",
            "a*b",
            "axb",
            "ns/a-ci",
            "ns/a/b-ci",
            "a/b",
            "a/x/y/b",
            "a/",
            "a",
            "ab",
            "a/xb",
            "",
        ];
        for g in globs {
            let set = globset::Glob::new(g).unwrap().compile_matcher();
            let re = glob_regex(g);
            let engine = regex::Regex::new(&re).unwrap();
            for p in probes {
                let want = set.is_match(p);
                assert_eq!(want, engine.is_match(p), "glob {g} regex {re} probe {p:?}");
                // The CEL the policies carry: string functions or `matches` of that regex.
                let cel = glob("s", g);
                let by_cel = if cel == "true" {
                    true
                } else if let Some(lit) = cel.strip_prefix("s == ") {
                    p == unquote(lit)
                } else if let Some(lit) = cel.strip_prefix("s.startsWith(") {
                    p.starts_with(&unquote(lit.trim_end_matches(')')))
                } else if let Some(lit) = cel.strip_prefix("s.endsWith(") {
                    p.ends_with(&unquote(lit.trim_end_matches(')')))
                } else {
                    engine.is_match(p)
                };
                assert_eq!(want, by_cel, "glob {g} CEL {cel} probe {p:?}");
            }
        }
    }

    fn unquote(lit: &str) -> String {
        lit.trim_matches('\'')
            .replace("\\'", "'")
            .replace("\\\\", "\\")
    }
}
