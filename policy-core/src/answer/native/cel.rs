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
    let mut re = String::from("(?s)^");
    let chars: Vec<char> = g.chars().collect();
    let mut i = 0;
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' => {
                while i + 1 < chars.len() && chars[i + 1] == '*' {
                    i += 1;
                }
                re.push_str(".*");
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
        let name = format!("{v}{depth}");
        let list = quantify(&name, rest, v, depth + 1, body, every);
        let map = quantify(&format!("{at}[{name}]"), rest, v, depth + 1, body, every);
        return format!(
            "(type({at}) == list ? {at}.{q}({name}, {list}) : {at}.{q}({name}, {map}))"
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

    /// The RE2 form of a glob agrees with globset (the core's matcher) on every probe.
    #[test]
    fn glob_regex_agrees_with_globset() {
        let globs = [
            "cw-*",
            "*-slurm-scheduler",
            "registry.example.com/**",
            "system:serviceaccount:*",
            "a?c",
            "[ab]x",
            "[!ab]x",
            "{foo,bar}-*",
            "x.y+z",
            "*mid*",
            "a\\*b",
            "ns/*-ci",
        ];
        let probes = [
            "cw-x",
            "cw-",
            "cw",
            "a-slurm-scheduler",
            "slurm-scheduler",
            "registry.example.com/a/b",
            "registry.example.com",
            "system:serviceaccount:ns:n",
            "abc",
            "a/c",
            "ax",
            "bx",
            "cx",
            "foo-1",
            "bar-",
            "baz-1",
            "x.y+z",
            "xxy+z",
            "amidb",
            "mid",
            "a*b",
            "axb",
            "ns/a-ci",
            "ns/a/b-ci",
            "",
        ];
        for g in globs {
            let set = globset::Glob::new(g).unwrap().compile_matcher();
            let re = glob_regex(g);
            let re_ = regex_lite(&re);
            for p in probes {
                assert_eq!(set.is_match(p), re_(p), "glob {g} regex {re} probe {p:?}");
            }
        }
    }

    /// A tiny backtracking matcher for the regex subset `glob_regex` emits, so the test needs
    /// no regex crate: `.`, `.*`, classes, `(?:a|b)` groups, escapes, anchors.
    fn regex_lite(re: &str) -> impl Fn(&str) -> bool {
        let body = re
            .strip_prefix("(?s)^")
            .and_then(|r| r.strip_suffix('$'))
            .unwrap()
            .to_owned();
        move |s: &str| {
            let chars: Vec<char> = s.chars().collect();
            let pat: Vec<char> = body.chars().collect();
            m(&pat, &chars)
        }
    }

    fn m(p: &[char], s: &[char]) -> bool {
        if p.is_empty() {
            return s.is_empty();
        }
        if p.len() >= 2 && p[0] == '.' && p[1] == '*' {
            return (0..=s.len()).any(|k| m(&p[2..], &s[k..]));
        }
        if p[0] == '(' {
            // (?:a|b)rest
            let mut depth = 0;
            let mut end = 0;
            for (i, c) in p.iter().enumerate() {
                if *c == '(' {
                    depth += 1;
                } else if *c == ')' {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
            }
            let inner: String = p[3..end].iter().collect();
            return inner.split('|').any(|alt| {
                let mut q: Vec<char> = alt.chars().collect();
                q.extend_from_slice(&p[end + 1..]);
                m(&q, s)
            });
        }
        if s.is_empty() {
            return false;
        }
        if p[0] == '[' {
            let end = p.iter().position(|c| *c == ']').unwrap();
            let (neg, set) = if p[1] == '^' {
                (true, &p[2..end])
            } else {
                (false, &p[1..end])
            };
            let hit = set.contains(&s[0]);
            return hit != neg && m(&p[end + 1..], &s[1..]);
        }
        if p[0] == '\\' {
            return p[1] == s[0] && m(&p[2..], &s[1..]);
        }
        (p[0] == '.' || p[0] == s[0]) && m(&p[1..], &s[1..])
    }
}
