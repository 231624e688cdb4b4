//! Accelerator rules: access outside the device plugin, gang scheduling, the GPU Operator.

use crate::eval::Cx;

/// `accelerator-access-bypass`.
pub fn check_access_bypass(_cx: &mut Cx<'_>) {}
/// `gang-scheduling-queue`.
pub fn check_gang_queue(_cx: &mut Cx<'_>) {}
/// `unsupported-gpu-operator`.
pub fn check_gpu_operator(_cx: &mut Cx<'_>) {}
