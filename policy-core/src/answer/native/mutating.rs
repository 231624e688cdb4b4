//! The `cpu-compute-toleration` mutation as a `MutatingAdmissionPolicy` + binding
//! (`admissionregistration.k8s.io/v1`, GA and on by default from Kubernetes 1.36: the
//! `MutatingAdmissionPolicy` feature gate is alpha in 1.32, beta and off by default in 1.34, GA
//! in 1.36, `k8s.io/apiserver` `pkg/features/kube_features.go`).
//!
//! It appends exactly the toleration the core's patch appends (`judge/rules/tolerations.rs`,
//! `cpu_compute_toleration`), to the same pods: kind Pod, CREATE only, with containers, no
//! accelerator requested (`judge/accelerator_use.rs`) and no toleration already tolerating
//! `is_cpu_compute:NoSchedule` (`scheduling/taints.rs`, `tolerates`, which is Kubernetes'
//! `Toleration.ToleratesTaint`). The patch is a JSON Patch, as the core's: `add` to
//! `/spec/tolerations/-` when the list has entries, else `add` of the one-entry list.

use super::cel;
use super::{excepted, Scope, MANAGED_LABEL, NAME_PREFIX};
use crate::judge::accelerator_use::{NVIDIA_GPU, NVIDIA_MIG_PREFIX, SUNK_ACCELERATOR};
use crate::model::catalogue::RuleId;
use crate::model::cks::CPU_COMPUTE;
use crate::settings::policy::Policy;
use serde_json::{json, Value};

/// The first Kubernetes minor whose API server serves `MutatingAdmissionPolicy` by default.
pub const FIRST_MINOR: u32 = 36;

/// The toleration the core appends, as a CEL map literal.
fn toleration() -> String {
    format!(
        "{{'key': {}, 'operator': 'Exists', 'effect': 'NoSchedule'}}",
        cel::string(CPU_COMPUTE)
    )
}

/// CEL: resource name `r` is an accelerator resource (`is_accelerator_resource`).
fn accelerator_resource(policy: &Policy, r: &str) -> String {
    let mut s = format!(
        "{r} == {} || {r} == {} || ({r}.startsWith({}) && size({r}) > {}) || {r} == {}",
        cel::string(NVIDIA_GPU),
        cel::string("nvidia.com/gpu.shared"),
        cel::string(NVIDIA_MIG_PREFIX),
        NVIDIA_MIG_PREFIX.len(),
        cel::string(SUNK_ACCELERATOR),
    );
    let globs = policy.native_accelerator_resources();
    if !globs.is_empty() {
        s = format!("{s} || {}", cel::glob_any(r, globs));
    }
    format!("({s})")
}

/// CEL: quantity `q` is not zero (`accelerator_use::is_zero`: text that is no quantity counts
/// as not zero). The API server refuses a Pod whose quantities do not parse, so only the
/// zero test matters there; `isQuantity` and `quantity(...).compareTo` are the Kubernetes CEL
/// quantity library (`k8s.io/apiserver/pkg/cel/library/quantity.go`).
fn nonzero(q: &str) -> String {
    format!("(!isQuantity(string({q})) || quantity(string({q})).compareTo(quantity('0')) != 0)")
}

/// CEL: the Pod (`object.spec`) requests an accelerator (`accelerator_use::accelerator_use`).
pub fn requests_accelerator(policy: &Policy) -> String {
    requests_accelerator_at(policy, "object.spec")
}

