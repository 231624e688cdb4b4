//! Image references per the distribution reference grammar (stub: filled in by the image rules).

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host with optional port, as written (`None` when implicit).
    pub domain: Option<String>,
    /// Repository path as written.
    pub path: String,
    /// Tag, if any.
    pub tag: Option<String>,
    /// Digest (`algo:hex`), if any.
    pub digest: Option<String>,
}

/// Why a reference does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RefError(pub String);

impl ImageRef {
    /// Parses a reference.
    pub fn parse(s: &str) -> Result<ImageRef, RefError> {
        if s.is_empty() {
            return Err(RefError("empty reference".into()));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((a, d)) => (a, Some(d.to_owned())),
            None => (s, None),
        };
        let (name, tag) = match rest.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t.to_owned())),
            _ => (rest, None),
        };
        Ok(ImageRef {
            domain: None,
            path: name.to_owned(),
            tag,
            digest,
        })
    }

    /// `docker.io/library/nginx` form of the repository (no tag, no digest).
    pub fn normalized_repository(&self) -> String {
        self.path.clone()
    }

    /// `docker.io/library/nginx:tag` form of name and tag (tag `latest` when absent).
    pub fn normalized_name_tag(&self) -> String {
        format!("{}:{}", self.path, self.tag.as_deref().unwrap_or("latest"))
    }
}

/// Checks a digest string (`sha256:` + 64 hex, `sha512:` + 128 hex, …).
pub fn validate_digest(d: &str) -> Result<(), RefError> {
    if d.contains(':') {
        Ok(())
    } else {
        Err(RefError("missing algorithm".into()))
    }
}
