//! Where a settings problem is in the text the user wrote. Settings are read leniently: each
//! offending entry is reported and dropped, then reading is retried, so one mistake does not
//! hide the next. Dropping an array element shifts the ones after it; [`Origin`] remembers the
//! original index of every element so each problem names the index the user wrote
//! (`{"images":{"allow":[1,2,"["]}}` is wrong at `/images/allow/0`, `/1` and `/2`).

use std::collections::BTreeMap;

use serde_json::Value;

/// The original positions of a settings value's array elements, kept in step with removals.
#[derive(Debug)]
pub(crate) enum Origin {
    /// A scalar.
    Leaf,
    /// A map: its members.
    Map(BTreeMap<String, Origin>),
    /// An array: each remaining element's original index and origin.
    Seq(Vec<(usize, Origin)>),
}

impl Origin {
    /// The origin of `v` as written.
    pub(crate) fn of(v: &Value) -> Self {
        match v {
            Value::Object(m) => {
                Origin::Map(m.iter().map(|(k, v)| (k.clone(), Origin::of(v))).collect())
            }
            Value::Array(a) => Origin::Seq(a.iter().map(Origin::of).enumerate().collect()),
            _ => Origin::Leaf,
        }
    }

    /// Mirrors the removal of the member or element at `tokens` (current positions).
    pub(crate) fn remove(&mut self, tokens: &[String]) {
        let Some((first, rest)) = tokens.split_first() else {
            return;
        };
        match self {
            Origin::Map(m) if rest.is_empty() => {
                m.remove(first);
            }
            Origin::Map(m) => {
                if let Some(child) = m.get_mut(first) {
                    child.remove(rest);
                }
            }
            Origin::Seq(a) => {
                let Some(i) = first.parse::<usize>().ok().filter(|i| *i < a.len()) else {
                    return;
                };
                if rest.is_empty() {
                    a.remove(i);
                } else {
                    a[i].1.remove(rest);
                }
            }
            Origin::Leaf => {}
        }
    }

    /// `tokens` (current positions) with every array index replaced by the one written.
    pub(crate) fn original(&self, tokens: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(tokens.len());
        let mut cur = Some(self);
        for t in tokens {
            match cur {
                Some(Origin::Seq(a)) => match t.parse::<usize>().ok().and_then(|i| a.get(i)) {
                    Some((orig, child)) => {
                        out.push(orig.to_string());
                        cur = Some(child);
                    }
                    None => {
                        out.push(t.clone());
                        cur = None;
                    }
                },
                Some(Origin::Map(m)) => {
                    out.push(t.clone());
                    cur = m.get(t);
                }
                _ => {
                    out.push(t.clone());
                    cur = None;
                }
            }
        }
        out
    }

    /// A pointer (current positions) as written.
    pub(crate) fn original_pointer(&self, pointer: &str) -> String {
        match crate::read::pointer::tokens(pointer) {
            Some(tokens) if !tokens.is_empty() => {
                let orig = self.original(&tokens);
                crate::read::pointer::join("", &orig.iter().map(String::as_str).collect::<Vec<_>>())
            }
            _ => pointer.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_elements_keep_the_others_indices() {
        let v: Value =
            serde_json::from_str(r#"{"a": [[1, 2, 3], [4, 5]], "b": {"c": [6, 7, 8]}}"#).unwrap();
        let mut o = Origin::of(&v);
        let t = |s: &str| crate::read::pointer::tokens(s).unwrap();
        o.remove(&t("/b/c/0"));
        assert_eq!(o.original_pointer("/b/c/0"), "/b/c/1");
        o.remove(&t("/b/c/0"));
        assert_eq!(o.original_pointer("/b/c/0"), "/b/c/2");
        o.remove(&t("/a/0"));
        assert_eq!(o.original_pointer("/a/0/1"), "/a/1/1");
        o.remove(&t("/a/0/0"));
        assert_eq!(o.original_pointer("/a/0/0"), "/a/1/1");
        assert_eq!(o.original_pointer("/x/0"), "/x/0");
        assert_eq!(o.original_pointer(""), "");
    }

    fn problems(settings: &str) -> Vec<crate::SettingsProblem> {
        match crate::Policy::from_slice(settings.as_bytes()) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems().to_vec(),
        }
    }

    fn paths(settings: &str) -> Vec<String> {
        problems(settings).into_iter().map(|p| p.path).collect()
    }

    /// Every problem at the index written, whether found while reading (wrong types)
    /// or while compiling (an invalid glob after two dropped elements).
    #[test]
    fn problems_point_at_the_index_written() {
        assert_eq!(
            paths(r#"{"images":{"allow":[1,2,"["]}}"#),
            ["/images/allow/0", "/images/allow/1", "/images/allow/2"]
        );
        assert_eq!(
            paths(r#"{"exemptions":{"users":["ok",3,"[",{}]},"gang":{"namespaces":[true,"{a"]}}"#),
            [
                "/exemptions/users/1",
                "/exemptions/users/3",
                "/gang/namespaces/0",
                "/exemptions/users/2",
                "/gang/namespaces/1",
            ]
        );
    }

    #[test]
    fn problems_are_never_cut_silently() {
        let many: Vec<String> = (0..150).map(|i| i.to_string()).collect();
        let settings = format!(r#"{{"images":{{"allow":[{}]}}}}"#, many.join(","));
        let p = problems(&settings);
        assert_eq!(p.len(), crate::settings::policy::MAX_SETTINGS_PROBLEMS);
        assert_eq!(p[98].path, "/images/allow/98");
        assert_eq!(p[99].path, "");
        assert_eq!(p[99].message, "… and 51 more problems");
        // Past the retry budget the count is a lower bound, and says so.
        let huge: Vec<String> = (0..1200).map(|i| i.to_string()).collect();
        let settings = format!(r#"{{"images":{{"allow":[{}]}}}}"#, huge.join(","));
        let p = problems(&settings);
        assert_eq!(p.len(), crate::settings::policy::MAX_SETTINGS_PROBLEMS);
        assert!(
            p[99]
                .message
                .starts_with("… and at least 901 more problems"),
            "{}",
            p[99].message
        );
    }

    #[test]
    fn settings_that_cannot_take_effect_are_refused() {
        assert_eq!(
            paths(r#"{"rules":{"input-invalid":{"enabled":false}}}"#),
            ["/rules/input-invalid/enabled"]
        );
        assert_eq!(
            paths(r#"{"rules":{"input-invalid":{"severity":"warning"}}}"#),
            ["/rules/input-invalid/severity"]
        );
        assert!(
            paths(r#"{"rules":{"input-invalid":{"enabled":true,"severity":"error"}}}"#).is_empty()
        );
    }

    #[cfg(feature = "yaml")]
    #[test]
    fn problems_carry_their_line() {
        let yaml = "mode: enforce\nimages:\n  allow:\n    - 1\n    - ok\n    - \"[\"\nbogus: 1\n";
        let lines: Vec<(String, Option<u32>)> = problems(yaml)
            .into_iter()
            .map(|p| (p.path, p.line))
            .collect();
        assert_eq!(
            lines,
            [
                ("/bogus".to_owned(), Some(7)),
                ("/images/allow/0".to_owned(), Some(4)),
                ("/images/allow/2".to_owned(), Some(6)),
            ]
        );
        let json = "{\n  \"images\": {\n    \"allow\": [1, 2, \"[\"]\n  },\n  \"rules\": {\"input-invalid\": {\"enabled\": false}}\n}\n";
        let lines: Vec<Option<u32>> = problems(json).into_iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(3), Some(3), Some(5), Some(3)]);
    }
}
