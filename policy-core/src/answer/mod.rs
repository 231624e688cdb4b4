//! Answering: the report of a text (`check`, `audit`), the AdmissionReview response, the
//! Kubewarden protocol, JSON Patch application, and the `--fix` edits of manifest text.

pub(crate) mod admission;
pub(crate) mod check;
#[cfg(feature = "yaml")]
pub(crate) mod fix_text;
pub mod kubewarden;
#[cfg(all(test, feature = "yaml"))]
mod limits_tests;
pub(crate) mod patch;
pub(crate) mod review;
pub(crate) mod source;
