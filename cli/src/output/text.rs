//! Making text from the input safe to show: a manifest must not be able to move the cursor,
//! recolour or repaint a terminal line, nor hide text with bidirectional overrides.

/// True for the characters [`visible`] rewrites: C0 controls (U+0000–U+001F, including tab,
/// CR and LF), DEL (U+007F), C1 controls (U+0080–U+009F), and the Unicode bidirectional
/// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069; see Unicode TR #9 and
/// "Trojan Source", CVE-2021-42574).
pub fn is_unsafe(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every [`is_unsafe`] character written as a Rust-style escape (`\u{1b}`); every
/// other character is kept as it is.
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_escapes_and_other_text_is_kept() {
        for (input, want) in [
            ("plain ünïcode ✓", "plain ünïcode ✓"),
            (
                "\x1b[2K\rOK: all checks passed",
                "\\u{1b}[2K\\u{d}OK: all checks passed",
            ),
            ("a\nb\tc\0d", "a\\u{a}b\\u{9}c\\u{0}d"),
            ("del\x7f c1\u{9b}", "del\\u{7f} c1\\u{9b}"),
            ("bidi\u{202e}txt\u{2066}", "bidi\\u{202e}txt\\u{2066}"),
        ] {
            assert_eq!(visible(input), want, "{input:?}");
        }
    }
}
