//! Well-known CKS label and taint keys that several rules and the scheduling model read.

/// The label CKS puts on every namespace, naming its owner.
pub const ORG_LABEL: &str = "ns.coreweave.cloud/org";
/// The [`ORG_LABEL`] value of control-plane namespaces (and the `reserved` value of
/// control-plane nodes).
pub const CONTROL_PLANE: &str = "control-plane";
/// The CPU node taint key.
pub const CPU_COMPUTE: &str = "is_cpu_compute";
/// The GPU node taint key.
pub const IS_GPU: &str = "is_gpu";
/// The node lifecycle / reservation taint key.
pub const RESERVED: &str = "node.coreweave.cloud/reserved";
