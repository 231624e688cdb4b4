//! Image references per the distribution reference grammar
//! (`github.com/distribution/reference`, `regexp.go` and `normalize.go`), as the kubelet and
//! container runtimes read them through `ParseNormalizedNamed`:
//!
//! ```text
//! reference     := name [ ":" tag ] [ "@" digest ]
//! name          := [ domain "/" ] path-component [ "/" path-component ]*     (≤ 255 in all)
//! domain        := host [ ":" port-number ]
//! host          := domain-name | "[" ipv6 "]"
//! domain-name   := component [ "." component ]*       component := [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?
//! path-component:= [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag           := [\w][\w.-]{0,127}
//! digest        := algorithm ":" encoded             (go-digest: sha256 64, sha384 96, sha512 128 lowercase hex)
//! ```
//!
//! The first `/`-separated component is the registry only when it contains `.` or `:`, is
//! `localhost`, or has uppercase letters; otherwise the image lives on Docker Hub
//! (`nginx` → `docker.io/library/nginx`, `index.docker.io/x` → `docker.io/x`). The repository
//! path must be lowercase; the registry host may use capitals.
//!
//! Decisions where upstream is silent or surprising, kept as upstream does them:
//! - digests must use an algorithm go-digest supports (`sha256`, `sha384`, `sha512`) with the
//!   exact lowercase hex length; any other well-formed algorithm is "unsupported", as in
//!   `reference.Parse`;
//! - the 255-character limit applies to the normalized name (`docker.io/library/…`), because
//!   `ParseNormalizedNamed` checks the name after adding the default registry;
//! - a first component that looks like a registry (has a `.`) but is not a valid host, while
//!   being a valid path component (`a_b.c/x`), parses as a registry-less path, as upstream does.

use std::fmt;

/// Longest accepted name (registry and path, normalized), per the distribution grammar.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// Longest accepted tag.
pub const TAG_MAX: usize = 128;

const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const LOCALHOST: &str = "localhost";

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host with optional port, as written (`None` when implicit).
    pub domain: Option<String>,
    /// Repository path as written (without the registry).
    pub path: String,
    /// Tag, if any.
    pub tag: Option<String>,
    /// Digest (`algo:hex`), if any.
    pub digest: Option<String>,
    /// Normalized repository (`docker.io/library/nginx`).
    repository: String,
}

/// Why a reference does not parse: a lowercase clause naming the broken rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RefError(pub String);

impl RefError {
    fn new(msg: impl Into<String>) -> Self {
        RefError(msg.into())
    }
}

/// `name` shortened for messages (long user values would drown the sentence).
fn show(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        return s.to_owned();
    }
    let head: String = s.chars().take(MAX - 1).collect();
    format!("{head}…")
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `[a-f0-9]{64}`: an image ID, which `ParseNormalizedNamed` refuses as a name.
fn is_identifier(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`.
fn is_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        }
        _ => false,
    }
}

/// `\[(?:[a-fA-F0-9:]+)\]`.
fn is_ipv6(h: &str) -> bool {
    h.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|inner| {
            !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
        })
}

/// `host(?::[0-9]+)?` where host is a domain name or a bracketed IPv6 address.
pub fn is_domain_and_port(d: &str) -> bool {
    let (host, port) = if d.starts_with('[') {
        match d.find(']') {
            Some(i) => (&d[..=i], &d[i + 1..]),
            None => return false,
        }
    } else {
        match d.find(':') {
            Some(i) => (&d[..i], &d[i..]),
            None => (d, ""),
        }
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok && (is_ipv6(host) || (!host.is_empty() && host.split('.').all(is_domain_component)))
}

/// Why a path component fails `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`, if it does.
fn path_component_problem(c: &str) -> Option<String> {
    if c.is_empty() {
        return Some(String::from(
            "the repository name has an empty path component",
        ));
    }
    if let Some(bad) = c.chars().find(|&ch| {
        !(ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '.' | '_' | '-'))
    }) {
        return Some(format!(
            "path component `{}` contains `{bad}`; only lowercase letters, digits, `.`, `_` and `-` are allowed",
            show(c)
        ));
    }
    let b = c.as_bytes();
    if !b.first().copied().is_some_and(is_lower_alnum)
        || !b.last().copied().is_some_and(is_lower_alnum)
    {
        return Some(format!(
            "path component `{}` must start and end with a lowercase letter or digit",
            show(c)
        ));
    }
    // Every run of separators must be `.`, `_`, `__` or one or more `-`.
    let mut i = 0;
    while i < b.len() {
        if is_lower_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_lower_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|x| x == b'-');
        if !ok {
            return Some(format!(
                "path component `{}` has the separator `{sep}`; use `.`, `_`, `__` or dashes",
                show(c)
            ));
        }
    }
    None
}

/// True when `c` is a valid path component.
pub fn is_path_component(c: &str) -> bool {
    path_component_problem(c).is_none()
}

/// Why a repository path fails `path-component ("/" path-component)*`, if it does.
fn path_problem(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some(String::from("the repository name is empty"));
    }
    if path.ends_with('/') {
        return Some(format!(
            "the repository name `{}` ends with `/`",
            show(path)
        ));
    }
    if path.contains("//") || path.starts_with('/') {
        return Some(String::from(
            "the repository name has an empty path component (`//`, or a leading `/`)",
        ));
    }
    path.split('/').find_map(path_component_problem)
}

