//! Kubernetes label syntax (`k8s.io/apimachinery/pkg/util/validation`) and the CoreWeave label
//! domains.
//!
//! - key: `[prefix/]name`, at most one `/`; prefix a DNS-1123 subdomain (≤ 253, lowercase
//!   dot-separated labels `[a-z0-9]([-a-z0-9]*[a-z0-9])?`); name ≤ 63
//!   `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?` (`IsQualifiedName`);
//! - value: empty, or ≤ 63 of the name pattern (`IsValidLabelValue`).
//!
//! Each check returns every broken rule as a lowercase clause, empty when the input is valid.

/// Longest label name (and value).
pub const NAME_MAX: usize = 63;
/// Longest DNS-1123 subdomain (label key prefix).
pub const PREFIX_MAX: usize = 253;

/// The domains CKS reserves, with every subdomain (CKS "Workload scheduling",
/// "User-provided labels": <https://docs.coreweave.com/products/cks/clusters/scheduling/workload-scheduling>).
pub const COREWEAVE_DOMAINS: [&str; 2] = ["coreweave.cloud", "coreweave.com"];

/// User values are shortened in messages so a 300-character key does not drown the sentence.
pub fn show(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() <= MAX {
        return s.to_owned();
    }
    let head: String = s.chars().take(MAX - 1).collect();
    format!("{head}…")
}

/// The prefix of a label key (before the first `/`), if it has one.
pub fn prefix(key: &str) -> Option<&str> {
    key.split_once('/').map(|(p, _)| p)
}

/// True when `domain` is `coreweave.cloud` or `coreweave.com`, or a subdomain of one, compared
/// by whole DNS labels and ignoring ASCII case (DNS names are case-insensitive):
/// `evilcoreweave.cloud` and `coreweave.cloud.example.com` are not CoreWeave domains.
pub fn is_coreweave_domain(domain: &str) -> bool {
    // Compared as bytes: the split point may fall inside a multi-byte character of a hostile
    // key (`owner\u{feff}.coreweave.com`), where slicing the `str` would panic.
    let bytes = domain.as_bytes();
    COREWEAVE_DOMAINS.iter().any(|d| {
        let Some(split) = bytes.len().checked_sub(d.len()) else {
            return false;
        };
        let (head, tail) = bytes.split_at(split);
        tail.eq_ignore_ascii_case(d.as_bytes()) && (head.is_empty() || head.ends_with(b"."))
    })
}

