//! Kubernetes scheduling semantics as kube-scheduler applies them: taints and tolerations, node
//! selectors, required node affinity, `spec.nodeName`, cordons, resource fit, and the CKS node
//! lifecycle.

pub mod fit;
pub mod lifecycle;
pub mod resources;
pub mod taints;