/// Why a tag fails `[\w][\w.-]{0,127}`, if it does.
fn tag_problem(tag: &str) -> Option<String> {
    if tag.is_empty() {
        return Some(String::from("the tag after `:` is empty"));
    }
    if tag.len() > TAG_MAX {
        return Some(format!(
            "the tag is {} characters, above the limit of {TAG_MAX}",
            tag.len()
        ));
    }
    if !tag.as_bytes().first().copied().is_some_and(is_word) {
        return Some(format!(
            "the tag `{}` must start with a letter, digit or `_`",
            show(tag)
        ));
    }
    if let Some(bad) = tag
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Some(format!(
            "the tag `{}` contains `{bad}`; only letters, digits, `_`, `.` and `-` are allowed",
            show(tag)
        ));
    }
    None
}

/// `[a-z0-9]+(?:[.+_-][a-z0-9]+)*` (go-digest's algorithm format).
fn is_algorithm(a: &str) -> bool {
    !a.is_empty()
        && a.split(['.', '+', '_', '-'])
            .all(|p| !p.is_empty() && p.bytes().all(is_lower_alnum))
}

/// Checks a digest string as go-digest's `Parse` does: `algorithm:encoded` with
/// `algorithm` = `[a-z0-9]+(?:[.+_-][a-z0-9]+)*`, `encoded` = `[a-zA-Z0-9=_-]+`, and the
/// algorithm one of `sha256` (64 lowercase hex), `sha384` (96) or `sha512` (128).
pub fn validate_digest(d: &str) -> Result<(), RefError> {
    if d.is_empty() {
        return Err(RefError::new("`@` is not followed by a digest"));
    }
    let Some((algo, enc)) = d.split_once(':') else {
        return Err(RefError::new(format!(
            "the digest `{}` has no algorithm; write it as `sha256:<64 hex characters>`",
            show(d)
        )));
    };
    if !is_algorithm(algo) {
        return Err(RefError::new(format!(
            "the digest algorithm `{}` is malformed; use `sha256`",
            show(algo)
        )));
    }
    if enc.is_empty() {
        return Err(RefError::new(format!(
            "the digest `{}` has nothing after `:`",
            show(d)
        )));
    }
    if let Some(bad) = enc
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '=' | '_' | '-')))
    {
        return Err(RefError::new(format!(
            "the digest `{}` contains `{bad}` after the algorithm",
            show(d)
        )));
    }
    let want = match algo {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return Err(RefError::new(format!(
                "the digest algorithm `{}` is not supported; use `sha256`, `sha384` or `sha512`",
                show(algo)
            )))
        }
    };
    if enc.len() != want {
        return Err(RefError::new(format!(
            "a {algo} digest must be exactly {want} hex characters, found {}",
            enc.len()
        )));
    }
    if !enc
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(RefError::new(format!(
            "a {algo} digest must be lowercase hex (`0-9`, `a-f`)"
        )));
    }
    Ok(())
}

