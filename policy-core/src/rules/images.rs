//! Image rules: reference grammar, digest pinning, mutable tags, pull policy, and `pin-digests`.

use crate::eval::Cx;

/// `image-reference-invalid`.
pub fn check_reference(_cx: &mut Cx<'_>) {}
/// `image-digest-required`.
pub fn check_digest_required(_cx: &mut Cx<'_>) {}
/// `image-mutable-tag`.
pub fn check_mutable_tag(_cx: &mut Cx<'_>) {}
/// `image-pull-policy`.
pub fn check_pull_policy(_cx: &mut Cx<'_>) {}
/// Mutation `pin-digests`.
pub fn pin_digests(_cx: &mut Cx<'_>) {}
