//! `privileged-without-accelerator` as a native policy (`judge/rules/accelerators.rs`,
//! `check_privileged_without_accelerator`): each pod spec is judged by whether it requests an
//! accelerator, with the CEL the `cpu-compute-toleration` MutatingAdmissionPolicy uses
//! ([`super::mutating::requests_accelerator_at`]).

use super::mutating::requests_accelerator_at;
use super::{cel, pod_spec_parts, RuleSpec};
use crate::model::catalogue::RuleId;
use crate::settings::policy::Policy;

/// The container lists of a pod spec the core reads for `privileged` (`model/view.rs`,
/// `pod_containers`).
const LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// CEL: container `k` sets `securityContext.privileged: true`.
fn privileged(k: &str) -> String {
    format!("(has({k}.securityContext) && has({k}.securityContext.privileged) && {k}.securityContext.privileged == true)")
}

/// `privileged-without-accelerator`: a privileged init, regular or ephemeral container in a pod
/// spec that requests no accelerator.
pub fn privileged_without_accelerator(policy: &Policy) -> RuleSpec {
    let violates = |h: &str| {
        let any = LISTS
            .map(|l| format!("(has({h}.{l}) && {h}.{l}.exists(x, {}))", privileged("x")))
            .join(" || ");
        format!("(!({}) && ({any}))", requests_accelerator_at(policy, h))
    };
    // Every privileged container here is one (same list, same name) that `oldObject` already
    // had privileged at the same place in a pod requesting no accelerator (the core compares
    // findings by path without indices and by message, which names the container).
    let preexisting = |h: &str, pattern: &str| {
        let lists = LISTS
            .map(|l| {
                let old = cel::exists("oldObject", pattern, &mut |g| {
                    format!(
                        "(!({}) && has({g}.{l}) && {g}.{l}.exists(y, y.name == x.name && {}))",
                        requests_accelerator_at(policy, g),
                        privileged("y")
                    )
                });
                format!(
                    "(!has({h}.{l}) || {h}.{l}.all(x, !{} || {old}))",
                    privileged("x")
                )
            })
            .join(" && ");
        format!("({} || ({lists}))", requests_accelerator_at(policy, h))
    };
    RuleSpec {
        parts: pod_spec_parts(policy, &violates, &preexisting),
        message: format!(
            "{}: a container is privileged in a pod that requests no accelerator, so on a GPU node it can reach every GPU outside the device plugin; drop `privileged` unless it needs host access (FUSE, networking), or request `nvidia.com/gpu`",
            RuleId::PrivilegedWithoutAccelerator
        ),
    }
}
