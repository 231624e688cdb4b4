//! Text helpers the rules share: edit distance for "did you mean" suggestions.

/// Levenshtein distance between `a` and `b`, by characters.
pub(crate) fn edits(a: &str, b: &str) -> usize {
    levenshtein(a.chars().collect(), b.chars().collect())
}

/// Case-insensitive (ASCII) Levenshtein distance (the rules use [`distance_within`]).
#[cfg(test)]
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let lower = |s: &str| s.chars().map(|c| c.to_ascii_lowercase()).collect();
    levenshtein(lower(a), lower(b))
}

/// [`distance`] when it is at most `limit`, else `None`: only the cells within `limit` of the
/// diagonal are computed, and it stops once a whole row is above `limit`, so a "did you mean"
/// search over many keys costs O(length × limit) per pair, not O(length²).
pub(crate) fn distance_within(a: &str, b: &str, limit: usize) -> Option<usize> {
    let lower = |s: &str| -> Vec<char> { s.chars().map(|c| c.to_ascii_lowercase()).collect() };
    let (a, b) = (lower(a), lower(b));
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    // Cells off the band are at least their distance from the diagonal: above `limit`.
    let over = limit + 1;
    let mut prev: Vec<usize> = (0..=b.len()).map(|j| j.min(over)).collect();
    let mut cur = vec![over; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        let row = i + 1;
        let lo = row.saturating_sub(limit).max(1);
        let hi = (row + limit).min(b.len());
        cur[0] = row.min(over);
        if lo > 1 {
            cur[lo - 1] = over;
        }
        let mut best = cur[0];
        for j in lo..=hi {
            let sub = prev[j - 1] + usize::from(*ca != b[j - 1]);
            let v = sub.min(prev[j] + 1).min(cur[j - 1] + 1).min(over);
            cur[j] = v;
            best = best.min(v);
        }
        if hi < b.len() {
            cur[hi + 1] = over;
        }
        if best > limit {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= limit).then_some(d)
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

    /// The banded distance agrees with the full one wherever that is within the limit, on
    /// every pair of a small alphabet's strings up to length 5, and on label keys.
    #[test]
    fn banded_distance_agrees_with_full() {
        let mut words = vec![String::new()];
        for len in 1..=5 {
            let mut next = Vec::new();
            for w in words.iter().filter(|w| w.len() == len - 1) {
                for c in ['a', 'b', 'C'] {
                    next.push(format!("{w}{c}"));
                }
            }
            words.extend(next);
        }
        words.push("qos.coreweave.cloud/interruptable".into());
        words.push("qos.coreweave.cloud/interruptible".into());
        words.push("foo.coreweave.cloud/k-12".into());
        for a in &words {
            for b in &words {
                let full = distance(a, b);
                for limit in 0..=4 {
                    let want = (full <= limit).then_some(full);
                    assert_eq!(distance_within(a, b, limit), want, "{a:?} {b:?} {limit}");
                }
            }
        }
    }
}