/// The first template placeholder in an image: `$VAR`, `${VAR}`, `$(VAR)`, `{{ … }}` or `<…>`.
/// None of `$`, `{`, `<` may appear in a reference (the grammar above), and the kubelet expands
/// `$(VAR)` only in `command` and `args` (kubernetes `pkg/kubelet/container/helpers.go`
/// `ExpandContainerCommandAndArgs`) and `env` values, never in `image`: such an image is an
/// unsubstituted template, not a letter-case mistake.
fn placeholder(s: &str) -> Option<&str> {
    let until = |from: usize, close: &str| -> Option<&str> {
        s[from..]
            .find(close)
            .map(|end| &s[from..from + end + close.len()])
    };
    if let Some(i) = s.find("{{") {
        if let Some(t) = until(i, "}}") {
            return Some(t);
        }
    }
    if let Some(i) = s.find('$') {
        return match s[i + 1..].chars().next() {
            Some('{') => until(i, "}"),
            Some('(') => until(i, ")"),
            _ => {
                let len = s[i + 1..]
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    .count();
                (len > 0).then(|| &s[i..i + 1 + len])
            }
        };
    }
    let i = s.find('<')?;
    until(i, ">")
}

/// `splitDockerDomain`: the written registry (when the first component is one) and the rest.
fn split_domain(s: &str) -> (Option<&str>, &str) {
    match s.split_once('/') {
        Some((first, rest))
            if first == LOCALHOST
                || first.contains(['.', ':'])
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, s),
    }
}

