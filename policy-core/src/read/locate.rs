//! Finding where many JSON Pointers start in one walk: the pointers are sorted once, so those
//! that share their first `d` tokens are one contiguous range, and a container narrows the
//! range of its parent to each of its members by binary search. Locating n findings in one
//! object costs the walk plus O(n log n), never a pass over the object per finding.

use std::cmp::Ordering;
use std::ops::Range;

use super::tree::{Node, Val};

/// The item an array index token names: `0` or digits without a leading zero (RFC 6901 §4);
/// `01` or `+1` name no item.
pub(crate) fn index(t: &str) -> Option<usize> {
    let canonical =
        t == "0" || !t.starts_with('0') && !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    canonical.then(|| t.parse().ok()).flatten()
}

/// Pointers (as tokens) sorted so that those with a common prefix of tokens are contiguous.
pub(crate) struct Sorted<'p, T> {
    pointers: &'p [Vec<T>],
    /// Indices into `pointers`, in token order (a pointer sorts before its extensions).
    order: Vec<usize>,
}

impl<'p, T: AsRef<str>> Sorted<'p, T> {
    /// Sorts `pointers` once.
    pub fn new(pointers: &'p [Vec<T>]) -> Self {
        let mut order: Vec<usize> = (0..pointers.len()).collect();
        // Stable: findings come in document order, runs the merge sort takes as they are.
        order.sort_by(|&a, &b| {
            let (a, b) = (&pointers[a], &pointers[b]);
            for (x, y) in a.iter().zip(b) {
                match x.as_ref().cmp(y.as_ref()) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            a.len().cmp(&b.len())
        });
        Sorted { pointers, order }
    }

    /// Every pointer, as a range of sorted positions.
    pub fn all(&self) -> Range<usize> {
        0..self.order.len()
    }

    /// The index in the caller's slice of the pointer at sorted position `i`.
    pub fn pointer(&self, i: usize) -> usize {
        self.order[i]
    }

    /// Token `d` of the pointer at sorted position `i`.
    fn token(&self, i: usize, d: usize) -> Option<&str> {
        self.pointers[self.order[i]].get(d).map(AsRef::as_ref)
    }

    /// The pointers of `live` (equal up to token `d`) whose token `d` is `key`.
    pub fn member(&self, live: Range<usize>, d: usize, key: &str) -> Range<usize> {
        if live.is_empty() {
            return live;
        }
        let slice = &self.order[live.clone()];
        let token = |i: &usize| self.pointers[*i].get(d).map(AsRef::as_ref);
        let lo = slice.partition_point(|i| token(i) < Some(key));
        let hi = lo + slice[lo..].partition_point(|i| token(i) == Some(key));
        live.start + lo..live.start + hi
    }

    /// The pointers of `live` whose token `d` names array item `index`.
    pub fn item(&self, live: Range<usize>, d: usize, index: usize) -> Range<usize> {
        if live.is_empty() {
            return live;
        }
        let mut buf = [0u8; 20];
        self.member(live, d, decimal(index, &mut buf))
    }
}

/// `n` in decimal, written into `buf`.
fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

/// Where each of `pointers` starts in the tree under `root` (the key of a member, the start of
/// an item), or its deepest existing ancestor: [`Node::locate`] for all of them in one walk.
/// Also returns the number of steps taken (members and items looked at, pointers advanced),
/// which grows linearly with the tree and the pointers.
pub(crate) fn locate_all<T: AsRef<str>>(root: &Node, pointers: &[Vec<T>]) -> (Vec<u32>, u64) {
    let sorted = Sorted::new(pointers);
    let mut walk = Walk {
        sorted: &sorted,
        at: vec![root.start; pointers.len()],
        steps: 0,
    };
    walk.node(root, 0, sorted.all());
    (walk.at, walk.steps)
}

struct Walk<'s, 'p, T> {
    sorted: &'s Sorted<'p, T>,
    at: Vec<u32>,
    steps: u64,
}

impl<T: AsRef<str>> Walk<'_, '_, T> {
    /// Visits `node`, reached by the pointers of `live` after `d` tokens.
    fn node(&mut self, node: &Node, d: usize, live: Range<usize>) {
        if live.is_empty() {
            return;
        }
        match &node.value {
            Val::Map(members) => {
                for m in members {
                    self.steps += 1;
                    let next = self.sorted.member(live.clone(), d, &m.key);
                    self.found(&next, m.key_start);
                    self.node(&m.value, d + 1, next);
                }
            }
            Val::Seq(items) => {
                // Only the items some pointer names: a list's units each walk from the root.
                let sorted = self.sorted;
                let mut rest = live;
                while !rest.is_empty() {
                    self.steps += 1;
                    let first = rest.start;
                    let Some(token) = sorted.token(first, d) else {
                        rest.start += 1;
                        continue;
                    };
                    // Equal tokens are adjacent: the group ends at the first other one.
                    let end = (first + 1..rest.end)
                        .find(|&i| sorted.token(i, d) != Some(token))
                        .unwrap_or(rest.end);
                    let next = first..end;
                    rest.start = next.end.max(first + 1);
                    if let Some(item) = index(token).and_then(|i| items.get(i)) {
                        self.found(&next, item.start);
                        self.node(item, d + 1, next);
                    }
                }
            }
            Val::Scalar(_) => {}
        }
    }

