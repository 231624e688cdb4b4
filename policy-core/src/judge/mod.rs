//! Judging: one typed object and the compiled policy in, a [`verdict::Verdict`] out. The
//! evaluation loop, the rules, what a pod uses of accelerators, and exceptions as suppression.

pub(crate) mod accelerator_use;
pub(crate) mod eval;
pub(crate) mod exceptions;
pub(crate) mod rules;
pub(crate) mod verdict;
