//! Node rules: lifecycle labels, instance types, legacy selectors.

use crate::eval::Cx;

/// `node-lifecycle-inconsistent`.
pub fn check_lifecycle(_cx: &mut Cx<'_>) {}
/// `legacy-node-type`.
pub fn check_legacy_node_type(_cx: &mut Cx<'_>) {}
/// Mutation `migrate-node-type`.
pub fn migrate_node_type(_cx: &mut Cx<'_>) {}
/// `unknown-instance-type`.
pub fn check_unknown_instance_type(_cx: &mut Cx<'_>) {}
/// `legacy-node-selector`.
pub fn check_legacy_node_selector(_cx: &mut Cx<'_>) {}
