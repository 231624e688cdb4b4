//! Toleration rules and the `cpu-compute-toleration` mutation (CKS "Workload scheduling":
//! <https://docs.coreweave.com/products/cks/clusters/scheduling/workload-scheduling>).
//!
//! Matching is Kubernetes' own ([`crate::scheduling::taints`]); accelerator detection is
//! [`crate::judge::accelerator_use`].
//!
//! Decisions of this project where neither Kubernetes nor the CKS documentation settles the case:
//! - `cpu-compute-toleration` mutates only kind Pod, and only on CREATE (including bare
//!   manifests): CKS admission adds the toleration when a pod is created, and on UPDATE the pod is
//!   already scheduled. A Pod without containers (not a pod the API server accepts) is left alone.
//! - `broad-toleration` reports an empty-key `Exists` toleration whatever its effect (with an
//!   effect it still tolerates every taint of that effect, the reserved taints included). A
//!   `node.coreweave.cloud/reserved` toleration with `Equal` is reported only when `orgIdHash` is
//!   set and the value differs: without the hash nothing tells a correct value from a wrong one,
//!   and the SUNK DaemonSet example requires exactly such a toleration.
//! - `gpu-toleration-without-gpu` reports only tolerations whose key is `is_gpu`; an empty-key
//!   `Exists` toleration also tolerates `is_gpu` but is already a `broad-toleration`. DaemonSets are
//!   skipped: they run one pod per node by design, and SUNK requires them to tolerate `is_gpu`.
//!   So are pod fields without an image (a Kueue ResourceFlavor's tolerations, a TrainJob's
//!   `podTemplateOverrides`): they go into pods whose requests are written elsewhere.

use k8s_openapi::api::core::v1::Toleration;
use serde_json::json;

use crate::judge::eval::{Input, Out};
use crate::model::object::{Operation, PodRef};
use crate::read::pointer;
use crate::scheduling::taints::{any_tolerates, taint, tolerates};

pub use crate::model::cks::{CPU_COMPUTE, IS_GPU, RESERVED};

/// A toleration as a user reads it: `key=value:effect (Operator)`.
pub(crate) fn describe(t: &Toleration) -> String {
    let key = t.key.as_deref().unwrap_or("");
    let op = t.operator.as_deref().unwrap_or("Equal");
    let mut s = if key.is_empty() {
        String::from("<any key>")
    } else {
        key.to_owned()
    };
    if let Some(v) = t.value.as_deref().filter(|v| !v.is_empty()) {
        s.push('=');
        s.push_str(v);
    }
    if let Some(e) = t.effect.as_deref().filter(|e| !e.is_empty()) {
        s.push(':');
        s.push_str(e);
    }
    format!("{s} ({op})")
}

fn toleration_path(pod: &PodRef<'_>, i: usize) -> String {
    let mut p = pointer::join(&pod.spec_path(), &["tolerations"]);
    pointer::push_index(&mut p, i);
    p
}

/// Mutation `cpu-compute-toleration`: a Pod that requests no accelerator gets
/// `{key: is_cpu_compute, operator: Exists, effect: NoSchedule}` unless a toleration already
/// tolerates `is_cpu_compute:NoSchedule`, as CKS admission does. Pods only, CREATE only.
pub fn cpu_compute_toleration(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    if !obj.is("", "Pod") || input.operation() != Operation::Create {
        return;
    }
    let cpu = taint(CPU_COMPUTE, None, "NoSchedule");
    for (index, pod) in obj.pod_refs().enumerate().filter(|(_, p)| !p.is_template) {
        if pod.spec.containers.is_empty() || input.requests_accelerator(index) {
            continue;
        }
        let tolerations = pod.spec.tolerations.as_deref().unwrap_or_default();
        if any_tolerates(tolerations, &cpu) {
            continue;
        }
        let spec_path = pod.spec_path();
        let requests = crate::judge::accelerator_use::no_accelerator(pod.spec);
        let message = if input.request.judged_as() == crate::model::object::Judgement::Audit {
            format!("pod {requests}, so CKS admission would have added the `is_cpu_compute:NoSchedule` toleration when it was created (nothing is patched on an existing object); request a GPU if it needs one")
        } else {
            format!("pod {requests}, so the `is_cpu_compute:NoSchedule` toleration is added as CKS admission does and the pod runs on CPU nodes; request a GPU if it needs one")
        };
        out.report(pointer::join(&spec_path, &["tolerations"]), message, None);
        out.add_tolerations(
            &spec_path,
            pod.spec.tolerations.is_some(),
            vec![json!({"key": CPU_COMPUTE, "operator": "Exists", "effect": "NoSchedule"})],
        );
    }
}

