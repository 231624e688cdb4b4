//! SUNK rules: DaemonSet tolerations on Slurm nodes and the SUNK pod scheduler's requirements.

use crate::eval::Cx;

/// `sunk-daemonset-tolerations` (with its mutation).
pub fn check_daemonset_tolerations(_cx: &mut Cx<'_>) {}
/// `sunk-pod-scheduler`.
pub fn check_pod_scheduler(_cx: &mut Cx<'_>) {}
