//! RFC 6901 JSON Pointers: building them from path segments and reading them back.

use std::borrow::Cow;
use std::fmt::Write;

/// Appends one reference token to `pointer`, escaping `~` as `~0` and `/` as `~1` (RFC 6901 §3).
pub fn push(pointer: &mut String, token: &str) {
    pointer.push('/');
    if !token.contains(['~', '/']) {
        pointer.push_str(token);
        return;
    }
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// Appends an array index to `pointer`.
pub fn push_index(pointer: &mut String, index: usize) {
    // Writing to a String cannot fail.
    let _ = write!(pointer, "/{index}");
}

/// Returns `base` extended by the given tokens, each escaped.
pub fn join(base: &str, tokens: &[&str]) -> String {
    let mut p = String::with_capacity(base.len() + 16 * tokens.len());
    p.push_str(base);
    for t in tokens {
        push(&mut p, t);
    }
    p
}

/// Splits a pointer into its unescaped reference tokens; `None` when it is not a valid pointer.
pub fn tokens(pointer: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    push_tokens(pointer, &mut out).then(|| out.into_iter().map(Cow::into_owned).collect())
}

/// [`tokens`] without copying: a token borrows from `pointer` unless it has an escape.
#[cfg(test)]
pub fn borrowed_tokens(pointer: &str) -> Option<Vec<Cow<'_, str>>> {
    let mut out = Vec::new();
    push_tokens(pointer, &mut out).then_some(out)
}

/// Appends the tokens of `pointer` to `out`, borrowed as in [`borrowed_tokens`]; false (with
/// `out` partly extended) when it is not a JSON Pointer.
pub fn push_tokens<'a>(pointer: &'a str, out: &mut Vec<Cow<'a, str>>) -> bool {
    if pointer.is_empty() {
        return true;
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return false;
    };
    // `/` and `~` are ASCII, so every cut is on a character boundary.
    for token in rest.split('/') {
        if token.contains('~') {
            match unescape(token) {
                Some(t) => out.push(Cow::Owned(t)),
                None => return false,
            }
        } else {
            out.push(Cow::Borrowed(token));
        }
    }
    true
}

/// Unescapes one reference token (`~1` → `/`, then `~0` → `~`); `None` on a dangling `~`.
pub fn unescape(token: &str) -> Option<String> {
    if !token.contains('~') {
        return Some(token.to_owned());
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `borrowed_tokens` splits and unescapes exactly as `tokens` does (RFC 6901, section 4).
    #[test]
    fn borrowed_tokens_agree_with_tokens() {
        for p in [
            "",
            "/",
            "//",
            "/a",
            "/a/b",
            "/a~1b/c~0d",
            "/~01",
            "/é/€",
            "/a/",
            "/~",
            "/~2",
            "a",
        ] {
            let owned = tokens(p);
            let borrowed = borrowed_tokens(p).map(|t| t.into_iter().map(String::from).collect());
            assert_eq!(borrowed, owned, "{p:?}");
        }
    }

    #[test]
    fn escapes_per_rfc6901() {
        let cases = [
            ("a", "/a"),
            ("a/b", "/a~1b"),
            ("m~n", "/m~0n"),
            ("~1", "/~01"),
            ("/~", "/~1~0"),
            ("", "/"),
            ("foo.coreweave.cloud/bar", "/foo.coreweave.cloud~1bar"),
        ];
        for (token, want) in cases {
            let mut p = String::new();
            push(&mut p, token);
            assert_eq!(p, want, "token {token:?}");
            assert_eq!(
                tokens(&p),
                Some(vec![token.to_owned()]),
                "round trip {token:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_pointers() {
        assert_eq!(tokens("a"), None);
        assert_eq!(tokens("/a~"), None);
        assert_eq!(tokens("/a~2"), None);
        assert_eq!(tokens(""), Some(vec![]));
        assert_eq!(
            tokens("/a//b"),
            Some(vec!["a".into(), "".into(), "b".into()])
        );
    }

    #[test]
    fn join_and_index() {
        let mut p = join("/spec", &["template", "metadata"]);
        push_index(&mut p, 3);
        assert_eq!(p, "/spec/template/metadata/3");
    }
}