/// `broad-toleration`: in any pod, a toleration that tolerates every taint (empty key with
/// `Exists`), or that tolerates `node.coreweave.cloud/reserved` with `Exists` or with a value other
/// than settings `orgIdHash`.
pub fn check_broad_toleration(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    let hash = input.policy.settings().org_id_hash.as_deref();
    for pod in obj.pod_refs() {
        for (i, t) in pod.spec.tolerations.iter().flatten().enumerate() {
            let key = t.key.as_deref().unwrap_or("");
            let op = t.operator.as_deref().unwrap_or("Equal");
            let message = if key.is_empty() && op == "Exists" {
                match t.effect.as_deref().filter(|e| !e.is_empty()) {
                    None => String::from(
                        "toleration `operator: Exists` with no key tolerates every taint, so the pod can land on control-plane, triage or pending nodes; tolerate only the taints it needs",
                    ),
                    Some(e) => format!(
                        "toleration `operator: Exists` with no key tolerates every `{e}` taint, so the pod can land on control-plane, triage or pending nodes; tolerate only the taints it needs"
                    ),
                }
            } else if key == RESERVED && op == "Exists" {
                let fix = match hash {
                    Some(h) => format!("`operator: Equal` and `value: {h}` (your org's hash, settings `orgIdHash`)"),
                    // CKS documents the taint's value as "a hash of the /reserved label"
                    // (docs.coreweave.com, CKS "Taints"), not how it is computed: point at
                    // where the value can be read instead.
                    None => format!("`operator: Equal` with your org's hash as the value: the value of the `{RESERVED}` taint on your org's nodes (`kubectl describe node` lists it under Taints); set it as `orgIdHash` in settings and this message names it"),
                };
                format!(
                    "toleration `{}` matches every reserved node, so the pod can land on control-plane, triage or pending nodes; use {fix}",
                    describe(t)
                )
            } else if key == RESERVED && matches!(op, "Equal" | "") {
                let value = t.value.as_deref().unwrap_or("");
                match hash {
                    Some(h) if value != h => format!(
                        "toleration `{}` is not for your org's hash (`orgIdHash`), so the pod can land on control-plane, triage or pending nodes; use value `{h}` or remove it",
                        describe(t)
                    ),
                    _ => continue,
                }
            } else {
                continue;
            };
            out.report(toleration_path(&pod, i), message, None);
        }
    }
}

/// Whether any container of the pod names an image.
fn runs_an_image(spec: &k8s_openapi::api::core::v1::PodSpec) -> bool {
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .any(|c| c.image.is_some())
}

/// `gpu-toleration-without-gpu`: a pod that requests no accelerator has an `is_gpu` toleration
/// that tolerates `is_gpu=true:PreferNoSchedule`, so it may occupy a GPU node. DaemonSets are
/// skipped (see the module documentation).
pub fn check_gpu_toleration_without_gpu(input: &Input<'_>, out: &mut Out<'_>) {
    let obj = input.object;
    if obj.is("apps", "DaemonSet") {
        return;
    }
    let gpu = taint(IS_GPU, Some("true"), "PreferNoSchedule");
    for (index, pod) in obj.pod_refs().enumerate() {
        // Pod fields merged into pods defined elsewhere (a Kueue ResourceFlavor, a TrainJob
        // override) run no image of their own, so what the pods request is not known here.
        if input.requests_accelerator(index) || !runs_an_image(pod.spec) {
            continue;
        }
        for (i, t) in pod.spec.tolerations.iter().flatten().enumerate() {
            if t.key.as_deref() != Some(IS_GPU) || !tolerates(t, &gpu) {
                continue;
            }
            out.report(
                toleration_path(&pod, i),
                format!(
                    "pod {} but tolerates `{}`, so it may occupy a GPU node; remove the toleration unless it must run there",
                    crate::judge::accelerator_use::no_accelerator(pod.spec),
                    describe(t)
                ),
                None,
            );
        }
    }
}
