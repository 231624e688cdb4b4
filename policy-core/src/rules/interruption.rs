//! Pod interruption label rules.

use crate::eval::Cx;

/// `interruptible-stateful`.
pub fn check_stateful(_cx: &mut Cx<'_>) {}
/// `interruption-label-value`.
pub fn check_value(_cx: &mut Cx<'_>) {}
/// `interruption-label-placement`.
pub fn check_placement(_cx: &mut Cx<'_>) {}
/// `interruption-label-spelling`.
pub fn check_spelling(_cx: &mut Cx<'_>) {}
/// `graceful-termination-period`.
pub fn check_grace_period(_cx: &mut Cx<'_>) {}
