//! Toleration rules and the `cpu-compute-toleration` mutation.

use crate::eval::Cx;

/// Mutation `cpu-compute-toleration`.
pub fn cpu_compute_toleration(_cx: &mut Cx<'_>) {}
/// `broad-toleration`.
pub fn check_broad_toleration(_cx: &mut Cx<'_>) {}
/// `gpu-toleration-without-gpu`.
pub fn check_gpu_toleration_without_gpu(_cx: &mut Cx<'_>) {}
