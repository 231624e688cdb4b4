//! Kubernetes scheduling semantics as kube-scheduler applies them: taints and tolerations, node
//! selectors, required node affinity, `spec.nodeName`, cordons, and the CKS node lifecycle.

pub mod fit;
pub mod lifecycle;
pub mod report;
pub mod taints;

pub use report::{fits_report, FitsError, FitsReport, NodeFit};