/// True when a label (or taint) key's prefix is a CoreWeave domain.
pub fn is_coreweave_key(key: &str) -> bool {
    prefix(key).is_some_and(is_coreweave_domain)
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Problems of a label name or value against `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?` and
/// the 63-character limit; `what` is `name` or `value`. Emptiness is the caller's business.
fn name_pattern_problems(what: &str, s: &str, out: &mut Vec<String>) {
    if s.len() > NAME_MAX {
        out.push(format!(
            "{what} `{}` is {} characters, above the limit of {NAME_MAX}",
            show(s),
            s.len()
        ));
    }
    if let Some(bad) = s.chars().find(|c| !is_name_char(*c)) {
        out.push(format!(
            "{what} `{}` contains `{bad}`; only letters, digits, `-`, `_` and `.` are allowed",
            show(s)
        ));
    }
    let first_last_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_last_ok {
        out.push(format!(
            "{what} `{}` must start and end with a letter or digit",
            show(s)
        ));
    }
}

/// Problems of a DNS-1123 subdomain (`IsDNS1123Subdomain`), each naming the broken rule.
pub fn dns1123_subdomain_problems(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    if s.len() > PREFIX_MAX {
        out.push(format!(
            "prefix `{}` is {} characters, above the limit of {PREFIX_MAX}",
            show(s),
            s.len()
        ));
    }
    if s.chars().any(|c| c.is_ascii_uppercase()) {
        out.push(format!(
            "prefix `{}` has uppercase letters, but a DNS subdomain is lowercase",
            show(s)
        ));
    }
    if let Some(bad) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.')))
    {
        out.push(format!(
            "prefix `{}` contains `{bad}`; only lowercase letters, digits, `-` and `.` are allowed",
            show(s)
        ));
    }
    if s.split('.').any(str::is_empty) {
        out.push(format!(
            "prefix `{}` has an empty DNS label (a leading, trailing or doubled `.`)",
            show(s)
        ));
    } else if s.split('.').any(|l| l.starts_with('-') || l.ends_with('-')) {
        out.push(format!(
            "prefix `{}` has a DNS label that starts or ends with `-`",
            show(s)
        ));
    }
    out
}

/// What makes `s` not a DNS-1123 label (apimachinery `IsDNS1123Label`: at most 63 characters of
/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`), or `None` when it is one.
pub fn dns1123_label_problem(s: &str) -> Option<String> {
    let shown = show(s);
    if s.is_empty() {
        return Some(String::from("is empty"));
    }
    if s.len() > NAME_MAX {
        return Some(format!(
            "`{shown}` is {} characters, above the limit of {NAME_MAX}",
            s.len()
        ));
    }
    if let Some(bad) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "`{shown}` contains `{}`; only lowercase letters, digits and `-` are allowed",
            show(&bad.to_string())
        ));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Some(format!(
            "`{shown}` must start and end with a lowercase letter or digit"
        ));
    }
    None
}

#[cfg(test)]
/// True when `s` is a valid DNS-1123 subdomain.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && dns1123_subdomain_problems(s).is_empty()
}

/// Problems of a label key (`IsQualifiedName`), each naming the broken rule.
pub fn key_problems(key: &str) -> Vec<String> {
    if fast_key_ok(key) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if key.is_empty() {
        out.push(String::from("the key is empty"));
        return out;
    }
    let parts: Vec<&str> = key.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                out.push(String::from("the prefix before `/` is empty"));
            } else {
                out.extend(dns1123_subdomain_problems(prefix));
            }
            *name
        }
        _ => {
            out.push(format!(
                "the key has {} `/`; a key is an optional DNS subdomain prefix, one `/`, and a name",
                parts.len() - 1
            ));
            return out;
        }
    };
    if name.is_empty() {
        out.push(String::from("the name after `/` is empty"));
    } else {
        name_pattern_problems("name", name, &mut out);
    }
    out
}

/// Problems of a label value (`IsValidLabelValue`); an empty value is valid.
pub fn value_problems(value: &str) -> Vec<String> {
    if value.is_empty() || fast_name_ok(value) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if !value.is_empty() {
        name_pattern_problems("value", value, &mut out);
    }
    out
}

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, at most 63: the allocation-free check that
/// lets the common, valid case skip building problem lists (label rules run on every label).
fn fast_name_ok(n: &str) -> bool {
    let b = n.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// DNS-1123 subdomain: at most 253, dot-separated labels of `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
fn fast_subdomain_ok(p: &str) -> bool {
    p.len() <= 253
        && p.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
                && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

fn fast_key_ok(key: &str) -> bool {
    match key.split_once('/') {
        None => fast_name_ok(key),
        Some((prefix, name)) => {
            !name.contains('/') && fast_subdomain_ok(prefix) && fast_name_ok(name)
        }
    }
}

#[cfg(test)]
/// True when `key` is a valid label key.
pub fn is_valid_key(key: &str) -> bool {
    key_problems(key).is_empty()
}

#[cfg(test)]
/// True when `value` is a valid label value.
pub fn is_valid_value(value: &str) -> bool {
    value_problems(value).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coreweave_domains_match_whole_labels() {
        let cases = [
            ("coreweave.cloud", true),
            ("coreweave.com", true),
            ("foo.coreweave.cloud", true),
            ("a.b.coreweave.com", true),
            ("node.coreweave.cloud", true),
            ("ns.coreweave.cloud", true),
            ("qos.coreweave.com", true),
            ("Foo.CoreWeave.Cloud", true),
            (".coreweave.cloud", true),
            ("evilcoreweave.cloud", false),
            ("evil-coreweave.com", false),
            ("coreweave.cloud.example.com", false),
            ("coreweave.clouds", false),
            ("coreweave.co", false),
            ("oreweave.cloud", false),
            ("coreweave", false),
            ("cloud", false),
            ("", false),
            ("example.com", false),
            ("kubernetes.io", false),
            // A multi-byte character where the suffix would be cut (found by the fuzzer).
            ("owner\u{feff}.coreweave.com", true),
            ("owner\u{feff}coreweave.com", false),
            ("\u{feff}\u{feff}\u{feff}\u{feff}\u{feff}", false),
            ("é.coreweave.cloud", true),
        ];
        for (domain, want) in cases {
            assert_eq!(is_coreweave_domain(domain), want, "{domain:?}");
        }
        assert!(is_coreweave_key("foo.coreweave.cloud/bar"));
        assert!(is_coreweave_key("coreweave.com/x"));
        assert!(!is_coreweave_key("coreweave.cloud"));
        assert!(!is_coreweave_key("app"));
        assert!(!is_coreweave_key("evilcoreweave.cloud/x"));
        assert!(!is_coreweave_key("coreweave.cloud.example.com/x"));
    }

    #[test]
    fn label_keys() {
        let n63 = "a".repeat(63);
        let n64 = "a".repeat(64);
        // 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253.
        let p253 = format!(
            "{}.{}.{}.{}",
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61)
        );
        assert_eq!(p253.len(), 253);
        let p254 = format!("{p253}e");
        let valid = [
            "app".to_owned(),
            "a".to_owned(),
            "A".to_owned(),
            "My_Name.v-1".to_owned(),
            "example.com/MyName".to_owned(),
            "foo.coreweave.cloud/bar".to_owned(),
            "a-b.c/d".to_owned(),
            "1/2".to_owned(),
            n63.clone(),
            format!("example.com/{n63}"),
            format!("{p253}/a"),
        ];
        for k in &valid {
            assert!(is_valid_key(k), "{k:?}: {:?}", key_problems(k));
        }
        let invalid: Vec<(String, &str)> = vec![
            ("".into(), "the key is empty"),
            ("/".into(), "prefix before `/` is empty"),
            ("/a".into(), "prefix before `/` is empty"),
            ("a/".into(), "name after `/` is empty"),
            ("a/b/c".into(), "the key has 2 `/`"),
            ("a//b".into(), "the key has 2 `/`"),
            (n64.clone(), "64 characters, above the limit of 63"),
            (format!("example.com/{n64}"), "above the limit of 63"),
            (
                format!("{p254}/a"),
                "254 characters, above the limit of 253",
            ),
            ("-a".into(), "must start and end with a letter or digit"),
            ("a-".into(), "must start and end with a letter or digit"),
            ("_a".into(), "must start and end"),
            ("a.".into(), "must start and end"),
            ("a b".into(), "contains ` `"),
            ("a~b".into(), "contains `~`"),
            ("é".into(), "contains `é`"),
            ("a..b/c".into(), "empty DNS label"),
            (".a/c".into(), "empty DNS label"),
            ("a./c".into(), "empty DNS label"),
            ("Example.com/a".into(), "uppercase"),
            ("exa_mple.com/a".into(), "contains `_`"),
            ("-a.com/b".into(), "starts or ends with `-`"),
            ("a-.com/b".into(), "starts or ends with `-`"),
        ];
        for (k, want) in invalid {
            let problems = key_problems(&k);
            assert!(
                problems.iter().any(|p| p.contains(want)),
                "{k:?}: {problems:?} should mention {want:?}"
            );
        }
    }

    #[test]
    fn label_values() {
        for v in ["", "a", "true", "A-b_c.d", &"v".repeat(63)] {
            assert!(is_valid_value(v), "{v:?}: {:?}", value_problems(v));
        }
        let invalid: Vec<(String, &str)> = vec![
            ("v".repeat(64), "64 characters, above the limit of 63"),
            ("-a".into(), "must start and end"),
            ("a-".into(), "must start and end"),
            ("a/b".into(), "contains `/`"),
            ("a b".into(), "contains ` `"),
            (" ".into(), "contains ` `"),
        ];
        for (v, want) in invalid {
            let problems = value_problems(&v);
            assert!(
                problems.iter().any(|p| p.contains(want)),
                "{v:?}: {problems:?} should mention {want:?}"
            );
        }
    }

    #[test]
    fn dns_subdomains() {
        assert!(is_dns1123_subdomain("a.b-c.d"));
        assert!(is_dns1123_subdomain("0.1"));
        assert!(!is_dns1123_subdomain(""));
        assert!(!is_dns1123_subdomain("A.b"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(!is_dns1123_subdomain("a_b"));
        assert!(!is_dns1123_subdomain(&"a".repeat(254)));
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The allocation-free fast path never accepts what the full check rejects.
        #[test]
        fn fast_path_agrees_with_full_check(key in "[a-zA-Z0-9._/-]{0,70}", value in "[a-zA-Z0-9._-]{0,70}") {
            if fast_key_ok(&key) {
                prop_assert!(key_problems_full(&key).is_empty(), "{key}");
            } else {
                prop_assert!(!key_problems_full(&key).is_empty(), "{key}");
            }
            if !value.is_empty() {
                let mut out = Vec::new();
                name_pattern_problems("value", &value, &mut out);
                prop_assert_eq!(fast_name_ok(&value), out.is_empty(), "{}", value);
            }
        }
    }

    /// `key_problems` without its fast path.
    fn key_problems_full(key: &str) -> Vec<String> {
        let mut out = Vec::new();
        if key.is_empty() {
            out.push(String::new());
            return out;
        }
        match key.split_once('/') {
            None => name_pattern_problems("name", key, &mut out),
            Some((p, n)) => {
                if p.is_empty() || n.contains('/') {
                    out.push(String::new());
                } else {
                    out.extend(dns1123_subdomain_problems(p));
                }
                if n.is_empty() {
                    out.push(String::new());
                } else {
                    name_pattern_problems("name", n, &mut out);
                }
            }
        }
        out
    }
}
