//! Label rules: reserved CoreWeave domains on Nodes and NodePools, unknown CoreWeave pod labels,
//! and Kubernetes label syntax.

use crate::eval::Cx;

/// `reserved-node-label`.
pub fn check_reserved_node_label(_cx: &mut Cx<'_>) {}
/// `unknown-coreweave-label`.
pub fn check_unknown_coreweave_label(_cx: &mut Cx<'_>) {}
/// `label-syntax`.
pub fn check_label_syntax(_cx: &mut Cx<'_>) {}
