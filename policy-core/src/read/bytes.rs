//! Byte searches a machine word at a time, for the scans over manifest text: eight bytes are
//! tested at once with the exact zero-byte test of Hacker's Delight (section 6-1), which flags
//! exactly the bytes equal to the one sought. For the short strings and lines of a manifest
//! this beats `memchr`, whose set-up and restart after each match cost more than the search.

/// The seven low bits of every byte.
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The eight bytes of `b` from `i`, little-endian, when there are eight.
#[cfg(feature = "yaml")]
#[inline(always)]
fn word(b: &[u8], i: usize) -> Option<u64> {
    let mut w = [0u8; 8];
    w.copy_from_slice(b.get(i..i + 8)?);
    Some(u64::from_le_bytes(w))
}

/// The high bit of each byte of `w` equal to `c`, and of no other.
#[cfg(feature = "yaml")]
#[inline(always)]
fn equal(w: u64, c: u8) -> u64 {
    let x = w ^ u64::from_le_bytes([c; 8]);
    !((((x & LOW7) + LOW7) | x) | LOW7)
}

/// Like [`equal`] in one operation less, but only its lowest flag is sure: a borrow can also
/// flag a byte above a match. Enough to find the first match.
#[inline(always)]
fn first_equal(w: u64, c: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let x = w ^ u64::from_le_bytes([c; 8]);
    x.wrapping_sub(ONES) & !x & !LOW7
}

/// The index of the first byte of `b` that is `c1` or `c2`.
#[inline(always)]
pub(crate) fn first_of2(b: &[u8], c1: u8, c2: u8) -> Option<usize> {
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let w = u64::from_le_bytes(w);
        let hits = first_equal(w, c1) | first_equal(w, c2);
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(|&c| c == c1 || c == c2)
        .map(|p| i + p)
}

/// Calls `f` with the index of every `c` in `b`, in order.
#[cfg(feature = "yaml")]
pub(crate) fn each(b: &[u8], c: u8, mut f: impl FnMut(usize)) {
    let mut i = 0;
    while let Some(w) = word(b, i) {
        let mut hits = equal(w, c);
        while hits != 0 {
            f(i + (hits.trailing_zeros() / 8) as usize);
            hits &= hits - 1;
        }
        i += 8;
    }
    for (j, &x) in b.iter().enumerate().skip(i) {
        if x == c {
            f(j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `first_of2` agrees with a byte-by-byte search: each position of `"` and `\\` in and
    /// across 8-byte words, none at all, and bytes of multi-byte UTF-8 characters (≥ 0x80).
    #[test]
    fn special_finds_the_first_quote_or_backslash() {
        let naive = |b: &[u8]| b.iter().position(|&c| c == b'"' || c == b'\\');
        for len in 0..40 {
            for at in 0..=len {
                for mark in [b'"', b'\\'] {
                    let mut b: Vec<u8> = "é€x".bytes().cycle().take(len).collect();
                    if at < len {
                        b[at] = mark;
                    }
                    assert_eq!(first_of2(&b, b'"', b'\\'), naive(&b), "{b:?}");
                    b.push(b'"');
                    assert_eq!(first_of2(&b, b'"', b'\\'), naive(&b), "{b:?}");
                }
            }
        }
        assert_eq!(first_of2(br#"ab\c"d"#, b'"', b'\\'), Some(2));
    }

    /// `each` finds what `memchr` finds, for every byte value as needle and neighbour.
    #[test]
    fn each_finds_every_match() {
        for text in [
            "",
            "\n",
            "a\n\n\n\n\n\n\n\n\nb",
            "0123456\n89abcdef\n",
            "é\n€\n\u{1F600}\n\n",
        ] {
            let mut got = Vec::new();
            each(text.as_bytes(), b'\n', |i| got.push(i));
            let want: Vec<usize> = memchr::memchr_iter(b'\n', text.as_bytes()).collect();
            assert_eq!(got, want, "{text:?}");
        }
        // Every byte value as needle and as neighbour, runs of matches, and every tail length.
        let bytes: Vec<u8> = (0..700u32).map(|i| (i * 37 % 256) as u8).collect();
        for needle in [0u8, 1, b'\n', 0x7f, 0x80, 0xfe, 0xff] {
            for len in [0, 1, 7, 8, 9, 15, 16, 17, 300, 700] {
                let b = &bytes[..len];
                let mut got = Vec::new();
                each(b, needle, |i| got.push(i));
                let want: Vec<usize> = (0..len).filter(|&i| b[i] == needle).collect();
                assert_eq!(got, want, "needle {needle} len {len}");
            }
            let run = vec![needle; 20];
            let mut got = Vec::new();
            each(&run, needle, |i| got.push(i));
            assert_eq!(got, (0..20).collect::<Vec<_>>());
        }
    }
}