    /// Records `offset` as the deepest match so far of every pointer in `range`.
    fn found(&mut self, range: &Range<usize>, offset: u32) {
        for i in range.clone() {
            self.steps += 1;
            self.at[self.sorted.pointer(i)] = offset;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::pointer::tokens;

    fn tree(text: &str) -> Node {
        super::super::json::read(text, 0).unwrap().0
    }

    #[test]
    fn agrees_with_locate_one_by_one() {
        let text = r#"{"kind":"Pod","metadata":{"labels":{"a/b":"1","c":"2"}},"spec":{"containers":[{"name":"a"},{"name":"b","image":"x"}],"x":[[1,2],[3]]}}"#;
        let root = tree(text);
        let ptrs = [
            "",
            "/kind",
            "/metadata/labels/a~1b",
            "/metadata/labels/c",
            "/metadata/labels/nope",
            "/spec/containers/1/image",
            "/spec/containers/1",
            "/spec/containers/01/name",
            "/spec/containers/+0/name",
            "/spec/containers/7/name",
            "/spec/containers/x",
            "/spec/x/1/0",
            "/spec/x/0/1",
            "/spec/nope/deeper",
            "/kind/under-a-scalar",
            "/spec/containers/1/image",
        ];
        let toks: Vec<Vec<String>> = ptrs.iter().map(|p| tokens(p).unwrap()).collect();
        let (at, _) = locate_all(&root, &toks);
        for (t, got) in toks.iter().zip(&at) {
            assert_eq!(root.locate(t).0, *got, "{t:?}");
        }
    }

    /// The steps grow with the number of findings, not with its square: 40k pointers into one
    /// mapping and one sequence cost four times the steps of 10k, give or take the object's
    /// few other fields.
    #[test]
    fn steps_grow_linearly() {
        fn steps(n: usize) -> u64 {
            let labels: Vec<String> = (0..n).map(|i| format!("\"k{i}\":\"v\"")).collect();
            let items: Vec<String> = (0..n).map(|i| format!("{{\"image\":\"i{i}\"}}")).collect();
            let text = format!(
                "{{\"metadata\":{{\"labels\":{{{}}}}},\"spec\":{{\"containers\":[{}]}}}}",
                labels.join(","),
                items.join(",")
            );
            let root = tree(&text);
            let mut ptrs: Vec<Vec<String>> = (0..n)
                .flat_map(|i| {
                    [
                        tokens(&format!("/spec/containers/{i}/image")).unwrap(),
                        tokens(&format!("/metadata/labels/k{i}")).unwrap(),
                    ]
                })
                .collect();
            ptrs.reverse();
            let (at, steps) = locate_all(&root, &ptrs);
            // One by one is quadratic here: a sample is compared.
            for (t, got) in ptrs.iter().zip(&at).step_by(997) {
                let want = root.locate(t);
                assert!(want.1, "{t:?}");
                assert_eq!(want.0, *got, "{t:?}");
            }
            steps
        }
        let (small, big) = (steps(10_000), steps(40_000));
        assert!(small >= 40_000, "{small}");
        assert!(
            big * 100 <= small * 410,
            "10k: {small} steps, 40k: {big} steps"
        );
    }
}
