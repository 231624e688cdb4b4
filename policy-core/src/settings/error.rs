//! Errors: settings that do not validate, and input that cannot be judged.

use serde::Serialize;

/// One settings problem, with an RFC 6901 pointer into the settings document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsProblem {
    /// Where the problem is (`/images/allow/0`); `""` for the whole document.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// The 1-based line of the field in the settings text, when the settings were given as
    /// text ([`crate::Policy::from_slice`], YAML builds) and the field is found there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl SettingsProblem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        SettingsProblem {
            path: path.into(),
            message: message.into(),
            line: None,
        }
    }
}

impl std::fmt::Display for SettingsProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Settings that cannot be used; every problem is listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The settings do not validate.
    #[error("invalid settings: {}", join(.problems))]
    Invalid {
        /// Every problem found.
        problems: Vec<SettingsProblem>,
    },
}

impl SettingsError {
    /// Every problem found.
    pub fn problems(&self) -> &[SettingsProblem] {
        match self {
            SettingsError::Invalid { problems } => problems,
        }
    }
}

fn join(problems: &[SettingsProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A request that cannot be judged at all (as opposed to a finding about it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// The bytes are not an AdmissionReview or AdmissionRequest.
    #[error("invalid admission review: {0}")]
    Invalid(String),
    /// The input exceeds `limits.maxBytes`.
    #[error("admission review is {size} bytes, above the limit of {limit} (`limits.maxBytes`)")]
    TooLarge {
        /// Input size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

/// Turns a serde_path_to_error path into unescaped pointer tokens.
pub(crate) fn path_tokens(path: &serde_path_to_error::Path) -> Vec<String> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.clone()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect()
}

/// Why `--fix` could not rewrite a manifest (a patch did not apply, or a document could not be
/// read back or written out).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FixError(pub String);