/// CEL: the pod spec `h` (a CEL expression) requests an accelerator
/// (`accelerator_use::accelerator_use`: a non-zero accelerator resource of an init container or
/// container, or DRA claims when `accelerators.draClaimsAreAccelerators`).
pub fn requests_accelerator_at(policy: &Policy, h: &str) -> String {
    let in_map = |m: &str| {
        format!(
            "(has(k.resources.{m}) && k.resources.{m}.exists(r, {} && {}))",
            accelerator_resource(policy, "r"),
            nonzero(&format!("k.resources.{m}[r]"))
        )
    };
    let container = format!(
        "has(k.resources) && ({} || {})",
        in_map("requests"),
        in_map("limits")
    );
    let mut s = ["initContainers", "containers"]
        .map(|l| format!("(has({h}.{l}) && {h}.{l}.exists(k, {container}))"))
        .join(" || ");
    if policy.native_dra_claims_are_accelerators() {
        s = format!("{s} || (has({h}.resourceClaims) && size({h}.resourceClaims) > 0)");
    }
    s
}

/// CEL: some toleration of the Pod tolerates `is_cpu_compute:NoSchedule` (`taints::tolerates`).
pub fn tolerated() -> String {
    let key = "(has(t.key) ? t.key : '')";
    let op = "(has(t.operator) ? t.operator : 'Equal')";
    let value = "(has(t.value) ? t.value : '')";
    format!(
        "has(object.spec.tolerations) && object.spec.tolerations.exists(t, (!has(t.effect) || t.effect == '' || t.effect == 'NoSchedule') && ({key} == '' ? {op} == 'Exists' : ({key} == {} && ({op} == 'Exists' || (({op} == 'Equal' || {op} == '') && {value} == '')))))",
        cel::string(CPU_COMPUTE)
    )
}

/// The policy and its binding.
pub fn cpu_compute_toleration(policy: &Policy, scope: &Scope) -> Vec<Value> {
    let name = format!("{NAME_PREFIX}{}", RuleId::CpuComputeToleration);
    let labels = json!({ MANAGED_LABEL: RuleId::CpuComputeToleration.as_str() });
    let mut conditions = scope.namespace_conditions.clone();
    conditions.extend([
        json!({
            "name": "has-containers",
            "expression": "has(object.spec.containers) && size(object.spec.containers) > 0",
        }),
        json!({
            "name": "requests-no-accelerator",
            "expression": format!("!({})", requests_accelerator(policy)),
        }),
        json!({
            "name": "not-tolerated-yet",
            "expression": format!("!({})", tolerated()),
        }),
        // An object read back from a cluster (a non-zero numeric `resourceVersion`) is judged
        // as existing state and patched by nothing (`answer/check.rs`, `server_set`); the API
        // server's storage refuses to create such an object anyway.
        json!({
            "name": "not-read-back",
            "expression": "!has(object.metadata.resourceVersion) || !object.metadata.resourceVersion.matches('^[+]?[0-9]+$') || object.metadata.resourceVersion.matches('^[+]?0+$')",
        }),
    ]);
    if let Some(e) = excepted(policy, RuleId::CpuComputeToleration) {
        // An exception silences the mutation (`judge/exceptions.rs`): nothing is patched.
        conditions.push(json!({ "name": "not-excepted", "expression": format!("!({e})") }));
    }
    let t = toleration();
    let patch = format!(
        "has(object.spec.tolerations) && size(object.spec.tolerations) > 0 ? [JSONPatch{{op: 'add', path: '/spec/tolerations/-', value: {t}}}] : [JSONPatch{{op: 'add', path: '/spec/tolerations', value: [{t}]}}]"
    );
    vec![
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingAdmissionPolicy",
            "metadata": { "name": name, "labels": labels },
            "spec": {
                "failurePolicy": "Fail",
                "reinvocationPolicy": "Never",
                "matchConstraints": { "resourceRules": [{
                    "apiGroups": [""],
                    "apiVersions": ["v1"],
                    "operations": ["CREATE"],
                    "resources": ["pods"],
                }]},
                "matchConditions": conditions,
                "mutations": [{
                    "patchType": "JSONPatch",
                    "jsonPatch": { "expression": patch },
                }],
            },
        }),
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingAdmissionPolicyBinding",
            "metadata": { "name": name, "labels": labels },
            "spec": {
                "policyName": name,
                "matchResources": { "namespaceSelector": scope.namespace_selector },
            },
        }),
    ]
}
