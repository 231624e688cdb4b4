//! `nodepool-invalid`: CoreWeave NodePools CKS would refuse or could never satisfy.

use crate::eval::Cx;

/// `nodepool-invalid`.
pub fn check(_cx: &mut Cx<'_>) {}
