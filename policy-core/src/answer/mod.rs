//! Answering: the call layer every wrapper goes through (`call`), the report of a text
//! (`check`, `audit`), the AdmissionReview response, the Kubewarden protocol, JSON Patch
//! application, the `--fix` edits of manifest text, and the `fits` report (where a pod, as CKS admission lets it through, can be scheduled).

pub(crate) mod admission;
pub mod call;
pub(crate) mod check;
pub(crate) mod fits;
#[cfg(feature = "yaml")]
pub(crate) mod fix_text;
pub mod kubewarden;
#[cfg(all(test, feature = "yaml"))]
mod limits_tests;
pub(crate) mod native;
pub(crate) mod patch;
pub(crate) mod review;
pub(crate) mod source;