impl ImageRef {
    /// Parses a reference the way `ParseNormalizedNamed` does; the error names the broken rule.
    pub fn parse(s: &str) -> Result<ImageRef, RefError> {
        if s.is_empty() {
            return Err(RefError::new("the image is empty"));
        }
        if let Some(token) = placeholder(s) {
            return Err(RefError::new(format!(
                "`{}` looks like a placeholder that a template or script was meant to substitute; replace it with a real image reference before applying",
                show(token)
            )));
        }
        if s.bytes().any(|b| b.is_ascii_whitespace())
            || (!s.is_ascii() && s.chars().any(char::is_whitespace))
        {
            return Err(RefError::new("the image contains whitespace; remove it"));
        }
        if is_identifier(s) {
            return Err(RefError::new(
                "a 64-character hexadecimal string is an image ID, not a repository name",
            ));
        }
        let (written_domain, rest) = split_domain(s);
        let (name_tag, digest) = match rest.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (rest, None),
        };
        let (path, tag) = match name_tag.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t)),
            _ => (name_tag, None),
        };
        if path.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(RefError::new(format!(
                "the repository name `{}` must be lowercase (only the registry host may use capitals)",
                show(path)
            )));
        }
        // The registry: a valid host, else (upstream quirk) a path component, else an error.
        let (domain, path) = match written_domain {
            Some(d) if is_domain_and_port(d) => (Some(d), path.to_owned()),
            Some(d) if is_path_component(d) => (None, format!("{d}/{path}")),
            Some(d) => {
                return Err(RefError::new(format!(
                    "`{}` is not a valid registry host (a DNS name or a bracketed IPv6 address, with an optional numeric port)",
                    show(d)
                )))
            }
            None => (None, path.to_owned()),
        };
        if let Some(p) = path_problem(&path) {
            return Err(RefError::new(p));
        }
        if let Some(t) = tag {
            if let Some(p) = tag_problem(t) {
                return Err(RefError::new(p));
            }
        }
        if let Some(d) = digest {
            validate_digest(d)?;
        }
        let repository = match (domain, written_domain) {
            (Some(d), _) => {
                let d = if d == LEGACY_DEFAULT_DOMAIN {
                    DEFAULT_DOMAIN
                } else {
                    d
                };
                if d == DEFAULT_DOMAIN && !path.contains('/') {
                    format!("{d}/{OFFICIAL_REPO_PREFIX}{path}")
                } else {
                    format!("{d}/{path}")
                }
            }
            // A registry-looking first component that is only a path component: no registry.
            (None, Some(_)) => path.clone(),
            (None, None) if path.contains('/') => format!("{DEFAULT_DOMAIN}/{path}"),
            (None, None) => format!("{DEFAULT_DOMAIN}/{OFFICIAL_REPO_PREFIX}{path}"),
        };
        if repository.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(RefError::new(format!(
                "the repository name is {} characters once normalized (`{}`), above the limit of {NAME_TOTAL_LENGTH_MAX}",
                repository.len(),
                show(&repository)
            )));
        }
        Ok(ImageRef {
            domain: domain.map(str::to_owned),
            path,
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
            repository,
        })
    }

    /// `docker.io/library/nginx` form of the repository (no tag, no digest).
    pub fn normalized_repository(&self) -> String {
        self.repository.clone()
    }

    /// `docker.io/library/nginx:tag` form of name and tag (tag `latest` when absent).
    pub fn normalized_name_tag(&self) -> String {
        format!(
            "{}:{}",
            self.repository,
            self.tag.as_deref().unwrap_or("latest")
        )
    }

    /// The fully qualified reference the runtime pulls: registry, path, tag and digest, with
    /// `:latest` added only when there is neither tag nor digest (`TagNameOnly`).
    pub fn normalized(&self) -> String {
        let mut s = self.repository.clone();
        match (&self.tag, &self.digest) {
            (None, None) => s.push_str(":latest"),
            (t, d) => {
                if let Some(t) = t {
                    s.push(':');
                    s.push_str(t);
                }
                if let Some(d) = d {
                    s.push('@');
                    s.push_str(d);
                }
            }
        }
        s
    }

    /// True when the reference names a digest (what runs is fixed).
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some()
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H64: &str = "3f5e8b5c7ab2740c0f7b1e3e8d3d7b5f0c1a2b3c4d5e6f7081920a1b2c3d4e5f";

    fn ok(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    fn err(s: &str) -> String {
        match ImageRef::parse(s) {
            Ok(r) => panic!("{s:?} should not parse, got {r:?}"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn valid_references_normalize() {
        let d = format!("sha256:{H64}");
        let h128 = H64.repeat(2);
        let tag128 = "t".repeat(128);
        let cases: Vec<(String, &str, Option<&str>, Option<String>)> = vec![
            // (input, normalized repository, tag, digest)
            ("nginx".into(), "docker.io/library/nginx", None, None),
            (
                "nginx:1.25".into(),
                "docker.io/library/nginx",
                Some("1.25"),
                None,
            ),
            (
                "library/nginx".into(),
                "docker.io/library/nginx",
                None,
                None,
            ),
            (
                "docker.io/nginx".into(),
                "docker.io/library/nginx",
                None,
                None,
            ),
            (
                "index.docker.io/nginx".into(),
                "docker.io/library/nginx",
                None,
                None,
            ),
            (
                "index.docker.io/bitnami/redis:7".into(),
                "docker.io/bitnami/redis",
                Some("7"),
                None,
            ),
            (
                "bitnami/redis".into(),
                "docker.io/bitnami/redis",
                None,
                None,
            ),
            ("localhost/a".into(), "localhost/a", None, None),
            ("localhost:5000/a".into(), "localhost:5000/a", None, None),
            (
                "localhost:5000/a/b:v1".into(),
                "localhost:5000/a/b",
                Some("v1"),
                None,
            ),
            // A bare `localhost:5000` is Docker Hub's `localhost` with tag `5000`, as upstream.
            (
                "localhost:5000".into(),
                "docker.io/library/localhost",
                Some("5000"),
                None,
            ),
            (
                "example.com".into(),
                "docker.io/library/example.com",
                None,
                None,
            ),
            (
                "registry.example.com/app".into(),
                "registry.example.com/app",
                None,
                None,
            ),
            (
                "registry.example.com:443/team/app:v2".into(),
                "registry.example.com:443/team/app",
                Some("v2"),
                None,
            ),
            ("10.0.0.1:5000/app".into(), "10.0.0.1:5000/app", None, None),
            ("[::1]/app".into(), "[::1]/app", None, None),
            (
                "[2001:db8::1]:5000/app:v1".into(),
                "[2001:db8::1]:5000/app",
                Some("v1"),
                None,
            ),
            (
                "myregistry:5000/app".into(),
                "myregistry:5000/app",
                None,
                None,
            ),
            // Uppercase in the registry host is allowed.
            (
                "Registry.Example.COM/app".into(),
                "Registry.Example.COM/app",
                None,
                None,
            ),
            ("Foo/bar".into(), "Foo/bar", None, None),
            ("LOCALHOST/app".into(), "LOCALHOST/app", None, None),
            ("a__b".into(), "docker.io/library/a__b", None, None),
            (
                "a_b.c-d---e".into(),
                "docker.io/library/a_b.c-d---e",
                None,
                None,
            ),
            ("a/b/c/d".into(), "docker.io/a/b/c/d", None, None),
            (
                "gcr.io/a/b/c:TAG_with.Caps-1".into(),
                "gcr.io/a/b/c",
                Some("TAG_with.Caps-1"),
                None,
            ),
            (
                "nginx:_x".into(),
                "docker.io/library/nginx",
                Some("_x"),
                None,
            ),
            (
                format!("nginx:{tag128}"),
                "docker.io/library/nginx",
                Some(tag128.as_str()),
                None,
            ),
            (
                format!("nginx@{d}"),
                "docker.io/library/nginx",
                None,
                Some(d.clone()),
            ),
            (
                format!("nginx:1.25@{d}"),
                "docker.io/library/nginx",
                Some("1.25"),
                Some(d.clone()),
            ),
            (
                format!("registry.example.com/app@sha512:{h128}"),
                "registry.example.com/app",
                None,
                Some(format!("sha512:{h128}")),
            ),
            (
                format!("registry.example.com/app@sha384:{}", &h128[..96]),
                "registry.example.com/app",
                None,
                Some(format!("sha384:{}", &h128[..96])),
            ),
            // Upstream quirk: `a_b.c` is not a host but is a path component: no registry.
            ("a_b.c/x".into(), "a_b.c/x", None, None),
        ];
        for (input, repo, tag, digest) in cases {
            let r = ok(&input);
            assert_eq!(r.normalized_repository(), repo, "{input}");
            assert_eq!(r.tag.as_deref(), tag, "{input}");
            assert_eq!(r.digest, digest, "{input}");
        }
    }

    #[test]
    fn invalid_references_name_the_rule() {
        let d = format!("sha256:{H64}");
        let tag129 = "t".repeat(129);
        let cases: Vec<(String, &str)> = vec![
            ("".into(), "the image is empty"),
            (" nginx".into(), "whitespace"),
            ("nginx ".into(), "whitespace"),
            ("ngi nx".into(), "whitespace"),
            ("nginx\t".into(), "whitespace"),
            (H64.into(), "image ID"),
            ("Nginx".into(), "repository name `Nginx` must be lowercase"),
            (
                "registry.example.com/App".into(),
                "repository name `App` must be lowercase",
            ),
            (
                "registry.example.com/team/App:v1".into(),
                "`team/App` must be lowercase",
            ),
            ("a//b".into(), "empty path component"),
            ("/a".into(), "empty path component"),
            ("a/".into(), "ends with `/`"),
            ("registry.example.com/".into(), "repository name is empty"),
            ("a___b".into(), "separator `___`"),
            ("a._b".into(), "separator `._`"),
            ("a..b".into(), "separator `..`"),
            ("a-".into(), "must start and end"),
            ("a.".into(), "must start and end"),
            ("_a".into(), "must start and end"),
            ("-a".into(), "must start and end"),
            ("a/b_".into(), "must start and end"),
            ("a+b".into(), "contains `+`"),
            ("nginx:".into(), "tag after `:` is empty"),
            (
                format!("nginx:{tag129}"),
                "129 characters, above the limit of 128",
            ),
            ("nginx:.x".into(), "must start with a letter"),
            ("nginx:-x".into(), "must start with a letter"),
            ("nginx:a+b".into(), "contains `+`"),
            ("nginx:1:2".into(), "contains `:`"),
            ("nginx@".into(), "`@` is not followed by a digest"),
            ("nginx:1@".into(), "`@` is not followed by a digest"),
            (format!("@{d}"), "repository name is empty"),
            (":tag".into(), "repository name is empty"),
            ("nginx@sha256".into(), "has no algorithm"),
            ("nginx@sha256:".into(), "nothing after `:`"),
            (
                "nginx@sha256:abc".into(),
                "exactly 64 hex characters, found 3",
            ),
            (format!("nginx@sha256:{H64}0"), "found 65"),
            (
                format!("nginx@sha256:{}", H64.to_uppercase()),
                "lowercase hex",
            ),
            (
                format!("nginx@sha512:{H64}"),
                "exactly 128 hex characters, found 64",
            ),
            (format!("nginx@md5:{H64}"), "`md5` is not supported"),
            (format!("nginx@SHA256:{H64}"), "`SHA256` is malformed"),
            (format!("nginx@sha256:{H64}@sha256:{H64}"), "contains `@`"),
            (format!("nginx@{H64}"), "has no algorithm"),
            (
                "registry.example.com:port/app".into(),
                "not a valid registry host",
            ),
            (
                "registry.example.com:/app".into(),
                "not a valid registry host",
            ),
            (
                "-registry.example.com/app".into(),
                "not a valid registry host",
            ),
            (
                "registry..example.com/app".into(),
                "not a valid registry host",
            ),
            ("[::1/app".into(), "not a valid registry host"),
            ("[zz::1]/app".into(), "not a valid registry host"),
            ("[]/app".into(), "contains `[`"),
            ("[g:]/app".into(), "not a valid registry host"),
            ("FOO_BAR/app".into(), "not a valid registry host"),
            (
                "$VLLM_IMAGE".into(),
                "`$VLLM_IMAGE` looks like a placeholder",
            ),
            (
                "registry.example.com/${IMAGE}:v1".into(),
                "`${IMAGE}` looks like a placeholder",
            ),
            ("$(IMAGE)".into(), "`$(IMAGE)` looks like a placeholder"),
            (
                "{{ .Values.image }}".into(),
                "`{{ .Values.image }}` looks like a placeholder",
            ),
            (
                "<YOUR-CONTAINER>".into(),
                "`<YOUR-CONTAINER>` looks like a placeholder",
            ),
            ("repo/<tag".into(), "contains `<`"),
            ("repo:$".into(), "the tag `$` must start"),
        ];
        for (input, want) in cases {
            let e = err(&input);
            assert!(e.contains(want), "{input:?}: {e:?} should contain {want:?}");
        }
    }

    #[test]
    fn name_length_counts_the_normalized_name() {
        // docker.io/library/ (18) + 237 = 255: accepted; one more is refused.
        let ok_name = "a".repeat(237);
        assert_eq!(ok(&ok_name).normalized_repository().len(), 255);
        let e = err(&"a".repeat(238));
        assert!(e.contains("256 characters once normalized"), "{e}");
        let host = format!("{}.com/{}", "r".repeat(100), "p".repeat(150));
        assert_eq!(host.len(), 255);
        ok(&host);
        err(&format!("{host}x"));
    }

    #[test]
    fn normalized_forms() {
        let d = format!("sha256:{H64}");
        assert_eq!(ok("nginx").normalized(), "docker.io/library/nginx:latest");
        assert_eq!(
            ok("nginx").normalized_name_tag(),
            "docker.io/library/nginx:latest"
        );
        assert_eq!(
            ok("nginx:1.25").normalized(),
            "docker.io/library/nginx:1.25"
        );
        assert_eq!(
            ok(&format!("nginx@{d}")).normalized(),
            format!("docker.io/library/nginx@{d}")
        );
        assert_eq!(
            ok(&format!("nginx:1@{d}")).normalized(),
            format!("docker.io/library/nginx:1@{d}")
        );
        let r = ok("index.docker.io/library/nginx:1.25");
        assert_eq!(r.domain.as_deref(), Some("index.docker.io"));
        assert_eq!(r.path, "library/nginx");
        assert_eq!(r.normalized_name_tag(), "docker.io/library/nginx:1.25");
        assert!(ok(&format!("nginx@{d}")).is_pinned());
        assert!(!ok("nginx:1").is_pinned());
        assert_eq!(ok("nginx:1").to_string(), "docker.io/library/nginx:1");
    }

    #[test]
    fn digests_validate_like_go_digest() {
        assert!(validate_digest(&format!("sha256:{H64}")).is_ok());
        assert!(validate_digest(&format!("sha512:{}", H64.repeat(2))).is_ok());
        for bad in [
            "",
            "sha256",
            ":abc",
            "sha256:",
            "sha256:xyz",
            "sha-:abc",
            "sha256:a/b",
            "Sha256:abc",
        ] {
            assert!(validate_digest(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn host_grammar() {
        for good in [
            "a",
            "a.b",
            "a-b.c",
            "A.B",
            "localhost:1",
            "[::1]",
            "[::1]:5000",
            "1.2.3.4:80",
        ] {
            assert!(is_domain_and_port(good), "{good}");
        }
        for bad in [
            "", "a.", ".a", "a-", "-a", "a:", "a:b", "a:1:2", "[::1", "[]", "[g::]", "a_b",
        ] {
            assert!(!is_domain_and_port(bad), "{bad}");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "@", ":", "/", "[", "]", "@@", "::", "//", "é", "a/é", "é.com/a", "a:é", "[é]/a",
        ] {
            let _ = ImageRef::parse(s);
        }
    }
}
