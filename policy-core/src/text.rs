//! Text helpers the rules share: edit distance for "did you mean" suggestions.

/// Levenshtein distance between `a` and `b`, by characters.
pub(crate) fn edits(a: &str, b: &str) -> usize {
    levenshtein(a.chars().collect(), b.chars().collect())
}

/// Case-insensitive (ASCII) Levenshtein distance.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let lower = |s: &str| s.chars().map(|c| c.to_ascii_lowercase()).collect();
    levenshtein(lower(a), lower(b))
}

fn levenshtein(a: Vec<char>, b: Vec<char>) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edits("interruptible", "interruptable"), 1);
        assert_eq!(edits("Abc", "abc"), 1);
        assert_eq!(distance("Abc", "abc"), 0);
        assert_eq!(edits("", "abc"), 3);
        assert_eq!(edits("kitten", "sitting"), 3);
    }
}
