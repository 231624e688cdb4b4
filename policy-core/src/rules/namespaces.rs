//! Namespace rules: CoreWeave-domain namespace labels and control-plane namespaces.

use crate::eval::Cx;

/// `reserved-namespace-label`.
pub fn check_reserved_namespace_label(_cx: &mut Cx<'_>) {}
/// `control-plane-namespace`.
pub fn check_control_plane_namespace(_cx: &mut Cx<'_>) {}
